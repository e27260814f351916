/**
 * PBS Pro / OpenPBS / Torque: `qsub`, `qstat -f` and `qdel`, with their parsers. PBS cannot
 * run here, so this is tested on generated scripts and recorded text only.
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

/** Parses qsub's output: the job id (`1234.server`); undefined when there is none. */
export function parseQsub(stdout: string): string | undefined {
  const line = stdout.trim().split("\n").pop()?.trim() ?? "";
  return /^\d+(\[\d*\])?(\.[A-Za-z0-9._-]+)?$/.test(line) ? line : undefined;
}

/** Parses PBS's `ctime` form, `Wed Nov 25 23:00:00 2026` (local time). */
export function parsePbsDate(text: string): Date | undefined {
  const m = /^\w{3} (\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/.exec(text.trim());
  if (!m || !MONTHS.includes(m[1])) return undefined;
  return new Date(+m[6], MONTHS.indexOf(m[1]), +m[2], +m[3], +m[4], +m[5]);
}

function hms(text: string | undefined): number | undefined {
  const m = /^(\d+):(\d{2}):(\d{2})$/.exec(text?.trim() ?? "");
  return m ? (+m[1] * 60 + +m[2]) * 60 + +m[3] : undefined;
}

/** The phase of a PBS `job_state` letter. */
export function pbsPhase(state: string): JobPhase {
  if ("QHWT".includes(state) && state.length === 1) return "queued";
  if ("RESB".includes(state) && state.length === 1) return "running";
  return "ended";
}

/**
 * Parses `qstat -f` output (one `Job Id:` block per job; wrapped values continue on lines
 * that start with a tab) into statuses keyed by the full job id.
 */
export function parseQstatFull(stdout: string): Map<string, JobStatus> {
  const jobs = new Map<string, JobStatus>();
  const blocks: { id: string; attrs: Map<string, string> }[] = [];
  let last: string | undefined;
  for (const line of stdout.split("\n")) {
    const head = /^Job Id: (\S+)/.exec(line);
    if (head) {
      blocks.push({ id: head[1], attrs: new Map() });
      last = undefined;
      continue;
    }
    const block = blocks.at(-1);
    if (!block) continue;
    const attr = /^ +([\w.]+) = (.*)$/.exec(line);
    if (attr) {
      last = attr[1];
      block.attrs.set(last, attr[2]);
    } else if (line.startsWith("\t") && last) {
      block.attrs.set(last, block.attrs.get(last) + line.slice(1));
    }
  }
  for (const { id, attrs } of blocks) {
    const state = attrs.get("job_state")?.trim() ?? "";
    if (!state) continue;
    const phase = pbsPhase(state);
    const limit = hms(attrs.get("Resource_List.walltime"));
    const used = hms(attrs.get("resources_used.walltime"));
    const hosts = attrs.get("exec_host")?.split("+").map((h) => h.split("/")[0]);
    const start = phase === "queued"
      ? attrs.get("estimated.start_time")
      : attrs.get("stime") ?? attrs.get("start_time");
    const entries: [string, unknown][] = [
      ["id", id],
      ["state", state],
      ["phase", phase],
      ["reason", attrs.get("comment")?.trim() || undefined],
      ["nodeList", hosts ? [...new Set(hosts)].join(",") : undefined],
      ["timeLimit", limit],
      ["timeLeft", limit !== undefined && phase === "running" ? limit - (used ?? 0) : limit],
      ["startTime", start ? parsePbsDate(start) : undefined],
      ["partition", attrs.get("queue")?.trim()],
      ["name", attrs.get("Job_Name")],
    ];
    jobs.set(
      id,
      compactStatus(Object.fromEntries(entries)),
    );
  }
  return jobs;
}

/** Whether qstat/qdel's stderr says the job is unknown or already over (not an error for us). */
export function isPbsGoneError(stderr: string): boolean {
  return /Unknown Job Id|Job has finished|does not exist/i.test(stderr);
}

/** Submits `script` on qsub's stdin. Throws {@link SchedulerError} with qsub's words. */
export async function qsub(
  script: string,
  options: EdgeOptions & { args?: readonly string[] } = {},
): Promise<Submission> {
  const r = await runTool("qsub", [...(options.args ?? [])], { ...options, stdin: script });
  if (r.code !== 0) throw new SchedulerError("qsub", r.code, r.stderr, r.stdout);
  const id = parseQsub(r.stdout);
  if (!id) throw new SchedulerError("qsub", r.code, `qsub printed no job id: ${r.stdout.trim()}`);
  return { id, warnings: warningLines(r.stderr) };
}

/** The status of `ids` with `qstat -x -f` (finished jobs included where PBS Pro keeps them). */
export async function qstat(
  ids: readonly string[],
  options: EdgeOptions = {},
): Promise<Map<string, JobStatus>> {
  if (ids.length === 0) return new Map();
  let r = await runTool("qstat", ["-x", "-f", ...ids], options);
  // Torque has no -x.
  if (r.code !== 0 && /invalid option|illegal option/i.test(r.stderr)) {
    r = await runTool("qstat", ["-f", ...ids], options);
  }
  if (r.code !== 0 && !isPbsGoneError(r.stderr)) {
    throw new SchedulerError("qstat", r.code, r.stderr, r.stdout);
  }
  return parseQstatFull(r.stdout);
}

/** Cancels `ids` with `qdel`; jobs already over are not an error. */
export async function qdel(ids: readonly string[], options: EdgeOptions = {}): Promise<void> {
  if (ids.length === 0) return;
  await runAllowingGone("qdel", ids, isPbsGoneError, options);
}

/** PBS as a {@link Scheduler}. */
export const PBS: Scheduler = { name: "pbs", submit: qsub, status: qstat, cancel: qdel };
