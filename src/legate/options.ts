/**
 * The one table of Legate runtime options.
 *
 * Order matters: it is the order in which upstream's driver writes `LEGATE_CONFIG`
 * (`ENV_PARTS_LEGATE`), whatever order the flags had on the command line. From this table
 * come the install flags and their help, validation, `LEGATE_CONFIG`, `metadata.legate`,
 * the `%legate_info` rows (`info` and the kernel-side magic) and shell completions.
 * @module
 */

import type { FlagSpec } from "../util/flag_spec.ts";

/** Where an option's value is kept in upstream's `metadata.legate`. */
export type MetadataSection = "core" | "memory";

/** One Legate runtime option. */
export interface LegateOption {
  /** Flag name, identical in `legate-jupyter` and in `LEGATE_CONFIG`: `cpus` for `--cpus`. */
  readonly name: string;
  /** Upstream's argparse dest: the key in `metadata.legate.<section>`. */
  readonly key: string;
  /** `fixed` entries are always written with `value` and are not flags. */
  readonly type: "int" | "boolean" | "fixed";
  readonly value?: string;
  readonly section?: MetadataSection;
  /** Help section of the install command. */
  readonly group?: string;
  readonly help?: string;
  /** Row label of `%legate_info` (upstream's text); rows appear in table order. */
  readonly info?: string;
  /** Unit shown in help. */
  readonly metavar?: string;
}

const CORE = "Core allocation";
const MEMORY = "Memory allocation";
const OTHER = "Other Legate options";

/** Every Legate option, in `LEGATE_CONFIG` order. */
export const LEGATE_OPTIONS: readonly LegateOption[] = [
  {
    name: "cpus",
    key: "cpus",
    type: "int",
    section: "core",
    group: CORE,
    info: "CPUs to use per rank",
    help: "Number of standalone CPU cores to reserve per rank",
  },
  {
    name: "gpus",
    key: "gpus",
    type: "int",
    section: "core",
    group: CORE,
    info: "GPUs to use per rank",
    help: "Number of GPUs to reserve per rank",
  },
  {
    name: "omps",
    key: "omps",
    type: "int",
    section: "core",
    group: CORE,
    info: "OpenMP groups to use per rank",
    help: "Number of OpenMP groups to use per rank",
  },
  {
    name: "ompthreads",
    key: "ompthreads",
    type: "int",
    section: "core",
    group: CORE,
    info: "Threads per OpenMP group",
    help: "Number of threads / reserved CPU cores per OpenMP group",
  },
  {
    name: "utility",
    key: "utility",
    type: "int",
    section: "core",
    group: CORE,
    info: "Utility processors per rank",
    help: "Number of threads to use per rank for runtime meta-work",
  },
  {
    name: "sysmem",
    key: "sysmem",
    type: "int",
    section: "memory",
    group: MEMORY,
    metavar: "MiB",
    info: "DRAM memory per rank (in MBs)",
    help: "Size (in MiB) of DRAM memory to reserve per rank",
  },
  {
    name: "numamem",
    key: "numamem",
    type: "int",
    section: "memory",
    group: MEMORY,
    metavar: "MiB",
    info: "DRAM memory per NUMA domain per rank (in MBs)",
    help: "Size (in MiB) of NUMA-specific DRAM memory to reserve per NUMA domain per rank",
  },
  {
    name: "fbmem",
    key: "fbmem",
    type: "int",
    section: "memory",
    group: MEMORY,
    metavar: "MiB",
    info: "Framebuffer memory per GPU (in MBs)",
    help: 'Size (in MiB) of GPU (or "framebuffer") memory to reserve per GPU',
  },
  {
    name: "zcmem",
    key: "zcmem",
    type: "int",
    section: "memory",
    group: MEMORY,
    metavar: "MiB",
    info: "Zero-copy memory per rank (in MBs)",
    help: 'Size (in MiB) of GPU-registered (or "zero-copy") DRAM memory to reserve per GPU',
  },
  {
    name: "regmem",
    key: "regmem",
    type: "int",
    section: "memory",
    group: MEMORY,
    metavar: "MiB",
    info: "Registered CPU-side pinned memory per rank (in MBs)",
    help: "Size (in MiB) of NIC-registered DRAM memory to reserve per rank",
  },
  {
    name: "max-exception-size",
    key: "max_exception_size",
    type: "int",
    section: "memory",
    group: MEMORY,
    metavar: "BYTES",
    help: "Largest exception a task may raise, in bytes",
  },
  {
    name: "min-cpu-chunk",
    key: "min_cpu_chunk",
    type: "int",
    section: "memory",
    group: MEMORY,
    help: "Smallest chunk of work worth launching on a CPU",
  },
  {
    name: "min-gpu-chunk",
    key: "min_gpu_chunk",
    type: "int",
    section: "memory",
    group: MEMORY,
    help: "Smallest chunk of work worth launching on a GPU",
  },
  {
    name: "min-omp-chunk",
    key: "min_omp_chunk",
    type: "int",
    section: "memory",
    group: MEMORY,
    help: "Smallest chunk of work worth launching on an OpenMP group",
  },
  {
    name: "field-reuse-fraction",
    key: "field_reuse_fraction",
    type: "int",
    section: "memory",
    group: MEMORY,
    help: "Fraction of a memory kept for reusing freed fields",
  },
  {
    name: "field-reuse-frequency",
    key: "field_reuse_frequency",
    type: "int",
    section: "memory",
    group: MEMORY,
    help: "How often freed fields are considered for reuse",
  },
  {
    name: "consensus",
    key: "consensus",
    type: "boolean",
    section: "memory",
    group: MEMORY,
    help: "Match field allocations across ranks by consensus (multi-rank runs)",
  },
  // Upstream always writes the log directory as the kernel's working directory.
  { name: "logdir", key: "logdir", type: "fixed", value: "." },
  {
    name: "auto-config",
    key: "auto_config",
    type: "boolean",
    group: OTHER,
    help: "Let Legate size the machine itself where a value is not given",
  },
  {
    name: "show-config",
    key: "show_config",
    type: "boolean",
    group: OTHER,
    help: "Print the machine configuration Legate chose at start-up",
  },
  {
    name: "show-memory-usage",
    key: "show_memory_usage",
    type: "boolean",
    group: OTHER,
    help: "Print memory usage at exit",
  },
  {
    name: "show-progress",
    key: "show_progress",
    type: "boolean",
    group: OTHER,
    help: "Print a line as each task starts",
  },
  {
    name: "window-size",
    key: "window_size",
    type: "int",
    group: OTHER,
    help: "Size of the runtime's operation window (1 disables deferred execution)",
  },
  {
    name: "warmup-nccl",
    key: "warmup_nccl",
    type: "boolean",
    group: OTHER,
    help: "Warm NCCL up at start-up",
  },
  {
    name: "disable-mpi",
    key: "disable_mpi",
    type: "boolean",
    group: OTHER,
    help: "Do not initialise MPI",
  },
  {
    name: "inline-task-launch",
    key: "inline_task_launch",
    type: "boolean",
    group: OTHER,
    help: "Launch tasks inline on the calling thread",
  },
  {
    name: "single-controller-execution",
    key: "single_controller_execution",
    type: "boolean",
    group: OTHER,
    help: "Run the Python program on one rank only",
  },
  {
    name: "io-use-vfd-gds",
    key: "io_use_vfd_gds",
    type: "boolean",
    group: OTHER,
    help: "Use the GPUDirect Storage virtual file driver for HDF5 I/O",
  },
  {
    name: "experimental-copy-path",
    key: "experimental_copy_path",
    type: "boolean",
    group: OTHER,
    help: "Use the experimental copy path",
  },
];

/** Values of the Legate options, keyed by option name; absent means "not set". */
export type LegateValues = Readonly<Record<string, number | boolean | undefined>>;

/** The options that are flags (everything but fixed entries). */
export function legateFlagOptions(): LegateOption[] {
  return LEGATE_OPTIONS.filter((o) => o.type !== "fixed");
}

/** The install command's flag specs for the Legate options. */
export function legateFlagSpecs(): FlagSpec[] {
  return legateFlagOptions().map((o) => ({
    name: o.name,
    type: o.type === "int" ? "int" : "boolean",
    help: o.help ?? "",
    group: o.group,
    metavar: o.type === "int" ? (o.metavar ?? "N") : undefined,
  }));
}

/** Picks the Legate option values out of parsed flag values (unset ints stay undefined). */
export function legateValuesFrom(
  values: Record<string, unknown>,
): Record<string, number | boolean | undefined> {
  const result: Record<string, number | boolean | undefined> = {};
  for (const o of legateFlagOptions()) {
    const v = values[o.name];
    result[o.name] = o.type === "boolean" ? Boolean(v) : (v as number | undefined);
  }
  return result;
}

/**
 * The `LEGATE_CONFIG` string for `values`: set flags in table order, integers as
 * `--flag N` (0 included), booleans as a bare `--flag` when true.
 */
export function legateConfigString(values: LegateValues): string {
  const parts: string[] = [];
  for (const o of LEGATE_OPTIONS) {
    if (o.type === "fixed") parts.push(`--${o.name}`, o.value!);
    else if (o.type === "boolean") {
      if (values[o.name]) parts.push(`--${o.name}`);
    } else if (values[o.name] !== undefined) parts.push(`--${o.name}`, String(values[o.name]));
  }
  return parts.join(" ");
}

/** Parses a `LEGATE_CONFIG` string back into option values (unknown words are ignored). */
export function parseLegateConfig(text: string): Record<string, number | boolean | undefined> {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const byName = new Map(legateFlagOptions().map((o) => [o.name, o]));
  const values: Record<string, number | boolean | undefined> = {};
  for (let i = 0; i < words.length; i++) {
    const o = words[i].startsWith("--") ? byName.get(words[i].slice(2)) : undefined;
    if (!o) continue;
    if (o.type === "boolean") values[o.name] = true;
    else if (/^\d+$/.test(words[i + 1] ?? "")) values[o.name] = Number(words[++i]);
  }
  return values;
}

/** `metadata.legate.core` / `.memory` as upstream writes them: every key, `null` when unset. */
export function metadataSection(
  values: LegateValues,
  section: MetadataSection,
): Record<string, number | boolean | null> {
  const result: Record<string, number | boolean | null> = {};
  for (const o of LEGATE_OPTIONS) {
    if (o.section !== section) continue;
    result[o.key] = o.type === "boolean"
      ? Boolean(values[o.name])
      : (values[o.name] as number) ?? null;
  }
  return result;
}

/** The `%legate_info` rows: `[section title, [[metadata key, label], ...]]`. */
export function infoRows(): [string, MetadataSection, [string, string][]][] {
  const rows = (section: MetadataSection) =>
    LEGATE_OPTIONS.filter((o) => o.section === section && o.info).map((o) =>
      [o.key, o.info!] as [string, string]
    );
  return [["Cores", "core", rows("core")], ["Memory", "memory", rows("memory")]];
}
