/**
 * Kernel directories under faults, as any user (the permission cases run as an ordinary user
 * in fault_injection_test.ts): kernel.json that is not a file, hostile names with a canary
 * kernel that must survive byte for byte, and a name too long for the file system.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli, tempDir } from "./helpers.ts";
import { assertOneLineError, snapshot } from "./support/e2e.ts";

async function withCanary(dir: string): Promise<Record<string, string>> {
  const env = isolatedEnv(dir);
  const r = await runCli(["install", "--python", "/usr/bin/python3", "--name", "canary"], { env });
  assert.equal(r.code, 0, r.stderr);
  return env;
}

Deno.test("remove cleans up kernel dirs whose kernel.json is a directory, a symlink loop or a FIFO (Jupyter skips them)", async () => {
  await using tmp = await tempDir();
  const env = await withCanary(tmp.path);
  const kernels = join(env.JUPYTER_DATA_DIR, "kernels");
  await Deno.mkdir(join(kernels, "dirk", "kernel.json"), { recursive: true });
  await Deno.mkdir(join(kernels, "loop"));
  await Deno.symlink("kernel.json", join(kernels, "loop", "kernel.json"));
  await Deno.mkdir(join(kernels, "fifo"));
  const mkfifo = await new Deno.Command("mkfifo", { args: [join(kernels, "fifo", "kernel.json")] })
    .output();
  assert.ok(mkfifo.success);
  const canary = await snapshot(join(kernels, "canary"));
  const listed = await runCli(["list", "--names"], { env });
  assert.doesNotMatch(listed.stdout, /dirk|loop|fifo/, "list skips them, as Jupyter does");
  const r = await runCli(["remove", "-y", "dirk", "LOOP", "fifo"], { env });
  assert.equal(r.code, 0, r.stderr);
  for (const k of ["dirk", "loop", "fifo"]) {
    assert.match(r.stdout, new RegExp(`Removed .*/${k}$`, "m"));
  }
  assert.deepEqual([...Deno.readDirSync(kernels)].map((e) => e.name), ["canary"]);
  assert.deepEqual(await snapshot(join(kernels, "canary")), canary);
});

Deno.test("install, remove and info refuse '.', '..' and paths (exit 2), with or without --replace, and the canary survives", async () => {
  await using tmp = await tempDir();
  const env = await withCanary(tmp.path);
  const before = await snapshot(env.JUPYTER_DATA_DIR);
  for (const name of [".", "..", "../canary", "x/..", "/tmp"]) {
    for (const extra of [[], ["--replace"]]) {
      const r = await runCli(
        ["install", "--python", "/usr/bin/python3", "--name", name, ...extra],
        { env },
      );
      assertOneLineError(r, 2, /^legate-jupyter: error: invalid kernel name '.*': /);
    }
    assertOneLineError(await runCli(["remove", "-y", name], { env }), 2, /is not a kernel name/);
    assertOneLineError(await runCli(["info", name], { env }), 2, /is not a kernel name/);
    assert.deepEqual(await snapshot(env.JUPYTER_DATA_DIR), before, name);
  }
});

Deno.test("a --name of 100 KB is a usage error (exit 2) that does not echo it whole, not ENAMETOOLONG", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path);
  const name = "k".repeat(100_000);
  const r = await runCli(["install", "--python", "/usr/bin/python3", "--name", name], { env });
  assertOneLineError(
    r,
    2,
    /invalid kernel name 'k+… \(100000 characters\)': longer than 255 bytes/,
  );
  assert.ok(r.stderr.length < 300);
  const rm = await runCli(["remove", "-y", name], { env });
  assertOneLineError(rm, 2, /longer than 255 bytes/);
});

Deno.test("a kernel named '-x' by another tool is removed after '--'", async () => {
  await using tmp = await tempDir();
  const env = await withCanary(tmp.path);
  const kernels = join(env.JUPYTER_DATA_DIR, "kernels");
  await Deno.mkdir(join(kernels, "-x"));
  await Deno.copyFile(join(kernels, "canary", "kernel.json"), join(kernels, "-x", "kernel.json"));
  assertOneLineError(await runCli(["remove", "-y", "-x"], { env }), 2, /unknown option '-x'/);
  const r = await runCli(["remove", "-y", "--", "-x"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual([...Deno.readDirSync(kernels)].map((e) => e.name), ["canary"]);
});
