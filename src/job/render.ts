/**
 * What `jobs` prints of the jobs `listJobs` (`list.ts`) found: the JSON array, the table, the tunnel
 * commands of the jobs whose server is up, and the jobs about to reach their time limit.
 * Pure.
 * @module
 */

import type { JobView } from "./list.ts";
import { describeWait, endingSoon } from "../scheduler/describe.ts";
import { formatSlurmDuration } from "../scheduler/time.ts";
import { laptopUrl, readyEvent, tunnelTarget } from "../server/ready.ts";
import { attachCommand, tunnelCommands, tunnelProblem } from "../jupyter/connect.ts";
import { formatTable } from "../util/table.ts";
import { printable } from "../util/printable.ts";
import type { JobStatus } from "../scheduler/types.ts";

function timeLeft(s: JobStatus | undefined): string {
  // A job being cancelled is COMPLETING: its time left no longer means anything.
  if (!s || s.phase !== "running" || s.timeLeft === undefined || s.state === "COMPLETING") {
    return "-";
  }
  if (s.timeLeft === Infinity) return "no limit";
  return endingSoon(s)
    ? `${formatSlurmDuration(s.timeLeft)} (ending soon)`
    : formatSlurmDuration(s.timeLeft);
}

/** The login node and user each job's tunnel goes through (`loginHost`: `--login-host`). */
function tunnelOpts(v: JobView, loginHost: string | undefined) {
  return {
    loginHost: loginHost ?? v.server?.loginHost ?? v.job.submitHost,
    sshUser: v.server?.sshUser,
    jobId: v.job.id,
  };
}

/** `jobs --json`: one object a job. */
export function jobsJson(views: readonly JobView[], loginHost: string | undefined): unknown[] {
  return views.map((v) => ({
    id: v.job.id,
    scheduler: v.job.scheduler,
    name: v.job.name,
    state: v.status?.state ?? "ENDED",
    phase: v.status?.phase ?? "ended",
    reason: v.status?.reason ?? null,
    node: v.status?.nodeList || null,
    time_left_s: v.status?.timeLeft === Infinity ? null : v.status?.timeLeft ?? null,
    time_limit_s: v.status?.timeLimit === Infinity ? null : v.status?.timeLimit ?? null,
    start_time: v.status?.startTime?.toISOString() ?? null,
    ending_soon: endingSoon(v.status),
    submitted_at: v.job.submittedAt,
    log: v.job.logPath ?? null,
    kernel: v.job.kernel ?? null,
    server: v.server && v.status?.phase === "running"
      ? readyEvent(v.server, tunnelOpts(v, loginHost))
      : null,
  }));
}

/** The table of jobs: id, name, state (with the reason while queued), node, time left, URL. */
export function jobsTable(views: readonly JobView[]): string[] {
  const rows = [["JOBID", "NAME", "STATE", "NODE", "TIME LEFT", "URL / START"]];
  for (const v of views) {
    const s = v.status;
    const stateText = !s
      ? "ENDED"
      : s.phase === "queued" && s.reason && s.reason !== "None"
      ? `${s.state} (${s.reason})`
      : s.state;
    rows.push([
      v.job.id,
      // A record of an older version may hold a name with control characters.
      printable(v.job.name, 60),
      stateText,
      s?.nodeList || "-",
      timeLeft(s),
      v.server && s?.phase === "running"
        ? v.server.url
        : s?.phase === "queued"
        ? describeWait(s)
        : "-",
    ]);
  }
  return formatTable(rows);
}

/** For each job whose server is up, the commands that tunnel to it (or why none can). */
export function tunnelLines(views: readonly JobView[], loginHost: string | undefined): string[] {
  const up = views.filter((v) => v.server && v.status?.phase === "running");
  if (!up.length) return [];
  const lines = ["\nTunnels: run one of a job's commands on your laptop, then browse to its URL."];
  for (const v of up) {
    const t = tunnelTarget(v.server!, tunnelOpts(v, loginHost));
    const problem = tunnelProblem(t);
    lines.push(`  job ${v.job.id} on ${v.server!.host}:`);
    if (problem) {
      lines.push(`    ${problem}`);
      const attach = attachCommand(t);
      if (attach) lines.push(`    Or, best:\n    # ${attach.label}\n    ${attach.command}`);
      continue;
    }
    for (const c of tunnelCommands(t)) lines.push(`    # ${c.label}\n    ${c.command}`);
    lines.push(`    then browse to ${laptopUrl(v.server!)}`);
  }
  return lines;
}

/** A warning for each job that reaches its time limit soon. */
export function endingWarnings(views: readonly JobView[]): string[] {
  return views.filter((v) => endingSoon(v.status)).map((v) =>
    `job ${v.job.id} reaches its time limit in ${
      formatSlurmDuration(v.status!.timeLeft!)
    }: save your notebooks`
  );
}

/** The note on the records `listJobs` (`list.ts`) forgot, if any. */
export function forgotNote(ended: readonly JobView[]): string | undefined {
  if (!ended.length) return undefined;
  return `Forgot ${ended.length} ended job${ended.length === 1 ? "" : "s"}: ` +
    ended.map((e) => e.job.id).join(", ");
}
