/**
 * The batch jobs `submit` recorded, as the scheduler sees them now, joined with the servers
 * they run: what `jobs` shows. Records of jobs that have ended are forgotten as they are read
 * (and reported once, by the caller).
 * @module
 */

import type { JobRecord } from "../scheduler/jobs_state.ts";
import type { JobStatus } from "../scheduler/types.ts";
import type { ServerRecord, StoredServer } from "../state/servers.ts";
import { lazy } from "../util/lazy.ts";
import * as state from "../state/servers.ts";
import { describeProblem } from "../os/private.ts";
import { idsByScheduler, latestServerOfJob, readJobs, removeJob } from "../scheduler/jobs_state.ts";

/** One recorded job, its scheduler status (absent once forgotten) and its server, if up. */
export interface JobView {
  readonly job: JobRecord;
  readonly status?: JobStatus;
  readonly server?: ServerRecord;
}

/**
 * Asks each scheduler about its recorded jobs (one query per scheduler) and finds each job's
 * server among the state entries, by its job id (no clocks of two hosts compared).
 */
async function viewJobs(
  jobs: readonly JobRecord[],
  servers: readonly StoredServer[],
): Promise<JobView[]> {
  if (jobs.length === 0) return [];
  // The schedulers' modules are loaded only when there is a job to ask about.
  const { schedulerFor } = await lazy<typeof import("../scheduler/scheduler.ts")>(
    "scheduler/scheduler.ts",
  );
  const statuses = new Map<string, JobStatus>();
  await Promise.all(
    [...idsByScheduler(jobs)].map(async ([name, ids]) => {
      for (const [id, s] of await schedulerFor(name).status(ids)) statuses.set(`${name}:${id}`, s);
    }),
  );
  return jobs.map((job) => ({
    job,
    status: statuses.get(`${job.scheduler}:${job.id}`),
    server: latestServerOfJob(job, servers)?.record,
  }));
}

/**
 * Every job recorded in the state dir (`dir`, by default this user's) with its status and
 * server (`views`), and those that have ended (`ended`), whose records are removed. Files that
 * are not records this tool wrote go to `warn`, in words.
 */
export async function listJobs(
  warn: (line: string) => void,
  dir?: string,
): Promise<{ views: JobView[]; ended: JobView[] }> {
  const onProblem = (p: { path: string; problem: string }) => warn(describeProblem(p));
  dir ??= state.currentStateDir();
  const jobs = await readJobs(dir, { onProblem });
  const servers = (await state.readServers(dir, { onProblem }))
    .filter((s) => state.serverState(s.record) === "ready");
  const views = await viewJobs(jobs, servers);
  const ended = views.filter((v) => !v.status || v.status.phase === "ended");
  for (const e of ended) await removeJob(dir, e.job.scheduler, e.job.id);
  return { views, ended };
}
