/**
 * One-line descriptions of a job's status, for `submit`'s progress line and `jobs`, and
 * whether its time is running out (for `jobs` and `connect`'s warning).
 * @module
 */

import { humanDuration } from "./time.ts";
import type { JobStatus } from "./types.ts";

function clock(d: Date, now: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const hm = `${two(d.getHours())}:${two(d.getMinutes())}`;
  return d.toDateString() === now.toDateString()
    ? hm
    : `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${hm}`;
}

/**
 * What a queued job waits for: `expected to start at 14:05 (in 12 min)`, `no start estimate
 * yet`, or how to release a held job; `now` is injectable for tests.
 */
export function describeWait(s: JobStatus, now = new Date()): string {
  // Held jobs never start by themselves: say who can release them.
  if (s.reason === "JobHeldUser") return `held: release it with 'scontrol release ${s.id}'`;
  if (s.reason === "JobHeldAdmin") return "held by an administrator: ask them to release it";
  if (!s.startTime) return "no start estimate yet";
  const wait = (s.startTime.getTime() - now.getTime()) / 1000;
  return wait > 0
    ? `expected to start at ${clock(s.startTime, now)} (in ${humanDuration(wait)})`
    : "about to start";
}

/**
 * `job 12 PENDING (Resources), expected to start at 14:05 (in 12 min)`,
 * `job 12 RUNNING on gpu017, 1 h 58 min left`, `job 12 COMPLETED`; `now` is injectable for tests.
 */
export function describeJob(s: JobStatus, now = new Date()): string {
  let text = `job ${s.id} ${s.state}`;
  if (s.phase === "queued") {
    if (s.reason) text += ` (${s.reason})`;
    text += `, ${describeWait(s, now)}`;
  } else if (s.phase === "running") {
    if (s.nodeList) text += ` on ${s.nodeList}`;
    if (s.timeLeft !== undefined) {
      text += s.timeLeft === Infinity ? ", no time limit" : `, ${humanDuration(s.timeLeft)} left`;
    }
  } else if (s.reason) text += ` (${s.reason})`;
  return text;
}

/**
 * Whether a running job is near its limit: 10 minutes before it, or halfway through a job
 * shorter than 20 minutes (when the job's log announces it too).
 */
export function endingSoon(s: JobStatus | undefined): boolean {
  if (!s || s.phase !== "running" || s.timeLeft === undefined || s.timeLeft === Infinity) {
    return false;
  }
  const limit = s.timeLimit === undefined || s.timeLimit === Infinity ? Infinity : s.timeLimit;
  return s.timeLeft <= Math.min(600, limit / 2);
}
