/**
 * `legate-jupyter remove` end to end, and its interplay with real `jupyter kernelspec`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli, tempDir } from "./helpers.ts";
import { assertOneLineError, exists, jupyter, jupyterKernels, snapshot } from "./support/e2e.ts";
import { onStack } from "./support/stack.ts";

async function install(args: string[], env: Record<string, string>): Promise<void> {
  const r = await runCli(["-q", ...args], { env });
  assert.equal(r.code, 0, r.stderr);
}

async function listNames(env: Record<string, string>): Promise<string[]> {
  const r = await runCli(["list", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  return Object.keys(JSON.parse(r.stdout).kernelspecs);
}

Deno.test(`kernels removed by jupyter kernelspec remove -f disappear from legate-jupyter list${onStack("jupyter_client")}`, async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  await install(["--name", "Gone"], env);
  await install(["--name", "kept"], env);
  assert.ok((await listNames(env)).includes("gone"));

  const r = await jupyter(["kernelspec", "remove", "-f", "gone"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await exists(join(d.path, "data", "kernels", "gone")), false);

  const names = await listNames(env);
  assert.ok(!names.includes("gone"), names.join(" "));
  assert.ok(names.includes("kept"));
  const text = await runCli(["list"], { env });
  assert.doesNotMatch(text.stdout, /\bgone\b/);
  assert.match(text.stdout, /\bkept\b/);
});

Deno.test(`kernels removed by legate-jupyter remove -y (any case) disappear from jupyter kernelspec list${onStack("jupyter_client")}`, async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  await install(["--name", "MyKern"], env);
  await install(["--name", "other"], env);
  assert.ok((await jupyterKernels(env)).mykern);

  const r = await runCli(["remove", "-y", "MYKERN"], { env });
  assert.equal(r.code, 0, r.stderr);
  const dir = join(d.path, "data", "kernels", "mykern");
  assert.equal(r.stdout, `Removed ${dir}\n`);
  assert.equal(await exists(dir), false);

  const specs = await jupyterKernels(env);
  assert.equal(specs.mykern, undefined);
  assert.ok(specs.other);
  assert.deepEqual(
    [...Deno.readDirSync(join(d.path, "data"))].map((e) => e.name).sort(),
    ["kernels"],
    "nothing left aside",
  );
});

Deno.test("remove without -y and no terminal exits 2 and removes nothing", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  await install(["--name", "keep"], env);
  const before = await snapshot(join(d.path, "data"));
  for (const stdin of [undefined, "y\n"]) {
    const r = await runCli(["remove", "keep"], { env, stdin });
    assertOneLineError(r, 2, /-y/);
    assert.equal(r.stdout, "");
  }
  assert.deepEqual(await snapshot(join(d.path, "data")), before);
});

Deno.test("remove of a missing name exits 1 and removes nothing, even alongside found names", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  await install(["--name", "keep"], env);
  const before = await snapshot(join(d.path, "data"));
  const r = await runCli(["remove", "-y", "keep", "nope"], { env });
  assertOneLineError(r, 1, /'nope'/);
  assert.deepEqual(await snapshot(join(d.path, "data")), before);
  assertOneLineError(await runCli(["remove"], { env }), 2);
});

Deno.test(`remove takes the kernel Jupyter would use first and notes the one that remains${onStack("jupyter_client")}`, async () => {
  await using d = await tempDir();
  const jp = join(d.path, "jp");
  const env = isolatedEnv(d.path, { JUPYTER_PATH: jp });
  await install(["--name", "dup"], env);
  await install(["--name", "dup", "--replace", "--prefix", join(d.path, "pfx")], {
    ...env,
    JUPYTER_PATH: "",
  });
  await Deno.mkdir(join(jp, "kernels"), { recursive: true });
  await Deno.rename(
    join(d.path, "pfx", "share", "jupyter", "kernels", "dup"),
    join(jp, "kernels", "dup"),
  );
  assert.equal((await jupyterKernels(env)).dup.resource_dir, join(jp, "kernels", "dup"));

  const r = await runCli(["remove", "-y", "dup"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `Removed ${join(jp, "kernels", "dup")}\n`);
  assert.match(r.stderr, /another kernel named 'dup' remains at .*data\/kernels\/dup/);
  assert.equal(
    (await jupyterKernels(env)).dup.resource_dir,
    join(d.path, "data", "kernels", "dup"),
  );
});

Deno.test(`remove of a symlinked kernel removes only the link${onStack("jupyter_client")}`, async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  await install(["--name", "real", "--prefix", join(d.path, "store")], env);
  const target = join(d.path, "store", "share", "jupyter", "kernels", "real");
  await Deno.mkdir(join(d.path, "data", "kernels"), { recursive: true });
  await Deno.symlink(target, join(d.path, "data", "kernels", "linked"));
  assert.ok((await jupyterKernels(env)).linked);

  const r = await runCli(["remove", "-y", "linked"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await exists(join(d.path, "data", "kernels", "linked")), false);
  assert.ok(await exists(join(target, "kernel.json")), "the link's target is kept");
});
