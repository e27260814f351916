/**
 * Submitting a planned Jupyter job and following it until its server is ready: what `submit`
 * does once its flags are checked. The job is recorded for `jobs` and `cancel` the moment it
 * has an id; while it waits, its state, reason and start estimate are shown; once Jupyter is
 * ready on the compute node, the same block as `notebook` prints (URL, token, tunnel).
 *
 * The login node learns that the server is ready from the state entry `notebook` writes on the
 * compute node into the shared home (`src/state/servers.ts`). It looks for that file every
 * 0.1 s from the moment of submission (file events do not cross NFS clients), so the URL
 * appears within a fraction of a second of Jupyter being ready, however slowly the scheduler is
 * asked about the job.
 * @module
 */

import { Failure } from "../util/errors.ts";
import { STOP_SIGNALS } from "../util/signals.ts";
import type { JobStatus } from "../scheduler/types.ts";
import type { FollowOutcome } from "./follow.ts";
import { expandOutput, type Plan } from "./plan.ts";
import * as state from "../state/servers.ts";
import { describeJob } from "../scheduler/describe.ts";
import { removeJob, writeJob } from "../scheduler/jobs_state.ts";
import { schedulerFor } from "../scheduler/scheduler.ts";
import { humanDuration } from "../scheduler/time.ts";
import { readyEvent, renderReadyBlock } from "../server/ready.ts";
import { endedBeforeReady, followJob } from "./follow.ts";

/** A job {@link submitPlanned} submitted and recorded. */
export interface SubmittedJob {
  readonly id: string;
  readonly submittedAt: Date;
  /** The job's log, when its name can be known here. */
  readonly logPath: string | undefined;
  /** What the scheduler printed on stderr although it accepted the job. */
  readonly warnings: readonly string[];
}

/** How `submit` waits and what it prints (its flags, read by `src/cli/submit.ts`). */
export interface SubmitRequest {
  /** Print the result as one JSON line. */
  readonly json: boolean;
  /** Return once the job is submitted. */
  readonly noWait: boolean;
  /** Leave the job queued or running when the wait ends early. */
  readonly keep: boolean;
  /** Stop waiting after this many seconds (queue time included). */
  readonly timeoutS: number | undefined;
  /** How long the job waits for Jupyter (for the "is the home shared?" warning). */
  readonly serverTimeoutS: number;
  /** Add the `~/.ssh/config` snippet to the ready block. */
  readonly sshConfig: boolean;
  /** How to name this program in the hints printed. */
  readonly program: string;
}

/** Where `submit` speaks (the command's `Output`). */
export interface SubmitOutput {
  print(text: string): void;
  info(text: string): void;
  note(message: string): void;
  warn(message: string): void;
  progress(message: string): void;
  clearProgress(): void;
}

/**
 * Submits the planned job and records it for `jobs`/`cancel` (and `connect --attach`). Throws
 * the scheduler's own error. `connect`'s agent submits through here too.
 */
export async function submitPlanned(p: Plan, dir: string): Promise<SubmittedJob> {
  // sbatch creates the job's log with SLURM_UMASK (documented in sbatch(1)); the script then
  // restores the user's umask, read from the same place.
  const env = p.scheduler === "slurm" && p.script.includes("\numask ")
    ? { SLURM_UMASK: "0077" }
    : undefined;
  const submittedAt = new Date();
  const sub = await schedulerFor(p.scheduler).submit(p.script, { cwd: p.workdir, env });
  const logPath = p.output.endsWith("/")
    ? undefined
    : expandOutput(p.output, { id: sub.id, name: p.jobName, user: Deno.env.get("USER") });
  await writeJob(dir, {
    id: sub.id,
    scheduler: p.scheduler,
    cluster: sub.cluster,
    name: p.jobName,
    submittedAt: submittedAt.toISOString(),
    submitHost: Deno.hostname(),
    logPath,
    workdir: p.workdir,
    kernel: p.kernel,
  });
  return { id: sub.id, submittedAt, logPath, warnings: sub.warnings };
}

/**
 * Submits `p` and follows it as `req` says; returns the exit code. Signals are caught from
 * before sbatch to the end: a Ctrl-C while a slow controller answers must not leave a job
 * nobody knows of, so it is acted on once the job has an id and a record.
 */
export async function submitJob(p: Plan, req: SubmitRequest, out: SubmitOutput): Promise<number> {
  const dir = await state.ensureStateDir(state.currentStateDir());
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  for (const s of STOP_SIGNALS) Deno.addSignalListener(s, onSignal);
  try {
    return await submitAndFollow(p, dir, req, out, interrupt.signal);
  } finally {
    for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, onSignal);
  }
}

async function submitAndFollow(
  p: Plan,
  dir: string,
  req: SubmitRequest,
  out: SubmitOutput,
  interrupt: AbortSignal,
): Promise<number> {
  const sched = schedulerFor(p.scheduler);
  const sub = await submitPlanned(p, dir);
  for (const w of sub.warnings) out.note(w);
  const { submittedAt, logPath } = sub;
  const program = req.program;
  if (interrupt.aborted && !req.keep) {
    await sched.cancel([sub.id]);
    await removeJob(dir, p.scheduler, sub.id);
    out.note(`Interrupted while submitting; cancelled job ${sub.id} (keep it with --keep)`);
    return 130;
  }
  if (req.noWait) {
    if (req.json) {
      out.print(JSON.stringify({
        event: "submitted",
        job_id: sub.id,
        scheduler: p.scheduler,
        log: logPath ?? null,
      }));
    } else {
      out.print(`Submitted job ${sub.id}${logPath ? ` (log: ${logPath})` : ""}.`);
      out.info(`Follow it with '${program} jobs'; end it with '${program} cancel ${sub.id}'.`);
    }
    return 0;
  }
  out.note(`Submitted job ${sub.id}${logPath ? `; its log: ${logPath}` : ""}`);
  const job = { id: sub.id, submittedAt, logPath };
  const { outcome, last } = await follow(p, job, dir, req, out, interrupt);
  return await conclude(p, job, dir, req, out, outcome, last);
}

/**
 * Follows the job with a progress line: on a terminal it ticks every second (time waited,
 * time to the estimate); elsewhere it is written once per change of state, so that logs are
 * not flooded.
 */
async function follow(
  p: Plan,
  submitted: { id: string; submittedAt: Date; logPath: string | undefined },
  dir: string,
  req: SubmitRequest,
  out: SubmitOutput,
  interrupt: AbortSignal,
): Promise<{ outcome: FollowOutcome; last: JobStatus | undefined }> {
  let last: JobStatus | undefined;
  let done = false;
  const tty = Deno.stderr.isTerminal();
  const show = () => {
    if (!last || done) return;
    const what = describeJob(last);
    const waited = tty
      ? ` [${humanDuration((Date.now() - submitted.submittedAt.getTime()) / 1000)}]`
      : "";
    out.progress(
      last.phase === "running" ? `${what}: starting Jupyter...${waited}` : `${what}${waited}`,
    );
  };
  const ticker = tty ? setInterval(show, 1000) : undefined;
  let result: Awaited<ReturnType<typeof followJob>>;
  try {
    result = await followJob(
      submitted,
      {
        scheduler: schedulerFor(p.scheduler),
        stateDir: dir,
        timeoutS: req.timeoutS,
        serverTimeoutS: req.serverTimeoutS,
        interrupt,
        program: req.program,
      },
      {
        status: (s) => {
          last = s;
          show();
        },
        warn: (m) => {
          out.clearProgress();
          out.warn(m);
        },
        note: (m) => {
          out.clearProgress();
          out.note(m);
        },
      },
    );
  } finally {
    done = true;
    if (ticker !== undefined) clearInterval(ticker);
    out.clearProgress();
  }
  return { outcome: result.outcome, last: result.last ?? last };
}

/**
 * What the wait came to: the ready block; or the job's end, with the end of its log; or, on a
 * timeout or an interrupt, the job cancelled (unless `--keep`) and said so.
 */
async function conclude(
  p: Plan,
  job: { id: string; logPath: string | undefined },
  dir: string,
  req: SubmitRequest,
  out: SubmitOutput,
  outcome: FollowOutcome,
  last: JobStatus | undefined,
): Promise<number> {
  const { id, logPath } = job;
  const program = req.program;
  if (outcome.kind === "ready") {
    const r = outcome.record;
    const opts = {
      loginHost: p.loginHost,
      sshUser: p.sshUser,
      sshConfig: req.sshConfig,
      program,
      jobId: id,
    };
    if (req.json) {
      out.print(JSON.stringify({ ...readyEvent(r, opts), job_id: id, job_log: logPath }));
    } else out.print(renderReadyBlock(r, opts));
    return 0;
  }
  if (outcome.kind === "ended") {
    await removeJob(dir, p.scheduler, id);
    throw new Failure(await endedBeforeReady(id, outcome.status, logPath));
  }
  const why = outcome.kind === "timeout" ? `gave up waiting after ${req.timeoutS}s` : "interrupted";
  const where = last ? describeJob(last) : `job ${id}`;
  if (req.keep) {
    out.warn(
      `${why}; ${where}; it was left ${last?.phase === "running" ? "running" : "queued"} ` +
        `(--keep). Follow it with '${program} jobs', end it with '${program} cancel ${id}'`,
    );
    return outcome.kind === "timeout" ? 1 : 130;
  }
  await schedulerFor(p.scheduler).cancel([id]);
  await removeJob(dir, p.scheduler, id);
  const message = `${why}; ${where}; cancelled it (keep it with --keep)`;
  if (outcome.kind === "timeout") throw new Failure(message);
  out.note(message.charAt(0).toUpperCase() + message.slice(1));
  return 130;
}
