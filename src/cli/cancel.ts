/**
 * `legate-jupyter cancel JOBID...|--all`: cancels jobs `submit` recorded, waits until the
 * scheduler reports them ended (so that nothing is left running when it returns), and removes
 * their records and any server entry the job could not remove itself.
 * @module
 */

import { type Command, programName } from "./command.ts";
import { Failure, UsageError } from "../util/errors.ts";
import type { JobStatus } from "../scheduler/types.ts";
import type { JobRecord } from "../scheduler/jobs_state.ts";

/** How long to wait for cancelled jobs to end: Slurm's default KillWait (30 s) and then some. */
const END_WAIT_MS = 60_000;

/** `legate-jupyter cancel`. */
export const command: Command = {
  name: "cancel",
  summary: "Cancel Jupyter jobs this tool submitted (by job id, or --all)",
  usage: "cancel JOBID... | --all",
  positionals: "JOBID...",
  maxPositionals: Infinity,
  description: "Cancels jobs listed by 'legate-jupyter jobs' (scancel, qdel or bkill), waits " +
    "until the scheduler reports them ended, and forgets them. Jupyter gets the scheduler's " +
    "SIGTERM first, so it shuts its kernels down. Jobs this tool did not submit are refused: " +
    "cancel those with the scheduler's own command.",
  flags: [
    { name: "all", short: "a", type: "boolean", help: "Cancel every recorded job" },
    {
      name: "no-wait",
      type: "boolean",
      help: "Return once the scheduler has the request, without waiting for the jobs to end",
    },
  ],
  examples: ["legate-jupyter cancel 4242", "legate-jupyter cancel --all"],
  async run(parsed, ctx) {
    const state = await import("../state/servers.ts");
    const { readJobs, removeJob, idsByScheduler, serverOfJob } = await import(
      "../scheduler/jobs_state.ts"
    );
    const { schedulerFor } = await import("../scheduler/scheduler.ts");
    const { waitForJob } = await import("../scheduler/watch.ts");
    const program = programName(ctx.self);
    const all = parsed.values.all as boolean;
    const ids = parsed.positionals;
    if (all && ids.length) throw new UsageError("give job ids or --all, not both");
    if (!all && !ids.length) {
      throw new UsageError(`which job? give its id (see '${program} jobs') or --all`);
    }
    const { describeProblem } = await import("../os/private.ts");
    const dir = state.currentStateDir();
    const reported = new Set<string>();
    const onProblem = (p: { path: string; problem: string }) => {
      if (!reported.has(p.path)) ctx.out.warn(describeProblem(p));
      reported.add(p.path);
    };
    const records = await readJobs(dir, { onProblem });
    const unknown = ids.filter((id) => !records.some((r) => r.id === id));
    if (unknown.length) {
      throw new Failure(
        `${unknown.length === 1 ? "job" : "jobs"} ${unknown.join(", ")} ` +
          `${unknown.length === 1 ? "is not a job" : "are not jobs"} this tool submitted ` +
          `(see '${program} jobs'); cancel other jobs with the scheduler's own command`,
      );
    }
    const targets = all ? records : records.filter((r) => ids.includes(r.id));
    if (targets.length === 0) {
      ctx.out.info("No Jupyter jobs recorded.");
      return 0;
    }
    const before = new Map<string, string>();
    for (const [name, list] of idsByScheduler(targets)) {
      const sched = schedulerFor(name);
      // Only for the "was RUNNING on ..." words: a controller too busy to answer must not
      // stop the cancel itself.
      const now = await sched.status(list).catch(() => new Map<string, JobStatus>());
      for (const [id, s] of now) {
        before.set(
          id,
          s.phase === "ended" ? "" : s.nodeList ? `${s.state} on ${s.nodeList}` : s.state,
        );
      }
      await sched.cancel(list);
    }
    if (parsed.values["no-wait"]) {
      for (const t of targets) {
        ctx.out.info(`Asked ${t.scheduler} to cancel job ${t.id}`);
      }
      return 0;
    }
    const stuck: string[] = [];
    const unconfirmed: string[] = [];
    const lines = new Map<string, string>();
    const ended: JobRecord[] = [];
    await Promise.all(targets.map(async (t) => {
      let last: JobStatus | undefined;
      try {
        last = await waitForJob(schedulerFor(t.scheduler), t.id, (s) => s.phase === "ended", {
          signal: AbortSignal.timeout(END_WAIT_MS),
          intervalMs: 250,
        });
      } catch (e) {
        // The cancel went through; only its confirmation failed. Keep the record for 'jobs'.
        unconfirmed.push(`${t.id} (${(e as Error).message.split("\n")[0]})`);
        return;
      }
      if (last && last.phase !== "ended") {
        stuck.push(`${t.id} (${last.state})`);
        return;
      }
      await removeJob(dir, t.scheduler, t.id);
      ended.push(t);
      const was = before.get(t.id);
      lines.set(
        t.id,
        was === undefined || was === ""
          ? `Job ${t.id} had already ended; forgot it`
          : `Cancelled job ${t.id} (was ${was})`,
      );
    }));
    // A server killed before it could clean up leaves its entry behind.
    for (const s of await state.readServers(dir, { onProblem })) {
      if (ended.some((t) => serverOfJob(t, s.record))) await state.removeServer(dir, s.record.id);
    }
    for (const t of targets) if (lines.has(t.id)) ctx.out.info(lines.get(t.id)!);
    if (unconfirmed.length) {
      throw new Failure(
        `asked the scheduler to cancel, but could not confirm that ${unconfirmed.join(", ")} ` +
          `ended; check with '${program} jobs' in a while`,
      );
    }
    if (stuck.length) {
      throw new Failure(
        `the scheduler still shows ${stuck.join(", ")} after ${END_WAIT_MS / 1000}s; ` +
          `check with '${program} jobs' and ask your admins if it stays`,
      );
    }
    return 0;
  },
};
