/**
 * The per-user record of the batch jobs this tool submitted, for `jobs` and `cancel`.
 *
 * One JSON file per job, `<state dir>/jobs/<scheduler>-<id>.json`, in the same private state
 * dir as the server records (`src/state/servers.ts`: directories 0700, files 0600, written
 * atomically). One file per job means two `submit`s never overwrite each other's entries.
 * @module
 */

import { compareCodeUnits } from "../util/compare.ts";
import { join } from "../util/path.ts";
import { ensurePrivateDir, writePrivateFile } from "../state/servers.ts";
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
}

/** Where job records live inside the state dir. */
export function jobsDir(stateDir: string): string {
  return join(stateDir, "jobs");
}

const SAFE_ID = /^[A-Za-z0-9._\[\]-]+$/;

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

function isJobRecord(v: unknown): v is JobRecord {
  const r = v as Record<string, unknown>;
  return typeof r === "object" && r !== null && typeof r.id === "string" &&
    typeof r.name === "string" && typeof r.submittedAt === "string" &&
    SCHEDULERS.includes(r.scheduler as SchedulerName);
}

/** Reads one record; undefined when absent or unreadable. */
export async function readJob(
  stateDir: string,
  scheduler: SchedulerName,
  id: string,
): Promise<JobRecord | undefined> {
  return await readRecord(jobFile(stateDir, scheduler, id));
}

async function readRecord(path: string): Promise<JobRecord | undefined> {
  try {
    const v = JSON.parse(await Deno.readTextFile(path));
    return isJobRecord(v) ? v : undefined;
  } catch {
    // Unreadable or half-written by an older version: not ours to report.
    return undefined;
  }
}

/** Every readable record, oldest submission first. */
export async function readJobs(stateDir: string): Promise<JobRecord[]> {
  const found: JobRecord[] = [];
  // Record files are `<scheduler>-<id>.json`; temp files being written do not match.
  const recordName = new RegExp(`^(${SCHEDULERS.join("|")})-.+\\.json$`);
  try {
    for await (const e of Deno.readDir(jobsDir(stateDir))) {
      if (!e.isFile || !recordName.test(e.name)) continue;
      const record = await readRecord(join(jobsDir(stateDir), e.name));
      if (record) found.push(record);
    }
  } catch {
    return [];
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

/** The ids of `jobs`, grouped by scheduler: one query or cancel per scheduler. */
export function idsByScheduler(jobs: readonly JobRecord[]): Map<SchedulerName, string[]> {
  const by = new Map<SchedulerName, string[]>();
  for (const j of jobs) by.set(j.scheduler, [...(by.get(j.scheduler) ?? []), j.id]);
  return by;
}

/**
 * Whether server entry `s` belongs to job `job`: same id, started after the submission (less
 * a minute of clock skew between nodes), so that an old job that had the same id does not count.
 */
export function serverOfJob(
  job: Pick<JobRecord, "id" | "submittedAt">,
  s: { jobId?: string; startedAt: string },
): boolean {
  return s.jobId === job.id && Date.parse(s.startedAt) >= Date.parse(job.submittedAt) - 60_000;
}
