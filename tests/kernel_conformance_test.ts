/**
 * The standard kernel conformance suite, jupyter_kernel_test (Debian 13's
 * python3-jupyter-kernel-test; Debian 12 does not package it, so there these tests skip and run
 * in the Debian 13 root of tests/stacks/), against a kernel this tool installed and, as the
 * control, the stock `python3` kernel: both must pass the same tests. The suite's samples and
 * the interrupt and `%legate_info` tests it lacks are in tests/support/conformance.py.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, ROOT, run, runCli, tempDir } from "./helpers.ts";
import { SEED_FLAGS, SEED_INFO, SYS_PYTHON } from "./support/e2e.ts";
import { onStack, STACK } from "./support/stack.ts";

const SUITE = join(ROOT, "tests", "support", "conformance.py");
/** What the suite must show passing for both kernels. */
const REQUIRED = [
  "test_clear_output",
  "test_completion",
  "test_display_data",
  "test_error",
  "test_execute_result",
  "test_execute_stderr",
  "test_execute_stdout",
  "test_history",
  "test_inspect",
  "test_interrupt",
  "test_is_complete",
  "test_kernel_info",
  "test_pager",
];

const skip = STACK.jupyter_kernel_test === undefined
  ? ` (skipped: python3-jupyter-kernel-test is not installed; Debian ${STACK.debian} ` +
    "does not package it before Debian 13, where tests/stacks/ runs this test)"
  : "";

async function conformance(
  kernel: string,
  env: Record<string, string>,
  infoFile?: string,
): Promise<Record<string, string>> {
  const r = await run([SYS_PYTHON, SUITE, kernel, ...(infoFile ? [infoFile] : [])], {
    // Each kernel its own IPython dir and cache (Jedi's): two kernels at once sharing one
    // history database lose entries, and sharing Jedi's cache lose completions.
    env: {
      ...env,
      IPYTHONDIR: `${env.IPYTHONDIR}-${kernel}`,
      XDG_CACHE_HOME: `${env.HOME}/.cache-${kernel}`,
      PYDEVD_DISABLE_FILE_VALIDATION: "1",
    },
  });
  assert.equal(r.code, 0, `conformance.py ${kernel}:\n${r.stderr}`);
  return JSON.parse(r.stdout).tests;
}

Deno.test({
  name: "a kernel this tool installed passes jupyter_kernel_test as the stock python3 kernel " +
    "does, and answers %legate_info with the seed's block" +
    onStack("jupyter_kernel_test", "jupyter_client", "ipykernel") + skip,
  ignore: skip !== "",
  async fn() {
    await using tmp = await tempDir();
    const env = isolatedEnv(tmp.path);
    await Deno.mkdir(env.HOME, { recursive: true });
    const installed = await runCli(
      ["install", "--python", SYS_PYTHON, "--name", "Legate_SM_GPU", ...SEED_FLAGS],
      { env },
    );
    assert.equal(installed.code, 0, installed.stderr);
    const infoFile = join(tmp.path, "seed-info.txt");
    await Deno.writeTextFile(infoFile, SEED_INFO);

    const [legate, stock] = await Promise.all([
      conformance("legate_sm_gpu", env, infoFile),
      conformance("python3", env),
    ]);
    for (const test of REQUIRED) {
      assert.equal(stock[test], "ok", `the stock python3 kernel, ${test}: ${stock[test]}`);
      assert.equal(legate[test], "ok", `the Legate kernel, ${test}: ${legate[test]}`);
    }
    assert.equal(legate.test_legate_info, "ok", legate.test_legate_info);
    assert.equal(stock.test_legate_info, "skip: not a Legate kernel");
    // Nothing else differs: the same tests ran, with the same outcomes.
    const { test_legate_info: _a, ...legateRest } = legate;
    const { test_legate_info: _b, ...stockRest } = stock;
    assert.deepEqual(legateRest, stockRest);
  },
});
