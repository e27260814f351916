/**
 * `install --auto`: Legate option values sized from a detection report's budget.
 *
 * The formulas start from Legate's own auto-configuration (`legate_args.cc autoconfigure`)
 * but size from what the job may use — affinity, cgroup and scheduler limits — where
 * Legate sizes from the whole machine. With C physical cores, G CUDA devices, F the free
 * framebuffer of the smallest visible device, D NUMA domains holding allowed CPUs, N the
 * memory of the smallest such domain and M the job's memory (all MiB):
 *
 * - `gpus` = G.
 * - `fbmem` = min(⌊0.95·F⌋, F − 512): Legate's 95 %, but Legate measures F after creating
 *   its CUDA context and we measure before, so at least 512 MiB stay free for that context.
 *   Left out when F is unknown (no NVML and no nvidia-smi): Legate then sizes it at start-up.
 * - `zcmem` = 128 with GPUs (Legate's default), counted against M.
 * - `utility` = 2 (Legate's default), or 1 when C < G + 4 so some core is left for work.
 * - `omps` = G with GPUs, else max(D, 1) — one OpenMP group per GPU or per NUMA domain —
 *   when T = C − 1 − utility − G ≥ that many threads remain; otherwise 0 (no OpenMP).
 * - `ompthreads` = ⌊T / omps⌋ (0 without OpenMP); `cpus` = 1 with OpenMP, else
 *   max(1, min(G, C − utility − G)) with GPUs, else max(1, C − utility). So
 *   cpus + utility + omps·ompthreads + G never exceeds C, except that every GPU and one
 *   CPU thread are kept even on an allocation too small for them.
 * - `numamem` = ⌊0.8·N / ⌈omps/D⌉⌋ when omps is a multiple of D (Legate's rule, else 0),
 *   capped so that omps·numamem + 256 + zcmem ≤ ⌊0.8·M⌋.
 * - `sysmem` = 256 when numamem > 0, else ⌊0.8·M⌋ − zcmem (Legate uses 0.8 of MemTotal).
 *   Memory options are left out when M is unknown.
 * @module
 */

import { LEGATE_OPTIONS } from "../legate/options.ts";
import type { DetectReport } from "./types.ts";

/** Option values for `install --auto`, keyed by Legate option name, and why each was chosen. */
export interface AutoSize {
  readonly values: Record<string, number>;
  readonly reasons: Record<string, string>;
}

/** MiB left free on each GPU for the CUDA context Legate creates before sizing fbmem. */
export const CONTEXT_RESERVE_MIB = 512;
/** Legate's default zero-copy memory, MiB. */
export const ZCMEM_MIB = 128;
/** Legate's sysmem when NUMA memory carries the data, MiB. */
export const SMALL_SYSMEM_MIB = 256;

/** Records an option's value and why it was chosen. */
type Setter = (name: string, value: number, why: string) => void;
type Budget = DetectReport["budget"];
type Sources = DetectReport["sources"];

/** Sizes Legate options from `report.budget` (pure: same report, same answer). */
export function autoSize(report: Pick<DetectReport, "budget" | "sources">): AutoSize {
  const known = new Set(LEGATE_OPTIONS.map((o) => o.name));
  const values: Record<string, number> = {};
  const reasons: Record<string, string> = {};
  const set: Setter = (name, value, why) => {
    // A misspelt key would silently never reach LEGATE_CONFIG.
    if (!known.has(name)) throw new Error(`autoSize: '${name}' is not a Legate option`);
    values[name] = value;
    reasons[name] = why;
  };
  const b = report.budget;
  const s = report.sources;
  const zc = sizeGpus(b, s, set, reasons);
  const omps = sizeThreads(b, set);
  if (b.memory_mib === null) {
    reasons.sysmem = "left to Legate: system memory is unknown";
    return { values, reasons };
  }
  sizeMemory(b, s, { omps, zc }, set);
  return { values, reasons };
}

/** `gpus`, `fbmem` and `zcmem`; returns the zero-copy memory (MiB) counted against the job's. */
function sizeGpus(b: Budget, s: Sources, set: Setter, reasons: Record<string, string>): number {
  const G = b.gpus;
  set("gpus", G, `${G} CUDA device(s) this job can use: ${s.gpus ?? "detected"}`);
  if (G === 0) set("fbmem", 0, "no GPU");
  else if (b.fbmem_free_mib !== null) {
    const F = b.fbmem_free_mib;
    const fb = Math.max(0, Math.min(Math.floor(0.95 * F), F - CONTEXT_RESERVE_MIB));
    set(
      "fbmem",
      fb,
      `min(⌊0.95 × ${F}⌋, ${F} − ${CONTEXT_RESERVE_MIB}) MiB: 95% of the smallest visible ` +
        `device's free memory, keeping ${CONTEXT_RESERVE_MIB} MiB for the CUDA context`,
    );
  } else {
    reasons.fbmem = "left to Legate: GPU memory is unknown without NVML or nvidia-smi";
  }
  const zc = G > 0 ? ZCMEM_MIB : 0;
  if (G > 0) set("zcmem", zc, `Legate's default ${ZCMEM_MIB} MiB of zero-copy memory`);
  return zc;
}

/** `utility`, `omps`, `ompthreads` and `cpus` from the cores; returns the OpenMP groups. */
function sizeThreads(b: Budget, set: Setter): number {
  const G = b.gpus;
  const C = Math.max(1, b.cores);
  const D = b.numa_domains;
  const utility = C >= G + 4 ? 2 : 1;
  set(
    "utility",
    utility,
    utility === 2
      ? "Legate's default 2 utility threads"
      : `1 utility thread: ${C} core(s) are too few for Legate's default 2`,
  );

  const target = G > 0 ? G : Math.max(D, 1);
  const T = C - 1 - utility - G;
  const omps = T >= target ? target : 0;
  const per = G > 0 ? "one per GPU" : `one per NUMA domain (${Math.max(D, 1)})`;
  set(
    "omps",
    omps,
    omps > 0
      ? `${per}`
      : `no OpenMP groups: ${C} core(s) − 1 CPU − ${utility} utility − ${G} GPU = ${T} ` +
        `thread(s), fewer than the ${target} groups wanted (${per})`,
  );
  const ompthreads = omps > 0 ? Math.floor(T / omps) : 0;
  set(
    "ompthreads",
    ompthreads,
    omps > 0
      ? `⌊(${C} cores − 1 CPU − ${utility} utility − ${G} GPU) / ${omps} groups⌋`
      : "no OpenMP groups",
  );
  let cpus: number;
  let cpuWhy: string;
  if (omps > 0) [cpus, cpuWhy] = [1, "1: the OpenMP groups do the CPU work (as Legate does)"];
  else if (G > 0) {
    cpus = Math.max(1, Math.min(G, C - utility - G));
    cpuWhy = `max(1, min(${G} GPUs, ${C} cores − ${utility} utility − ${G} GPU))`;
  } else {
    cpus = Math.max(1, C - utility);
    cpuWhy = `max(1, ${C} cores − ${utility} utility)`;
  }
  if (cpus + utility + omps * ompthreads + G > C) {
    cpuWhy += `; the job has only ${C} core(s), so threads will share them`;
  }
  set("cpus", cpus, cpuWhy);
  return omps;
}

/** `numamem` and `sysmem` from the job's memory and the NUMA domains. */
function sizeMemory(
  b: Budget,
  s: Sources,
  { omps, zc }: { omps: number; zc: number },
  set: Setter,
): void {
  const D = b.numa_domains;
  const M = b.memory_mib!;
  const pool = Math.floor(0.8 * M);
  let numamem = 0;
  let numaWhy = omps === 0
    ? "0: no OpenMP groups"
    : D === 0 || b.numa_memory_mib === null
    ? "0: no NUMA domain information"
    : `0: ${omps} groups do not divide evenly over ${D} NUMA domains (Legate's rule)`;
  if (omps > 0 && D > 0 && b.numa_memory_mib !== null && omps % D === 0) {
    const perDomain = Math.ceil(omps / D);
    const legate = Math.floor((0.8 * b.numa_memory_mib) / perDomain);
    const cap = Math.max(0, Math.floor((pool - SMALL_SYSMEM_MIB - zc) / omps));
    numamem = Math.min(legate, cap);
    numaWhy = `⌊0.8 × ${b.numa_memory_mib} MiB per domain / ${perDomain} group(s) per domain⌋`;
    if (cap < legate) {
      numaWhy = `capped by the job's memory: ⌊(0.8 × ${M} − ${SMALL_SYSMEM_MIB} sysmem − ${zc} ` +
        `zcmem) / ${omps} groups⌋ (Legate's ${legate} would exceed ${M} MiB; ${
          s.memory_mib ?? ""
        })`;
    }
  }
  set("numamem", numamem, numaWhy);
  if (numamem > 0) {
    set(
      "sysmem",
      SMALL_SYSMEM_MIB,
      `${SMALL_SYSMEM_MIB} MiB: NUMA memory holds the data (as Legate does)`,
    );
  } else {
    set(
      "sysmem",
      Math.max(0, pool - zc),
      `⌊0.8 × ${M} MiB⌋${zc ? ` − ${zc} zcmem` : ""}: 80% of the memory this job may use (${
        s.memory_mib ?? "detected"
      })`,
    );
  }
}
