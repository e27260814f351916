/**
 * Detection: what the node has and what this process (its affinity, cgroups and batch job)
 * may use. {@link detect} reads the machine only through a {@link Probe}; every figure comes
 * with a source, and whatever cannot be read becomes a line in `problems` instead of an
 * exception.
 * @module
 */

import { dirname, join } from "../util/path.ts";
import type { Probe } from "./probe.ts";
import type { NvmlOutcome } from "./nvml.ts";
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
  parseNodeMeminfo,
  parseNvidiaInformation,
  parseProcCgroup,
  parseSmiCsv,
  parseStatus,
  SMI_QUERY_FIELDS,
} from "./parse.ts";
import { resolveVisibleDevices } from "./cuda.ts";
import { detectScheduler } from "./scheduler.ts";
import type {
  Budget,
  CgroupReport,
  CpuReport,
  DetectReport,
  GpuReport,
  MemoryReport,
  NumaReport,
} from "./types.ts";

/** Reads files for one detection run, turning failures into `problems`. */
class Reader {
  readonly problems: string[] = [];
  constructor(readonly probe: Probe) {}

  /** A file's text; `undefined` when absent (a problem unless `optional`) or unreadable. */
  text(path: string, optional = false): string | undefined {
    try {
      return this.probe.readFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && optional) return undefined;
      this.problems.push(`cannot read ${this.shown(path)}: ${reason(error)}`);
      return undefined;
    }
  }

  /** A directory's entries; `undefined` when absent (a problem unless `optional`). */
  dir(path: string, optional = false): string[] | undefined {
    try {
      return this.probe.readDir(path).sort(naturalCompare);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && optional) return undefined;
      this.problems.push(`cannot list ${this.shown(path)}: ${reason(error)}`);
      return undefined;
    }
  }

  /** A path as the user should see it: under the fixture root when there is one. */
  shown(path: string): string {
    return this.probe.root === "/" ? path : `${this.probe.root.replace(/\/+$/, "")}${path}`;
  }
}

function reason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotCapable) {
    return "Deno refuses /proc and /sys without --allow-all (run with -A)";
  }
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory, not a file";
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0];
}

// Intl collation costs ~15 ms to set up, most of detect's budget; digits compare by value.
function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i], y = pb[i];
    const nx = /^\d/.test(x), ny = /^\d/.test(y);
    const d = nx && ny ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (d !== 0) return d;
  }
  return pa.length - pb.length;
}

function quote(text: string, max = 60): string {
  const t = text.trim();
  return `'${t.length > max ? t.slice(0, max) + "…" : t}'`;
}

// ---------------------------------------------------------------------------------------
// cgroups

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

interface Smallest<T> {
  value: T;
  at: string;
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

interface CgroupFindings {
  report: CgroupReport;
  quota?: Smallest<number>;
  memory?: Smallest<bigint>;
  cpuset?: Smallest<number[]>;
}

function readCgroups(r: Reader): CgroupFindings {
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

// ---------------------------------------------------------------------------------------
// CPUs and NUMA

interface CpuFindings {
  report: CpuReport;
  allowed: number[];
  allowedSource: string;
}

function intersect(a: readonly number[], b: readonly number[]): number[] {
  const s = new Set(b);
  return a.filter((x) => s.has(x));
}

function readCpus(r: Reader, status: Map<string, string>, cg: CgroupFindings): CpuFindings {
  const base = "/sys/devices/system/cpu";
  let online: number[] | undefined;
  const onlineText = r.text(`${base}/online`);
  if (onlineText !== undefined) {
    online = parseCpuList(onlineText);
    if (online === undefined) {
      r.problems.push(`cannot parse ${r.shown(`${base}/online`)}: ${quote(onlineText)}`);
    }
  }
  if (online === undefined || online.length === 0) {
    const names = r.dir(base, true) ?? [];
    online = names.filter((n) => /^cpu\d+$/.test(n)).map((n) => Number(n.slice(3)));
  }
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

  const siblingsOf = new Map<number, string>();
  const socketOf = new Map<number, string>();
  const missing: number[] = [];
  for (const cpu of online) {
    const dir = `${base}/cpu${cpu}/topology`;
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
      `no hyperthread topology for CPU ${formatCpuList(missing)} under ${r.shown(base)}; ` +
        "each counts as its own core",
    );
  }
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
    allowedSource: sources.join(", ") || `online CPUs (${r.shown(`${base}/online`)})`,
  };
}

function readNuma(
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

// ---------------------------------------------------------------------------------------
// GPUs

interface RawGpu {
  index: number;
  name: string | null;
  uuid: string | null;
  memory_total_mib: number | null;
  memory_free_mib: number | null;
  pci_bus_id: string | null;
  mig_mode: boolean | null;
  mig: {
    index: number;
    name: string | null;
    uuid: string | null;
    memory_total_mib: number | null;
    memory_free_mib: number | null;
  }[];
}

interface GpuFindings {
  gpus: RawGpu[];
  driver: string | null;
  source: string;
  /** The source in a word or two, for sentences. */
  short: string;
}

function fromNvml(nv: Extract<NvmlOutcome, { ok: true }>): RawGpu[] {
  return nv.devices.map((d) => ({
    index: d.index,
    name: d.name,
    uuid: d.uuid,
    memory_total_mib: d.memoryTotalMib,
    memory_free_mib: d.memoryFreeMib,
    pci_bus_id: null,
    mig_mode: d.migMode,
    mig: d.mig.map((m) => ({
      index: m.index,
      name: m.name,
      uuid: m.uuid,
      memory_total_mib: m.memoryTotalMib,
      memory_free_mib: m.memoryFreeMib,
    })),
  }));
}

async function fromSmi(r: Reader, notes: string[]): Promise<RawGpu[] | undefined> {
  let result;
  try {
    result = await r.probe.run("nvidia-smi", [
      `--query-gpu=${SMI_QUERY_FIELDS}`,
      "--format=csv,noheader,nounits",
    ]);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) notes.push("nvidia-smi not found on PATH");
    else r.problems.push(`cannot run nvidia-smi: ${reason(error)}`);
    return undefined;
  }
  if (result.code !== 0) {
    // nvidia-smi writes its failures to stdout.
    const said = (result.stdout.trim() || result.stderr.trim()).split("\n")[0] ?? "";
    r.problems.push(`nvidia-smi failed (exit ${result.code})${said ? `: ${said}` : ""}`);
    return undefined;
  }
  const { rows, junk } = parseSmiCsv(result.stdout);
  for (const line of junk) {
    r.problems.push(`nvidia-smi printed a line that is not GPU data: ${quote(line)}`);
  }
  if (rows.length === 0) {
    if (junk.length === 0) notes.push("nvidia-smi lists no GPU");
    return undefined;
  }
  return rows.map((row) => ({
    index: row.index,
    name: row.name,
    uuid: row.uuid,
    memory_total_mib: row.memoryTotalMib,
    memory_free_mib: row.memoryFreeMib,
    pci_bus_id: row.pciBusId,
    // --query-gpu lists parent GPUs only; MIG instances need NVML.
    mig_mode: null,
    mig: [],
  }));
}

function fromProc(r: Reader): RawGpu[] {
  const base = "/proc/driver/nvidia/gpus";
  const buses = r.dir(base, true) ?? [];
  const gpus: RawGpu[] = [];
  for (const bus of buses) {
    const text = r.text(`${base}/${bus}/information`);
    if (text === undefined) continue;
    const info = parseNvidiaInformation(text);
    gpus.push({
      index: 0,
      name: info.get("Model") ?? null,
      uuid: info.get("GPU UUID")?.match(/^GPU-[0-9a-f-]+$/i)?.[0] ?? null,
      memory_total_mib: null,
      memory_free_mib: null,
      pci_bus_id: info.get("Bus Location") ?? bus,
      mig_mode: null,
      mig: [],
    });
  }
  return gpus;
}

function fromPci(r: Reader): RawGpu[] {
  const base = "/sys/bus/pci/devices";
  const gpus: RawGpu[] = [];
  for (const bus of r.dir(base, true) ?? []) {
    let vendor: string, cls: string, device: string;
    try {
      vendor = r.probe.readFile(`${base}/${bus}/vendor`).trim();
      cls = r.probe.readFile(`${base}/${bus}/class`).trim();
      device = r.probe.readFile(`${base}/${bus}/device`).trim();
    } catch {
      continue;
    }
    // Display controllers only: NVSwitches (bridges) and HDMI audio share NVIDIA's vendor id.
    if (vendor.toLowerCase() !== "0x10de" || (parseInt(cls, 16) >> 16) !== 0x03) continue;
    gpus.push({
      index: 0,
      name: `NVIDIA device ${device}`,
      uuid: null,
      memory_total_mib: null,
      memory_free_mib: null,
      pci_bus_id: bus,
      mig_mode: null,
      mig: [],
    });
  }
  return gpus;
}

async function readGpus(r: Reader): Promise<GpuFindings> {
  const notes: string[] = [];
  const nv = await r.probe.nvml();
  if (nv.ok) {
    r.problems.push(...nv.problems);
    const lib = nv.library.split("/").pop();
    const opened = nv.devices.length < nv.count
      ? `, ${nv.devices.length} of ${nv.count} usable`
      : "";
    return {
      gpus: fromNvml(nv),
      driver: nv.driverVersion,
      source: `NVML (${lib}${nv.driverVersion ? `, driver ${nv.driverVersion}` : ""}${opened})`,
      short: "NVML",
    };
  }
  if (nv.stage === "load") notes.push(`NVML not loaded: ${nv.message}`);
  else {r.problems.push(
      `NVML failed to ${nv.stage === "init" ? "start" : "count GPUs"}: ${nv.message}`,
    );}

  const smi = await fromSmi(r, notes);
  if (smi) {
    return {
      gpus: smi,
      driver: null,
      source: "nvidia-smi --query-gpu (no MIG instances)",
      short: "nvidia-smi",
    };
  }

  // Sorting by bus id gives NVML's order, which is the order indices refer to.
  const byBus = (a: RawGpu, b: RawGpu) => naturalCompare(a.pci_bus_id ?? "", b.pci_bus_id ?? "");
  const driver = r.text("/sys/module/nvidia/version", true)?.trim() || null;
  // Without NVML or nvidia-smi: the driver's /proc files, else the PCI bus, in NVML's order.
  const fallbacks = [
    [
      fromProc,
      "/proc/driver/nvidia/gpus (count and names only; memory needs NVML or nvidia-smi)",
      "/proc/driver/nvidia/gpus",
    ],
    [fromPci, "PCI sysfs (count only; no NVIDIA driver answered)", "PCI sysfs"],
  ] as const;
  for (const [read, source, short] of fallbacks) {
    const gpus = read(r).sort(byBus);
    if (gpus.length === 0) continue;
    gpus.forEach((g, i) => g.index = i);
    return { gpus, driver, source, short };
  }
  return {
    gpus: [],
    driver,
    source: `no NVIDIA GPU found (${notes.join("; ") || "nothing answered"})`,
    short: "no GPU found",
  };
}

// ---------------------------------------------------------------------------------------
// The report

interface Candidate {
  value: number;
  source: string;
}

function smallest(candidates: readonly (Candidate | undefined)[]): Candidate | undefined {
  let best: Candidate | undefined;
  for (const c of candidates) if (c && (best === undefined || c.value < best.value)) best = c;
  return best;
}

function explain(chosen: Candidate, all: readonly (Candidate | undefined)[]): string {
  const others = all.filter((c): c is Candidate => c !== undefined && c !== chosen);
  if (others.length === 0) return chosen.source;
  return `${chosen.source}; also ${others.map((c) => `${c.value} from ${c.source}`).join(", ")}`;
}

/** Detects the node's hardware and this process's allowance through `probe`. */
export async function detect(probe: Probe): Promise<DetectReport> {
  const r = new Reader(probe);
  const sources: Record<string, string> = {};
  const gpuPromise = readGpus(r);

  const statusText = r.text("/proc/self/status");
  const status = parseStatus(statusText ?? "");
  const cg = readCgroups(r);
  const cpu = readCpus(r, status, cg);
  const numa = readNuma(r, status, cpu.allowed);

  const meminfoText = r.text("/proc/meminfo");
  const meminfo = parseMeminfo(meminfoText ?? "");
  if (meminfoText !== undefined && !meminfo.has("MemTotal")) {
    r.problems.push(`${r.shown("/proc/meminfo")} has no MemTotal line`);
  }
  const kib = (key: string) => meminfo.has(key) ? Math.floor(meminfo.get(key)! / 1024) : null;
  const totalMib = kib("MemTotal");
  const scheduler = detectScheduler((n) => probe.env(n), r.problems);

  // A cgroup limit at or above the machine's memory limits nothing.
  let cgroupLimit = cg.report.memory_limit_mib;
  if (cgroupLimit !== null && totalMib !== null && cgroupLimit >= totalMib) cgroupLimit = null;
  let available = kib("MemAvailable") ?? kib("MemFree");
  if (cgroupLimit !== null && available !== null) {
    available = Math.max(0, Math.min(available, cgroupLimit - (cg.report.memory_usage_mib ?? 0)));
  }
  const memory: MemoryReport = {
    total_mib: totalMib,
    available_mib: available,
    limit_mib: cgroupLimit,
    job_limit_mib: scheduler.memory_mib,
  };

  const gpuFindings = await gpuPromise;
  const cvd = probe.env("CUDA_VISIBLE_DEVICES");
  const visible = resolveVisibleDevices(
    cvd,
    gpuFindings.gpus.map((g) => ({ uuid: g.uuid, migMode: g.mig_mode === true, mig: g.mig })),
  );
  for (const junk of visible.junk) {
    r.problems.push(`CUDA_VISIBLE_DEVICES entry ${quote(junk)} is not a GPU index or UUID`);
  }
  const cudaIndex = new Map(visible.devices.map((d, i) => [`${d.gpu}/${d.mig}`, i]));
  const gpus: GpuReport[] = gpuFindings.gpus.map((g, gi) => ({
    index: g.index,
    name: g.name,
    uuid: g.uuid,
    memory_total_mib: g.memory_total_mib,
    memory_free_mib: g.memory_free_mib,
    pci_bus_id: g.pci_bus_id,
    mig_mode: g.mig_mode,
    mig: g.mig.map((m, mi) => ({ ...m, cuda_index: cudaIndex.get(`${gi}/${mi}`) ?? null })),
    cuda_index: cudaIndex.get(`${gi}/null`) ?? null,
  }));

  // --- budget, each figure the smallest of what every layer allows
  sources.gpu_list = gpuFindings.source;
  const deviceCount: Candidate = {
    value: visible.devices.length,
    source: cvd === undefined
      ? gpuFindings.source
      : `CUDA_VISIBLE_DEVICES=${cvd} (${visible.devices.length} device(s) of ${gpuFindings.gpus.length} ` +
        `GPU(s) from ${gpuFindings.short}${
          visible.notes.length ? `; ${visible.notes.join("; ")}` : ""
        })`,
  };
  const schedGpus: Candidate | undefined = scheduler.gpus === null ? undefined : {
    value: scheduler.gpus,
    source: `${scheduler.kind} (SLURM_GPUS_ON_NODE=${scheduler.gpus})`,
  };
  const gpuPick = smallest([deviceCount, schedGpus])!;
  sources.gpus = explain(gpuPick, [deviceCount, schedGpus]);
  const frees = visible.devices.slice(0, gpuPick.value).map((d) => {
    const g = gpuFindings.gpus[d.gpu];
    return d.mig === null ? g.memory_free_mib : g.mig[d.mig].memory_free_mib;
  });
  const fbFree = frees.length === 0 || frees.some((f) => f === null)
    ? null
    : Math.min(...(frees as number[]));
  sources.fbmem_free_mib = gpuPick.value === 0
    ? "no GPU"
    : fbFree === null
    ? `unknown: ${gpuFindings.source}`
    : `free memory of the smallest visible device, from ${gpuFindings.short}`;

  const affinity: Candidate = { value: cpu.report.logical, source: cpu.allowedSource };
  const quota: Candidate | undefined = cg.quota && {
    value: Math.max(1, Math.floor(cg.quota.value)),
    source: `cgroup CPU quota ${cg.report.cpu_quota} (${r.shown(cg.quota.at)})`,
  };
  const schedCpus: Candidate | undefined = scheduler.cpus === null ? undefined : {
    value: scheduler.cpus,
    source: `${scheduler.kind} (${
      Object.keys(scheduler.variables).find((k) => /CPUS_ON_NODE|NCPUS|PPN|MCPU/.test(k)) ?? "CPUs"
    }=${scheduler.cpus})`,
  };
  const cpuPick = smallest([affinity, quota, schedCpus])!;
  sources.cpus = explain(cpuPick, [affinity, quota, schedCpus]);
  const cores = Math.min(cpu.report.physical, cpuPick.value);
  sources.cores = cores < cpu.report.physical
    ? `limited to the CPU budget (${cpuPick.value}) below the ${cpu.report.physical} cores allowed`
    : `physical cores among the allowed CPUs (${r.shown("/sys/devices/system/cpu/cpu*/topology")})`;

  const usable = numa.filter((n) => n.cpu_count > 0 && (n.memory_mib ?? 0) > 0);
  const numaMem = usable.length ? Math.min(...usable.map((n) => n.memory_mib!)) : null;
  sources.numa = numa.length === 0
    ? `no NUMA information (${r.shown("/sys/devices/system/node")})`
    : `${r.shown("/sys/devices/system/node")}: domains with memory and allowed CPUs`;

  const memCandidates: (Candidate | undefined)[] = [
    totalMib === null
      ? undefined
      : { value: totalMib, source: `MemTotal (${r.shown("/proc/meminfo")})` },
    cgroupLimit === null || !cg.memory ? undefined : {
      value: cgroupLimit,
      source: `cgroup memory limit (${r.shown(cg.memory.at)})`,
    },
    scheduler.memory_mib === null ? undefined : {
      value: scheduler.memory_mib,
      source: `${scheduler.kind} (${
        Object.keys(scheduler.variables).find((k) => k.startsWith("SLURM_MEM")) ?? "memory"
      })`,
    },
  ];
  const memPick = smallest(memCandidates);
  sources.memory_mib = memPick ? explain(memPick, memCandidates) : "unknown";
  if (scheduler.kind) {
    sources.scheduler = Object.entries(scheduler.variables).map(([k, v]) => `${k}=${v}`).join(" ");
  }

  const budget: Budget = {
    gpus: gpuPick.value,
    fbmem_free_mib: gpuPick.value === 0 ? null : fbFree,
    cpus: cpuPick.value,
    cores,
    numa_domains: usable.length,
    numa_memory_mib: numaMem,
    memory_mib: memPick?.value ?? null,
  };
  return {
    gpus,
    driver_version: gpuFindings.driver,
    cuda_visible_devices: cvd ?? null,
    cpus: cpu.report,
    numa,
    memory,
    cgroup: cg.report,
    scheduler,
    budget,
    sources,
    problems: r.problems,
  };
}
