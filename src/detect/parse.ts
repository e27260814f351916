/**
 * Pure parsers for the text formats detection reads: Linux cpulists, `/proc/meminfo`,
 * `/proc/self/status`, `/proc/self/cgroup` and `mountinfo`, cgroup limit files, NUMA
 * `meminfo`, the NVIDIA driver's `information` files and `nvidia-smi` CSV. None of them
 * touches the machine; each returns what it understood and throws nothing on junk.
 * @module
 */

const MIB = 1048576n;

/**
 * Parses a Linux cpulist (`0-3,8-11`, `0,56`, or empty) into sorted unique ids; `undefined`
 * when the text is not a cpulist at all.
 */
export function parseCpuList(text: string): number[] | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return [];
  const ids = new Set<number>();
  for (const part of trimmed.split(",")) {
    // Stride form `0-15:2` exists in kernel cpulist syntax (isolcpus), so accept it.
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    // 1<<16 CPUs is beyond any machine Linux supports; a larger range is junk, not a CPU set.
    if (hi < lo || step < 1 || hi > 65535) return undefined;
    for (let i = lo; i <= hi; i += step) ids.add(i);
  }
  return [...ids].sort((a, b) => a - b);
}

/** Formats ids as a compact cpulist (`0-3,8`), the inverse of {@link parseCpuList}. */
export function formatCpuList(ids: readonly number[]): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** `/proc/meminfo` as a map of key to value in KiB (or a plain count for `HugePages_*`). */
export function parseMeminfo(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?: kB)?\s*$/.exec(line);
    if (m) result.set(m[1], Number(m[2]));
  }
  return result;
}

/** A NUMA node's `meminfo` (`Node 0 MemTotal:  5728472 kB`) as a map of key to KiB. */
export function parseNodeMeminfo(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^Node\s+\d+\s+(\w+):\s+(\d+)(?: kB)?\s*$/.exec(line);
    if (m) result.set(m[1], Number(m[2]));
  }
  return result;
}

/** `/proc/<pid>/status` as a map of key to the trimmed value. */
export function parseStatus(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) result.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return result;
}

/** One line of `/proc/self/cgroup`. */
export interface CgroupMembership {
  /** Hierarchy id; 0 is the cgroup v2 unified hierarchy. */
  readonly id: number;
  /** v1 controllers of the hierarchy (`cpu`, `cpuacct`, `name=systemd`); empty for v2. */
  readonly controllers: readonly string[];
  readonly path: string;
}

/** Parses `/proc/self/cgroup` (`N:ctrl,ctrl:/path`); malformed lines are skipped. */
export function parseProcCgroup(text: string): CgroupMembership[] {
  const result: CgroupMembership[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line.trim());
    if (!m) continue;
    result.push({
      id: Number(m[1]),
      controllers: m[2] === "" ? [] : m[2].split(","),
      path: m[3],
    });
  }
  return result;
}

/** One cgroup mount from `/proc/self/mountinfo`. */
export interface CgroupMount {
  /** 1 for `cgroup`, 2 for `cgroup2`. */
  readonly version: 1 | 2;
  /** The path inside the hierarchy that is mounted (`/` unless in a container). */
  readonly root: string;
  readonly mountPoint: string;
  /** v1 controllers named in the super options. */
  readonly controllers: readonly string[];
}

// mountinfo escapes space, tab, newline and backslash as octal.
function unescapeMount(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct) => String.fromCharCode(parseInt(oct, 8)));
}

/** The cgroup and cgroup2 mounts listed in `/proc/self/mountinfo`. */
export function parseCgroupMounts(text: string): CgroupMount[] {
  const result: CgroupMount[] = [];
  for (const line of text.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" ");
    const right = line.slice(sep + 3).split(" ");
    if (left.length < 5 || right.length < 1) continue;
    const fsType = right[0];
    if (fsType !== "cgroup" && fsType !== "cgroup2") continue;
    const superOptions = (right[2] ?? "").split(",");
    result.push({
      version: fsType === "cgroup2" ? 2 : 1,
      root: unescapeMount(left[3]),
      mountPoint: unescapeMount(left[4]),
      controllers: fsType === "cgroup2" ? [] : superOptions.filter((o) => o !== "rw" && o !== "ro"),
    });
  }
  return result;
}

/** A limit read from a cgroup file: a number, `unlimited`, or `undefined` for junk. */
export type Limit = bigint | "unlimited" | undefined;

// 2^60: anything at or above it is a "no limit" sentinel (v1 uses 0x7FFFFFFFFFFFF000 and
// page-size variants of it), never a real amount of memory.
const SENTINEL = 1n << 60n;

/** A byte limit (`memory.max`, `memory.limit_in_bytes`): `max`, -1 and sentinels are unlimited. */
export function parseByteLimit(text: string): Limit {
  const t = text.trim();
  if (t === "max" || t === "-1") return "unlimited";
  if (!/^\d+$/.test(t)) return undefined;
  const n = BigInt(t);
  return n >= SENTINEL ? "unlimited" : n;
}

/** A plain byte count (`memory.current`, `memory.usage_in_bytes`). */
export function parseBytes(text: string): bigint | undefined {
  const t = text.trim();
  return /^\d+$/.test(t) ? BigInt(t) : undefined;
}

/** A CPU quota in CPUs (fractional), or `unlimited`, or `undefined` for junk. */
export type CpuQuota = number | "unlimited" | undefined;

/** cgroup v2 `cpu.max`: `max 100000` or `200000 100000` (quota and period in µs). */
export function parseCpuMax(text: string): CpuQuota {
  const m = /^(max|\d+)(?:\s+(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  if (m[1] === "max") return "unlimited";
  const period = Number(m[2] ?? "100000");
  if (period <= 0) return undefined;
  return Number(m[1]) / period;
}

/** cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us`: quota -1 means unlimited. */
export function parseCfsQuota(quotaText: string, periodText: string): CpuQuota {
  const q = quotaText.trim();
  const p = periodText.trim();
  if (!/^-?\d+$/.test(q)) return undefined;
  if (Number(q) < 0) return "unlimited";
  if (!/^\d+$/.test(p) || Number(p) <= 0) return undefined;
  return Number(q) / Number(p);
}

/** Bytes to whole MiB, rounding down (BigInt so sentinel-sized values stay exact). */
export function bytesToMib(bytes: bigint): number {
  return Number(bytes / MIB);
}

/** The fields of `/proc/driver/nvidia/gpus/<bdf>/information` (`Key: \t value` lines). */
export function parseNvidiaInformation(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    result.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return result;
}

/** One row of `nvidia-smi --query-gpu=index,name,uuid,memory.total,memory.free,pci.bus_id`. */
export interface SmiGpuRow {
  readonly index: number;
  readonly name: string;
  readonly uuid: string | null;
  readonly memoryTotalMib: number | null;
  readonly memoryFreeMib: number | null;
  readonly pciBusId: string | null;
}

/** The fields {@link parseSmiCsv} expects, in order, for `--query-gpu=`. */
export const SMI_QUERY_FIELDS = "index,name,uuid,memory.total,memory.free,pci.bus_id";

function smiNumber(text: string): number | null {
  const t = text.trim().replace(/\s*MiB$/, "");
  return /^\d+$/.test(t) ? Number(t) : null;
}

function smiText(text: string): string | null {
  const t = text.trim();
  return t === "" || t.startsWith("[") ? null : t;
}

/**
 * Parses `--format=csv,noheader,nounits` output of {@link SMI_QUERY_FIELDS}. Lines that do
 * not fit come back in `junk`, so the caller can report them.
 */
export function parseSmiCsv(text: string): { rows: SmiGpuRow[]; junk: string[] } {
  const rows: SmiGpuRow[] = [];
  const junk: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const fields = line.split(",").map((f) => f.trim());
    // Names have no commas in practice, but take the fixed fields from both ends so a
    // comma in a name would only widen the name.
    if (fields.length < 6 || !/^\d+$/.test(fields[0])) {
      junk.push(line);
      continue;
    }
    const tail = fields.slice(-4);
    rows.push({
      index: Number(fields[0]),
      name: fields.slice(1, -4).join(", "),
      uuid: smiText(tail[0]),
      memoryTotalMib: smiNumber(tail[1]),
      memoryFreeMib: smiNumber(tail[2]),
      pciBusId: smiText(tail[3]),
    });
  }
  return { rows, junk };
}

/** `KEY=VALUE` lines (an env file); `#` comments and blank lines are skipped. */
export function parseEnvFile(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) continue;
    const eq = t.indexOf("=");
    if (eq > 0) result[t.slice(0, eq)] = t.slice(eq + 1);
  }
  return result;
}
