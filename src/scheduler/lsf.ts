/**
 * IBM LSF: `bsub`, `bjobs` and `bkill`, with their parsers. LSF cannot run here, so this is
 * tested on generated scripts and recorded text only.
 * @module
 */

import { runAllowingGone, runTool } from "./exec.ts";
import {
  compactStatus,
  type EdgeOptions,
  type JobPhase,
  type JobStatus,
  type Scheduler,
  SchedulerError,
  type Submission,
  warningLines,
} from "./types.ts";
import { MONTHS } from "./time.ts";

/** Parses bsub's `Job <5678> is submitted to [default ]queue <normal>.`; undefined otherwise. */
export function parseBsub(stdout: string): { id: string; queue?: string } | undefined {
  const m = /Job <(\d+)> is submitted to (?:default )?queue <([^>]*)>/.exec(stdout);
  return m ? { id: m[1], queue: m[2] } : undefined;
}

/** The bjobs `-o` fields this tool asks for; the job name comes last as it may hold the delimiter. */
export const BJOBS_FORMAT =
  "jobid stat exec_host pend_reason start_time time_left queue job_name delimiter='|'";

/** The phase of an LSF job state (`PEND`, `RUN`, `DONE`, `EXIT`, `PSUSP`...). */
export function lsfPhase(state: string): JobPhase {
  if (state === "PEND" || state === "PSUSP" || state === "WAIT") return "queued";
  if (state === "RUN" || state === "USUSP" || state === "SSUSP" || state === "PROV") {
    return "running";
  }
  return "ended";
}

/**
 * Parses bjobs' `Nov 25 23:00` (this year; LSF leaves the year out) or with seconds and year
 * (`Nov 25 23:00:05 2026`, as `-o` prints in some versions), local time.
 */
export function parseLsfDate(text: string, now = new Date()): Date | undefined {
  const m = /^(\w{3}) +(\d{1,2}) (\d{2}):(\d{2})(?::(\d{2}))?(?: (\d{4}))?(?: [A-Z])?$/.exec(
    text.trim(),
  );
  if (!m || !MONTHS.includes(m[1])) return undefined;
  const year = m[6] ? +m[6] : now.getFullYear();
  return new Date(year, MONTHS.indexOf(m[1]), +m[2], +m[3], +m[4], m[5] ? +m[5] : 0);
}

/** Parses bjobs' `time_left` (`1:58 L`, hours:minutes) in seconds. */
export function parseLsfTimeLeft(text: string): number | undefined {
  const m = /^(\d+):(\d{2})(?: [A-Z])?$/.exec(text.trim());
  return m ? (+m[1] * 60 + +m[2]) * 60 : undefined;
}

/** Parses `bjobs -noheader -o BJOBS_FORMAT` output, keyed by job id. */
export function parseBjobs(stdout: string): Map<string, JobStatus> {
  const jobs = new Map<string, JobStatus>();
  for (const line of stdout.split("\n")) {
    const parts = line.split("|");
    if (parts.length < 8 || !/^\d+$/.test(parts[0].trim())) continue;
    const [id, state, hosts, reason, start, left, queue] = parts.map((p) => p.trim());
    const opt = (s: string) => (s === "" || s === "-" ? undefined : s);
    const nodes = opt(hosts)?.split(":").map((h) => h.replace(/^\d+\*/, ""));
    const entries: [string, unknown][] = [
      ["id", id],
      ["state", state],
      ["phase", lsfPhase(state)],
      ["reason", opt(reason)],
      ["nodeList", nodes ? [...new Set(nodes)].join(",") : undefined],
      ["timeLeft", parseLsfTimeLeft(left)],
      ["startTime", opt(start) && parseLsfDate(start)],
      ["partition", opt(queue)],
      ["name", parts.slice(7).join("|") || undefined],
    ];
    jobs.set(
      id,
      compactStatus(Object.fromEntries(entries)),
    );
  }
  return jobs;
}

/** Whether bjobs/bkill's stderr says the job is unknown or already over (not an error for us). */
export function isLsfGoneError(stderr: string): boolean {
  return /is not found|Job has already finished/i.test(stderr);
}

/** Submits `script` on bsub's stdin (`bsub < script`). Throws {@link SchedulerError}. */
export async function bsub(
  script: string,
  options: EdgeOptions & { args?: readonly string[] } = {},
): Promise<Submission> {
  const r = await runTool("bsub", [...(options.args ?? [])], { ...options, stdin: script });
  const parsed = parseBsub(r.stdout);
  if (r.code !== 0 || !parsed) throw new SchedulerError("bsub", r.code, r.stderr, r.stdout);
  return { id: parsed.id, warnings: warningLines(r.stderr) };
}

/** The status of `ids` with `bjobs -a` (recently finished jobs included). */
export async function bjobs(
  ids: readonly string[],
  options: EdgeOptions = {},
): Promise<Map<string, JobStatus>> {
  if (ids.length === 0) return new Map();
  // bjobs exits non-zero when any id is unknown but still prints the others.
  const args = ["-a", "-noheader", "-o", BJOBS_FORMAT, ...ids];
  return parseBjobs((await runAllowingGone("bjobs", args, isLsfGoneError, options)).stdout);
}

/** Cancels `ids` with `bkill`; jobs already over are not an error. */
export async function bkill(ids: readonly string[], options: EdgeOptions = {}): Promise<void> {
  if (ids.length === 0) return;
  await runAllowingGone("bkill", ids, isLsfGoneError, options);
}

/** LSF as a {@link Scheduler}. */
export const LSF: Scheduler = { name: "lsf", submit: bsub, status: bjobs, cancel: bkill };
