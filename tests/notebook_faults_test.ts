/**
 * `notebook` under faults, with real Jupyter: Jupyter's runtime dir (its files hold the token)
 * made private, a stop during start-up (exit 0, nothing left), a server still starting as
 * `servers` and `stop` see it; and `list` with an absurd display name.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli, spawnCli, tempDir } from "./helpers.ts";
import { setupHome } from "./notebook_support.ts";
import { allProcs } from "../src/os/proc.ts";
import { onStack } from "./support/stack.ts";

const HAVE_NOTEBOOK = await Deno.stat("/usr/bin/jupyter-notebook").then(() => true, () => false);
const ROOT_ARGS = Deno.uid() === 0 ? ["--", "--allow-root"] : [];
const opts = {
  ignore: !HAVE_NOTEBOOK,
  sanitizeResources: false,
  sanitizeOps: false,
};
const skip = HAVE_NOTEBOOK ? "" : " (skipped: no /usr/bin/jupyter-notebook)";

/** `read()` once `done` holds of it, or its last value after 15 s (a bound, not a timing). */
async function eventually<T>(read: () => T, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 15_000;
  let value = read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    value = read();
  }
  return value;
}

/** Processes whose command line names `marker` (a test's own notebook dir). */
function running(marker: string): number[] {
  return allProcs().filter((p) => {
    try {
      return Deno.readTextFileSync(`/proc/${p.pid}/cmdline`).includes(marker);
    } catch {
      return false;
    }
  }).map((p) => p.pid);
}

Deno.test({
  name:
    "notebook makes Jupyter's runtime dir private (0700) before Jupyter writes the token there" +
    onStack("notebook") + skip,
  ...opts,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    await Deno.mkdir(env.JUPYTER_RUNTIME_DIR, { mode: 0o755 });
    await Deno.chmod(env.JUPYTER_RUNTIME_DIR, 0o755);
    await using nb = spawnCli(["notebook", "--json", "--notebook-dir", nbDir, ...ROOT_ARGS], {
      env,
    });
    const ready = JSON.parse(await nb.waitForLine(/^\{"event":"ready"/, 90_000));
    assert.equal((await Deno.stat(env.JUPYTER_RUNTIME_DIR)).mode! & 0o777, 0o700);
    // notebook 6 logs its URL (which may be what told us it is ready) before this file.
    const files = await eventually(
      () => [...Deno.readDirSync(env.JUPYTER_RUNTIME_DIR)].map((e) => e.name),
      (f) => f.includes(`nbserver-${ready.pid}.json`),
    );
    assert.ok(files.includes(`nbserver-${ready.pid}.json`), `${files}`);
    nb.child.kill("SIGTERM");
    assert.equal((await nb.finished()).code, 0);
  },
});

Deno.test({
  name: "notebook uses a private runtime dir of its own when Jupyter's belongs to someone else" +
    onStack("notebook") + skip,
  ...opts,
  ignore: !HAVE_NOTEBOOK || Deno.uid() !== 0,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    await Deno.mkdir(env.JUPYTER_RUNTIME_DIR, { mode: 0o755 });
    await Deno.chown(env.JUPYTER_RUNTIME_DIR, 65534, 65534);
    await using nb = spawnCli(["notebook", "--json", "--notebook-dir", nbDir, ...ROOT_ARGS], {
      env,
    });
    await nb.waitForLine(/^\{"event":"ready"/, 90_000);
    const own = join(env.XDG_STATE_HOME, "legate-jupyter", "runtime");
    assert.match(nb.stderr(), new RegExp(`belongs to uid 65534: using ${own} instead`));
    assert.equal((await Deno.stat(own)).mode! & 0o777, 0o700);
    const files = await eventually(
      () => [...Deno.readDirSync(own)].map((e) => e.name),
      (f) => f.some((n) => /^nbserver-\d+\.json$/.test(n)),
    );
    assert.ok(files.some((n) => /^nbserver-\d+\.json$/.test(n)), `${files}`);
    assert.deepEqual([...Deno.readDirSync(env.JUPYTER_RUNTIME_DIR)], [], "nothing written there");
    nb.child.kill("SIGTERM");
    assert.equal((await nb.finished()).code, 0);
  },
});

Deno.test({
  name:
    "SIGTERM while Jupyter is starting stops it and exits 0, as after start-up, leaving nothing" +
    onStack("notebook") + skip,
  ...opts,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    await using nb = spawnCli(["notebook", "--notebook-dir", nbDir, ...ROOT_ARGS], { env });
    // Printed once Jupyter is spawned, long before it is ready.
    await nb.waitForOutput(/^Starting Jupyter Notebook \(/m, 90_000);
    assert.doesNotMatch(nb.stdout(), /token=/, "still starting");
    nb.child.kill("SIGTERM");
    const status = await nb.finished();
    assert.equal(status.code, 0, nb.stderr());
    assert.match(nb.stderr(), /Stopping Jupyter Notebook and its kernels/);
    assert.deepEqual(running(nbDir), [], "no Jupyter is left");
    const servers = join(env.XDG_STATE_HOME, "legate-jupyter", "servers");
    assert.deepEqual([...Deno.readDirSync(servers)], [], "no entry is left");
  },
});

Deno.test({
  name:
    "a server still starting is listed as starting, and stop ends it (a Jupyter stand-in that never gets ready)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using tmp = await tempDir();
    const env = isolatedEnv(tmp.path, { XDG_STATE_HOME: join(tmp.path, "state") });
    const fake = join(tmp.path, "bin", "jupyter-notebook");
    await Deno.mkdir(join(tmp.path, "bin"));
    // Keeps its arguments (what stop checks) and never writes a runtime file.
    await Deno.writeTextFile(fake, "#!/bin/sh\nwhile :; do sleep 1; done\n", { mode: 0o755 });
    await using nb = spawnCli(
      ["notebook", "--json", "--jupyter", fake, "--notebook-dir", tmp.path],
      { env },
    );
    await nb.waitForOutput(/^Starting Jupyter Notebook \(/m, 90_000);
    const listed = await runCli(["servers", "--json"], { env });
    assert.equal(listed.code, 0, listed.stderr);
    const [entry] = JSON.parse(listed.stdout);
    assert.equal(entry.status, "starting");
    assert.equal(entry.state, "starting");
    const stopped = await runCli(["stop", entry.id], { env });
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal((await nb.finished()).code, 0, nb.stderr());
    assert.deepEqual(running(fake), [], "the stand-in is gone");
  },
});

Deno.test("list escapes control characters and cuts an absurd display name", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path);
  const r = await runCli(["install", "--python", "/usr/bin/python3", "--name", "big"], { env });
  assert.equal(r.code, 0, r.stderr);
  const spec = join(env.JUPYTER_DATA_DIR, "kernels", "big", "kernel.json");
  const json = JSON.parse(await Deno.readTextFile(spec));
  delete json.metadata.legate; // shown by its display name, as any other kernel
  json.display_name = "\x1b]0;pwned\x07" + "D".repeat(5_000_000);
  await Deno.writeTextFile(spec, JSON.stringify(json));
  const list = await runCli(["list"], { env });
  assert.equal(list.code, 0, list.stderr);
  assert.ok(list.stdout.length < 2000, `${list.stdout.length} bytes`);
  assert.ok(!list.stdout.includes("\x1b"), "no escape sequence reaches the terminal");
  assert.match(list.stdout, /\\x1b\]0;pwned\\x07D+… \(5000010 characters\)/);
});
