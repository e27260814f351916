/**
 * `legate-jupyter jobs`: the batch jobs `submit` recorded, as the scheduler sees them now,
 * joined with the servers they run: state, node, time left, URL and tunnel. Records of jobs
 * that have ended are reported once and then forgotten.
 * @module
 */

import { type Command, programName } from "./command.ts";
import type { JobRecord } from "../scheduler/jobs_state.ts";
import type { JobStatus } from "../scheduler/types.ts";
import type { ServerRecord } from "../state/servers.ts";
import { formatSlurmDuration } from "../scheduler/time.ts";
import { endingSoon } from "../scheduler/describe.ts";

/** One recorded job, its scheduler status (absent once forgotten) and its server, if up. */
export interface JobView {
  readonly job: JobRecord;
  readonly status?: JobStatus;
  readonly server?: ServerRecord;
}

/**
 * Asks each scheduler about its recorded jobs (one query per scheduler) and finds each job's
 * server among the state entries.
 */
async function viewJobs(
  jobs: readonly JobRecord[],
  servers: readonly ServerRecord[],
): Promise<JobView[]> {
  const { schedulerFor } = await import("../scheduler/scheduler.ts");
  const { idsByScheduler, serverOfJob } = await import("../scheduler/jobs_state.ts");
  const statuses = new Map<string, JobStatus>();
  await Promise.all(
    [...idsByScheduler(jobs)].map(async ([name, ids]) => {
      for (const [id, s] of await schedulerFor(name).status(ids)) statuses.set(`${name}:${id}`, s);
    }),
  );
  return jobs.map((job) => ({
    job,
    status: statuses.get(`${job.scheduler}:${job.id}`),
    server: servers.filter((s) => serverOfJob(job, s)).pop(),
  }));
}

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

/** `legate-jupyter jobs`. */
export const command: Command = {
  name: "jobs",
  summary: "List the Jupyter jobs this tool submitted: state, node, time left, URL, tunnel",
  usage: "jobs [--json]",
  description: "Lists the batch jobs 'submit' recorded in ~/.local/state/legate-jupyter, with " +
    "the scheduler's state for each (the reason and start estimate while queued; node and " +
    "time left while running), the URL of the Jupyter server it runs and the SSH command " +
    "that tunnels to it. A job whose time is nearly up is flagged. Jobs that have ended are " +
    "shown once, then forgotten.",
  flags: [
    { name: "json", type: "boolean", help: "Print a JSON array" },
    {
      name: "login-host",
      type: "string",
      metavar: "HOST",
      group: "Tunnel",
      help: "Login node your laptop reaches (default: the node each job was submitted from)",
    },
  ],
  examples: ["legate-jupyter jobs", "legate-jupyter jobs --json"],
  async run(parsed, ctx) {
    const state = await import("../state/servers.ts");
    const { readJobs, removeJob } = await import("../scheduler/jobs_state.ts");
    const { readyEvent, laptopUrl, tunnelTarget } = await import("../server/ready.ts");
    const { attachCommand, tunnelCommands, tunnelProblem } = await import(
      "../jupyter/connect.ts"
    );
    const { describeWait } = await import("../scheduler/describe.ts");
    const { describeProblem } = await import("../os/private.ts");
    const dir = state.currentStateDir();
    const onProblem = (p: { path: string; problem: string }) => ctx.out.warn(describeProblem(p));
    const jobs = await readJobs(dir, { onProblem });
    const servers = (await state.readServers(dir, { onProblem }))
      .map((s) => s.record).filter((r) => state.serverState(r) === "ready");
    const views = await viewJobs(jobs, servers);
    const loginHost = parsed.values["login-host"] as string | undefined;
    const ended = views.filter((v) => !v.status || v.status.phase === "ended");
    for (const e of ended) await removeJob(dir, e.job.scheduler, e.job.id);
    const tunnelOpts = (v: JobView) => ({
      loginHost: loginHost ?? v.server?.loginHost ?? v.job.submitHost,
      sshUser: v.server?.sshUser,
      jobId: v.job.id,
    });

    if (parsed.values.json) {
      ctx.out.print(JSON.stringify(
        views.map((v) => ({
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
            ? readyEvent(v.server, tunnelOpts(v))
            : null,
        })),
        null,
        2,
      ));
      return 0;
    }
    if (views.length === 0) {
      ctx.out.info(
        `No Jupyter jobs (submit one with '${programName(ctx.self)} submit').`,
      );
      return 0;
    }
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
        v.job.name,
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
    const { formatTable } = await import("../util/table.ts");
    for (const line of formatTable(rows)) ctx.out.print(line);
    const up = views.filter((v) => v.server && v.status?.phase === "running");
    if (up.length) {
      ctx.out.print(
        "\nTunnels: run one of a job's commands on your laptop, then browse to its URL.",
      );
      for (const v of up) {
        const t = tunnelTarget(v.server!, tunnelOpts(v));
        const problem = tunnelProblem(t);
        ctx.out.print(`  job ${v.job.id} on ${v.server!.host}:`);
        if (problem) {
          ctx.out.print(`    ${problem}`);
          const attach = attachCommand(t);
          if (attach) ctx.out.print(`    Or, best:\n    # ${attach.label}\n    ${attach.command}`);
          continue;
        }
        for (const c of tunnelCommands(t)) ctx.out.print(`    # ${c.label}\n    ${c.command}`);
        ctx.out.print(`    then browse to ${laptopUrl(v.server!)}`);
      }
    }
    const soon = views.filter((v) => endingSoon(v.status));
    for (const v of soon) {
      ctx.out.warn(
        `job ${v.job.id} reaches its time limit in ${
          formatSlurmDuration(v.status!.timeLeft!)
        }: save your notebooks`,
      );
    }
    if (ended.length) {
      ctx.out.note(
        `Forgot ${ended.length} ended job${ended.length === 1 ? "" : "s"}: ` +
          ended.map((e) => e.job.id).join(", "),
      );
    }
    return 0;
  },
};
