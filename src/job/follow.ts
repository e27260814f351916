/**
 * Following a submitted Jupyter job until its server is ready, the job ends, the wait times
 * out or the caller interrupts it: what `submit` shows on the login node's terminal, and
 * what `connect`'s agent sends to the laptop. The scheduler is asked once a second; the
 * server's state entry (written by `notebook` on the compute node into the shared home) is
 * looked for every 0.1 s. What happens along the way goes to a {@link FollowSink}; the
 * caller decides how to show it.
 * @module
 */

import { jobFile, serverOfJob } from "../scheduler/jobs_state.ts";
import {
  type JobStatus,
  type Scheduler,
  SchedulerError,
  type SchedulerName,
} from "../scheduler/types.ts";
import { sleep, watchJob } from "../scheduler/watch.ts";
import type { ServerRecord } from "../state/servers.ts";

/** Where the follower reports. */
export interface FollowSink {
  /** The job's status, each time it changes (state, reason, node, start estimate). */
  status(status: JobStatus): void;
  /** Something the user should know that does not end the wait. */
  warn(message: string): void;
  /** Said once, just before an unexpected error is thrown: how to find the job again. */
  note(message: string): void;
  /**
   * The job's server has been spawned on its node and is starting (its entry says where):
   * said on each look until it is ready.
   */
  starting?(record: ServerRecord): void;
}

/** A job just submitted. */
export interface SubmittedJob {
  readonly id: string;
  /** When it was submitted, on this host's clock (for what is shown; nothing compares it). */
  readonly submittedAt?: Date;
  /** The job's log on this host, when known. */
  readonly logPath?: string;
}

/** What the wait came to. */
export type FollowOutcome =
  | { kind: "ready"; record: ServerRecord }
  | { kind: "ended"; status?: JobStatus }
  | { kind: "timeout" }
  | { kind: "interrupted" };

/** Options for {@link followJob}. */
export interface FollowOptions {
  readonly scheduler: Scheduler;
  /** The state dir whose `servers/` the job's `notebook` writes to. */
  readonly stateDir: string;
  /** Gives up after this many seconds, queue time included (none when undefined). */
  readonly timeoutS?: number;
  /** How long the job waits for Jupyter (for the "is the home shared?" warning). */
  readonly serverTimeoutS: number;
  /** Aborting it ends the wait with `interrupted`. */
  readonly interrupt: AbortSignal;
  /** How to name this program in hints. */
  readonly program: string;
  /**
   * Server entries of the job not to take (by id): those of its run before a requeue, which
   * that run may not have been able to remove.
   */
  readonly exclude?: ReadonlySet<string>;
}

/** The state {@link followJob}'s parts share: the last status, and how the wait ends. */
interface Wait {
  readonly stop: AbortController;
  last: JobStatus | undefined;
  ending: FollowOutcome | undefined;
  /** Ends the wait with `o` (the first outcome wins). */
  end(o: FollowOutcome): void;
}

/**
 * Follows `job` and returns the outcome with the last status the scheduler gave. Scheduler
 * errors while asking are reported to `sink.warn` and asked again (a busy controller times
 * out now and then); any other error is thrown after `sink.note` says how to find the job.
 */
export async function followJob(
  job: SubmittedJob,
  options: FollowOptions,
  sink: FollowSink,
): Promise<{ outcome: FollowOutcome; last?: JobStatus }> {
  const { id } = job;
  const { stateDir } = options;
  const state = await import("../state/servers.ts");
  const record = { id, recordedAt: await recordedAt(stateDir, options.scheduler.name, id) };

  const wait: Wait = {
    stop: new AbortController(),
    last: undefined,
    ending: undefined,
    end(o) {
      if (!this.ending) this.ending = o;
      this.stop.abort();
    },
  };
  const onInterrupt = () => wait.end({ kind: "interrupted" });
  if (options.interrupt.aborted) onInterrupt();
  options.interrupt.addEventListener("abort", onInterrupt, { once: true });
  const timer = options.timeoutS === undefined
    ? undefined
    : setTimeout(() => wait.end({ kind: "timeout" }), options.timeoutS * 1000);
  const ticker = warnIfServerMissing(job, options, sink, wait, state.serversDir(stateDir));
  try {
    const server = state.waitForServer(
      stateDir,
      (r, stored) => serverOfJob(record, stored) && !options.exclude?.has(r.id),
      {
        intervalMs: 100,
        signal: wait.stop.signal,
        onProblem: (p) => sink.warn(`ignoring ${p.path}: ${p.problem}`),
        onStarting: (r) => sink.starting?.(r),
      },
    ).then((found) => found && wait.end({ kind: "ready", record: found }));
    const watch = watchScheduler(job, options, sink, wait).catch((e) => {
      wait.stop.abort();
      throw e;
    });
    await Promise.race([
      server,
      watch,
      new Promise((r) => wait.stop.signal.addEventListener("abort", r)),
    ]);
    wait.stop.abort();
    await Promise.allSettled([server]);
    const watchErr = await watch.then(() => undefined, (e) => e);
    if (!wait.ending && watchErr) throw watchErr;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    clearInterval(ticker);
    options.interrupt.removeEventListener("abort", onInterrupt);
  }
  return { outcome: wait.ending as FollowOutcome, last: wait.last };
}

/**
 * If the job runs but its server's entry never shows up in `serversDir`, the usual cause is a
 * home directory that the compute nodes do not share: say so once instead of waiting in
 * silence. Returns the interval to clear.
 */
function warnIfServerMissing(
  job: SubmittedJob,
  options: FollowOptions,
  sink: FollowSink,
  wait: Wait,
  serversDir: string,
): ReturnType<typeof setInterval> {
  const patienceMs = options.serverTimeoutS * 1000 + 10_000;
  let runningSince: number | undefined;
  let warned = false;
  return setInterval(() => {
    // Counted from when it runs now: a requeued job that waits again starts afresh.
    if (wait.last?.phase === "running") runningSince ??= Date.now();
    else runningSince = undefined;
    if (!warned && runningSince !== undefined && Date.now() - runningSince > patienceMs) {
      warned = true;
      sink.warn(
        `job ${job.id} has run for ${Math.round((Date.now() - runningSince) / 1000)}s and its ` +
          `server has not appeared in ${serversDir}; is this home directory ` +
          `shared with the compute nodes? The job's log: ${job.logPath ?? "(see the scheduler)"}`,
      );
    }
  }, 1000);
}

/**
 * Asks the scheduler about the job once a second until it ends (then the wait ends) or the
 * wait ends otherwise, reporting each status to `sink`.
 */
async function watchScheduler(
  job: SubmittedJob,
  options: FollowOptions,
  sink: FollowSink,
  wait: Wait,
): Promise<void> {
  const { id } = job;
  const { scheduler, program } = options;
  for (let failures = 0;;) {
    try {
      // Once a second, not faster: the controller serves every user of the cluster.
      for await (
        const s of watchJob(scheduler, id, { intervalMs: 1000, signal: wait.stop.signal })
      ) {
        failures = 0;
        wait.last = s ?? wait.last;
        if (!s || s.phase === "ended") {
          // The server may have written its entry just before the job ended: one last look.
          await new Promise((r) => setTimeout(r, 300));
          wait.end({ kind: "ended", status: s ?? wait.last });
          return;
        }
        if (!wait.ending) sink.status(s);
      }
      return;
    } catch (e) {
      if (!(e instanceof SchedulerError)) {
        sink.note(
          `Job ${id} was left as it is: follow it with '${program} jobs', ` +
            `end it with '${program} cancel ${id}'.`,
        );
        throw e;
      }
      // Keep asking (the server's entry may still turn up): the timeout or an interrupt
      // end the wait, and then the caller decides about the job.
      failures++;
      const pause = Math.min(2 * failures, 10);
      if (failures === 1 || failures % 10 === 0) {
        sink.warn(`${e.message.split("\n")[0]} (asking again in ${pause} s)`);
      }
      await sleep(pause * 1000, wait.stop.signal);
      if (wait.stop.signal.aborted) return;
    }
  }
}

/** The job record's mtime (the file system's clock), which entries of the job postdate. */
async function recordedAt(
  stateDir: string,
  scheduler: SchedulerName,
  id: string,
): Promise<number | undefined> {
  try {
    return (await Deno.lstat(jobFile(stateDir, scheduler, id))).mtime?.getTime();
  } catch {
    return undefined;
  }
}

/**
 * Why the wait failed when job `id` ended before Jupyter was ready: its last state and
 * reason, and the end of its log (our own error in it, when there is one).
 */
export async function endedBeforeReady(
  id: string,
  status: JobStatus | undefined,
  logPath: string | undefined,
): Promise<string> {
  const how = status
    ? `${status.state}${status.reason && status.reason !== "None" ? ` (${status.reason})` : ""}`
    : "";
  return `job ${id} ended${how ? " " + how : ""} before Jupyter was ready${await logTail(logPath)}`;
}

/** The end of a failed job's log, for the error that says it ended before Jupyter was ready. */
async function logTail(logPath: string | undefined): Promise<string> {
  if (!logPath) return ".";
  let text: string;
  try {
    text = await Deno.readTextFile(logPath);
  } catch {
    return `; its log ${logPath} could not be read.`;
  }
  const { tail } = await import("../jupyter/logparse.ts");
  // Our own error says what went wrong; Jupyter's output after it can run long (a usage text).
  const ours = text.lastIndexOf("legate-jupyter: error:");
  const t = (ours >= 0 ? text.slice(ours).split("\n").slice(0, 25).join("\n") : tail(text, 25))
    .trimEnd();
  if (!t) return `; its log ${logPath} is empty.`;
  return `. The end of its log:\n${t.replace(/^/gm, "  | ")}\nFull log: ${logPath}`;
}
