/** The detect command's human output, usage errors and registration. */

import assert from "node:assert/strict";
import { isolatedEnv, runCli, tempDir } from "./helpers.ts";
import { buildFakeNvml, detectFixture } from "./detect_helpers.ts";

Deno.test("detect without --json prints a short table with GPUs, CPUs, memory, job, budget and sources (fake NVML)", async () => {
  await using tmp = await tempDir();
  const nvml = await buildFakeNvml(tmp.path);
  const result = await detectFixture("slurm-2gpu", { tmp: tmp.path, nvml, args: [] });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split("\n");
  assert.match(lines[0], /^GPUs\s+NVML \(libnvidia-ml\.so\.1, driver 590\.48\.01\)$/);
  assert.match(result.stdout, /^\s+2\s+0\s+NVIDIA H100 80GB HBM3\s+81081 \/ 81559\s+GPU-/m);
  assert.match(
    result.stdout,
    /^CPUs\s+16 logical, 8 cores, 1 socket\(s\), 2 thread\(s\)\/core; allowed 0-7,112-119 of 0-223$/m,
  );
  assert.match(
    result.stdout,
    /^Job\s+slurm job 777 on 2 node\(s\) \(dgx\[01-02\]\): 16 CPUs, 2 GPUs, 65536 MiB here$/m,
  );
  assert.match(
    result.stdout,
    /^Budget\s+2 GPU\(s\) \(smallest has 80000 MiB free\), 16 CPUs \(8 cores\)/m,
  );
  assert.match(result.stdout, /^\s+memory\s+← cgroup memory limit/m);
  assert.ok(lines.length < 25, "one glance");
});

Deno.test("detect --root with a missing directory exits 2 with one line naming the fix", async () => {
  await using tmp = await tempDir();
  const result = await runCli(["detect", "--root", `${tmp.path}/nope`], {
    env: isolatedEnv(tmp.path),
  });
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "");
  assert.match(
    result.stderr,
    /^legate-jupyter: error: --root '.*nope' is not a directory; give a directory that holds proc\/ and sys\/ like \/\n$/,
  );
});

Deno.test("detect with an unknown flag exits 2 and suggests the right one", async () => {
  await using tmp = await tempDir();
  const result = await runCli(["detect", "--jsn"], { env: isolatedEnv(tmp.path) });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown option '--jsn' \(did you mean --json\?\)/);
});

Deno.test("help lists detect and detect --help documents --json and --root", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path);
  const overview = await runCli(["--help"], { env });
  assert.match(overview.stdout, /^\s+detect\s+Show the GPUs, CPUs, NUMA domains and memory/m);
  const help = await runCli(["detect", "--help"], { env });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--json/);
  assert.match(help.stdout, /--root DIR/);
  assert.match(help.stdout, /LEGATE_JUPYTER_NVML/);
});
