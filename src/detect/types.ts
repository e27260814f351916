/**
 * The detection report: what `detect --json` prints and what `install --auto` sizes from.
 * Keys are snake_case and stable; a figure that could not be found is `null`, never absent.
 * @module
 */

import type { SchedulerInfo } from "./scheduler.ts";

/** One MIG instance of a GPU. */
export interface MigReport {
  /** The instance's index under its GPU (NVML's MIG device index). */
  readonly index: number;
  readonly name: string | null;
  readonly uuid: string | null;
  readonly memory_total_mib: number | null;
  readonly memory_free_mib: number | null;
  /** Its CUDA device ordinal for this process, or `null` when `CUDA_VISIBLE_DEVICES` hides it. */
  readonly cuda_index: number | null;
}

/** One physical GPU. */
export interface GpuReport {
  /** NVML / `nvidia-smi` index (PCI bus order), not the CUDA ordinal. */
  readonly index: number;
  readonly name: string | null;
  readonly uuid: string | null;
  readonly memory_total_mib: number | null;
  readonly memory_free_mib: number | null;
  readonly pci_bus_id: string | null;
  /** `true` in MIG mode, `false` when not, `null` when unknown or unsupported. */
  readonly mig_mode: boolean | null;
  readonly mig: MigReport[];
  /** Its CUDA device ordinal for this process (`null` when hidden or when in MIG mode). */
  readonly cuda_index: number | null;
}

/** CPUs within this process's affinity (and the machine's totals for comparison). */
export interface CpuReport {
  /** Logical CPUs (hardware threads) this process may run on. */
  readonly logical: number;
  /** Physical cores among them (hyperthread siblings merged). */
  readonly physical: number;
  /** The allowed CPUs as a cpulist. */
  readonly allowed: string;
  readonly online: string;
  readonly online_logical: number;
  readonly online_physical: number;
  readonly sockets: number;
  readonly threads_per_core: number;
  /** Hyperthread sibling sets among the allowed CPUs, each a cpulist. */
  readonly sibling_sets: string[];
}

/** One NUMA domain this process may allocate from. */
export interface NumaReport {
  readonly node: number;
  /** Its CPUs within this process's affinity, as a cpulist (may be empty). */
  readonly cpus: string;
  readonly cpu_count: number;
  readonly memory_mib: number | null;
}

/** System memory, MiB. */
export interface MemoryReport {
  readonly total_mib: number | null;
  readonly available_mib: number | null;
  /** The cgroup memory limit (smallest along the hierarchy); `null` when unlimited. */
  readonly limit_mib: number | null;
  /** The scheduler's memory allowance on this node; `null` when none. */
  readonly job_limit_mib: number | null;
}

/** The cgroup limits that apply to this process. */
export interface CgroupReport {
  /** 1 or 2 for the hierarchy the CPU and memory controllers were read from; `null` if none. */
  readonly version: 1 | 2 | null;
  readonly cpu_path: string | null;
  readonly memory_path: string | null;
  /** CPU quota in CPUs (quota / period), smallest along the hierarchy; `null` when none. */
  readonly cpu_quota: number | null;
  readonly cpuset: string | null;
  readonly memory_limit_mib: number | null;
  readonly memory_usage_mib: number | null;
}

/** What this process can actually use: the minimum over hardware, affinity, cgroups, job. */
export interface Budget {
  /** CUDA devices (whole GPUs or MIG instances). */
  readonly gpus: number;
  /** Free framebuffer memory of the smallest visible device, MiB; `null` when unknown. */
  readonly fbmem_free_mib: number | null;
  /** Logical CPUs (threads). */
  readonly cpus: number;
  /** Physical cores. */
  readonly cores: number;
  /** NUMA domains with both memory and allowed CPUs. */
  readonly numa_domains: number;
  /** Memory per usable NUMA domain, MiB (the smallest domain); `null` when unknown. */
  readonly numa_memory_mib: number | null;
  /** System memory the job may use, MiB; `null` when unknown. */
  readonly memory_mib: number | null;
}

/** The whole detection report. */
export interface DetectReport {
  readonly gpus: GpuReport[];
  readonly driver_version: string | null;
  readonly cuda_visible_devices: string | null;
  readonly cpus: CpuReport;
  readonly numa: NumaReport[];
  readonly memory: MemoryReport;
  readonly cgroup: CgroupReport;
  readonly scheduler: SchedulerInfo;
  readonly budget: Budget;
  /** Where each figure came from, keyed like `budget` plus `gpu_list`. */
  readonly sources: Record<string, string>;
  /** What could not be read or made sense of, one sentence each. */
  readonly problems: string[];
}
