/**
 * The entry point of the scheduler area for commands: pick a scheduler by name, or find the
 * one this login node has.
 * @module
 */

import { LSF } from "./lsf.ts";
import { PBS } from "./pbs.ts";
import { SLURM } from "./slurm.ts";
import { which } from "../util/which.ts";
import type { Scheduler, SchedulerName } from "./types.ts";

/** The {@link Scheduler} called `name`. */
export function schedulerFor(name: SchedulerName): Scheduler {
  return { slurm: SLURM, pbs: PBS, lsf: LSF }[name];
}

/**
 * Guesses the scheduler from the commands on PATH (`sbatch`, then `qsub`, then `bsub`), for
 * when `--scheduler` is not given; undefined when none is found. `exists` is injectable for tests.
 */
export function detectScheduler(
  exists: (command: string) => boolean = (c) => which(c) !== undefined,
): SchedulerName | undefined {
  for (const [cmd, name] of [["sbatch", "slurm"], ["qsub", "pbs"], ["bsub", "lsf"]] as const) {
    if (exists(cmd)) return name;
  }
  return undefined;
}
