/**
 * Atomic installs: racing installs of one name, installs killed mid-way, and what Jupyter
 * (and a file-system watcher) can see of the kernels directory meanwhile.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, MOD, runCli, tempDir } from "./helpers.ts";
import { jupyterKernels } from "./support/e2e.ts";
import { onStack } from "./support/stack.ts";

const FILES = [
  "kernel.json",
  "launch.sh",
  "legate_kernel.py",
  "logo-32x32.png",
  "logo-64x64.png",
  "logo-svg.svg",
];

function names(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

/** Every entry of the kernels dir is a complete kernel and none is temporary. */
function assertKernelsDirClean(kernels: string): void {
  for (const name of names(kernels)) {
    assert.ok(!name.startsWith("."), `no temporary entry in the kernels dir: ${name}`);
    assert.deepEqual(names(join(kernels, name)), FILES, `${name} is complete`);
    JSON.parse(Deno.readTextFileSync(join(kernels, name, "kernel.json")));
  }
}

Deno.test("concurrent installs of one name: exactly one succeeds, the others exit 1 with the exists message", async () => {
  await using d = await tempDir();
  for (let round = 0; round < 3; round++) {
    const env = isolatedEnv(join(d.path, String(round)));
    const results = await Promise.all(
      [1, 2, 3].map((cpus) => runCli(["--name", "Race", "--cpus", String(cpus)], { env })),
    );
    const winners = results.filter((r) => r.code === 0);
    assert.equal(winners.length, 1, results.map((r) => `${r.code}: ${r.stderr}`).join("\n"));
    for (const loser of results.filter((r) => r.code !== 0)) {
      assert.equal(loser.code, 1);
      assert.ok(
        loser.stderr.startsWith("ERROR: kernel spec 'Race' already exists."),
        loser.stderr,
      );
      assert.equal(loser.stderr.trim().split("\n").length, 1);
    }
    const kernels = join(d.path, String(round), "data", "kernels");
    assert.deepEqual(names(kernels), ["race"]);
    assertKernelsDirClean(kernels);
    const won = results.indexOf(winners[0]) + 1;
    const spec = JSON.parse(await Deno.readTextFile(join(kernels, "race", "kernel.json")));
    assert.equal(spec.env.LEGATE_CONFIG, `--cpus ${won} --logdir .`, "the winner's kernel");
  }
});

Deno.test("concurrent installs of one name with --replace all succeed, and one whole kernel of theirs is left", async () => {
  await using d = await tempDir();
  for (let round = 0; round < 3; round++) {
    const env = isolatedEnv(join(d.path, String(round)));
    const results = await Promise.all(
      [1, 2, 3, 4].map((cpus) =>
        runCli(["--name", "Race", "--cpus", String(cpus), "--replace"], { env })
      ),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const kernels = join(d.path, String(round), "data", "kernels");
    assert.deepEqual(names(kernels), ["race"]);
    assertKernelsDirClean(kernels);
    assert.deepEqual(
      names(join(d.path, String(round), "data")).filter((n) => n.startsWith(".legate-jupyter-")),
      [],
      "nothing moved aside is left",
    );
    const spec = JSON.parse(await Deno.readTextFile(join(kernels, "race", "kernel.json")));
    assert.match(spec.env.LEGATE_CONFIG, /^--cpus [1-4] --logdir \.$/, "one of theirs");
  }
});

Deno.test(`installs killed at any moment never leave a partial or temporary kernel where Jupyter looks${onStack("jupyter_client")}`, async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const kernels = join(d.path, "data", "kernels");
  for (let attempt = 0; attempt < 10; attempt++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", MOD, "--name", `killed-${attempt}`, "--replace"],
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    // Vary the moment of the kill across the process's life; what is checked is not timed.
    await new Promise((resolve) => setTimeout(resolve, attempt * 15));
    try {
      child.kill("SIGKILL");
    } catch {
      // It had already finished.
    }
    await child.status;
    assertKernelsDirClean(kernels);
  }
  const specs = await jupyterKernels(env);
  assert.deepEqual(
    Object.keys(specs).filter((n) => n.startsWith(".") || n.includes("legate-jupyter-")),
    [],
  );
  for (const name of names(kernels)) assert.ok(specs[name], `Jupyter lists ${name}`);

  // Leftovers of killed installs do not get in the way of the next one.
  const r = await runCli(["--name", "after"], { env });
  assert.equal(r.code, 0, r.stderr);
  assertKernelsDirClean(kernels);
  const list = await runCli(["list", "--json"], { env });
  const listed = JSON.parse(list.stdout).kernelspecs as Record<string, { broken: boolean }>;
  assert.deepEqual(Object.entries(listed).filter(([, k]) => k.broken).map(([n]) => n), []);
});

Deno.test("a watcher on the kernels dir sees only complete kernel dirs appear during install, replace and remove", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const kernels = join(d.path, "data", "kernels");
  await Deno.mkdir(kernels, { recursive: true });
  const watcher = Deno.watchFs(kernels, { recursive: true });
  const seen: string[] = [];
  const sentinel = join(kernels, "zz-sentinel");
  const done = (async () => {
    for await (const event of watcher) {
      seen.push(...event.paths);
      if (event.paths.includes(sentinel)) break;
    }
  })();

  for (
    const args of [
      ["--name", "Watched"],
      ["--name", "Watched", "--replace", "--cpus", "2"],
      ["remove", "-y", "watched"],
      ["--name", "Watched"],
    ]
  ) {
    const r = await runCli(args, { env });
    assert.equal(r.code, 0, r.stderr);
  }
  await Deno.writeTextFile(sentinel, ""); // events arrive in order: after this, all are in
  // A safety net against a hang, not a timed assertion: the check below then fails.
  const stop = setTimeout(() => watcher.close(), 30_000);
  await done;
  clearTimeout(stop);
  try {
    watcher.close();
  } catch {
    // Already closed.
  }
  assert.ok(seen.includes(sentinel), "the watcher delivered every event up to the sentinel");

  const rel = seen.map((p) => p.slice(kernels.length + 1));
  const top = new Set(rel.map((p) => p.split("/")[0]));
  assert.ok(top.has("watched"), `the watcher saw the kernel: ${[...top]}`);
  // remove moves the kernel into a trash dir beside it, in one step, before deleting it: that
  // dir never has a kernel.json of its own, so Jupyter never takes it for a kernel.
  const trash = (n: string) => n.startsWith(".legate-jupyter-trash-");
  assert.deepEqual([...top].filter((n) => n !== "watched" && n !== "zz-sentinel" && !trash(n)), []);
  assert.deepEqual(
    rel.filter((p) => trash(p.split("/")[0]) && /^[^/]+\/kernel\.json$/.test(p)),
    [],
  );
  await Deno.remove(sentinel);
  assertKernelsDirClean(kernels);
});
