/**
 * Cancelling jobs `submit` recorded: the scheduler is asked (one request per scheduler), then
 * each job is waited for until the scheduler reports it ended, so that nothing is left running
 * when `cancel` returns; then its record is forgotten, with any server entry the job could not
 * remove itself.
 * @module
 */

import { Failure } from "../util/errors.ts";
import type { JobRecord } from "../scheduler/jobs_state.ts";
import type { JobStatus } from "../scheduler/types.ts";
import { describeProblem, type StateProblem } from "../os/private.ts";
import * as state from "../state/servers.ts";
import { idsByScheduler, readJobs, removeJob, serverOfJob } from "../scheduler/jobs_state.ts";
import { schedulerFor } from "../scheduler/scheduler.ts";
import { waitForJob } from "../scheduler/watch.ts";

/** How long to wait for cancelled jobs to end: Slurm's default KillWait (30 s) and then some. */
export const END_WAIT_MS = 60_000;

/** What {@link cancelJobs} came to. */
export interface CancelResult {
  /** One line a job that ended, by job id. */
  readonly lines: ReadonlyMap<string, string>;
  /** Jobs whose end could not be confirmed (the scheduler did not answer), with why. */
  readonly unconfirmed: readonly string[];
  /** Jobs the scheduler still shows after {@link END_WAIT_MS}, with their state. */
  readonly stuck: readonly string[];
}

/** Reports each file the readers drop to `warn`, in words, once per path. */
export function problemReporter(warn: (line: string) => void): (p: StateProblem) => void {
  const reported = new Set<string>();
  return (p) => {
    if (!reported.has(p.path)) warn(describeProblem(p));
    reported.add(p.path);
  };
}

/**
 * The records of jobs `ids` (or every record with `all`) in this user's state dir, and that
 * dir. Throws a {@link Failure} naming ids that are not jobs this tool submitted.
 */
export async function cancelTargets(
  ids: readonly string[],
  all: boolean,
  program: string,
  onProblem: (p: StateProblem) => void,
): Promise<{ dir: string; targets: JobRecord[] }> {
  const dir = state.currentStateDir();
  const records = await readJobs(dir, { onProblem });
  const unknown = ids.filter((id) => !records.some((r) => r.id === id));
  if (unknown.length) {
    throw new Failure(
      `${unknown.length === 1 ? "job" : "jobs"} ${unknown.join(", ")} ` +
        `${unknown.length === 1 ? "is not a job" : "are not jobs"} this tool submitted ` +
        `(see '${program} jobs'); cancel other jobs with the scheduler's own command`,
    );
  }
  return { dir, targets: all ? records : records.filter((r) => ids.includes(r.id)) };
}

/**
 * Asks each job's scheduler to cancel `targets`; returns what each job was doing before ("" for
 * one that had ended), for the words "was RUNNING on ...".
 */
export async function requestCancel(
  targets: readonly JobRecord[],
): Promise<Map<string, string>> {
  const before = new Map<string, string>();
  for (const [name, list] of idsByScheduler(targets)) {
    const sched = schedulerFor(name);
    // Only for the "was RUNNING on ..." words: a controller too busy to answer must not
    // stop the cancel itself.
    const now = await sched.status(list).catch(() => new Map<string, JobStatus>());
    for (const [id, s] of now) {
      before.set(
        id,
        s.phase === "ended" ? "" : s.nodeList ? `${s.state} on ${s.nodeList}` : s.state,
      );
    }
    await sched.cancel(list);
  }
  return before;
}

/**
 * Waits until each of `targets` has ended (as the scheduler says), forgets those that have,
 * and removes the server entries of their jobs left behind by a server killed before it could
 * clean up.
 */
export async function awaitCancelled(
  dir: string,
  targets: readonly JobRecord[],
  before: ReadonlyMap<string, string>,
  onProblem: (p: StateProblem) => void,
): Promise<CancelResult> {
  const stuck: string[] = [];
  const unconfirmed: string[] = [];
  const lines = new Map<string, string>();
  const ended: JobRecord[] = [];
  await Promise.all(targets.map(async (t) => {
    const last = await waitEnded(t).catch((e) => {
      // The cancel went through; only its confirmation failed. Keep the record for 'jobs'.
      unconfirmed.push(`${t.id} (${(e as Error).message.split("\n")[0]})`);
      return null;
    });
    if (last === null) return;
    if (last && last.phase !== "ended") {
      stuck.push(`${t.id} (${last.state})`);
      return;
    }
    await removeJob(dir, t.scheduler, t.id);
    ended.push(t);
    const was = before.get(t.id);
    lines.set(
      t.id,
      was === undefined || was === ""
        ? `Job ${t.id} had already ended; forgot it`
        : `Cancelled job ${t.id} (was ${was})`,
    );
  }));
  await removeLeftEntries(dir, ended, onProblem);
  return { lines, unconfirmed, stuck };
}

/** The job's last status once it has ended, or when {@link END_WAIT_MS} has passed. */
async function waitEnded(t: JobRecord): Promise<JobStatus | undefined> {
  return await waitForJob(schedulerFor(t.scheduler), t.id, (s) => s.phase === "ended", {
    signal: AbortSignal.timeout(END_WAIT_MS),
    intervalMs: 250,
  });
}

/** A server killed before it could clean up leaves its entry behind: remove those of `ended`. */
async function removeLeftEntries(
  dir: string,
  ended: readonly JobRecord[],
  onProblem: (p: StateProblem) => void,
): Promise<void> {
  for (const s of await state.readServers(dir, { onProblem })) {
    if (ended.some((t) => serverOfJob(t, s))) await state.removeServer(dir, s.record.id);
  }
}
