/**
 * `detect --json` end to end against fixture trees, and `autoSize` on what it printed.
 * Each fixture's `expected.json` and `expected-auto.json` were checked by hand against the
 * formulas; the explicit assertions below pin the figures that matter most.
 */

import assert from "node:assert/strict";
import { tempDir } from "./helpers.ts";
import { buildFakeNvml, detectFixture, fixture, fixtureJson } from "./detect_helpers.ts";
import { autoSize } from "../src/detect/size.ts";
import type { DetectReport } from "../src/detect/types.ts";

async function detectJson(name: string): Promise<DetectReport> {
  await using tmp = await tempDir();
  const nvml = await buildFakeNvml(tmp.path);
  const result = await detectFixture(name, { tmp: tmp.path, nvml });
  assert.equal(result.stderr, "", `stderr of detect on ${name}`);
  assert.equal(result.code, 0);
  const report = JSON.parse(result.stdout.replaceAll(fixture(name), "<root>")) as DetectReport;
  assert.deepEqual(report, fixtureJson(name, "expected.json"), `${name}/expected.json`);
  assert.deepEqual(
    autoSize(report).values,
    fixtureJson(name, "expected-auto.json"),
    `${name}/expected-auto.json`,
  );
  return report;
}

Deno.test("detect on an 8×H100 two-socket node with hyperthreads (fake NVML) finds 8 GPUs, 112 cores, 2 NUMA domains", async () => {
  const r = await detectJson("h100x8");
  assert.equal(r.gpus.length, 8);
  assert.deepEqual(r.gpus.map((g) => g.cuda_index), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(r.cpus.logical, 224);
  assert.equal(r.cpus.physical, 112);
  assert.equal(r.cpus.sockets, 2);
  assert.equal(r.cpus.threads_per_core, 2);
  assert.deepEqual(r.numa.map((n) => [n.node, n.cpus]), [[0, "0-55,112-167"], [
    1,
    "56-111,168-223",
  ]]);
  assert.equal(r.cgroup.version, 2);
  assert.equal(r.memory.limit_mib, null);
  assert.equal(r.budget.fbmem_free_mib, 80000, "the GPU with the least free memory sets fbmem");
  const { values } = autoSize(r);
  // Legate's own DGX-H100 example: 8 GPUs, 8 OpenMP groups of ⌊(112−1−2−8)/8⌋ = 12 threads.
  assert.equal(values.ompthreads, 12);
  assert.equal(values.omps, 8);
});

Deno.test("detect in a Slurm job restricted to 2 GPUs, 16 CPUs and 64 GiB (fake NVML) reports that budget", async () => {
  const r = await detectJson("slurm-2gpu");
  assert.equal(r.scheduler.kind, "slurm");
  assert.equal(r.scheduler.job_id, "777");
  assert.deepEqual(r.scheduler.nodes, ["dgx01", "dgx02"]);
  assert.deepEqual(r.gpus.filter((g) => g.cuda_index !== null).map((g) => g.index), [2, 3]);
  assert.equal(r.budget.gpus, 2);
  assert.equal(r.budget.cpus, 16);
  assert.equal(r.budget.cores, 8);
  assert.equal(r.budget.memory_mib, 65536);
  assert.equal(r.memory.limit_mib, 65536, "cgroup v2 limit found two levels above the task");
  assert.equal(r.numa.length, 1, "Mems_allowed_list 0 leaves one NUMA domain");
  const { values } = autoSize(r);
  assert.ok(values.numamem * values.omps + values.sysmem + values.zcmem <= 0.8 * 65536);
});

Deno.test("detect on a MIG-partitioned H100 in a cgroup v1 Slurm job (fake NVML) sees the one MIG slice it was given", async () => {
  const r = await detectJson("h100-mig");
  assert.equal(r.gpus[0].mig_mode, true);
  assert.deepEqual(r.gpus[0].mig.map((m) => m.index), [0, 1, 3, 4], "empty MIG slots are skipped");
  assert.deepEqual(r.gpus[0].mig.map((m) => m.cuda_index), [0, null, null, null]);
  assert.equal(r.budget.gpus, 1);
  assert.equal(r.budget.fbmem_free_mib, 40423);
  assert.equal(r.cgroup.version, 1);
  assert.equal(r.cgroup.cpu_quota, 8);
  assert.equal(r.cgroup.memory_limit_mib, 32768, "v1 limit at the job level under sentinel leaves");
  assert.equal(r.budget.cpus, 8, "the CPU quota is below the 16 CPUs of the affinity");
  assert.equal(autoSize(r).values.fbmem, 38401);
});

Deno.test("detect on a node with no NVIDIA driver reports no GPU and the cgroup v2 quota and memory limit", async () => {
  const r = await detectJson("no-driver");
  assert.deepEqual(r.gpus, []);
  assert.equal(r.budget.gpus, 0);
  assert.equal(r.cgroup.cpu_quota, 4);
  assert.equal(r.budget.cpus, 4);
  assert.equal(r.budget.memory_mib, 8192);
  assert.deepEqual(r.numa, [], "a kernel without NUMA nodes in sysfs");
  assert.deepEqual(r.problems, []);
  assert.equal(autoSize(r).values.sysmem, 6553);
});

Deno.test("detect when a fake nvidia-smi reports a driver/library mismatch falls back to /proc and says so", async () => {
  const r = await detectJson("nvidia-smi-error");
  assert.equal(r.gpus.length, 2);
  assert.deepEqual(
    r.gpus.map((g) => g.pci_bus_id),
    ["0000:41:00.0", "0000:c1:00.0"],
    "PCI bus order",
  );
  assert.equal(r.gpus[0].memory_total_mib, null);
  assert.equal(r.driver_version, "590.48.01");
  assert.match(r.problems.join("\n"), /nvidia-smi failed \(exit 18\): .*version mismatch/);
  const { values, reasons } = autoSize(r);
  assert.equal(values.fbmem, undefined, "unknown framebuffer is left to Legate");
  assert.match(reasons.fbmem, /left to Legate/);
});

Deno.test("detect on junk input (fake nvidia-smi prints garbage) never crashes and lists every problem", async () => {
  const r = await detectJson("junk");
  const problems = r.problems.join("\n");
  for (
    const expected of [
      /cpu\.max: 'lots 100000'/,
      /memory\.max: it is a directory/,
      /cpuset\.cpus\.effective: 'zero-three'/,
      /no hyperthread topology for CPU 2/,
      /proc\/meminfo: no such file/,
      /Slurm node list 'bad\[1-'/,
      /SLURM_CPUS_ON_NODE='many'/,
      /not GPU data: '<html>/,
      /CUDA_VISIBLE_DEVICES entry 'foo'/,
    ]
  ) assert.match(problems, expected);
  assert.equal(r.memory.total_mib, null);
  assert.equal(r.budget.cpus, 4);
  assert.equal(autoSize(r).values.sysmem, undefined, "unknown memory is left to Legate");
});
