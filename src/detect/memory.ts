/**
 * Detection of memory and cgroups: this process's cgroup (v1 or v2, in its own namespace or
 * not) and the CPU quota, memory limit and cpuset of it and its ancestors; `/proc/meminfo`;
 * and the memory this process may use, the smallest of what each layer allows.
 * @module
 */

import { dirname, join } from "../util/path.ts";
import {
  bytesToMib,
  type CgroupMount,
  type CpuQuota,
  formatCpuList,
  type Limit,
  parseByteLimit,
  parseBytes,
  parseCfsQuota,
  parseCgroupMounts,
  parseCpuList,
  parseCpuMax,
  parseMeminfo,
  parseProcCgroup,
} from "./parse.ts";
import { quote, type Reader, type Smallest } from "./reader.ts";
import type { SchedulerInfo } from "./scheduler.ts";
import type { CgroupReport, MemoryReport } from "./types.ts";

interface CgroupLocation {
  readonly version: 1 | 2;
  /** The cgroup's path inside its hierarchy (as /proc/self/cgroup says). */
  readonly path: string;
  readonly mountPoint: string;
  /** The directory of this process's cgroup. */
  readonly dir: string;
}

function locateController(
  r: Reader,
  ctrl: string,
  memberships: ReturnType<typeof parseProcCgroup>,
  mounts: CgroupMount[],
): CgroupLocation | undefined {
  const v1 = memberships.find((m) => m.id !== 0 && m.controllers.includes(ctrl));
  let version: 1 | 2;
  let path: string;
  let mountPoint: string;
  let mountRoot = "/";
  if (v1) {
    version = 1;
    path = v1.path;
    const mount = mounts.find((m) => m.version === 1 && m.controllers.includes(ctrl));
    if (mount) [mountPoint, mountRoot] = [mount.mountPoint, mount.root];
    else {
      // No mountinfo: try the usual places (`cpu,cpuacct` is a common merged mount).
      const guesses = [`/sys/fs/cgroup/${ctrl}`, `/sys/fs/cgroup/${v1.controllers.join(",")}`];
      mountPoint = guesses.find((g) => r.probe.exists(g)) ?? guesses[0];
    }
  } else {
    const v2 = memberships.find((m) => m.id === 0);
    if (!v2) return undefined;
    version = 2;
    path = v2.path;
    const mount = mounts.find((m) => m.version === 2);
    mountPoint = mount?.mountPoint ?? "/sys/fs/cgroup";
    mountRoot = mount?.root ?? "/";
    const enabled = r.text(join(mountPoint, "cgroup.controllers"), true);
    if (enabled === undefined || !enabled.split(/\s+/).includes(ctrl)) return undefined;
  }
  // In a container with its own cgroup namespace the mount's root is the process's cgroup.
  const rel = path === mountRoot
    ? "/"
    : path.startsWith(mountRoot + "/")
    ? path.slice(mountRoot === "/" ? 0 : mountRoot.length)
    : path;
  let dir = join(mountPoint, rel);
  if (!r.probe.exists(dir)) dir = mountPoint;
  return { version, path, mountPoint, dir };
}

/** The process's cgroup directory and each ancestor up to the mount point, leaf first. */
function ancestry(loc: CgroupLocation): string[] {
  const dirs = [loc.dir];
  let d = loc.dir;
  while (d !== loc.mountPoint && d.startsWith(loc.mountPoint + "/")) {
    d = dirname(d);
    dirs.push(d);
  }
  return dirs;
}

function cpuQuota(r: Reader, loc: CgroupLocation): Smallest<number> | undefined {
  let best: Smallest<number> | undefined;
  for (const dir of ancestry(loc)) {
    let q: CpuQuota;
    let file: string;
    if (loc.version === 2) {
      file = join(dir, "cpu.max");
      const text = r.text(file, true);
      if (text === undefined) continue;
      q = parseCpuMax(text);
      if (q === undefined) r.problems.push(`cannot parse ${r.shown(file)}: ${quote(text)}`);
    } else {
      file = join(dir, "cpu.cfs_quota_us");
      const quotaText = r.text(file, true);
      if (quotaText === undefined) continue;
      const periodText = r.text(join(dir, "cpu.cfs_period_us"), true) ?? "100000";
      q = parseCfsQuota(quotaText, periodText);
      if (q === undefined) r.problems.push(`cannot parse ${r.shown(file)}: ${quote(quotaText)}`);
    }
    if (typeof q === "number" && (best === undefined || q < best.value)) {
      best = { value: q, at: file };
    }
  }
  return best;
}

function memoryLimit(r: Reader, loc: CgroupLocation): Smallest<bigint> | undefined {
  let best: Smallest<bigint> | undefined;
  const name = loc.version === 2 ? "memory.max" : "memory.limit_in_bytes";
  for (const dir of ancestry(loc)) {
    const file = join(dir, name);
    const text = r.text(file, true);
    if (text === undefined) continue;
    const limit: Limit = parseByteLimit(text);
    if (limit === undefined) r.problems.push(`cannot parse ${r.shown(file)}: ${quote(text)}`);
    if (typeof limit === "bigint" && (best === undefined || limit < best.value)) {
      best = { value: limit, at: file };
    }
  }
  return best;
}

function cpusetOf(r: Reader, loc: CgroupLocation): Smallest<number[]> | undefined {
  const names = loc.version === 2
    ? ["cpuset.cpus.effective"]
    : ["cpuset.effective_cpus", "cpuset.cpus"];
  // The effective set is already the intersection with every ancestor: the nearest wins.
  for (const dir of ancestry(loc)) {
    for (const name of names) {
      const file = join(dir, name);
      const text = r.text(file, true);
      if (text === undefined) continue;
      const ids = parseCpuList(text);
      if (ids === undefined) {
        r.problems.push(`cannot parse ${r.shown(file)}: ${quote(text)}`);
        continue;
      }
      // v2 leaves an empty effective set where the controller is not enabled.
      if (ids.length > 0) return { value: ids, at: file };
    }
  }
  return undefined;
}

/** The cgroup report, and the limits found with the files they came from. */
export interface CgroupFindings {
  report: CgroupReport;
  quota?: Smallest<number>;
  memory?: Smallest<bigint>;
  cpuset?: Smallest<number[]>;
}

/** This process's cgroups (v1 or v2): the CPU quota, the memory limit and the cpuset. */
export function readCgroups(r: Reader): CgroupFindings {
  const text = r.text("/proc/self/cgroup", true);
  const empty: CgroupReport = {
    version: null,
    cpu_path: null,
    memory_path: null,
    cpu_quota: null,
    cpuset: null,
    memory_limit_mib: null,
    memory_usage_mib: null,
  };
  if (text === undefined) return { report: empty };
  const memberships = parseProcCgroup(text);
  const mounts = parseCgroupMounts(r.text("/proc/self/mountinfo", true) ?? "");
  const cpu = locateController(r, "cpu", memberships, mounts);
  const mem = locateController(r, "memory", memberships, mounts);
  const set = locateController(r, "cpuset", memberships, mounts);
  const quota = cpu && cpuQuota(r, cpu);
  const memory = mem && memoryLimit(r, mem);
  const cpuset = set && cpusetOf(r, set);
  let usage: bigint | undefined;
  if (mem) {
    const file = join(mem.dir, mem.version === 2 ? "memory.current" : "memory.usage_in_bytes");
    const t = r.text(file, true);
    usage = t === undefined ? undefined : parseBytes(t);
  }
  return {
    report: {
      version: (cpu ?? mem ?? set)?.version ?? null,
      cpu_path: cpu?.path ?? null,
      memory_path: mem?.path ?? null,
      cpu_quota: quota ? Math.round(quota.value * 100) / 100 : null,
      cpuset: cpuset ? formatCpuList(cpuset.value) : null,
      memory_limit_mib: memory ? bytesToMib(memory.value) : null,
      memory_usage_mib: usage === undefined ? null : bytesToMib(usage),
    },
    quota,
    memory,
    cpuset,
  };
}

/** `/proc/meminfo`, in KiB by key; a file without `MemTotal` is a problem. */
export function readMeminfo(r: Reader): Map<string, number> {
  const meminfoText = r.text("/proc/meminfo");
  const meminfo = parseMeminfo(meminfoText ?? "");
  if (meminfoText !== undefined && !meminfo.has("MemTotal")) {
    r.problems.push(`${r.shown("/proc/meminfo")} has no MemTotal line`);
  }
  return meminfo;
}

/**
 * The memory report: the machine's total and available memory, within the cgroup's limit (a
 * limit at or above the machine's memory limits nothing), and the job's.
 */
export function memoryReport(
  meminfo: ReadonlyMap<string, number>,
  cg: CgroupFindings,
  scheduler: SchedulerInfo,
): MemoryReport {
  const kib = (key: string) => meminfo.has(key) ? Math.floor(meminfo.get(key)! / 1024) : null;
  const totalMib = kib("MemTotal");
  let cgroupLimit = cg.report.memory_limit_mib;
  if (cgroupLimit !== null && totalMib !== null && cgroupLimit >= totalMib) cgroupLimit = null;
  let available = kib("MemAvailable") ?? kib("MemFree");
  if (cgroupLimit !== null && available !== null) {
    available = Math.max(0, Math.min(available, cgroupLimit - (cg.report.memory_usage_mib ?? 0)));
  }
  return {
    total_mib: totalMib,
    available_mib: available,
    limit_mib: cgroupLimit,
    job_limit_mib: scheduler.memory_mib,
  };
}
