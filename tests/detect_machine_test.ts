/**
 * detect on this machine, for real: it must agree with `nproc`, `/proc/meminfo` and
 * `taskset`, and see a CPU quota and cpuset applied to a test cgroup where one can be made.
 */

import assert from "node:assert/strict";
import { isolatedEnv, MOD, run, runCli, tempDir } from "./helpers.ts";
import { parseCpuList } from "../src/detect/parse.ts";
import type { DetectReport } from "../src/detect/types.ts";

const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

async function detectHere(dir: string, prefix: string[] = []): Promise<DetectReport> {
  const env = isolatedEnv(dir, { PATH: SYSTEM_PATH });
  const result = prefix.length === 0
    ? await runCli(["detect", "--json"], { env })
    : await run([...prefix, Deno.execPath(), "run", "-A", "--quiet", MOD, "detect", "--json"], {
      env,
    });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

function maskToList(hex: string): number[] {
  const bits = BigInt(`0x${hex.replaceAll(",", "")}`);
  const ids: number[] = [];
  for (let i = 0; (bits >> BigInt(i)) > 0n; i++) if ((bits >> BigInt(i)) & 1n) ids.push(i);
  return ids;
}

Deno.test("detect on this machine agrees with nproc, /proc/meminfo and taskset -p", async () => {
  await using tmp = await tempDir();
  const report = await detectHere(tmp.path);
  // nproc honours OMP_NUM_THREADS; the clean environment keeps it to the affinity.
  const nproc = await run(["nproc"], { env: { PATH: SYSTEM_PATH } });
  assert.equal(report.cpus.logical, Number(nproc.stdout.trim()));
  const taskset = await run(["sh", "-c", "taskset -p $$"], { env: { PATH: SYSTEM_PATH } });
  const mask = /mask:\s*([0-9a-f,]+)/.exec(taskset.stdout)?.[1];
  assert.ok(mask, taskset.stdout + taskset.stderr);
  assert.deepEqual(parseCpuList(report.cpus.allowed), maskToList(mask));
  const memTotal = /^MemTotal:\s+(\d+) kB/m.exec(await Deno.readTextFile("/proc/meminfo"))![1];
  assert.equal(report.memory.total_mib, Math.floor(Number(memTotal) / 1024));
  assert.ok(report.budget.memory_mib! <= report.memory.total_mib!);
  assert.ok(report.cpus.physical >= 1 && report.cpus.physical <= report.cpus.logical);
});

Deno.test("detect run under taskset -c 0 sees only CPU 0", async () => {
  await using tmp = await tempDir();
  const report = await detectHere(tmp.path, ["taskset", "-c", "0"]);
  assert.equal(report.cpus.allowed, "0");
  assert.equal(report.cpus.logical, 1);
  assert.equal(report.budget.cpus, 1);
});

interface TestCgroup {
  /** Shell lines that move `$$` into the cgroups. */
  enter: string;
  dirs: string[];
  cpu: string;
}

function ownPath(controller: string): { version: 1 | 2; path: string } | undefined {
  const lines = Deno.readTextFileSync("/proc/self/cgroup").split("\n");
  for (const line of lines) {
    const [id, ctrls, path] = line.split(":");
    if (id !== "0" && ctrls?.split(",").includes(controller)) return { version: 1, path };
  }
  const v2 = lines.find((l) => l.startsWith("0::"));
  return v2 ? { version: 2, path: v2.slice(3) } : undefined;
}

/** Makes a cgroup with a 1-CPU quota and a one-CPU cpuset, or says why it cannot. */
function makeTestCgroup(name: string): TestCgroup | string {
  if (Deno.uid() !== 0) return "creating cgroups needs root";
  const cpu = ownPath("cpu");
  const cpuset = ownPath("cpuset");
  if (!cpu || !cpuset) return "no cgroup information in /proc/self/cgroup";
  const allowed = parseCpuList(
    /Cpus_allowed_list:\s*(\S+)/.exec(Deno.readTextFileSync("/proc/self/status"))?.[1] ?? "",
  );
  if (!allowed?.length) return "cannot read this process's affinity";
  const target = String(allowed[allowed.length - 1]);
  const dirs: string[] = [];
  try {
    if (cpu.version === 1 && cpuset.version === 1) {
      const cpuDir = `/sys/fs/cgroup/cpu${cpu.path.replace(/\/$/, "")}/${name}`;
      const setDir = `/sys/fs/cgroup/cpuset${cpuset.path.replace(/\/$/, "")}/${name}`;
      for (const d of [cpuDir, setDir]) {
        Deno.mkdirSync(d);
        dirs.push(d);
      }
      Deno.writeTextFileSync(`${cpuDir}/cpu.cfs_period_us`, "100000");
      Deno.writeTextFileSync(`${cpuDir}/cpu.cfs_quota_us`, "100000");
      Deno.writeTextFileSync(
        `${setDir}/cpuset.mems`,
        Deno.readTextFileSync(`${setDir}/../cpuset.mems`).trim(),
      );
      Deno.writeTextFileSync(`${setDir}/cpuset.cpus`, target);
      return {
        enter: `echo $$ > ${cpuDir}/cgroup.procs && echo $$ > ${setDir}/cgroup.procs`,
        dirs,
        cpu: target,
      };
    }
    if (cpu.version === 2 && cpuset.version === 2) {
      const parent = `/sys/fs/cgroup${cpu.path.replace(/\/$/, "")}`;
      Deno.writeTextFileSync(`${parent}/cgroup.subtree_control`, "+cpu +cpuset");
      const dir = `${parent}/${name}`;
      Deno.mkdirSync(dir);
      dirs.push(dir);
      Deno.writeTextFileSync(`${dir}/cpu.max`, "100000 100000");
      Deno.writeTextFileSync(`${dir}/cpuset.cpus`, target);
      return { enter: `echo $$ > ${dir}/cgroup.procs`, dirs, cpu: target };
    }
    return "the cpu and cpuset controllers are on different cgroup versions";
  } catch (error) {
    removeCgroups(dirs);
    return `this machine does not let a test create a cgroup (${(error as Error).message})`;
  }
}

function removeCgroups(dirs: string[]) {
  for (const d of dirs.reverse()) {
    try {
      Deno.removeSync(d);
    } catch {
      // Already gone, or still busy: nothing more a test can do.
    }
  }
}

// Probe once at load time so an impossible test is reported as ignored, with its reason.
const probe = makeTestCgroup(`lj-probe-${Deno.pid}`);
const skipReason = typeof probe === "string" ? probe : undefined;
if (typeof probe !== "string") removeCgroups(probe.dirs);
if (skipReason) console.warn(`detect_machine_test: skipping the cgroup test: ${skipReason}`);

Deno.test({
  name: "detect inside a test cgroup with a 1-CPU quota and a one-CPU cpuset reports both",
  ignore: skipReason !== undefined,
  async fn() {
    const cg = makeTestCgroup(`lj-test-${Deno.pid}`);
    assert.ok(typeof cg !== "string", String(cg));
    try {
      await using tmp = await tempDir();
      const env = isolatedEnv(tmp.path, { PATH: SYSTEM_PATH });
      const result = await run([
        "sh",
        "-c",
        `${cg.enter} && exec "$0" run -A --quiet "$1" detect --json`,
        Deno.execPath(),
        MOD,
      ], { env });
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout) as DetectReport;
      assert.equal(report.cgroup.cpu_quota, 1);
      assert.equal(report.cgroup.cpuset, cg.cpu);
      assert.equal(report.cpus.allowed, cg.cpu);
      assert.equal(report.budget.cpus, 1);
      assert.match(report.sources.cpus, /cgroup CPU quota 1 \(/);
    } finally {
      removeCgroups(cg.dirs);
    }
  },
});
