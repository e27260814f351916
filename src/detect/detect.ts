/**
 * Detection: what the node has and what this process (its affinity, cgroups and batch job)
 * may use. {@link detect} reads the machine only through a {@link Probe}; every figure comes
 * with a source, and whatever cannot be read becomes a line in `problems` instead of an
 * exception. Each part of the machine has its own module: `cpus.ts` (CPUs, affinity, NUMA),
 * `memory.ts` (memory and cgroups), `gpus.ts` (GPUs), `scheduler.ts` (the batch job), and
 * `budget.ts` (the smallest of what each layer allows).
 * @module
 */

import { type Probe, systemProbe } from "./probe.ts";
import { parseStatus } from "./parse.ts";
import { Reader } from "./reader.ts";
import { memoryReport, readCgroups, readMeminfo } from "./memory.ts";
import { readCpus, readNuma } from "./cpus.ts";
import { readGpus, visibleGpus } from "./gpus.ts";
import { detectScheduler } from "./scheduler.ts";
import { budgetOf } from "./budget.ts";
import type { DetectReport } from "./types.ts";

/**
 * Detects this node (or, with `root`, the copy of a node's `/proc` and `/sys` under it), as
 * `detect` and `install --auto` do.
 */
export function detectSystem(root = "/"): Promise<DetectReport> {
  return detect(systemProbe({ root }));
}

/** Detects the node's hardware and this process's allowance through `probe`. */
export async function detect(probe: Probe): Promise<DetectReport> {
  const r = new Reader(probe);
  // The GPUs are asked for first: NVML or nvidia-smi answer while the files are read.
  const gpusFound = readGpus(r);
  const status = parseStatus(r.text("/proc/self/status") ?? "");
  const cg = readCgroups(r);
  const cpu = readCpus(r, status, cg);
  const numa = readNuma(r, status, cpu.allowed);
  const meminfo = readMeminfo(r);
  const scheduler = detectScheduler((n) => probe.env(n), r.problems);
  const memory = memoryReport(meminfo, cg, scheduler);
  const gpus = await gpusFound;
  const cvd = probe.env("CUDA_VISIBLE_DEVICES");
  const visible = visibleGpus(r, gpus, cvd);
  const { budget, sources } = budgetOf(r, {
    gpus,
    visible,
    cvd,
    cpu,
    cg,
    numa,
    memory,
    scheduler,
  });
  return {
    gpus: visible.gpus,
    driver_version: gpus.driver,
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
