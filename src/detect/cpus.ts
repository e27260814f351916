/**
 * Detection of CPUs and NUMA domains: the online CPUs (sysfs), those this process may run on
 * (its affinity, within its cgroup's cpuset), their hyperthread siblings and sockets, and the
 * NUMA domains with memory and allowed CPUs.
 * @module
 */

import { formatCpuList, parseCpuList, parseNodeMeminfo } from "./parse.ts";
import type { CgroupFindings } from "./memory.ts";
import { naturalCompare, quote, type Reader } from "./reader.ts";
import type { CpuReport, NumaReport } from "./types.ts";

const CPU = "/sys/devices/system/cpu";

/** The CPU report, the CPUs this process may use, and where that set came from. */
export interface CpuFindings {
  report: CpuReport;
  allowed: number[];
  allowedSource: string;
}

function intersect(a: readonly number[], b: readonly number[]): number[] {
  const s = new Set(b);
  return a.filter((x) => s.has(x));
}

/** The online CPUs: sysfs's `online` list, else the `cpuN` directories. */
function onlineCpus(r: Reader): number[] {
  let online: number[] | undefined;
  const onlineText = r.text(`${CPU}/online`);
  if (onlineText !== undefined) {
    online = parseCpuList(onlineText);
    if (online === undefined) {
      r.problems.push(`cannot parse ${r.shown(`${CPU}/online`)}: ${quote(onlineText)}`);
    }
  }
  if (online === undefined || online.length === 0) {
    const names = r.dir(CPU, true) ?? [];
    online = names.filter((n) => /^cpu\d+$/.test(n)).map((n) => Number(n.slice(3)));
  }
  return online;
}

/**
 * The CPUs this process may use: the online ones within its affinity and its cgroup's
 * cpuset, with the sources that narrowed them (and the online list, which the affinity stands
 * for where there is no sysfs).
 */
function allowedCpus(
  r: Reader,
  status: Map<string, string>,
  cg: CgroupFindings,
  online: number[],
): { online: number[]; allowed: number[]; sources: string[] } {
  let allowed = online;
  const sources: string[] = [];
  const affinityText = status.get("Cpus_allowed_list");
  if (affinityText !== undefined) {
    const affinity = parseCpuList(affinityText);
    if (affinity === undefined) {
      r.problems.push(
        `cannot parse Cpus_allowed_list in /proc/self/status: ${quote(affinityText)}`,
      );
    } else {
      // With no sysfs at all, the affinity is the best list of CPUs there is.
      if (online.length === 0) online = affinity;
      allowed = intersect(online, affinity);
      sources.push(`affinity (/proc/self/status Cpus_allowed_list ${affinityText})`);
    }
  }
  if (cg.cpuset) {
    const before = allowed.length;
    allowed = intersect(allowed, cg.cpuset.value);
    if (allowed.length < before || sources.length === 0) {
      sources.push(`cpuset (${r.shown(cg.cpuset.at)} ${formatCpuList(cg.cpuset.value)})`);
    }
  }
  if (allowed.length === 0 && online.length > 0) {
    r.problems.push(
      "the affinity and cpuset leave no online CPU; counting every online CPU instead",
    );
    allowed = online;
  }
  if (online.length === 0) {
    r.problems.push("cannot find any CPU in sysfs or /proc/self/status; assuming 1");
    online = [0];
    allowed = [0];
  }
  return { online, allowed, sources };
}

/** Each CPU's hyperthread siblings (as a cpulist) and socket; a CPU without either is alone. */
function topology(
  r: Reader,
  online: readonly number[],
): { siblingsOf: Map<number, string>; socketOf: Map<number, string> } {
  const siblingsOf = new Map<number, string>();
  const socketOf = new Map<number, string>();
  const missing: number[] = [];
  for (const cpu of online) {
    const dir = `${CPU}/cpu${cpu}/topology`;
    let text: string | undefined;
    try {
      text = r.probe.readFile(`${dir}/thread_siblings_list`);
    } catch {
      try {
        text = r.probe.readFile(`${dir}/core_cpus_list`);
      } catch { /* reported once below */ }
    }
    const ids = text === undefined ? undefined : parseCpuList(text);
    if (ids === undefined || ids.length === 0) {
      missing.push(cpu);
      siblingsOf.set(cpu, String(cpu));
    } else siblingsOf.set(cpu, formatCpuList(ids));
    try {
      socketOf.set(cpu, r.probe.readFile(`${dir}/physical_package_id`).trim());
    } catch {
      socketOf.set(cpu, "?");
    }
  }
  if (missing.length > 0) {
    r.problems.push(
      `no hyperthread topology for CPU ${formatCpuList(missing)} under ${r.shown(CPU)}; ` +
        "each counts as its own core",
    );
  }
  return { siblingsOf, socketOf };
}

/** The CPUs: online, allowed (affinity and cpuset), cores, sockets and threads per core. */
export function readCpus(r: Reader, status: Map<string, string>, cg: CgroupFindings): CpuFindings {
  const { online, allowed, sources } = allowedCpus(r, status, cg, onlineCpus(r));
  const { siblingsOf, socketOf } = topology(r, online);
  const setsOf = (cpus: readonly number[]) => [...new Set(cpus.map((c) => siblingsOf.get(c)!))];
  const allowedSets = setsOf(allowed);
  const threads = Math.max(1, ...setsOf(online).map((s) => parseCpuList(s)?.length ?? 1));
  return {
    report: {
      logical: allowed.length,
      physical: allowedSets.length,
      allowed: formatCpuList(allowed),
      online: formatCpuList(online),
      online_logical: online.length,
      online_physical: setsOf(online).length,
      sockets: Math.max(
        1,
        new Set(allowed.map((c) => socketOf.get(c)).filter((x) => x !== "?")).size,
      ),
      threads_per_core: threads,
      sibling_sets: allowedSets.sort(naturalCompare),
    },
    allowed,
    allowedSource: sources.join(", ") || `online CPUs (${r.shown(`${CPU}/online`)})`,
  };
}

/** The NUMA domains this process may use, with their allowed CPUs and memory. */
export function readNuma(
  r: Reader,
  status: Map<string, string>,
  allowed: readonly number[],
): NumaReport[] {
  const base = "/sys/devices/system/node";
  const onlineText = r.text(`${base}/online`, true);
  let nodes: number[] | undefined;
  if (onlineText !== undefined) nodes = parseCpuList(onlineText);
  if (nodes === undefined) {
    // Kernels without NUMA support have no node directory: one domain, no figures.
    const names = r.dir(base, true);
    if (names === undefined) return [];
    nodes = names.filter((n) => /^node\d+$/.test(n)).map((n) => Number(n.slice(4)));
  }
  const memsText = status.get("Mems_allowed_list");
  const mems = memsText === undefined ? undefined : parseCpuList(memsText);
  const allowedSet = new Set(allowed);
  const result: NumaReport[] = [];
  for (const node of nodes) {
    if (mems && !mems.includes(node)) continue;
    const cpusText = r.text(`${base}/node${node}/cpulist`) ?? "";
    const cpus = (parseCpuList(cpusText) ?? []).filter((c) => allowedSet.has(c));
    const memText = r.text(`${base}/node${node}/meminfo`);
    const kib = memText === undefined ? undefined : parseNodeMeminfo(memText).get("MemTotal");
    // Memory-only or empty nodes (CXL, HBM, a GPU exposed as NUMA) are no place for CPU work.
    if (kib === 0 && cpus.length === 0) continue;
    result.push({
      node,
      cpus: formatCpuList(cpus),
      cpu_count: cpus.length,
      memory_mib: kib === undefined ? null : Math.floor(kib / 1024),
    });
  }
  return result;
}
