/**
 * Every remedy that `install`, `remove` and `list` print is run here exactly as printed, and
 * does what the message says: the command is cut out of the message, run by `sh` (on a
 * terminal where it asks), and the install that was refused then succeeds.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, run, runCli, type RunResult, tempDir } from "./helpers.ts";
import { assertOneLineError, exists, SYS_PYTHON } from "./support/e2e.ts";
import { onStack } from "./support/stack.ts";

const INSTALL = ["install", "--python", SYS_PYTHON];

/** The command a message names between `running: '` and `', or choose`. */
function removalIn(stderr: string): string {
  const m = /Remove it by running: '(.*)', or choose a new kernel name, or pass --replace\.$/m
    .exec(stderr);
  assert.ok(m, `a removal command in: ${stderr}`);
  return m[1];
}

/** Runs `command` as the user would type it, answering `answer` where it asks. */
async function typed(
  command: string,
  env: Record<string, string>,
  answer?: string,
): Promise<RunResult> {
  if (answer === undefined) return await run(["sh", "-c", command], { env });
  // On a pseudo-terminal, as at a prompt (remove asks only on a terminal).
  return await run(["script", "-qec", command, "/dev/null"], { env, stdin: answer });
}

Deno.test(
  "install over a kernel Jupyter finds names 'jupyter kernelspec uninstall', which removes it as printed; --replace works too" +
    onStack("jupyter_client"),
  async () => {
    await using d = await tempDir();
    const env = isolatedEnv(d.path);
    assert.equal((await runCli([...INSTALL, "--name", "Lj_Taken"], { env })).code, 0);
    const refused = await runCli([...INSTALL, "--name", "Lj_Taken"], { env });
    assertOneLineError(refused, 1);
    const removal = removalIn(refused.stderr);
    assert.equal(removal, "jupyter kernelspec uninstall lj_taken");
    const removed = await typed(removal, env, "y\n");
    assert.equal(removed.code, 0, removed.stdout + removed.stderr);
    assert.equal(await exists(join(env.JUPYTER_DATA_DIR, "kernels", "lj_taken")), false);
    assert.equal((await runCli([...INSTALL, "--name", "Lj_Taken"], { env })).code, 0);
    const replaced = await runCli([...INSTALL, "--name", "Lj_Taken", "--replace"], { env });
    assert.equal(replaced.code, 0, replaced.stderr);
  },
);

Deno.test(
  "a kernel directory without kernel.json: install names this tool's remove, list shows it with the same remedy, and both work as printed where 'jupyter kernelspec uninstall' cannot" +
    onStack("jupyter_client"),
  async () => {
    await using d = await tempDir();
    const env = isolatedEnv(d.path);
    const brk = join(env.JUPYTER_DATA_DIR, "kernels", "brk");
    await Deno.mkdir(brk, { recursive: true });
    await Deno.writeTextFile(join(brk, "notes.txt"), "left by an interrupted copy\n");

    const refused = await runCli([...INSTALL, "--name", "brk"], { env });
    assertOneLineError(refused, 1, /already exists without a kernel\.json \(Jupyter skips it\)/);
    const removal = removalIn(refused.stderr);
    assert.match(removal, / remove brk$/);
    assert.doesNotMatch(removal, /jupyter kernelspec/);
    // Jupyter's own uninstall cannot see it: that is why it is not offered.
    const jupyter = await typed("jupyter kernelspec uninstall -y brk", env);
    assert.notEqual(jupyter.code, 0);

    const listed = await runCli(["list"], { env });
    assert.equal(listed.code, 0, listed.stderr);
    const shown = /BROKEN: it has no kernel\.json, so Jupyter skips it; remove it with '(.*)'$/m
      .exec(listed.stdout);
    assert.ok(shown, listed.stdout);
    assert.equal(shown[1], removal, "list and install name the same remedy");
    const names = await runCli(["list", "--names"], { env });
    assert.doesNotMatch(names.stdout, /^brk$/m, "--names lists what Jupyter can start");
    const json = JSON.parse((await runCli(["list", "--json"], { env })).stdout);
    assert.equal(json.kernelspecs.brk.broken, true);
    assert.equal(json.kernelspecs.brk.spec, null);

    const removed = await typed(removal, env, "y\n");
    assert.equal(removed.code, 0, removed.stdout + removed.stderr);
    assert.match(removed.stdout, new RegExp(`Removed ${brk}`));
    assert.equal(await exists(brk), false);
    assert.equal((await runCli([...INSTALL, "--name", "brk"], { env })).code, 0);

    // And --replace, the other remedy, writes over such a directory.
    await Deno.mkdir(join(d.path, "data", "kernels", "brk2"));
    const replaced = await runCli([...INSTALL, "--name", "brk2", "--replace"], { env });
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.ok(await exists(join(env.JUPYTER_DATA_DIR, "kernels", "brk2", "kernel.json")));
  },
);

Deno.test(
  "a kernel directory outside Jupyter's search path (--prefix) is named for 'rm -r', which removes it as printed, with or without kernel.json" +
    onStack("jupyter_client"),
  async () => {
    await using d = await tempDir();
    const env = isolatedEnv(d.path);
    const prefix = join(d.path, "my prefix");
    const args = [...INSTALL, "--prefix", prefix, "--name", "lj_pre"];
    const dir = join(prefix, "share", "jupyter", "kernels", "lj_pre");
    assert.equal((await runCli(args, { env })).code, 0);
    for (const leaveSpec of [true, false]) {
      if (!leaveSpec) await Deno.remove(join(dir, "kernel.json"));
      const refused = await runCli(args, { env });
      assertOneLineError(refused, 1);
      const removal = removalIn(refused.stderr);
      assert.equal(removal, `rm -r -- '${dir}'`);
      const removed = await typed(removal, env);
      assert.equal(removed.code, 0, removed.stderr);
      assert.equal(await exists(dir), false);
      assert.equal((await runCli(args, { env })).code, 0);
    }
  },
);

Deno.test(
  "remove's remedies work as printed: the list it names when nothing matches, and -y where it cannot ask" +
    onStack("jupyter_client"),
  async () => {
    await using d = await tempDir();
    const env = isolatedEnv(d.path);
    const missing = await runCli(["remove", "nosuch"], { env });
    assertOneLineError(missing, 1);
    const list = /\('(.*)' shows the installed ones\)$/.exec(missing.stderr.trim());
    assert.ok(list, missing.stderr);
    const listed = await typed(list[1], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^Available kernels:/);

    assert.equal((await runCli([...INSTALL, "--name", "lj_gone"], { env })).code, 0);
    const unasked = await runCli(["remove", "lj_gone"], { env });
    assertOneLineError(unasked, 2, /without confirmation: pass -y$/);
    const removed = await runCli(["remove", "lj_gone", "-y"], { env });
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(await exists(join(env.JUPYTER_DATA_DIR, "kernels", "lj_gone")), false);
  },
);
