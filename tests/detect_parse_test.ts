/** The pure parsers behind detect: formats, sentinels, CUDA_VISIBLE_DEVICES, host lists. */

import assert from "node:assert/strict";
import {
  formatCpuList,
  parseByteLimit,
  parseCfsQuota,
  parseCgroupMounts,
  parseCpuList,
  parseCpuMax,
  parseMeminfo,
  parseNvidiaInformation,
  parseProcCgroup,
  parseSmiCsv,
} from "../src/detect/parse.ts";
import { resolveVisibleDevices, type VisibleGpu } from "../src/detect/cuda.ts";
import { detectScheduler, expandHostlist } from "../src/detect/scheduler.ts";

Deno.test("parseCpuList reads ranges, singles, strides and empty lists, and rejects junk", () => {
  assert.deepEqual(parseCpuList("0-3,8,10-11\n"), [0, 1, 2, 3, 8, 10, 11]);
  assert.deepEqual(parseCpuList("0,56"), [0, 56]);
  assert.deepEqual(parseCpuList("0-6:2"), [0, 2, 4, 6]);
  assert.deepEqual(parseCpuList("\n"), []);
  assert.equal(parseCpuList("zero-three"), undefined);
  assert.equal(parseCpuList("5-2"), undefined);
  assert.equal(parseCpuList("0-99999999"), undefined, "a huge range is junk, not a loop");
  assert.equal(formatCpuList([3, 0, 1, 2, 8, 10, 11]), "0-3,8,10-11");
});

Deno.test("parseByteLimit treats max, -1 and the v1 page-rounded sentinels as unlimited, exactly", () => {
  assert.equal(parseByteLimit("max\n"), "unlimited");
  assert.equal(parseByteLimit("9223372036854771712"), "unlimited");
  assert.equal(parseByteLimit("9223372036854710272"), "unlimited", "64 KiB page variant");
  assert.equal(parseByteLimit("68719476736"), 68719476736n);
  // Above 2^53 but below 2^60: must stay exact, which a float would not.
  assert.equal(parseByteLimit("1152921504606846975"), 1152921504606846975n);
  assert.equal(parseByteLimit("lots"), undefined);
});

Deno.test("parseCpuMax and parseCfsQuota turn quota/period into CPUs and know 'no limit'", () => {
  assert.equal(parseCpuMax("max 100000"), "unlimited");
  assert.equal(parseCpuMax("200000 100000"), 2);
  assert.equal(parseCpuMax("50000 100000"), 0.5);
  assert.equal(parseCpuMax("lots 100000"), undefined);
  assert.equal(parseCfsQuota("-1", "100000"), "unlimited");
  assert.equal(parseCfsQuota("800000\n", "100000\n"), 8);
  assert.equal(parseCfsQuota("100000", "0"), undefined);
});

Deno.test("parseProcCgroup and parseCgroupMounts read hybrid v1/v2 layouts", () => {
  const groups = parseProcCgroup("4:memory:/job_1\n3:cpu,cpuacct:/\n0::/user.slice\ngarbage\n");
  assert.deepEqual(groups.map((g) => [g.id, g.controllers, g.path]), [
    [4, ["memory"], "/job_1"],
    [3, ["cpu", "cpuacct"], "/"],
    [0, [], "/user.slice"],
  ]);
  const mounts = parseCgroupMounts(
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n" +
      "40 31 0:35 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n" +
      "41 31 0:36 / /proc rw - proc proc rw\n",
  );
  assert.deepEqual(mounts, [
    {
      version: 1,
      root: "/",
      mountPoint: "/sys/fs/cgroup/cpu,cpuacct",
      controllers: ["cpu", "cpuacct"],
    },
    { version: 2, root: "/docker/abc", mountPoint: "/sys/fs/cgroup", controllers: [] },
  ]);
});

Deno.test("parseMeminfo and parseNvidiaInformation read key/value formats", () => {
  const m = parseMeminfo(
    "MemTotal:       24684092 kB\nHugePages_Total:       0\nActive(anon):  5 kB\n",
  );
  assert.equal(m.get("MemTotal"), 24684092);
  assert.equal(m.get("HugePages_Total"), 0);
  assert.equal(m.get("Active(anon)"), 5);
  const info = parseNvidiaInformation("Model: \t\t NVIDIA L40S\nBus Location: \t 0000:41:00.0\n");
  assert.equal(info.get("Model"), "NVIDIA L40S");
  assert.equal(info.get("Bus Location"), "0000:41:00.0");
});

Deno.test("parseSmiCsv reads rows, [N/A] values and units, and returns junk lines separately", () => {
  const { rows, junk } = parseSmiCsv(
    "0, NVIDIA H100 80GB HBM3, GPU-1, 81559, 81081, 00000000:18:00.0\n" +
      "1, NVIDIA L40S, GPU-2, [N/A], 45460 MiB, 00000000:41:00.0\n" +
      "No devices were found\n",
  );
  assert.deepEqual(rows.map((r) => [r.index, r.name, r.memoryTotalMib, r.memoryFreeMib]), [
    [0, "NVIDIA H100 80GB HBM3", 81559, 81081],
    [1, "NVIDIA L40S", null, 45460],
  ]);
  assert.deepEqual(junk, ["No devices were found"]);
});

const gpus: VisibleGpu[] = [
  { uuid: "GPU-8932f937-aaaa", migMode: false, mig: [] },
  { uuid: "GPU-1234abcd-bbbb", migMode: false, mig: [] },
  {
    uuid: "GPU-5555eeee-cccc",
    migMode: true,
    mig: [{ uuid: "MIG-aaaa-1", gpuInstanceId: 2, computeInstanceId: 0 }, {
      uuid: "MIG-bbbb-2",
      gpuInstanceId: 3,
      computeInstanceId: 0,
    }],
  },
];

Deno.test("resolveVisibleDevices follows CUDA: unset = all, empty = none, first invalid entry ends the list", () => {
  const ids = (v: string | undefined) =>
    resolveVisibleDevices(v, gpus).devices.map((d) => `${d.gpu}/${d.mig}`);
  assert.deepEqual(
    ids(undefined),
    ["0/null", "1/null", "2/0", "2/1"],
    "a MIG GPU offers its instances",
  );
  assert.deepEqual(ids(""), []);
  assert.deepEqual(ids("1,0"), ["1/null", "0/null"], "CUDA order follows the list");
  assert.deepEqual(ids("0,-1,1"), ["0/null"]);
  assert.deepEqual(ids("0,7,1"), ["0/null"], "an index past the end stops the list");
  assert.deepEqual(ids("GPU-1234"), ["1/null"], "UUID prefixes match");
  assert.deepEqual(ids("GPU-"), [], "an ambiguous prefix matches nothing");
  assert.deepEqual(ids("MIG-bbbb-2"), ["2/1"]);
  assert.deepEqual(ids("MIG-GPU-5555eeee-cccc/2/0"), ["2/0"], "old MIG-GPU-uuid/gi/ci form");
  assert.deepEqual(ids("0,0"), ["0/null"], "a repeat stops the list");
  const junk = resolveVisibleDevices("0, foo ,1", gpus);
  assert.deepEqual(junk.devices.map((d) => d.gpu), [0]);
  assert.deepEqual(junk.junk, ["foo"]);
  assert.equal(resolveVisibleDevices("-1", gpus).junk.length, 0, "-1 is a deliberate 'no GPU'");
});

Deno.test("expandHostlist expands Slurm host lists and rejects malformed ones", () => {
  assert.deepEqual(expandHostlist("gpu[017-018]"), ["gpu017", "gpu018"]);
  assert.deepEqual(expandHostlist("lx[15,18,32-33]"), ["lx15", "lx18", "lx32", "lx33"]);
  assert.deepEqual(expandHostlist("a1,b[01-02]"), ["a1", "b01", "b02"]);
  assert.deepEqual(expandHostlist("r[0-1]_b[0-1]"), ["r0_b0", "r0_b1", "r1_b0", "r1_b1"]);
  assert.equal(expandHostlist("bad[1-"), undefined);
  assert.equal(expandHostlist("n[0-99999999]"), undefined, "too many hosts");
});

Deno.test("detectScheduler reads Slurm memory per CPU, PBS and LSF, and nothing outside a job", () => {
  const env = (vars: Record<string, string>) => (n: string) => vars[n];
  const s = detectScheduler(
    env({ SLURM_JOB_ID: "9", SLURM_CPUS_ON_NODE: "16", SLURM_MEM_PER_CPU: "2048" }),
  );
  assert.equal(s.memory_mib, 32768);
  assert.equal(s.cpus, 16);
  assert.equal(
    detectScheduler(env({ SLURM_JOB_ID: "9", SLURM_MEM_PER_NODE: "0" })).memory_mib,
    null,
    "--mem=0 means all",
  );
  const p = detectScheduler(env({ PBS_JOBID: "12.srv", NCPUS: "32" }));
  assert.deepEqual([p.kind, p.job_id, p.cpus], ["pbs", "12.srv", 32]);
  const l = detectScheduler(
    env({ LSB_JOBID: "5", LSB_MCPU_HOSTS: "hostA 3 hostB 2", HOSTNAME: "hostB" }),
  );
  assert.deepEqual([l.kind, l.cpus, l.nodes], ["lsf", 2, ["hostA", "hostB"]]);
  assert.equal(detectScheduler(env({})).kind, null);
});
