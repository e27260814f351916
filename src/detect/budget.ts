/**
 * The budget: for each figure (GPUs, their free memory, CPUs, cores, NUMA domains, memory) the
 * smallest of what each layer allows — the hardware, the affinity, the cgroup, the batch job,
 * `CUDA_VISIBLE_DEVICES` — with the source of the figure chosen and of the others.
 * @module
 */

import type { CgroupFindings } from "./memory.ts";
import type { CpuFindings } from "./cpus.ts";
import type { GpuFindings, VisibleGpus } from "./gpus.ts";
import type { Reader } from "./reader.ts";
import type { SchedulerInfo } from "./scheduler.ts";
import type { Budget, MemoryReport, NumaReport } from "./types.ts";

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

/** What the budget is made from: everything detection read. */
export interface Findings {
  readonly gpus: GpuFindings;
  readonly visible: VisibleGpus;
  readonly cvd: string | undefined;
  readonly cpu: CpuFindings;
  readonly cg: CgroupFindings;
  readonly numa: readonly NumaReport[];
  readonly memory: MemoryReport;
  readonly scheduler: SchedulerInfo;
}

/** GPUs: the devices CUDA shows, within the job's GPUs; and the smallest one's free memory. */
function gpuBudget(f: Findings, sources: Record<string, string>) {
  const { gpus: found, visible, cvd, scheduler } = f;
  sources.gpu_list = found.source;
  const deviceCount: Candidate = {
    value: visible.devices.length,
    source: cvd === undefined
      ? found.source
      : `CUDA_VISIBLE_DEVICES=${cvd} (${visible.devices.length} device(s) of ${found.gpus.length} ` +
        `GPU(s) from ${found.short}${visible.notes.length ? `; ${visible.notes.join("; ")}` : ""})`,
  };
  const schedGpus: Candidate | undefined = scheduler.gpus === null ? undefined : {
    value: scheduler.gpus,
    source: `${scheduler.kind} (SLURM_GPUS_ON_NODE=${scheduler.gpus})`,
  };
  const gpuPick = smallest([deviceCount, schedGpus])!;
  sources.gpus = explain(gpuPick, [deviceCount, schedGpus]);
  const frees = visible.devices.slice(0, gpuPick.value).map((d) => {
    const g = found.gpus[d.gpu];
    return d.mig === null ? g.memory_free_mib : g.mig[d.mig].memory_free_mib;
  });
  const fbFree = frees.length === 0 || frees.some((f) => f === null)
    ? null
    : Math.min(...(frees as number[]));
  sources.fbmem_free_mib = gpuPick.value === 0
    ? "no GPU"
    : fbFree === null
    ? `unknown: ${found.source}`
    : `free memory of the smallest visible device, from ${found.short}`;
  return { gpus: gpuPick.value, fbmem_free_mib: gpuPick.value === 0 ? null : fbFree };
}

/** CPUs: the allowed ones, within the cgroup's quota and the job's CPUs; cores within that. */
function cpuBudget(r: Reader, f: Findings, sources: Record<string, string>) {
  const { cpu, cg, scheduler } = f;
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
  return { cpus: cpuPick.value, cores };
}

/** NUMA domains with memory and allowed CPUs, and the smallest one's memory. */
function numaBudget(r: Reader, f: Findings, sources: Record<string, string>) {
  const usable = f.numa.filter((n) => n.cpu_count > 0 && (n.memory_mib ?? 0) > 0);
  const numaMem = usable.length ? Math.min(...usable.map((n) => n.memory_mib!)) : null;
  sources.numa = f.numa.length === 0
    ? `no NUMA information (${r.shown("/sys/devices/system/node")})`
    : `${r.shown("/sys/devices/system/node")}: domains with memory and allowed CPUs`;
  return { numa_domains: usable.length, numa_memory_mib: numaMem };
}

/** Memory: the machine's, within the cgroup's limit and the job's. */
function memoryBudget(r: Reader, f: Findings, sources: Record<string, string>) {
  const { memory, cg, scheduler } = f;
  const memCandidates: (Candidate | undefined)[] = [
    memory.total_mib === null
      ? undefined
      : { value: memory.total_mib, source: `MemTotal (${r.shown("/proc/meminfo")})` },
    memory.limit_mib === null || !cg.memory ? undefined : {
      value: memory.limit_mib,
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
  return { memory_mib: memPick?.value ?? null };
}

/** The budget and the source of each of its figures (`sources`, in the report's order). */
export function budgetOf(
  r: Reader,
  f: Findings,
): { budget: Budget; sources: Record<string, string> } {
  const sources: Record<string, string> = {};
  const gpu = gpuBudget(f, sources);
  const cpu = cpuBudget(r, f, sources);
  const numa = numaBudget(r, f, sources);
  const memory = memoryBudget(r, f, sources);
  if (f.scheduler.kind) {
    sources.scheduler = Object.entries(f.scheduler.variables).map(([k, v]) => `${k}=${v}`).join(
      " ",
    );
  }
  return { budget: { ...gpu, ...cpu, ...numa, ...memory }, sources };
}
