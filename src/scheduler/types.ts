/**
 * What every scheduler edge (Slurm, PBS, LSF) returns, so that `submit`, `jobs` and `cancel`
 * are written once.
 * @module
 */

import { Failure } from "../util/errors.ts";

/** The batch schedulers this tool writes scripts for. */
export type SchedulerName = "slurm" | "pbs" | "lsf";

/** The job name when `--job-name` is not given. */
export const DEFAULT_JOB_NAME = "legate-jupyter";

/** Every scheduler name, for a `--scheduler` flag's choices. */
export const SCHEDULERS: readonly SchedulerName[] = ["slurm", "pbs", "lsf"];

/**
 * Where a job is in its life: waiting for nodes, running (its server may be up), or over.
 * Control flow uses this; the scheduler's own word is kept in {@link JobStatus.state}.
 */
export type JobPhase = "queued" | "running" | "ended";

/** One job as the scheduler reports it now. */
export interface JobStatus {
  readonly id: string;
  /** The scheduler's own state word: `PENDING`, `RUNNING`, `COMPLETED`, `R`, `PEND`... */
  readonly state: string;
  readonly phase: JobPhase;
  /** Why it waits (`Resources`, `Priority`, `BeginTime`...) or why it ended; absent when none. */
  readonly reason?: string;
  /** The job's nodes as the scheduler writes them (a compressed Slurm hostlist); absent while queued. */
  readonly nodeList?: string;
  /** Seconds before the time limit ends it; `Infinity` when it has no limit. */
  readonly timeLeft?: number;
  /** The time limit in seconds; `Infinity` when none. */
  readonly timeLimit?: number;
  /** When it started, or the scheduler's estimate of when it will (`squeue --start`). */
  readonly startTime?: Date;
  readonly name?: string;
  /** The partition or queue. */
  readonly partition?: string;
}

/** What a successful submission returns. */
export interface Submission {
  readonly id: string;
  /** The cluster, when the scheduler names one (`sbatch --parsable` prints `ID;CLUSTER`). */
  readonly cluster?: string;
  /** Lines the scheduler printed on stderr although it accepted the job (warnings). */
  readonly warnings: readonly string[];
}

/** Options for a scheduler command. */
export interface EdgeOptions {
  /** Extra environment for the command (merged over this process's). */
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Ends the command early (it is killed with SIGTERM). */
  readonly signal?: AbortSignal;
}

/** One scheduler's commands: submit a script, read job states, cancel jobs. */
export interface Scheduler {
  readonly name: SchedulerName;
  /** Submits `script` (given on stdin) with extra command-line `args`. */
  submit(script: string, options?: EdgeOptions & { args?: readonly string[] }): Promise<Submission>;
  /**
   * The status of each job in `ids` that the scheduler still knows; a job it has forgotten
   * (finished long ago, or never existed) is absent from the map.
   */
  status(ids: readonly string[], options?: EdgeOptions): Promise<Map<string, JobStatus>>;
  /** Cancels `ids`; a job that has already ended is not an error. */
  cancel(ids: readonly string[], options?: EdgeOptions): Promise<void>;
}

/**
 * A scheduler command failed: the message is the scheduler's own stderr, verbatim, printed
 * without this program's prefix (users search for those exact words in their site's docs).
 */
export class SchedulerError extends Failure {
  override name = "SchedulerError";
  /** The command that failed, e.g. `sbatch`. */
  readonly command: string;
  /** Its exit status. */
  readonly status: number;
  readonly stderr: string;
  constructor(command: string, status: number, stderr: string, stdout = "") {
    const text = stderr.trim() || stdout.trim();
    super(text || `${command} failed with exit status ${status} and printed nothing`, {
      raw: text !== "",
    });
    this.command = command;
    this.status = status;
    this.stderr = stderr;
  }
}

type Vars = Readonly<Record<string, string | undefined>>;

/**
 * The id of the batch job this process runs in, as its scheduler exports it (`SLURM_JOB_ID`,
 * `PBS_JOBID`, `LSB_JOBID`): the same string `submit` got back, which is how the login node
 * finds the server the job started.
 */
export function batchJobId(vars: Vars): string | undefined {
  return vars.SLURM_JOB_ID || vars.PBS_JOBID || vars.LSB_JOBID || undefined;
}

/** The host the batch job was submitted from (the login node), as its scheduler exports it. */
export function batchSubmitHost(vars: Vars): string | undefined {
  return vars.SLURM_SUBMIT_HOST || vars.PBS_O_HOST || vars.LSB_SUB_HOST || undefined;
}

/** Lines a scheduler command printed on stderr although it succeeded, kept as warnings. */
export function warningLines(stderr: string): string[] {
  return stderr.split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
}

/** A status from parsed fields, absent ones dropped so that results compare and serialize cleanly. */
export function compactStatus(fields: object): JobStatus {
  return Object.fromEntries(
    Object.entries(fields).filter(([, v]) => v !== undefined),
  ) as unknown as JobStatus;
}
