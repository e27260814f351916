/**
 * The per-user record of the batch jobs this tool submitted, for `jobs` and `cancel`.
 *
 * One JSON file per job, `<state dir>/jobs/<scheduler>-<id>.json`, in the same private state
 * dir as the server records (`src/state/servers.ts`: directories 0700, files 0600, written
 * atomically). One file per job means two `submit`s never overwrite each other's entries.
 *
 * Records are read as claims (see `src/state/README.md`): a file not owned by the user or not
 * 0600, or with a field of the wrong type, is dropped and reported; and a job id must have its
 * scheduler's form before it reaches `squeue`, `qstat` or `bjobs`, so that one bad record can
 * neither break every `jobs` nor pass anything but a job id to the scheduler.
 * @module
 */

import { compareCodeUnits } from "../util/compare.ts";
import { join } from "../util/path.ts";
import {
  ensurePrivateDir,
  privateDirExists,
  type ReadOptions,
  readPrivateJson,
  writePrivateFile,
} from "../os/private.ts";
import { checkFields, type FieldRule, oneOf, optional, text, timestamp } from "../util/validate.ts";
import { type SchedulerName, SCHEDULERS } from "./types.ts";

/** What `submit` records about a job. */
export interface JobRecord {
  readonly id: string;
  readonly scheduler: SchedulerName;
  /** The cluster sbatch named (`ID;CLUSTER`), when any. */
  readonly cluster?: string;
  readonly name: string;
  /** ISO 8601 submission time. */
  readonly submittedAt: string;
  /** The host `submit` ran on (the login node the tunnel goes through). */
  readonly submitHost: string;
  /** The job's log file, as far as it is known (may hold `%j`). */
  readonly logPath?: string;
  /** The directory the job runs in. */
  readonly workdir?: string;
  /** The Legate kernel the job installs or refreshes, when any. */
  readonly kernel?: string;
  /**
   * When the record was written, on the shared file system's clock (its file's mtime, in ms
   * since the epoch): set when it is read, never written. Compared only with the mtimes of
   * server entries, which that same clock sets (see {@link serverOfJob}).
   */
  readonly recordedAt?: number;
}

/** Where job records live inside the state dir. */
export function jobsDir(stateDir: string): string {
  return join(stateDir, "jobs");
}

const SAFE_ID = /^[A-Za-z0-9._\[\]-]+$/;

/**
 * The job ids each scheduler hands out, as `submit` records them: Slurm's `sbatch --parsable`
 * (`1234`, `1234_5`), PBS's `qsub` (`1234.server`, `1234[].server`), LSF's `bsub` (`1234`).
 */
export const JOB_ID: Readonly<Record<SchedulerName, RegExp>> = {
  slurm: /^\d{1,12}(_\d{1,12})?$/,
  pbs: /^\d{1,12}(\[\d*\])?(\.[A-Za-z0-9][A-Za-z0-9._-]{0,200})?$/,
  lsf: /^\d{1,12}(\[\d{1,12}\])?$/,
};

/** Whether `id` is a job id of `scheduler` (see {@link JOB_ID}). */
export function isJobId(scheduler: SchedulerName, id: string): boolean {
  return JOB_ID[scheduler].test(id);
}

/** The record file of a job; throws on an id that could not be a file name. */
export function jobFile(stateDir: string, scheduler: SchedulerName, id: string): string {
  if (!SAFE_ID.test(id) || id.startsWith(".")) throw new Error(`unexpected job id '${id}'`);
  return join(jobsDir(stateDir), `${scheduler}-${id}.json`);
}

/** Records `job` (creating the private directories as needed) and returns the file's path. */
export async function writeJob(stateDir: string, job: JobRecord): Promise<string> {
  await ensurePrivateDir(stateDir);
  await ensurePrivateDir(jobsDir(stateDir));
  const path = jobFile(stateDir, job.scheduler, job.id);
  await writePrivateFile(path, JSON.stringify(job, null, 2) + "\n");
  return path;
}

const JOB_RULES: Readonly<Record<string, FieldRule>> = {
  id: text(true),
  scheduler: oneOf(SCHEDULERS),
  cluster: optional(text()),
  name: text(),
  submittedAt: timestamp(),
  submitHost: text(true),
  logPath: optional(text()),
  workdir: optional(text()),
  kernel: optional(text()),
};

/**
 * The record in `value` (parsed JSON of the file `<scheduler>-<id>.json`), or why it is not
 * one: a field of the wrong type, an id that is not its scheduler's form, or a file name that
 * does not match.
 */
export function parseJobRecord(value: unknown, fileName?: string): JobRecord | string {
  const problem = checkFields(value, JOB_RULES);
  if (problem) return problem;
  const v = value as Record<string, unknown>;
  const scheduler = v.scheduler as SchedulerName;
  if (!isJobId(scheduler, v.id as string)) {
    return `field "id" is ${JSON.stringify(v.id).slice(0, 40)}, not a ${scheduler} job id`;
  }
  if (fileName !== undefined && fileName !== `${scheduler}-${v.id}.json`) {
    return `it records ${scheduler} job ${v.id}, which is not its file's name`;
  }
  return Object.fromEntries(
    Object.entries(v).filter(([, x]) => x !== null),
  ) as unknown as JobRecord;
}

/** Reads one record; undefined when absent or not to be believed (reported). */
export async function readJob(
  stateDir: string,
  scheduler: SchedulerName,
  id: string,
  options: ReadOptions = {},
): Promise<JobRecord | undefined> {
  return await readRecord(jobFile(stateDir, scheduler, id), options);
}

async function readRecord(path: string, options: ReadOptions): Promise<JobRecord | undefined> {
  const read = await readPrivateJson(path);
  if (!read) return undefined;
  const record = "problem" in read
    ? read.problem
    : parseJobRecord(read.value, path.slice(path.lastIndexOf("/") + 1));
  if (typeof record === "string") {
    options.onProblem?.({ path, problem: record });
    return undefined;
  }
  const { recordedAt: _, ...written } = record;
  const mtime = (await Deno.lstat(path).catch(() => undefined))?.mtime?.getTime();
  return mtime === undefined ? written : { ...written, recordedAt: mtime };
}

/**
 * Every record that may be believed, oldest submission first; files that do not hold are
 * dropped and reported through `options.onProblem`. Throws a `Failure` (one line) when the
 * state dir is not this user's own.
 */
export async function readJobs(stateDir: string, options: ReadOptions = {}): Promise<JobRecord[]> {
  // Record files are `<scheduler>-<id>.json`; temp files being written do not match.
  const recordName = new RegExp(`^(${SCHEDULERS.join("|")})-.+\\.json$`);
  if (!(await privateDirExists(stateDir)) || !(await privateDirExists(jobsDir(stateDir)))) {
    return [];
  }
  const found: JobRecord[] = [];
  for await (const e of Deno.readDir(jobsDir(stateDir))) {
    if (!recordName.test(e.name)) continue;
    const record = await readRecord(join(jobsDir(stateDir), e.name), options);
    if (record) found.push(record);
  }
  return found.sort((a, b) => compareCodeUnits(a.submittedAt, b.submittedAt));
}

/** Forgets a job (absent already is fine). */
export async function removeJob(
  stateDir: string,
  scheduler: SchedulerName,
  id: string,
): Promise<void> {
  await Deno.remove(jobFile(stateDir, scheduler, id)).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/**
 * The ids of `jobs`, grouped by scheduler: one query or cancel per scheduler. Every id is
 * checked against its scheduler's form here, the last step before the scheduler's commands.
 */
export function idsByScheduler(jobs: readonly JobRecord[]): Map<SchedulerName, string[]> {
  const by = new Map<SchedulerName, string[]>();
  for (const j of jobs) {
    if (!isJobId(j.scheduler, j.id)) throw new Error(`not a ${j.scheduler} job id: '${j.id}'`);
    by.set(j.scheduler, [...(by.get(j.scheduler) ?? []), j.id]);
  }
  return by;
}

/**
 * Whether server entry `s` belongs to job `job`: the same job id, and an entry written since
 * the job was recorded, so that the entry of an old job that had the same id does not count.
 * Both times are mtimes set by the shared file system's clock (the entry's is refreshed by its
 * heartbeat), never a time one host wrote compared with another's: a node whose clock is off
 * still finds its job. Without those times, the id alone decides.
 */
export function serverOfJob(
  job: Pick<JobRecord, "id" | "recordedAt">,
  s: { readonly record: { readonly jobId?: string }; readonly heartbeat: Date | null },
): boolean {
  if (s.record.jobId !== job.id) return false;
  const beat = s.heartbeat?.getTime();
  // A second or two for file systems that keep coarse times.
  return job.recordedAt === undefined || beat === undefined || beat >= job.recordedAt - 2000;
}

/**
 * Of the entries of `job` (see {@link serverOfJob}), the one refreshed last: after a requeue,
 * an entry the job's first run could not remove is older than the one its second run writes.
 */
export function latestServerOfJob<
  S extends { readonly record: { readonly jobId?: string }; readonly heartbeat: Date | null },
>(job: Pick<JobRecord, "id" | "recordedAt">, entries: readonly S[]): S | undefined {
  let best: S | undefined;
  for (const s of entries) {
    if (!serverOfJob(job, s)) continue;
    if (!best || (s.heartbeat?.getTime() ?? 0) >= (best.heartbeat?.getTime() ?? 0)) best = s;
  }
  return best;
}
