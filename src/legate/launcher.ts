/**
 * How a Legate kernel is launched across ranks: the launcher part of the command, composed
 * exactly as upstream's driver composes it (`legate/driver/launcher.py`), and the argument
 * given to Legate's bind script.
 * @module
 */

import { UsageError } from "../util/errors.ts";

/** Launchers upstream accepts, in its order. */
export const LAUNCHERS = ["mpirun", "jsrun", "aprun", "srun", "dask", "none"] as const;
/** A launcher name. */
export type Launcher = typeof LAUNCHERS[number];

/** MPI implementations whose `mpirun` forms differ. */
export const MPI_FLAVORS = ["openmpi", "mpich"] as const;
/** An MPI implementation. */
export type MpiFlavor = typeof MPI_FLAVORS[number];

/** `metadata.legate.multi_node`, with upstream's field names. */
export interface MultiNode {
  readonly nodes: number;
  readonly ranks_per_node: number;
  readonly launcher: Launcher;
  /** Already split into words (upstream runs `shlex.split` on each `--launcher-extra`). */
  readonly launcher_extra: readonly string[];
}

/** Environment variable prefixes upstream forwards through `mpirun`. */
export const LAUNCHER_VAR_PREFIXES = [
  "CONDA_",
  "CUFILE_",
  "CUTENSOR_",
  "LEGATE_",
  "LEGION_",
  "LG_",
  "REALM_",
  "GASNET_",
  "PYTHON",
  "UCX_",
  "NCCL_",
  "CUPYNUMERIC_",
  "NVIDIA_",
  "LD_",
] as const;

/** Upstream's `is_launcher_var`: names ending in PATH or starting with a known prefix. */
export function isLauncherVar(name: string): boolean {
  return name.endsWith("PATH") || LAUNCHER_VAR_PREFIXES.some((p) => name.startsWith(p));
}

/**
 * The variables `mpirun` must forward to the ranks: those of `names` that upstream would
 * forward, plus the kernel's own, sorted so that the generated script is reproducible
 * (upstream's order follows Python's set iteration and changes from run to run).
 */
export function forwardedVars(names: Iterable<string>, always: readonly string[]): string[] {
  const set = new Set<string>(always);
  for (const n of names) if (isLauncherVar(n)) set.add(n);
  return [...set].sort();
}

/** Which `mpirun` this is, from the text of `mpirun --version` (upstream's rule). */
export function mpiFlavorFromVersion(text: string): MpiFlavor | undefined {
  const t = text.toLowerCase();
  if (["open mpi", "openmpi", "open-mpi"].some((s) => t.includes(s))) return "openmpi";
  if (["mpich", "hydra"].some((s) => t.includes(s))) return "mpich";
  return undefined;
}

/** Refuses configurations upstream cannot launch, with the fix in the message. */
export function validateMultiNode(mn: MultiNode): void {
  const ranks = mn.nodes * mn.ranks_per_node;
  if (mn.launcher === "none" && ranks > 1) {
    throw new UsageError(
      `${ranks} ranks need a launcher to start them: add --launcher srun (or mpirun, jsrun, aprun)`,
    );
  }
  if (mn.launcher === "dask" && mn.nodes > 1) {
    throw new UsageError("the dask launcher only supports single-node runs: use --nodes 1");
  }
}

/**
 * The launcher words that go before the bind script, as upstream composes them.
 * `forward` lists the variables `mpirun` passes on; `mpi` picks its form.
 */
export function launcherCommand(
  mn: MultiNode,
  options: { mpi?: MpiFlavor; forward?: readonly string[] } = {},
): string[] {
  const n = mn.nodes;
  const r = mn.ranks_per_node;
  const t = String(n * r);
  const x = mn.launcher_extra;
  switch (mn.launcher) {
    case "none":
      return [];
    case "mpirun": {
      const forward = options.forward ?? [];
      if ((options.mpi ?? "openmpi") === "openmpi") {
        return [
          "mpirun",
          "-n",
          t,
          "--npernode",
          String(r),
          "--bind-to",
          "none",
          "--mca",
          "mpi_warn_on_fork",
          "0",
          ...forward.flatMap((v) => ["-x", v]),
          ...x,
        ];
      }
      return [
        "mpirun",
        "-n",
        t,
        "-ppn",
        String(r),
        "--bind-to",
        "none",
        ...(forward.length ? ["-envlist", forward.join(",")] : []),
        ...x,
      ];
    }
    case "jsrun":
      return [
        "jsrun",
        "-n",
        String(n), // upstream: T // R
        "-r",
        "1",
        "-a",
        String(r),
        "-c",
        "ALL_CPUS",
        "-g",
        "ALL_GPUS",
        "-b",
        "none",
        ...x,
      ];
    case "aprun":
      return ["aprun", "-n", t, "-N", String(r), ...x];
    case "srun":
      return ["srun", "-n", t, "--ntasks-per-node", String(r), ...x];
    case "dask":
      return ["daskrun", "--workers-per-node", String(r), ...x];
  }
}

/** The `--launcher` argument of Legate's bind script. */
export function bindLauncherArg(mn: MultiNode): string {
  if (mn.launcher !== "none") return mn.launcher;
  return mn.nodes * mn.ranks_per_node === 1 ? "local" : "auto";
}
