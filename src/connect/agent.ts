/**
 * The login node's side of `connect` (the hidden `agent` command). The laptop starts it
 * through its one SSH connection, in a login shell, and speaks connect's framed protocol with
 * it on stdin/stdout. It submits and follows the job exactly as `submit` does (same code),
 * sends what it sees to the laptop, then starts one relay inside the job (an `srun --overlap`
 * step) and carries every browser connection to Jupyter through it. It cancels the job when
 * asked (unless another session is attached to it), and leaves it running when the laptop goes
 * away. No port is opened on the login node, and no SSH connection is made to the compute node
 * unless the route was chosen to be SSH (PBS, LSF, or `--via ssh`).
 *
 * The scheduler decides: whenever the link to the job drops, and every few seconds, it is
 * asked first. A job that ended is reported with its cause; a job requeued is followed again
 * until its new server is ready; only a job still in the same run gets its relay started again.
 *
 * Phases of a start: plan and submit, follow the job (the relay starts as Jupyter does),
 * serve (ready, then watch the job and the relay; a requeue goes back to following), end
 * (cancel, detach, or the job's end). `--here` starts Jupyter on the login node instead,
 * detached from the SSH session.
 *
 * Standard output carries frames only: nothing here may print to it.
 * @module
 */

import { Failure } from "../util/errors.ts";
import { reportOf } from "../util/report.ts";
import type { Parsed } from "../util/flag_spec.ts";
import type { Peer } from "../relay/pipes.ts";
import type { MuxStream } from "../relay/mux.ts";
import type { RelayLink, Route } from "../relay/link.ts";
import type { ReadyMessage } from "../relay/protocol.ts";
import type { ServerRecord } from "../state/servers.ts";
import type { JobRecord } from "../scheduler/jobs_state.ts";
import type { JobStatus, SchedulerName } from "../scheduler/types.ts";
import type { Attached } from "./attached.ts";

/**
 * What the agent needs from `submit`, whose flags live in the CLI layer above this area: the
 * command that starts the agent passes them in, with `src/job/`'s planning.
 */
export interface JobSubmitter {
  /** `submit`'s flags as the laptop forwarded them; throws {@link UsageError}. */
  parse(args: readonly string[]): Promise<Parsed>;
  /** Checks them and writes the batch script, as `submit` does; throws {@link UsageError}. */
  plan(parsed: Parsed): Promise<PlannedJob>;
}

/** A job {@link JobSubmitter.plan} planned, not yet submitted. */
export interface PlannedJob {
  readonly scheduler: SchedulerName;
  /** Submits it and records it under `stateDir` (for `jobs`, `cancel` and `--attach`). */
  submit(stateDir: string): Promise<
    { readonly id: string; readonly logPath?: string; readonly warnings: readonly string[] }
  >;
}

/**
 * Runs the agent on this process's stdin/stdout until the laptop's session ends; returns the
 * exit code. `self` is how to run this program again (the relay, `stop`, `cancel`).
 */
export async function runAgent(
  self: readonly string[],
  submitter: JobSubmitter,
): Promise<number> {
  return await new Agent(self, submitter).run();
}

/** How Jupyter is reached from here. */
type Target =
  | { kind: "relay"; link: RelayLink; port: number }
  | { kind: "direct"; port: number };

/** What the session is about, once started or attached. */
type Subject =
  | { kind: "job"; job: JobRecord }
  | { kind: "server"; record: ServerRecord };

/** How often the job is looked at while the laptop is attached. */
const WATCH_MS = 5000;

/** How a served job's session went on: over (with an exit code), or back to following. */
type Served =
  | { readonly kind: "done"; readonly code: number }
  | { readonly kind: "requeued"; readonly status?: JobStatus; readonly ranAgain: boolean };

class Agent {
  readonly #self: readonly string[];
  readonly #submitter: JobSubmitter;
  #peer!: Peer;
  #version = "";
  #target: Promise<Target> | undefined;
  #subject: Subject | undefined;
  /** `--via`: srun, srun-stdio (no direct connection for the bytes), or ssh. */
  #via: Route | "srun-stdio" | undefined;
  /** What the laptop asked for while the job was followed or watched. */
  #wanted: "cancel" | "detach" | undefined;
  readonly #interrupt = new AbortController();
  #link: RelayLink | undefined;
  /** The laptop's id for this session (the same across its re-dials). */
  #session = "";
  /** This session's record among those attached to its job. */
  #attached: Attached | undefined;
  #protocol!: typeof import("../relay/protocol.ts");
  #linkModule!: typeof import("../relay/link.ts");

  constructor(self: readonly string[], submitter: JobSubmitter) {
    this.#self = self;
    this.#submitter = submitter;
  }

  async run(): Promise<number> {
    const { VERSION } = await import("../version.ts");
    const { serveStdio } = await import("../relay/pipes.ts");
    this.#protocol = await import("../relay/protocol.ts");
    this.#linkModule = await import("../relay/link.ts");
    const { helloProblem } = this.#protocol;
    this.#version = VERSION;
    this.#peer = await serveStdio({
      role: "server",
      hello: "agent",
      version: VERSION,
      // The laptop pings every 5 s; it may sleep for a while and come back on another
      // connection, so silence ends this side only after 45 s (the job stays).
      keepalive: { intervalMs: 5000, deadMs: 45_000 },
      onOpen: (s) => this.#onStream(s),
    });
    const session = this.#peer.session;
    session.ended.then(() => this.#interrupt.abort());
    let code: number;
    try {
      const theirs = await this.#peer.inbox.next(["hello"]);
      const problem = helloProblem(theirs, VERSION);
      if (problem) throw new Failure(`connect cannot use this login node's program: ${problem}`);
      code = await this.#serve();
    } catch (e) {
      code = this.#report(e);
    }
    await this.#link?.stop();
    await this.#attached?.leave();
    await session.flush();
    session.close("agent done");
    return code;
  }

  /** Sends a failure to the laptop; returns the exit code. */
  #report(e: unknown): number {
    const { SessionEndedError } = this.#protocol;
    if (e instanceof SessionEndedError) return 0;
    const { exitCode, raw, bug, message: said } = reportOf(e);
    const message = bug
      ? `${said} (an unexpected error on the login node; please report it)`
      : said;
    this.#send({ type: "error", message, exitCode, raw });
    return exitCode;
  }

  #send(m: Record<string, unknown>): void {
    this.#peer.session.control(m);
  }

  #note(text: string): void {
    this.#send({ type: "note", text });
  }

  #warn(text: string): void {
    this.#send({ type: "warning", text });
  }

  async #serve(): Promise<number> {
    const req = await this.#peer.inbox.next(["start", "attach", "jobs", "cancel"]);
    // From now on, cancel and detach can come at any time.
    this.#peer.inbox.listener = (m) => {
      if (m.type !== "cancel" && m.type !== "detach") return false;
      this.#wanted ??= m.type;
      this.#interrupt.abort();
      return true;
    };
    this.#via = req.via === "srun" || req.via === "ssh" || req.via === "srun-stdio"
      ? req.via
      : undefined;
    this.#session = typeof req.session === "string" ? req.session : "";
    switch (req.type) {
      case "jobs": {
        const { jobLines } = await import("./listing.ts");
        this.#send({ type: "jobs", jobs: await jobLines() });
        return 0;
      }
      case "cancel":
        return await this.#cancelById(String(req.id ?? ""), req.resume === true);
      case "attach":
        return await this.#attach(typeof req.id === "string" ? req.id : undefined);
      default:
        return await this.#start(req);
    }
  }

  // ---- Starting: submit (or --here), follow, relay. ----

  async #start(req: Record<string, unknown>): Promise<number> {
    const args = Array.isArray(req.args) ? req.args.map(String) : [];
    const parsed = await this.#submitter.parse(args);
    const { detectScheduler } = await import("../scheduler/scheduler.ts");
    const here = req.here === true;
    if (here || (!parsed.given.has("scheduler") && !detectScheduler())) {
      if (!here) {
        this.#note(
          `No batch scheduler on ${Deno.hostname()} (none of sbatch, qsub, bsub on PATH): ` +
            "starting Jupyter on the login node itself.",
        );
      }
      return await this.#startHere(parsed);
    }
    const planned = await this.#submitter.plan(parsed);
    const state = await import("../state/servers.ts");
    const dir = await state.ensureStateDir(state.currentStateDir());
    const route = this.#routeFor(planned.scheduler);
    if (this.#interrupt.signal.aborted) return this.#endEarly();
    const sub = await planned.submit(dir);
    for (const w of sub.warnings) this.#note(w);
    this.#send({ type: "submitted", job: sub.id, log: sub.logPath ?? null });
    const { readJob } = await import("../scheduler/jobs_state.ts");
    const job = await readJob(dir, planned.scheduler, sub.id);
    if (!job) throw new Failure(`job ${sub.id} was submitted but its record cannot be read`);
    await this.#takeJob(job);
    const v = parsed.values;
    return await this.#followThenServe(job, route, {
      timeoutS: v.timeout as number | undefined,
      serverTimeoutS: (v["server-timeout"] as number | undefined) ?? 120,
      keep: v.keep as boolean,
    });
  }

  /** The session is about `job` from now on, and says so to the other sessions on it. */
  async #takeJob(job: JobRecord): Promise<void> {
    this.#subject = { kind: "job", job };
    const { Attached } = await import("./attached.ts");
    const state = await import("../state/servers.ts");
    this.#attached = await Attached.join(
      state.currentStateDir(),
      job.scheduler,
      job.id,
      this.#session,
    );
  }

  #routeFor(scheduler: SchedulerName): Route {
    if (this.#via) return this.#via === "ssh" ? "ssh" : "srun";
    if (scheduler === "slurm") return "srun";
    this.#note(
      `${scheduler.toUpperCase()} has no way to run a relay inside a job from the login node: ` +
        `the connection to the compute node goes over SSH from ${Deno.hostname()} (as the -J ` +
        "tunnel does), which needs SSH into compute nodes.",
    );
    return "ssh";
  }

  /** The laptop cancelled or left before the job had an id. */
  #endEarly(): number {
    if (this.#wanted === "cancel") {
      this.#send({ type: "cancelled", text: "Nothing was submitted." });
    }
    return this.#wanted === "cancel" ? 130 : 0;
  }

  /**
   * Follows the job until Jupyter is ready in it, then serves it; or says why not. A requeue
   * while serving comes back here: the job is followed again (without a time limit: the
   * session was already up) until its new server is ready, skipping the old run's entries.
   */
  async #followThenServe(
    job: JobRecord,
    route: Route,
    opts: { timeoutS?: number; serverTimeoutS: number; keep: boolean },
  ): Promise<number> {
    const exclude = new Set<string>();
    for (let timeoutS = opts.timeoutS;; timeoutS = undefined) {
      const { outcome, last } = await this.#follow(job, route, {
        timeoutS,
        serverTimeoutS: opts.serverTimeoutS,
        exclude,
      });
      switch (outcome.kind) {
        case "ready": {
          const served = await this.#serveJob(job, outcome.record, route, opts.keep, last);
          if (served.kind === "done") return served.code;
          exclude.add(outcome.record.id);
          await this.#requeued(job, served);
          continue;
        }
        case "ended":
          return await this.#endedBeforeReady(job, outcome.status);
        case "timeout":
          return await this.#gaveUp(job, last, { timeoutS, keep: opts.keep });
        default:
          return await this.#interrupted(last);
      }
    }
  }

  /** `followJob` with this session's sink: statuses to the laptop, the relay started early. */
  async #follow(
    job: JobRecord,
    route: Route,
    opts: { timeoutS?: number; serverTimeoutS: number; exclude: ReadonlySet<string> },
  ) {
    const { followJob } = await import("../job/follow.ts");
    const { schedulerFor } = await import("../scheduler/scheduler.ts");
    const { toWire } = this.#protocol;
    const state = await import("../state/servers.ts");
    return await followJob(
      { id: job.id, logPath: job.logPath },
      {
        scheduler: schedulerFor(job.scheduler),
        stateDir: state.currentStateDir(),
        timeoutS: opts.timeoutS,
        serverTimeoutS: opts.serverTimeoutS,
        interrupt: this.#interrupt.signal,
        program: "legate-jupyter",
        exclude: opts.exclude,
      },
      {
        status: (s) => {
          this.#send({ type: "status", status: toWire(s) });
          // The relay step starts while Jupyter does: its start-up is hidden behind Jupyter's.
          // Only in RUNNING: a step cannot be made while the job completes or is requeued.
          if (s.state === "RUNNING" && route === "srun" && isSingleHost(s.nodeList)) {
            this.#ensureLink(route, s.nodeList!, job.id);
          }
        },
        warn: (m) => this.#warn(m),
        note: (m) => this.#note(m),
        // Sooner still: the entry of a server being spawned names its node, a second before
        // the scheduler's next answer may.
        starting: (r) => {
          if (route === "srun" && !this.#interrupt.signal.aborted) {
            this.#ensureLink(route, r.host, job.id);
          }
        },
      },
    );
  }

  /** The job ended before its server was ready: its record goes, and why is said. */
  async #endedBeforeReady(job: JobRecord, status: JobStatus | undefined): Promise<never> {
    const state = await import("../state/servers.ts");
    const { removeJob } = await import("../scheduler/jobs_state.ts");
    await removeJob(state.currentStateDir(), job.scheduler, job.id);
    const { endedBeforeReady } = await import("../job/follow.ts");
    throw new Failure(await endedBeforeReady(job.id, status, job.logPath));
  }

  /** The job went back to the queue (or runs again): the laptop is told, the relay stopped. */
  async #requeued(job: JobRecord, r: Extract<Served, { kind: "requeued" }>): Promise<void> {
    this.#target = undefined;
    await this.#link?.stop();
    this.#link = undefined;
    const s = r.status;
    const why = s && !r.ranAgain
      ? ` (${s.state}${s.reason && s.reason !== "None" ? `, ${s.reason}` : ""})`
      : "";
    this.#send({
      type: "requeued",
      job: job.id,
      text: r.ranAgain
        ? `job ${job.id} was requeued and runs again; waiting for its new Jupyter`
        : `job ${job.id} was requeued${why}; waiting for it to run again`,
    });
  }

  /** `--timeout` passed before Jupyter was ready: the job is cancelled unless kept. */
  async #gaveUp(
    job: JobRecord,
    last: JobStatus | undefined,
    opts: { timeoutS?: number; keep: boolean },
  ): Promise<never> {
    const { describeJob } = await import("../scheduler/describe.ts");
    const where = last ? describeJob(last) : `job ${job.id}`;
    if (opts.keep) {
      throw new Failure(
        `gave up waiting after ${opts.timeoutS}s; ${where}; it was left ` +
          `${last?.phase === "running" ? "running" : "queued"} (--keep)`,
      );
    }
    await this.#cancelJob(job, true);
    throw new Failure(
      `gave up waiting after ${opts.timeoutS}s; ${where}; cancelled it (keep it with --keep)`,
    );
  }

  /**
   * The laptop asked to cancel or detach, or went away. A cancel keeps a job that another
   * session is attached to, and says so: Ctrl-C in one session never ends another's.
   */
  async #interrupted(last?: JobStatus): Promise<number> {
    await this.#link?.stop();
    const subject = this.#subject;
    if (this.#wanted === "cancel") {
      if (subject?.kind === "job") {
        if (await this.#keptForOthers(subject.job)) return 130;
        return await this.#cancelJob(subject.job, false);
      }
      if (subject?.kind === "server") return await this.#stopServer(subject.record);
      return this.#endEarly();
    }
    if (this.#wanted === "detach" && subject?.kind === "job") {
      const { describeJob } = await import("../scheduler/describe.ts");
      this.#send({
        type: "detached",
        text: last ? describeJob(last) : `job ${subject.job.id}`,
      });
    } else if (this.#wanted === "detach") this.#send({ type: "detached" });
    return 0;
  }

  /**
   * Whether other sessions are attached to `job`: then it is kept, and the laptop told why.
   * `session` is the one asking (a re-dialled session's new agent has no record of its own).
   */
  async #keptForOthers(job: JobRecord, session = this.#session): Promise<boolean> {
    const { attachedSessions } = await import("./attached.ts");
    const state = await import("../state/servers.ts");
    const others = await attachedSessions(state.currentStateDir(), job.scheduler, job.id, session)
      .catch(() => []);
    if (!others.length) return false;
    const hosts = [...new Set(others.map((o) => o.host))].join(", ");
    this.#send({
      type: "detached",
      job: job.id,
      kept: "others",
      text: `job ${job.id}: ${
        others.length === 1
          ? "another connect session is"
          : `${others.length} other connect sessions are`
      } attached to it (through ${hosts}), so it was not cancelled`,
    });
    return true;
  }

  // ---- Serving a ready server in a job. ----

  async #serveJob(
    job: JobRecord,
    record: ServerRecord,
    route: Route,
    keep: boolean,
    last: JobStatus | undefined,
  ): Promise<Served> {
    let link: RelayLink;
    try {
      link = await this.#linkTo(route, record.host, job.id);
    } catch (e) {
      // The job may have ended (or gone back to the queue) meanwhile: the scheduler says.
      const judged = await this.#judge(job, last?.startTime?.getTime());
      if (judged) return await this.#onVerdict(judged, job, record);
      // A session that cannot reach its server is no use: its job goes too, unless kept.
      if (keep || !(e instanceof Failure)) throw e;
      await this.#cancelJob(job, true);
      throw new Failure(`${e.message}; cancelled job ${job.id} (keep it with --keep)`);
    }
    this.#target = Promise.resolve({ kind: "relay", link, port: record.port });
    this.#sendReady(record, route, job.id, await link.isDirect());
    return await this.#watchJob(job, record, route, last?.startTime?.getTime());
  }

  /**
   * The scheduler's verdict on `job` when it is not the same run any more (ended, requeued,
   * winding down); undefined while it runs as before, or when the scheduler does not answer.
   */
  async #judge(job: JobRecord, runStart: number | undefined) {
    const status = await this.#askScheduler(job);
    if (status === null) return undefined;
    const { judgeJob } = await import("./verdict.ts");
    const v = judgeJob(status, runStart);
    return v.kind === "running" ? undefined : { verdict: v, status };
  }

  /** The scheduler's status of `job` (undefined: forgotten), or null when it did not answer. */
  async #askScheduler(job: JobRecord): Promise<JobStatus | undefined | null> {
    const { schedulerFor } = await import("../scheduler/scheduler.ts");
    try {
      return (await schedulerFor(job.scheduler).status([job.id])).get(job.id);
    } catch {
      return null; // A busy controller: ask again later.
    }
  }

  /** Acts on a verdict other than "running": the job's end, or back to following it. */
  async #onVerdict(
    judged: { verdict: import("./verdict.ts").JobVerdict; status?: JobStatus },
    job: JobRecord,
    record: ServerRecord,
  ): Promise<Served> {
    const { verdict, status } = judged;
    if (verdict.kind === "requeued") {
      return { kind: "requeued", status, ranAgain: verdict.ranAgain };
    }
    if (verdict.kind === "ended") {
      return { kind: "done", code: await this.#jobEnded(job, status, record) };
    }
    // Winding down: wait until the scheduler says how it ended.
    const { sleep } = await import("../scheduler/watch.ts");
    const { judgeJob } = await import("./verdict.ts");
    let last = status;
    for (let i = 0; i < 120 && !this.#interrupt.signal.aborted; i++) {
      await sleep(1000, this.#interrupt.signal);
      const again = await this.#askScheduler(job);
      if (again === null) continue;
      last = again;
      const v = judgeJob(again, undefined);
      // Running again after it was winding down: a new run (a requeue that ran at once).
      if (v.kind === "running") return { kind: "requeued", status: again, ranAgain: true };
      if (v.kind !== "settling") {
        return await this.#onVerdict({ verdict: v, status: again }, job, record);
      }
    }
    if (this.#interrupt.signal.aborted) return { kind: "done", code: await this.#interrupted() };
    return { kind: "done", code: await this.#jobEnded(job, last, record) };
  }

  /**
   * While the laptop is attached, the scheduler is asked every few seconds and whenever the
   * link drops, before anything else is done: the job may end (time limit, cancelled
   * elsewhere, its Jupyter killed), go back to the queue, or run out of time (the laptop is
   * warned once). Only in the same run is a relay that died started again, by its own route.
   */
  async #watchJob(
    job: JobRecord,
    record: ServerRecord,
    route: Route,
    runStart: number | undefined,
  ): Promise<Served> {
    const { sleep } = await import("../scheduler/watch.ts");
    const { judgeJob } = await import("./verdict.ts");
    let restarts = 0;
    let dropped = 0;
    while (!this.#interrupt.signal.aborted) {
      const current = this.#link!;
      const linkEnded = current.peer.then((p) => p.session.ended, (e) => e);
      const pause = dropped ? 1000 : WATCH_MS;
      const tick = sleep(pause, this.#interrupt.signal).then(() => "tick" as const);
      const what = dropped
        ? "link"
        : await Promise.race([linkEnded.then(() => "link" as const), tick]);
      if (dropped) await tick;
      if (this.#interrupt.signal.aborted) break;
      const status = await this.#askScheduler(job);
      if (status === null) continue;
      await this.#warnOfLimit(job, status);
      const verdict = judgeJob(status, runStart);
      if (verdict.kind !== "running") {
        return await this.#onVerdict({ verdict, status }, job, record);
      }
      // A step dies with its job: a drop is believed only once the scheduler has said, twice,
      // that the job still runs.
      if (what !== "link" || ++dropped < 2) continue;
      dropped = 0;
      if (++restarts > 5) throw new Failure(`the relay on ${record.host} keeps failing`);
      const r = await this.#restartLink(current, route, record, job, restarts, runStart);
      if (r) return r;
    }
    return { kind: "done", code: await this.#interrupted() };
  }

  #warnedLimit = false;

  /** Warns the laptop once that the job's time limit is near. */
  async #warnOfLimit(job: JobRecord, status: JobStatus | undefined): Promise<void> {
    const { endingSoon } = await import("../scheduler/describe.ts");
    if (this.#warnedLimit || !endingSoon(status)) return;
    this.#warnedLimit = true;
    const { humanDuration } = await import("../scheduler/time.ts");
    this.#warn(
      `job ${job.id} reaches its time limit in ${
        humanDuration(status!.timeLeft!)
      }: save your notebooks`,
    );
  }

  /**
   * The job ended under the session: its record goes, and the laptop is told why, in one line:
   * the scheduler's cause, or Jupyter's own exit status and the job's log.
   */
  async #jobEnded(
    job: JobRecord,
    status: JobStatus | undefined,
    record: ServerRecord,
  ): Promise<number> {
    await this.#link?.stop();
    const { removeJob } = await import("../scheduler/jobs_state.ts");
    const state = await import("../state/servers.ts");
    await removeJob(state.currentStateDir(), job.scheduler, job.id);
    const { describeEnd, jupyterExitFromLog } = await import("../scheduler/ending.ts");
    const text = describeEnd({
      id: job.id,
      status,
      node: record.host,
      logPath: job.logPath,
      jupyter: await jupyterExitFromLog(job.logPath),
    });
    this.#send({ type: "ended", job: job.id, text });
    return 1;
  }

  /**
   * The relay went away while the job runs the same run: another is started by the same
   * route (the browser reconnects). If that fails, the scheduler is asked again: a job that
   * ended or was requeued meanwhile is what the session goes on with.
   */
  async #restartLink(
    stopped: RelayLink,
    route: Route,
    record: ServerRecord,
    job: JobRecord,
    restarts: number,
    runStart: number | undefined,
  ): Promise<Served | undefined> {
    const { sleep } = await import("../scheduler/watch.ts");
    this.#warn(
      `the relay to ${record.host} stopped${
        stopped.stderrTail ? ` (${stopped.stderrTail.split("\n").pop()})` : ""
      }; starting it again`,
    );
    await sleep(Math.min(1000 * restarts, 5000), this.#interrupt.signal);
    this.#link = undefined;
    try {
      const next = await this.#linkTo(route, record.host, job.id);
      this.#target = Promise.resolve({ kind: "relay", link: next, port: record.port });
      return undefined;
    } catch (e) {
      const judged = await this.#judge(job, runStart);
      if (judged) return await this.#onVerdict(judged, job, record);
      throw e;
    }
  }

  #sendReady(
    record: ServerRecord,
    route: ReadyMessage["route"],
    job?: string,
    direct = false,
  ): void {
    const ready: ReadyMessage = {
      type: "ready",
      job,
      server: record.id,
      app: record.app,
      version: record.version,
      node: record.host,
      port: record.port,
      token: record.token,
      basePath: new URL(record.baseUrl).pathname,
      notebookDir: record.notebookDir,
      kernel: record.kernel,
      route,
      direct,
      login: Deno.hostname(),
    };
    this.#send({ ...ready });
  }

  /** Starts the relay on `node` unless one runs (or is starting) there already. */
  #ensureLink(route: Route, node: string, jobId: string): RelayLink {
    if (this.#link?.usable && sameNode(this.#link.node, node)) return this.#link;
    this.#link?.stop();
    const { RelayLink } = this.#linkModule;
    this.#link = new RelayLink(
      route,
      node,
      jobId,
      this.#self,
      this.#version,
      // Not shown as it comes: a step's own words when its job ends or is requeued would
      // only bury the cause, which the scheduler gives; a relay that fails says them.
      () => {},
      this.#via !== "srun-stdio",
    );
    return this.#link;
  }

  /**
   * A relay on `node` that has said hello, by `route` alone: SSH into the node only where the
   * route was chosen to be SSH (PBS, LSF, `--via ssh`), never as a fallback.
   */
  async #linkTo(route: Route, node: string, jobId: string): Promise<RelayLink> {
    const link = this.#ensureLink(route, node, jobId);
    try {
      await link.peer;
      return link;
    } catch (e) {
      this.#link = undefined;
      const hint = route === "srun" && !this.#via
        ? "; where your site lets you SSH into compute nodes, --via ssh reaches the node that way"
        : "";
      throw new Failure(
        `cannot reach ${node} from ${Deno.hostname()}: ${(e as Error).message}${hint}`,
      );
    }
  }

  /** A browser connection from the laptop: on to Jupyter. */
  async #onStream(s: MuxStream): Promise<void> {
    if (!this.#target) return s.reset("the server is not ready yet");
    let t: Target;
    try {
      t = await this.#target;
    } catch (e) {
      return s.reset(`Jupyter cannot be reached: ${(e as Error).message}`);
    }
    const to = `127.0.0.1:${t.port}`;
    if (t.kind === "direct") {
      const { bridgeConn } = await import("../relay/bridge.ts");
      let conn: Deno.TcpConn;
      try {
        conn = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
        conn.setNoDelay(true);
      } catch (e) {
        return s.reset(`cannot connect to ${to}: ${(e as Error).message}`);
      }
      await bridgeConn(conn, s);
      return;
    }
    let peer: Peer;
    try {
      peer = await t.link.streams();
    } catch (e) {
      return s.reset(`the relay is down: ${(e as Error).message}`);
    }
    const { bridgeStreams } = await import("../relay/bridge.ts");
    let up: MuxStream;
    try {
      up = peer.session.open(to);
    } catch (e) {
      return s.reset(`the relay is down: ${(e as Error).message}`);
    }
    await bridgeStreams(s, up);
  }

  // ---- --here: Jupyter on the login node, detached from the SSH session. ----

  async #startHere(parsed: Parsed): Promise<number> {
    const here = await import("./here.ts");
    const { child, dir, log } = await here.spawnServerHere(this.#self, parsed);
    this.#send({ type: "status-text", text: `Starting Jupyter on ${Deno.hostname()}...` });
    const stop = new AbortController();
    const exited = child.status.then((s) => {
      stop.abort();
      return s;
    });
    const onInterrupt = () => stop.abort();
    this.#interrupt.signal.addEventListener("abort", onInterrupt, { once: true });
    const state = await import("../state/servers.ts");
    const record = await state.waitForServer(dir, (r) => r.supervisorPid === child.pid, {
      intervalMs: 100,
      signal: stop.signal,
    });
    this.#interrupt.signal.removeEventListener("abort", onInterrupt);
    if (record) {
      this.#subject = { kind: "server", record };
      return await this.#serveHere(record);
    }
    if (this.#interrupt.signal.aborted) return await this.#interruptedStartingHere(dir, child);
    throw await here.hereFailure((await exited).code, log);
  }

  /** Cancelled while the server started: it is stopped if it came up meanwhile, else killed. */
  async #interruptedStartingHere(dir: string, child: Deno.ChildProcess): Promise<number> {
    const state = await import("../state/servers.ts");
    const late = (await state.readServers(dir)).find((s) => s.record.supervisorPid === child.pid);
    if (late) this.#subject = { kind: "server", record: late.record };
    else {
      try {
        Deno.kill(child.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
    }
    return await this.#interrupted();
  }

  async #serveHere(record: ServerRecord): Promise<number> {
    this.#target = Promise.resolve({ kind: "direct", port: record.port });
    this.#sendReady(record, "here");
    const { pidAlive } = await import("../os/proc.ts");
    const { sleep } = await import("../scheduler/watch.ts");
    while (!this.#interrupt.signal.aborted) {
      await sleep(WATCH_MS, this.#interrupt.signal);
      if (this.#interrupt.signal.aborted) break;
      if (!(await pidAlive(record.pid, record.pidStart))) {
        this.#send({
          type: "ended",
          text: `the server ${record.id} on ${record.host} has stopped`,
        });
        return 1;
      }
    }
    return await this.#interrupted();
  }

  async #stopServer(record: ServerRecord): Promise<number> {
    this.#note(`Stopping the server ${record.id} on ${record.host} and its kernels...`);
    const r = await this.#runSelf(["stop", record.id]);
    if (r.code !== 0) throw new Failure(r.stderr.trim() || `stop ${record.id} failed`);
    this.#send({ type: "cancelled", text: r.stdout.trim() || `Stopped ${record.id}` });
    return 130;
  }

  // ---- Attach, cancel. ----

  async #attach(id: string | undefined): Promise<number> {
    const { jobLines, chooseForAttach } = await import("./listing.ts");
    const chosen = chooseForAttach(await jobLines(), id, Deno.hostname());
    const state = await import("../state/servers.ts");
    const dir = state.currentStateDir();
    if (chosen.kind === "server") {
      const rec = (await state.readServers(dir)).find((s) => s.record.id === chosen.id);
      if (!rec) throw new Failure(`the server ${chosen.id} has stopped`);
      this.#subject = { kind: "server", record: rec.record };
      return await this.#serveHere(rec.record);
    }
    const { readJobs } = await import("../scheduler/jobs_state.ts");
    const job = (await readJobs(dir)).find((j) => j.id === chosen.id)!;
    await this.#takeJob(job);
    return await this.#followThenServe(job, this.#routeFor(job.scheduler), {
      serverTimeoutS: 120,
      keep: true,
    });
  }

  /**
   * `connect --cancel ID`, or a Ctrl-C that needed a re-dial (`resume`: a job already gone is
   * then what was wanted, not an error).
   */
  async #cancelById(id: string, resume: boolean): Promise<number> {
    const { jobLines, findLine } = await import("./listing.ts");
    const lines = await jobLines();
    if (resume && !lines.some((l) => l.id === id)) {
      this.#send({ type: "cancelled", job: id, text: `${id} has already ended` });
      return 0;
    }
    const line = findLine(lines, id);
    if (line?.kind === "server") {
      const state = await import("../state/servers.ts");
      const rec = await state.readServer(state.currentStateDir(), line.id);
      if (!rec) throw new Failure(`the server ${line.id} has stopped`);
      return await this.#stopServer(rec.record);
    }
    if (resume) {
      const state = await import("../state/servers.ts");
      const { readJobs } = await import("../scheduler/jobs_state.ts");
      const job = (await readJobs(state.currentStateDir())).find((j) => j.id === id);
      if (job && await this.#keptForOthers(job)) return 130;
    }
    const r = await this.#runSelf(["cancel", id]);
    if (r.code !== 0) {
      throw new Failure(r.stderr.trim().replace(/^legate-jupyter: error: /, ""), {
        exitCode: r.code,
      });
    }
    this.#send({ type: "cancelled", job: id, text: r.stdout.trim() });
    return 0;
  }

  /** Cancels the session's job and waits until it has ended (what `cancel` does). */
  async #cancelJob(job: JobRecord, quiet: boolean): Promise<number> {
    await this.#link?.stop();
    if (!quiet) this.#note(`Cancelling job ${job.id} and waiting for it to end...`);
    const r = await this.#runSelf(["cancel", job.id]);
    if (r.code !== 0) {
      throw new Failure(r.stderr.trim().replace(/^legate-jupyter: error: /, ""), {
        exitCode: r.code,
      });
    }
    if (!quiet) this.#send({ type: "cancelled", job: job.id, text: r.stdout.trim() });
    return 130;
  }

  /** Runs this program with `args` (its output captured: stdout here carries frames). */
  async #runSelf(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out = await new Deno.Command(this.#self[0], {
      args: [...this.#self.slice(1), ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  }
}

function isSingleHost(nodeList: string | undefined): boolean {
  return !!nodeList && /^[A-Za-z0-9._-]+$/.test(nodeList);
}

function sameNode(a: string, b: string): boolean {
  return a.toLowerCase().split(".")[0] === b.toLowerCase().split(".")[0];
}
