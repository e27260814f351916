/**
 * Following a job until it runs or ends, for `submit`'s progress line and its tests.
 * @module
 */

import type { JobStatus, Scheduler } from "./types.ts";

/** Options for {@link watchJob}. */
export interface WatchOptions {
  /** How often to ask the scheduler (250 ms when omitted; keep it at or below 500). */
  readonly intervalMs?: number;
  /** Stops the watch; the generator then returns. */
  readonly signal?: AbortSignal;
  /** Extra environment for the scheduler's commands. */
  readonly env?: Record<string, string>;
}

function key(s: JobStatus | undefined): string {
  if (!s) return "gone";
  return [s.state, s.reason, s.nodeList, s.startTime?.getTime()].join("|");
}

/**
 * Yields job `id`'s status each time it changes (state, reason, nodes or start estimate),
 * starting with the first answer, and returns after the job has ended. `undefined` is yielded
 * (last) when the scheduler no longer knows the job.
 */
export async function* watchJob(
  scheduler: Scheduler,
  id: string,
  options: WatchOptions = {},
): AsyncGenerator<JobStatus | undefined, void, void> {
  const interval = options.intervalMs ?? 250;
  let last: string | undefined;
  while (!options.signal?.aborted) {
    const status = (await scheduler.status([id], { env: options.env })).get(id);
    const k = key(status);
    if (k !== last) {
      last = k;
      yield status;
    }
    if (!status || status.phase === "ended") return;
    await sleep(interval, options.signal);
  }
}

/** Waits `ms`, or less when `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * Waits until job `id` satisfies `until` (or has ended, or is forgotten) and returns its last
 * status; undefined when the scheduler has forgotten it or `signal` aborted first.
 */
export async function waitForJob(
  scheduler: Scheduler,
  id: string,
  until: (status: JobStatus) => boolean,
  options: WatchOptions = {},
): Promise<JobStatus | undefined> {
  let last: JobStatus | undefined;
  for await (const status of watchJob(scheduler, id, options)) {
    last = status;
    if (status && until(status)) return status;
  }
  return options.signal?.aborted ? undefined : last;
}
