/**
 * What the scheduler's word means for a `connect` session serving a job: the job ended, went
 * back to the queue (a requeue, or a new run already), is winding down, or runs as before. The
 * agent asks whenever its link to the job drops and every few seconds besides, and acts on this
 * answer alone: a relay is started again only for a job that still runs its first run.
 * @module
 */

import type { JobStatus } from "../scheduler/types.ts";

/** The scheduler's word on the job, for the agent. */
export type JobVerdict =
  /** Over: say why and end the session. */
  | { readonly kind: "ended" }
  /** Requeued: pending again, or already running again as a new run with a new server. */
  | { readonly kind: "requeued"; readonly ranAgain: boolean }
  /** Being ended (COMPLETING and the like): ask again in a moment, start nothing. */
  | { readonly kind: "settling" }
  /** Still the same run. */
  | { readonly kind: "running" };

const WINDING_DOWN = new Set(["COMPLETING", "SIGNALING", "STAGE_OUT"]);

/**
 * The verdict on `status` (undefined: the scheduler has forgotten the job) for a session whose
 * server came up in the run that started at `runStart` (ms since the epoch, the scheduler's own
 * clock; undefined when it did not say). Pure.
 */
export function judgeJob(status: JobStatus | undefined, runStart: number | undefined): JobVerdict {
  if (!status || status.phase === "ended") return { kind: "ended" };
  if (status.phase === "queued") return { kind: "requeued", ranAgain: false };
  // Winding down first: a job being requeued is COMPLETING, with its start time already reset.
  if (WINDING_DOWN.has(status.state.split(/\s+/)[0].toUpperCase())) return { kind: "settling" };
  const start = status.startTime?.getTime();
  if (runStart !== undefined && start !== undefined && start !== runStart) {
    return { kind: "requeued", ranAgain: true };
  }
  return { kind: "running" };
}
