/**
 * What `connect --jobs`, `--attach` and `--cancel` see on the login node: the user's Jupyter
 * jobs that have not ended (as the scheduler sees them now) and the `--here` servers running
 * on this login node, and which of them an id names.
 * @module
 */

import type { JobLine } from "../relay/protocol.ts";
import { Failure, UsageError } from "../util/errors.ts";
import type { JobStatus } from "../scheduler/types.ts";
import { idsByScheduler, readJobs, serverOfJob } from "../scheduler/jobs_state.ts";
import { schedulerFor } from "../scheduler/scheduler.ts";
import { pidAlive } from "../os/proc.ts";
import { sameHost } from "../os/hosts.ts";
import { currentStateDir, readServers, serverState } from "../state/servers.ts";

/** The user's Jupyter jobs that have not ended, and servers on this login node. */
export async function jobLines(): Promise<JobLine[]> {
  const dir = currentStateDir();
  const jobs = await readJobs(dir);
  // Entries of servers still starting are not there yet for a browser.
  const stored = (await readServers(dir)).filter((s) => serverState(s.record) === "ready");
  const servers = stored.map((s) => s.record);
  const statuses = new Map<string, JobStatus>();
  await Promise.all([...idsByScheduler(jobs)].map(async ([name, ids]) => {
    for (const [id, s] of await schedulerFor(name).status(ids)) statuses.set(`${name}:${id}`, s);
  }));
  const lines: JobLine[] = [];
  for (const job of jobs) {
    const s = statuses.get(`${job.scheduler}:${job.id}`);
    if (!s || s.phase === "ended") continue;
    lines.push({
      id: job.id,
      kind: "job",
      name: job.name,
      state: s.state,
      phase: s.phase,
      node: s.nodeList || undefined,
      timeLeft: s.timeLeft === Infinity ? null : s.timeLeft,
      startTime: s.startTime?.toISOString(),
      reason: s.reason,
      serverUp: stored.some((s) => serverOfJob(job, s)),
    });
  }
  const here = Deno.hostname();
  for (const r of servers) {
    if (r.jobId || !sameHost(r.host, here) || !(await pidAlive(r.pid, r.pidStart))) continue;
    lines.push({
      id: r.id,
      kind: "server",
      name: r.app,
      state: "RUNNING",
      phase: "running",
      node: r.host,
      startTime: r.startedAt,
      serverUp: true,
    });
  }
  return lines;
}

/** The line `id` names: a job by its id, a server by its id or a prefix of it. Pure. */
export function findLine(lines: readonly JobLine[], id: string): JobLine | undefined {
  if (!id) return undefined;
  return lines.find((l) => l.id === id) ??
    lines.find((l) => l.kind === "server" && l.id.startsWith(id.toLowerCase()));
}

/**
 * What `--attach [ID]` comes back to on login node `host`: the line ID names, or the only one
 * running. Throws {@link Failure} when there is none, {@link UsageError} when several could
 * be meant. Pure.
 */
export function chooseForAttach(
  lines: readonly JobLine[],
  id: string | undefined,
  host: string,
): JobLine {
  if (id) {
    const chosen = findLine(lines, id);
    if (!chosen) {
      throw new Failure(
        `no Jupyter job or server '${id}' of yours on ${host}; 'connect LOGIN --jobs' lists them`,
      );
    }
    if (chosen.phase === "ended") throw new Failure(`job ${id} has ended`);
    return chosen;
  }
  const live = lines.filter((l) => l.phase !== "ended");
  if (live.length === 1) return live[0];
  if (live.length === 0) {
    throw new Failure(
      `no Jupyter job or server of yours runs on ${host}; start one with ` +
        "'connect LOGIN' (without --attach)",
    );
  }
  throw new UsageError(
    `${live.length} Jupyter jobs run on ${host} (${
      live.map((l) => l.id).join(", ")
    }): say which with --attach ID`,
  );
}
