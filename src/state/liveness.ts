/**
 * Whether a recorded server still runs. On its own host: its PID is alive and is still the
 * same process (start time). On another host (a compute node sharing the home): when its entry
 * names a batch job that the scheduler says has ended (or no longer knows), it is dead at once;
 * else it runs when it answers on its address (if it listens beyond loopback) or its entry's
 * heartbeat is recent.
 *
 * No clock of one host is compared with another's: the heartbeat is the entry's mtime, set by
 * the file system when the node writes it, and its age is measured against the time the same
 * file system gives a file this host writes (`../util/fs_clock.ts`). Where no such file can be
 * written, the age is unknown and the entry is taken as running: it is never dropped because
 * two clocks disagree.
 * @module
 */

import { pidAlive } from "../os/proc.ts";
import { serverUrl, withToken } from "../jupyter/connect.ts";
import { isLoopback, sameHost } from "../os/hosts.ts";
import { STALE_MS, type StoredServer } from "./servers.ts";
import { lazy } from "../util/lazy.ts";

/** A recorded server's state as seen from here. */
export type Liveness = "running" | "dead";

/** How the state was decided, for `servers --json`. */
export interface LivenessReport {
  readonly state: Liveness;
  readonly how: "pid" | "scheduler" | "url" | "heartbeat";
}

/**
 * Whether each batch job named by an entry of another host has ended, in one query to this
 * host's scheduler: job id → ended (`true` also when the scheduler has forgotten it).
 * Undefined when there is no scheduler here or it did not answer: the other rules decide then.
 */
export async function jobsEnded(
  stored: readonly StoredServer[],
  here: string,
): Promise<Map<string, boolean> | undefined> {
  const ids = stored.filter((s) => s.record.jobId && !sameHost(s.record.host, here))
    .map((s) => s.record.jobId!);
  return await endedJobs([...new Set(ids)]);
}

/** Whether batch job `id` has ended, as this host's scheduler says; undefined if it cannot say. */
export async function jobEnded(id: string): Promise<boolean | undefined> {
  return (await endedJobs([id]))?.get(id);
}

async function endedJobs(ids: readonly string[]): Promise<Map<string, boolean> | undefined> {
  if (ids.length === 0) return new Map();
  // Loaded only when there is a job to ask about (see util/lazy.ts).
  const { detectScheduler, schedulerFor } = await lazy<typeof import("../scheduler/scheduler.ts")>(
    "scheduler/scheduler.ts",
  );
  const name = detectScheduler();
  if (!name) return undefined;
  try {
    const status = await schedulerFor(name).status(ids, { signal: AbortSignal.timeout(10_000) });
    return new Map(ids.map((id) => [id, (status.get(id)?.phase ?? "ended") === "ended"]));
  } catch {
    return undefined;
  }
}

/** Whether `url/api/status` answers within `ms`. */
export async function urlAnswers(url: string, ms = 2000): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(ms), redirect: "manual" });
    await r.body?.cancel();
    return r.status < 500;
  } catch {
    return false;
  }
}

/**
 * Decides whether `s` runs, from host `here`. `fsNow` is the file system's time now (see
 * `fsNow` in `../util/fs_clock.ts`), undefined when it cannot be known; `ended` is
 * {@link jobsEnded}'s answer for the entries being judged, when there is one.
 */
export async function liveness(
  s: StoredServer,
  here: string,
  fsNow: number | undefined,
  ended?: ReadonlyMap<string, boolean>,
): Promise<LivenessReport> {
  const r = s.record;
  if (sameHost(r.host, here)) {
    return { state: (await pidAlive(r.pid, r.pidStart)) ? "running" : "dead", how: "pid" };
  }
  // A server lives no longer than its job: the scheduler answers at once where a heartbeat
  // takes minutes to go stale.
  if (r.jobId && ended?.get(r.jobId) === true) return { state: "dead", how: "scheduler" };
  if (!isLoopback(r.ip)) {
    const host = r.ip === "0.0.0.0" || r.ip === "::" || r.ip === "" ? r.host : r.ip;
    const status = withToken(
      serverUrl(host, r.port, new URL(r.baseUrl).pathname) + "api/status",
      r.token,
    );
    if (await urlAnswers(status)) return { state: "running", how: "url" };
  }
  return { state: heartbeatStale(s, fsNow) ? "dead" : "running", how: "heartbeat" };
}

/**
 * Whether the entry's heartbeat is older than {@link STALE_MS} on the file system's clock;
 * false when its age cannot be measured (no time for the file system, no mtime).
 */
export function heartbeatStale(
  s: Pick<StoredServer, "heartbeat">,
  fsNow: number | undefined,
): boolean {
  const beat = s.heartbeat?.getTime();
  if (fsNow === undefined || beat === undefined) return false;
  return fsNow - beat > STALE_MS;
}
