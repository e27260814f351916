/**
 * The scheduler flags of `submit`, declared once (help, parsing and completion come from this
 * table), and how parsed values become {@link BatchOptions}.
 * @module
 */

import type { FlagSpec } from "../util/flag_spec.ts";
import type { BatchOptions, GpuFlag } from "./script.ts";
import { DEFAULT_JOB_NAME, type SchedulerName, SCHEDULERS } from "./types.ts";

const G = "Scheduler";

/** `submit`'s scheduler flags (no short forms, so that they never clash with `notebook`'s). */
export const SCHEDULER_FLAGS: readonly FlagSpec[] = [
  {
    name: "scheduler",
    type: "string",
    choices: SCHEDULERS,
    help: "The cluster's batch scheduler (found from sbatch/qsub/bsub on PATH when omitted)",
    group: G,
  },
  {
    name: "partition",
    type: "string",
    metavar: "NAME",
    help: "Partition (queue for PBS/LSF)",
    group: G,
  },
  {
    name: "account",
    type: "string",
    metavar: "NAME",
    help: "Account (project) to charge",
    group: G,
  },
  { name: "qos", type: "string", metavar: "NAME", help: "Quality of service (Slurm)", group: G },
  {
    name: "time",
    type: "string",
    metavar: "LIMIT",
    help: "Time limit: minutes, HH:MM:SS or D-HH:MM:SS (0: none, where the site allows it)",
    group: G,
  },
  { name: "nodes", type: "int", min: 1, help: "Nodes", group: G },
  { name: "ntasks-per-node", type: "int", min: 1, help: "Tasks per node", group: G },
  { name: "cpus-per-task", type: "int", min: 1, help: "CPUs per task", group: G },
  {
    name: "mem",
    type: "string",
    metavar: "SIZE",
    help: "Memory per node: 16G, 500M... (Slurm: 0 for all of it)",
    group: G,
  },
  { name: "gpus", type: "int", help: "GPUs per node", group: G },
  {
    name: "gpu-flag",
    type: "string",
    choices: ["gpus", "gres"],
    default: "gpus",
    help: "How Slurm is asked for the --gpus on each node: --gpus=N (--gpus-per-node=N on " +
      "several nodes) or --gres=gpu:N",
    group: G,
  },
  {
    name: "constraint",
    type: "string",
    metavar: "FEATURES",
    help: "Node features (Slurm)",
    group: G,
  },
  { name: "reservation", type: "string", metavar: "NAME", help: "Reservation (Slurm)", group: G },
  {
    name: "job-name",
    type: "string",
    metavar: "NAME",
    help: "Job name",
    default: DEFAULT_JOB_NAME,
    group: G,
  },
  {
    name: "sbatch-arg",
    type: "string",
    multiple: true,
    metavar: "ARG",
    help:
      "Pass ARG to the scheduler as a directive (repeatable), e.g. --sbatch-arg=--begin=now+1hour",
    group: G,
  },
];

/**
 * Builds {@link BatchOptions} from parsed `values` (keyed by flag name) and what the job runs.
 * Checking happens in `renderBatchScript`, which throws `UsageError` naming the flag.
 */
export function batchOptionsFromFlags(
  values: Readonly<Record<string, unknown>>,
  job: {
    scheduler: SchedulerName;
    command: readonly string[];
    preStep?: readonly string[];
    output?: string;
    workdir?: string;
  },
): BatchOptions {
  const str = (name: string) => values[name] as string | undefined;
  const int = (name: string) => values[name] as number | undefined;
  return {
    ...job,
    partition: str("partition"),
    account: str("account"),
    qos: str("qos"),
    time: str("time"),
    nodes: int("nodes"),
    ntasksPerNode: int("ntasks-per-node"),
    cpusPerTask: int("cpus-per-task"),
    mem: str("mem"),
    gpus: int("gpus"),
    gpuFlag: (str("gpu-flag") ?? "gpus") as GpuFlag,
    constraint: str("constraint"),
    reservation: str("reservation"),
    jobName: str("job-name"),
    extraArgs: (values["sbatch-arg"] as string[] | undefined) ?? [],
  };
}
