/**
 * `servers` and `stop`: liveness, cleaning dead entries, stop requests through the state dir
 * (how a login node reaches a compute node's server), and a server whose supervisor died.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, PROGRAM, runCli, spawnCli, tempDir } from "./helpers.ts";
import { requestStop, serverFile, writeServer } from "../src/state/servers.ts";
import { pidAlive, procInfo } from "../src/os/proc.ts";
import { setupHome } from "./notebook_support.ts";
import { HAVE_NOTEBOOK, onStack } from "./support/stack.ts";
import { deadRecord } from "./support/records.ts";

const ROOT_ARGS = Deno.uid() === 0 ? ["--", "--allow-root"] : [];

async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

function stateOf(env: Record<string, string>): string {
  return join(env.XDG_STATE_HOME, "legate-jupyter");
}

Deno.test("servers removes the entry of a server whose process is gone from this host", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path, { XDG_STATE_HOME: join(tmp.path, "state") });
  await writeServer(stateOf(env), deadRecord("0000dead", { pid: await deadPid() }));
  const r = await runCli(["servers"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Removed 1 entry of servers no longer running: 0000dead/);
  assert.match(r.stdout, /No Jupyter servers running/);
  await assert.rejects(Deno.stat(serverFile(stateOf(env), "0000dead")), Deno.errors.NotFound);
});

Deno.test("servers keeps another node's entry while its heartbeat is fresh and drops it when stale", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path, { XDG_STATE_HOME: join(tmp.path, "state") });
  const dir = stateOf(env);
  await writeServer(dir, deadRecord("00000fed", { host: "other-node-fresh" }));
  const stale = await writeServer(dir, deadRecord("0000057a", { host: "other-node-stale" }));
  const old = new Date(Date.now() - 3600_000);
  await Deno.utime(stale, old, old);
  const r = await runCli(["servers", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  const listed = JSON.parse(r.stdout);
  assert.deepEqual(listed.map((s: { id: string; checked_by: string }) => [s.id, s.checked_by]), [[
    "00000fed",
    "heartbeat",
  ]]);
  await assert.rejects(Deno.stat(stale), Deno.errors.NotFound);
});

Deno.test("stop without an id or --all, or with an unknown id, is a usage error that says what to do", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path, { XDG_STATE_HOME: join(tmp.path, "state") });
  const none = await runCli(["stop"], { env });
  assert.equal(none.code, 2);
  assert.ok(
    none.stderr.includes(`which server? give its ID (see '${PROGRAM} servers') or --all`),
    none.stderr,
  );
  const unknown = await runCli(["stop", "abc123"], { env });
  assert.equal(unknown.code, 2);
  assert.equal(
    unknown.stderr.trim(),
    `legate-jupyter: error: no server with id 'abc123'; '${PROGRAM} servers' lists them`,
  );
});

Deno.test({
  name:
    "notebook stops its server when a stop is requested through the state dir (as 'stop' does from another node)" +
    onStack("notebook"),
  ignore: !HAVE_NOTEBOOK,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    await using cli = spawnCli(["notebook", "--json", "--notebook-dir", nbDir, ...ROOT_ARGS], {
      env,
    });
    const r = JSON.parse(await cli.waitForLine(/^\{"event":"ready"/, 90_000));
    const start = procInfo(r.pid)?.start;
    await requestStop(stateOf(env), r.id);
    const end = await cli.finished();
    assert.equal(end.code, 0, end.stderr);
    assert.ok(end.stderr.includes(`Stop requested by '${PROGRAM} stop ${r.id}'`), end.stderr);
    assert.equal(await pidAlive(r.pid, start), false);
    assert.deepEqual([...Deno.readDirSync(join(stateOf(env), "servers"))], []);
  },
});

Deno.test({
  name:
    "stop --all ends a Jupyter whose supervising legate-jupyter was killed, and removes its entry" +
    onStack("notebook"),
  ignore: !HAVE_NOTEBOOK,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    await using cli = spawnCli(["notebook", "--json", "--notebook-dir", nbDir, ...ROOT_ARGS], {
      env,
    });
    const r = JSON.parse(await cli.waitForLine(/^\{"event":"ready"/, 90_000));
    const start = procInfo(r.pid)?.start;
    try {
      cli.child.kill("SIGKILL");
      await cli.finished();
      assert.equal(await pidAlive(r.pid, start), true, "Jupyter runs in its own session");
      const listed = await runCli(["servers", "--json"], { env });
      assert.deepEqual(JSON.parse(listed.stdout).map((s: { id: string }) => s.id), [r.id]);
      const stopped = await runCli(["stop", "--all"], { env });
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.match(stopped.stdout, new RegExp(`^Stopped ${r.id} \\(notebook on `, "m"));
      assert.equal(await pidAlive(r.pid, start), false);
      assert.deepEqual([...Deno.readDirSync(join(stateOf(env), "servers"))], []);
    } finally {
      // Never leave the server behind, whatever failed above.
      if (await pidAlive(r.pid, start)) Deno.kill(-r.pid, "SIGKILL");
    }
  },
});
