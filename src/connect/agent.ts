/**
 * The login node's side of `connect` (the hidden `agent` command). The laptop starts it
 * through its one SSH connection, in a login shell, and speaks connect's framed protocol with
 * it on stdin/stdout. It submits and follows the job exactly as `submit` does (same code),
 * sends what it sees to the laptop, then starts one relay inside the job (an `srun --overlap`
 * step) and carries every browser connection to Jupyter through it. It cancels the job when
 * asked, and leaves it running when the laptop goes away. No port is opened on the login
 * node, and no SSH connection is made to the compute node unless the scheduler offers no
 * step (PBS, LSF) or `--via ssh` asks for it.
 *
 * Phases of a start: plan and submit, follow the job (the relay starts as Jupyter does),
 * serve (ready, then watch the job and the relay), end (cancel, detach, or the job's end).
 * `--here` starts Jupyter on the login node instead, detached from the SSH session.
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
    this.#subject = { kind: "job", job };
    const v = parsed.values;
    return await this.#followThenServe(job, route, {
      timeoutS: v.timeout as number | undefined,
      serverTimeoutS: (v["server-timeout"] as number | undefined) ?? 120,
      keep: v.keep as boolean,
    });
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

  /** Follows the job until Jupyter is ready in it, then serves it; or says why not. */
  async #followThenServe(
    job: JobRecord,
    route: Route,
    opts: { timeoutS?: number; serverTimeoutS: number; keep: boolean },
  ): Promise<number> {
    const { followJob } = await import("../job/follow.ts");
    const { schedulerFor } = await import("../scheduler/scheduler.ts");
    const { toWire } = this.#protocol;
    const state = await import("../state/servers.ts");
    const { outcome, last } = await followJob(
      {
        id: job.id,
        submittedAt: new Date(job.submittedAt),
        logPath: job.logPath,
      },
      {
        scheduler: schedulerFor(job.scheduler),
        stateDir: state.currentStateDir(),
        timeoutS: opts.timeoutS,
        serverTimeoutS: opts.serverTimeoutS,
        interrupt: this.#interrupt.signal,
        program: "legate-jupyter",
      },
      {
        status: (s) => {
          this.#send({ type: "status", status: toWire(s) });
          // The relay step starts while Jupyter does: its start-up is hidden behind Jupyter's.
          if (s.phase === "running" && route === "srun" && isSingleHost(s.nodeList)) {
            this.#ensureLink(route, s.nodeList!, job.id);
          }
        },
        warn: (m) => this.#warn(m),
        note: (m) => this.#note(m),
      },
    );
    switch (outcome.kind) {
      case "ready":
        return await this.#serveJob(job, outcome.record, route, opts.keep);
      case "ended": {
        const { removeJob } = await import("../scheduler/jobs_state.ts");
        await removeJob(state.currentStateDir(), job.scheduler, job.id);
        const { endedBeforeReady } = await import("../job/follow.ts");
        throw new Failure(await endedBeforeReady(job.id, outcome.status, job.logPath));
      }
      case "timeout":
        return await this.#gaveUp(job, last, opts);
      default:
        return await this.#interrupted(last);
    }
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

  /** The laptop asked to cancel or detach, or went away. */
  async #interrupted(last?: JobStatus): Promise<number> {
    await this.#link?.stop();
    if (this.#wanted === "cancel") {
      if (this.#subject?.kind === "job") return await this.#cancelJob(this.#subject.job, false);
      if (this.#subject?.kind === "server") return await this.#stopServer(this.#subject.record);
      return this.#endEarly();
    }
    if (this.#wanted === "detach" && this.#subject?.kind === "job") {
      const { describeJob } = await import("../scheduler/describe.ts");
      this.#send({
        type: "detached",
        text: last ? describeJob(last) : `job ${this.#subject.job.id}`,
      });
    } else if (this.#wanted === "detach") this.#send({ type: "detached" });
    return 0;
  }

  // ---- Serving a ready server in a job. ----

  async #serveJob(
    job: JobRecord,
    record: ServerRecord,
    route: Route,
    keep: boolean,
  ): Promise<number> {
    let link: RelayLink;
    try {
      link = await this.#linkTo(route, record.host, job.id);
    } catch (e) {
      // A session that cannot reach its server is no use: its job goes too, unless kept.
      if (keep || !(e instanceof Failure)) throw e;
      await this.#cancelJob(job, true);
      throw new Failure(`${e.message}; cancelled job ${job.id} (keep it with --keep)`);
    }
    this.#target = Promise.resolve({ kind: "relay", link, port: record.port });
    this.#sendReady(record, route, job.id, await link.isDirect());
    return await this.#watchJob(job, record, route);
  }

  /**
   * While the laptop is attached: the job may end (time limit, cancelled elsewhere), its time
   * may run out (the laptop is warned once), the relay may die (it is started again).
   */
  async #watchJob(job: JobRecord, record: ServerRecord, route: Route): Promise<number> {
    const { schedulerFor } = await import("../scheduler/scheduler.ts");
    const { sleep } = await import("../scheduler/watch.ts");
    const { endingSoon } = await import("../scheduler/describe.ts");
    const sched = schedulerFor(job.scheduler);
    let restarts = 0;
    let warnedLimit = false;
    while (!this.#interrupt.signal.aborted) {
      const current = this.#link!;
      const linkEnded = current.peer.then((p) => p.session.ended, (e) => e);
      const tick = sleep(WATCH_MS, this.#interrupt.signal).then(() => "tick" as const);
      const what = await Promise.race([linkEnded.then(() => "link" as const), tick]);
      if (this.#interrupt.signal.aborted) break;
      let status: JobStatus | undefined;
      try {
        status = (await sched.status([job.id])).get(job.id);
      } catch {
        continue; // A busy controller: ask again at the next tick.
      }
      if (!warnedLimit && endingSoon(status)) {
        warnedLimit = true;
        const { humanDuration } = await import("../scheduler/time.ts");
        this.#warn(
          `job ${job.id} reaches its time limit in ${
            humanDuration(status!.timeLeft!)
          }: save your notebooks`,
        );
      }
      if (!status || status.phase === "ended") return await this.#jobEnded(job, status);
      if (what === "link") {
        if (++restarts > 5) throw new Failure(`the relay on ${record.host} keeps failing`);
        await this.#restartLink(current, route, record, job.id, restarts);
      }
    }
    return await this.#interrupted();
  }

  /** The job ended under the session: its record goes, and the laptop is told. */
  async #jobEnded(job: JobRecord, status: JobStatus | undefined): Promise<number> {
    await this.#link?.stop();
    const { removeJob } = await import("../scheduler/jobs_state.ts");
    const state = await import("../state/servers.ts");
    await removeJob(state.currentStateDir(), job.scheduler, job.id);
    this.#send({
      type: "ended",
      job: job.id,
      text: `job ${job.id} ended${
        status ? ` ${status.state}${status.reason ? ` (${status.reason})` : ""}` : ""
      }`,
    });
    return 1;
  }

  /** The relay went away while the job runs: another is started (the browser reconnects). */
  async #restartLink(
    stopped: RelayLink,
    route: Route,
    record: ServerRecord,
    jobId: string,
    restarts: number,
  ): Promise<void> {
    const { sleep } = await import("../scheduler/watch.ts");
    this.#warn(
      `the relay to ${record.host} stopped${
        stopped.stderrTail ? ` (${stopped.stderrTail.split("\n").pop()})` : ""
      }; starting it again`,
    );
    await sleep(Math.min(1000 * restarts, 5000), this.#interrupt.signal);
    this.#link = undefined;
    const next = await this.#linkTo(route, record.host, jobId);
    this.#target = Promise.resolve({ kind: "relay", link: next, port: record.port });
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

  /** Starts the relay on `node` unless one runs there already. */
  #ensureLink(route: Route, node: string, jobId: string): RelayLink {
    if (this.#link && sameNode(this.#link.node, node)) return this.#link;
    this.#link?.stop();
    const { RelayLink } = this.#linkModule;
    this.#link = new RelayLink(
      route,
      node,
      jobId,
      this.#self,
      this.#version,
      (line) => this.#warn(line),
      this.#via !== "srun-stdio",
    );
    return this.#link;
  }

  /**
   * A relay on `node` that has said hello. When srun cannot make the step (an old Slurm,
   * a site that forbids it), SSH from here to the node is tried, and the user is told.
   */
  async #linkTo(route: Route, node: string, jobId: string): Promise<RelayLink> {
    let link = this.#ensureLink(route, node, jobId);
    try {
      await link.peer;
      return link;
    } catch (e) {
      if (route !== "srun" || this.#via === "srun" || this.#via === "srun-stdio") {
        throw new Failure(`cannot reach ${node} from ${Deno.hostname()}: ${(e as Error).message}`);
      }
      this.#warn(
        `srun could not start a relay inside job ${jobId} (${(e as Error).message}); ` +
          `trying SSH from ${Deno.hostname()} to ${node} instead`,
      );
      this.#link = undefined;
      link = this.#ensureLink("ssh", node, jobId);
      try {
        await link.peer;
        return link;
      } catch (e2) {
        throw new Failure(
          `cannot reach ${node} from ${Deno.hostname()}: neither srun nor ssh could start the ` +
            `relay (${(e2 as Error).message})`,
        );
      }
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
    this.#subject = { kind: "job", job };
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
