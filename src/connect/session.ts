/**
 * The laptop's side of `connect`: one session from the first dial to the end. It checks what
 * it can here first (ssh's configuration, `--local-port`, the browser), then opens one SSH
 * connection with the system's `ssh` (one authentication), starts the hidden `agent` on the
 * login node in a login shell, and asks it to submit the job (with `submit`'s options), follow
 * it, and relay to Jupyter through a step inside the job. Progress shows here as `submit` shows
 * it there. Once the server answers through the tunnel, the URL on a local port is printed
 * (once, nowhere on disk) and a browser opened. Ctrl-C cancels the job this session started and
 * waits until it has ended, unless another session is attached to it (`--keep` keeps it, and a
 * session that attached keeps it too); a dropped connection is dialled again with backoff while
 * the local port stays up, and the job runs on meanwhile. A requeued job is waited for, and its
 * new server's URL printed.
 *
 * What the login node sends is checked before it is used or printed (`untrusted.ts`).
 *
 * Phases: check, dial, ask, follow the events (ready, requeued, lost, Ctrl-C), leave.
 * @module
 */

import { Failure } from "../util/errors.ts";
import { STOP_SIGNALS } from "../util/signals.ts";
import { openWith } from "../util/browser.ts";
import { shQuote } from "../util/shell.ts";
import { dialSsh, LocalListener, masterRunning, probe, sshConfigText } from "../relay/laptop.ts";
import type { SshDial } from "../relay/laptop.ts";
import { agentLine, parseSshConfig, sharesConnections, sshArgv } from "../relay/ssh.ts";
import type { Peer } from "../relay/pipes.ts";
import type { MuxSession } from "../relay/mux.ts";
import { fromWire, type ReadyMessage, type WireStatus } from "../relay/protocol.ts";
import { describeJob } from "../scheduler/describe.ts";
import { humanDuration } from "../scheduler/time.ts";
import { VERSION } from "../version.ts";
import { type DialProblem, dialProblem } from "./dial.ts";
import { jobsTable, readyBlock, readyEvent } from "./render.ts";
import { checkBrowser, checkPlatform, checkSshConfig } from "./preflight.ts";
import {
  checkJobLines,
  checkReady,
  checkStatus,
  MAX_TEXT,
  remoteExitCode,
  remoteJobId,
  RemoteProtocolError,
  remoteText,
  TextBudget,
} from "./untrusted.ts";

/** What `connect` does: start a server, come back to one, list them, or cancel one. */
export type Mode = "start" | "attach" | "jobs" | "cancel";

/** What the user asked for, checked before anything is dialled. */
export interface Request {
  /** `[USER@]LOGIN`, as ssh takes it. */
  readonly destination: string;
  readonly mode: Mode;
  /** The job or server `--attach` or `--cancel` names. */
  readonly id?: string;
  /** The `start`, `attach`, `jobs` or `cancel` message for the agent. */
  readonly message: Record<string, unknown>;
  /** `--keep`: the job outlives the session. */
  readonly keep: boolean;
  /** `--json`: the ready event as one JSON line. */
  readonly json: boolean;
  /** Not `--no-browser`. */
  readonly openBrowser: boolean;
  /** `--local-port`. */
  readonly localPort?: number;
  /** `--remote-command`. */
  readonly remoteCommand?: string;
  /** `--remote-timeout`: seconds the login node's side has to answer after the login. */
  readonly remoteTimeoutS: number;
  /** `--via`, passed on to the agent when it attaches again. */
  readonly via?: string;
  /** `-o` options for ssh. */
  readonly sshOptions: readonly string[];
}

/** Where the session speaks (the command's `Output`). */
export interface SessionOutput {
  print(text?: string): void;
  info(text: string): void;
  warn(message: string): void;
  note(message: string): void;
  progress(message: string): void;
  clearProgress(): void;
}

/**
 * Runs one `connect` session and returns its exit code. `program` is this program as the
 * user types it, for the commands the session prints.
 */
export async function runSession(
  request: Request,
  out: SessionOutput,
  program: string,
): Promise<number> {
  return await new ConnectSession(request, neverThrowing(out), program).run();
}

/**
 * `out`, with every write that fails ignored: after a closed terminal (SIGHUP) writes fail,
 * and the session must still get its cancel to the login node.
 */
function neverThrowing(out: SessionOutput): SessionOutput {
  const guard = <A extends unknown[]>(f: (...a: A) => void) => (...a: A) => {
    try {
      f(...a);
    } catch { /* the terminal is gone */ }
  };
  return {
    print: guard((text?: string) => out.print(text)),
    info: guard((text: string) => out.info(text)),
    warn: guard((message: string) => out.warn(message)),
    note: guard((message: string) => out.note(message)),
    progress: guard((message: string) => out.progress(message)),
    clearProgress: guard(() => out.clearProgress()),
  };
}

/** A deferred promise. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Thrown to leave with an exit code after the message was already printed. */
class Exit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

/** What happened next: an answer from the agent, a lost connection, or a first Ctrl-C. */
type SessionEvent =
  | { kind: "message"; message: Record<string, unknown> }
  | { kind: "lost"; why: string }
  | { kind: "signal" };

/** The answers that move the session on (progress is handled as it comes). */
const ANSWERS = ["ready", "error", "ended", "cancelled", "detached", "jobs"];

class ConnectSession {
  readonly #req: Request;
  readonly #out: SessionOutput;
  readonly #program: string;
  /** This session's id, the same across re-dials: the agents count sessions by it. */
  readonly #id = crypto.randomUUID();
  readonly #budget = new TextBudget();
  #dial: SshDial | undefined;
  #peer: Peer | undefined;
  #listener: LocalListener | undefined;
  /** The browsers that can open the URL here (checked before anything starts). */
  #browsers: string[][] = [];
  /** The session Jupyter can be reached through (pending while re-dialling or requeued). */
  #reachable = deferred<MuxSession | undefined>();
  #ready: ReadyMessage | undefined;
  /** The server whose URL was printed. */
  #shownServer: string | undefined;
  #job: string | undefined;
  #server: string | undefined;
  #shares = false;
  #sshConfig: ReadonlyMap<string, string> = new Map();
  /** Ctrl-C (or SIGTERM, SIGHUP): the first asks to cancel or detach, a second leaves. */
  #signals = 0;
  #signalled = deferred<void>();
  /** The session is ending as asked, or the agent said how it ended. */
  #ending = false;
  /** What the login node sent that the protocol does not allow, once it did. */
  #violation: string | undefined;
  #pending:
    | { peer: Peer; message: Promise<Extract<SessionEvent, { kind: "message" }> | undefined> }
    | undefined;

  constructor(req: Request, out: SessionOutput, program: string) {
    this.#req = req;
    this.#out = out;
    this.#program = program;
  }

  get #login(): string {
    return this.#req.destination;
  }

  /** What the session is about, for the messages that name it (`job 42`, `server ab12`). */
  get #subject(): string {
    return this.#job ? `job ${this.#job}` : this.#server ? `server ${this.#server}` : "";
  }

  /**
   * Ctrl-C keeps the job: `--keep`, or a session that attached to a job it did not start (a
   * `--here` server attached to is stopped, as before: no other session shares it).
   */
  get #keeps(): boolean {
    return this.#req.keep || (this.#req.mode === "attach" && !this.#server);
  }

  /** `PROGRAM connect LOGIN ARGS...`, quoted for a shell. */
  #command(...args: string[]): string {
    return [this.#program, "connect", shQuote(this.#login), ...args.map(shQuote)].join(" ");
  }

  async run(): Promise<number> {
    const onSignal = () => {
      this.#signals++;
      if (this.#signals === 1) this.#signalled.resolve();
      // A second one leaves at once, from here: nothing may be waited for any more.
      else this.#leaveNow();
    };
    for (const s of STOP_SIGNALS) Deno.addSignalListener(s, onSignal);
    try {
      await this.#preflight();
      const peer = await this.#firstDial();
      peer.session.control({ ...this.#req.message, session: this.#id });
      return await this.#events(peer);
    } catch (e) {
      if (e instanceof Exit) return e.code;
      throw await this.#afterFailure(this.#asFailure(e));
    } finally {
      for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, onSignal);
      await this.#close();
    }
  }

  /** Follows the agent's answers, lost connections and Ctrl-C until the session is over. */
  async #events(first: Peer): Promise<number> {
    let peer = first;
    for (;;) {
      const next = await this.#nextEvent(peer);
      if (next.kind === "message") {
        const code = await this.#onMessage(next.message);
        if (code !== undefined) return code;
      } else if (next.kind === "lost") {
        if (this.#violation !== undefined || /^protocol error/.test(next.why)) {
          throw new RemoteProtocolError(this.#violation ?? next.why);
        }
        if (this.#req.mode === "jobs" || this.#req.mode === "cancel") {
          throw new Failure(`lost the connection to ${this.#login}: ${next.why}`);
        }
        peer = await this.#redial(next.why);
      } else {
        this.#onFirstSignal(peer);
      }
    }
  }

  /** Always, last: nothing of the session is left running here. */
  async #close(): Promise<void> {
    this.#stopTicker();
    this.#reachable.resolve(undefined);
    this.#listener?.close();
    this.#out.clearProgress();
    if (this.#peer && !this.#peer.session.isEnded) {
      await Promise.race([this.#peer.session.flush(), new Promise((r) => setTimeout(r, 1000))]);
      this.#peer.session.close("done");
    }
    await this.#dial?.kill();
  }

  // ---- Before anything is asked of the login node. ----

  /**
   * Everything the laptop can check, checked before a job is submitted: ssh and its
   * configuration for the login node, `--local-port` (held from now on), the browser.
   */
  async #preflight(): Promise<void> {
    checkPlatform();
    const options = this.#req.sshOptions;
    this.#sshConfig = await checkSshConfig(this.#login, options);
    this.#shares = sharesConnections(this.#sshConfig) && await masterRunning(this.#login, options);
    if (this.#req.mode !== "start" && this.#req.mode !== "attach") return;
    const given = this.#req.localPort;
    if (given !== undefined) {
      try {
        this.#listener = LocalListener.listen(given, true, () => this.#reachable.promise);
      } catch (e) {
        throw new Failure(
          `port ${given} on this machine: ${(e as Error).message}; choose another with ` +
            "--local-port, or leave it out",
        );
      }
    }
    if (this.#req.openBrowser) {
      this.#browsers = checkBrowser(Deno.env.toObject());
      if (!this.#browsers.length) {
        this.#out.note(
          "No browser to open here (no $BROWSER, and no display with xdg-open): the URL " +
            "will be printed (--no-browser says so).",
        );
      }
    }
  }

  /**
   * A failure after the job was submitted: the job is cancelled unless kept, and the message
   * says which job and what became of it.
   */
  async #afterFailure(e: Failure): Promise<Failure> {
    const job = this.#job;
    if (!job || this.#req.mode !== "start" || this.#ending) return e;
    const with_ = (text: string) => new Failure(`${e.message}; ${text}`, { exitCode: e.exitCode });
    if (this.#req.keep) {
      return with_(
        `job ${job} was kept (--keep): come back with: ${this.#command("--attach", job)}`,
      );
    }
    const peer = this.#peer;
    const left = `job ${job} may still run on ${this.#login}: cancel it with: ` +
      this.#command("--cancel", job);
    if (!peer || peer.session.isEnded || this.#violation !== undefined) return with_(left);
    peer.session.control({ type: "cancel", session: this.#id });
    const answer = await Promise.race([
      peer.inbox.next(["cancelled", "detached", "error", "ended"]).catch(() => undefined),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 90_000)),
    ]);
    if (answer?.type === "cancelled" || answer?.type === "ended") {
      return with_(`cancelled job ${job} (keep it with --keep)`);
    }
    if (answer?.type === "detached") {
      return with_(`job ${job} was kept: ${remoteText(answer.text)}`);
    }
    return with_(left);
  }

  /** Any error as the failure the user is told of (protocol errors named as such). */
  #asFailure(e: unknown): Failure {
    if (e instanceof Failure) return e;
    if (e instanceof RemoteProtocolError) {
      this.#violation ??= e.message;
      return new Failure(
        `${this.#login} sent what connect's protocol does not allow: ${e.message}; what runs ` +
          "there is not a legate-jupyter agent as it should be",
      );
    }
    throw e;
  }

  // ---- Dialling. ----

  /** ssh's view of the login node again (tolerant: it was checked before the first dial). */
  async #readSshConfig(): Promise<void> {
    const options = this.#req.sshOptions;
    const r = await sshConfigText(this.#login, options);
    if (r.ok) this.#sshConfig = parseSshConfig(r.text);
    this.#shares = sharesConnections(this.#sshConfig) &&
      await masterRunning(this.#login, options);
  }

  /** What the remote wrote on ssh's stderr, shown filtered and within the budget. */
  #passStderr(text: string): void {
    if (!this.#budget.take((n) => this.#dropped(n))) return;
    this.#out.clearProgress();
    try {
      Deno.stderr.writeSync(new TextEncoder().encode(remoteText(text, 4000, true)));
    } catch { /* the terminal is gone */ }
  }

  #dropped(count: number): void {
    this.#out.warn(
      `${count} more messages from ${this.#login} were not shown (too many, too fast)`,
    );
  }

  /** One dial: the ssh process, the marker, the hello; `abortable`: Ctrl-C stops it. */
  async #dialOnce(
    abortable: boolean,
  ): Promise<{ ok: true; peer: Peer } | ({ ok: false } & DialProblem)> {
    const dial = dialSsh({
      argv: sshArgv({
        destination: this.#login,
        userOptions: this.#req.sshOptions,
        config: this.#sshConfig,
      }),
      line: agentLine(this.#req.remoteCommand),
      detach: this.#shares,
      version: VERSION,
      passStderr: (text) => this.#passStderr(text),
      remoteTimeoutMs: this.#req.remoteTimeoutS * 1000,
    });
    this.#dial = dial;
    const r = await Promise.race([
      dial.result,
      ...(abortable ? [this.#signalled.promise.then(() => undefined)] : []),
    ]);
    if (r === undefined) {
      await dial.kill();
      return { ok: false, transient: false, message: "interrupted" };
    }
    if (r.kind === "up") {
      this.#peer = r.peer;
      r.peer.inbox.listener = (m) => this.#onProgress(m);
      return { ok: true, peer: r.peer };
    }
    if (r.kind === "timeout") await dial.kill();
    const status = await Promise.race([
      dial.child.status,
      new Promise<undefined>((res) => setTimeout(() => res(undefined), 5000)),
    ]);
    await dial.kill();
    return {
      ok: false,
      ...dialProblem({
        login: this.#login,
        version: VERSION,
        remote: this.#req.remoteCommand,
        result: r,
        code: status?.code,
        stderr: dial.stderr(),
        timeoutS: this.#req.remoteTimeoutS,
      }),
    };
  }

  async #firstDial(): Promise<Peer> {
    this.#out.progress(`Connecting to ${this.#login}...`);
    // Ctrl-C while ssh connects (or asks for a code): nothing was asked yet, so just stop.
    const r = await this.#dialOnce(true);
    this.#out.clearProgress();
    if (r.ok) return r.peer;
    if (r.message === "interrupted") throw new Exit(130);
    throw new Failure(r.message);
  }

  /**
   * Dials again after the connection was lost, with backoff, until it is back or the user
   * gives up; then asks the new agent to attach to the same job (or, after Ctrl-C, to cancel it).
   */
  async #redial(why: string): Promise<Peer> {
    this.#reachable = deferred<MuxSession | undefined>();
    this.#dial?.quiet();
    await this.#dial?.kill();
    const what = this.#subject;
    this.#out.warn(
      `lost the connection to ${this.#login} (${why})${what ? `; ${what} keeps running` : ""}` +
        "; reconnecting",
    );
    // A shared connection that is still up makes this dial cost no authentication.
    await this.#readSshConfig();
    for (let attempt = 1;; attempt++) {
      if (this.#signals > 0 && (this.#keeps || !what)) {
        this.#out.clearProgress();
        this.#comeBackHint();
        throw new Exit(130);
      }
      this.#out.progress(`Reconnecting to ${this.#login} (attempt ${attempt})...`);
      // Ctrl-C meanwhile: when the job is kept, stop dialling; else the dial goes on, to cancel.
      const r = await this.#dialOnce(this.#keeps);
      if (r.ok) {
        this.#out.clearProgress();
        this.#resume(r.peer, what);
        return r.peer;
      }
      if (r.message === "interrupted") continue; // Kept and Ctrl-C: left at the loop's top.
      if (!r.transient) throw new Failure(r.message);
      await this.#backOff(attempt, what);
    }
  }

  /** Back on a new connection: attach to the same job, or cancel it after a Ctrl-C. */
  #resume(peer: Peer, what: string): void {
    const id = this.#job ?? this.#server;
    if (this.#signals > 0 && !this.#keeps && id) {
      this.#ending = true;
      this.#out.note(`Reconnected to ${this.#login}; cancelling ${what}...`);
      peer.session.control({ type: "cancel", id, resume: true, session: this.#id });
    } else {
      peer.session.control({ type: "attach", id, via: this.#req.via, session: this.#id });
    }
  }

  /** Waits before the next attempt (1, 2, 4... up to 30 s); a Ctrl-C cuts the wait short. */
  async #backOff(attempt: number, what: string): Promise<void> {
    const pause = Math.min(2 ** (attempt - 1), 30);
    this.#out.progress(
      `Reconnecting to ${this.#login}: attempt ${attempt} failed; next in ${pause} s` +
        (this.#signals ? "" : " (Ctrl-C to stop)") + "...",
    );
    const first = this.#signals === 0;
    await Promise.race([
      new Promise((res) => setTimeout(res, pause * 1000)),
      this.#signalled.promise,
    ]);
    if (first && this.#signals > 0 && !this.#keeps && what) {
      this.#out.clearProgress();
      this.#out.note(
        `Ending the session: ${what} is cancelled as soon as ${this.#login} answers again, ` +
          "unless another session is attached to it (Ctrl-C again to leave it running).",
      );
    }
  }

  // ---- Events. ----

  async #nextEvent(peer: Peer): Promise<SessionEvent> {
    const signal = this.#ending
      ? []
      : [this.#signalled.promise.then(() => ({ kind: "signal" as const }))];
    // One waiter per session, kept across calls: a waiter left behind by a race that the
    // signal won would otherwise swallow the next message.
    if (!this.#pending || this.#pending.peer !== peer) {
      this.#pending = {
        peer,
        message: peer.inbox.next(ANSWERS).then(
          (m) => ({ kind: "message" as const, message: m }),
          () => undefined,
        ),
      };
    }
    const message = this.#pending.message;
    const lost = peer.session.ended.then((e) => ({ kind: "lost" as const, why: e.message }));
    const first = await Promise.race([message, lost, ...signal]);
    if (first !== undefined && first.kind === "message") this.#pending = undefined;
    if (first === undefined) return await lost;
    return first;
  }

  /**
   * Progress that needs no answer: shown as `submit` shows it, filtered and within the
   * budget. A message that breaks the protocol ends the session (see {@link #events}).
   */
  #onProgress(m: Record<string, unknown>): boolean {
    try {
      return this.#progressMessage(m);
    } catch (e) {
      if (!(e instanceof RemoteProtocolError)) throw e;
      this.#violation ??= e.message;
      this.#peer?.session.close("protocol violation");
      return true;
    }
  }

  #progressMessage(m: Record<string, unknown>): boolean {
    const say = (f: () => void) => {
      if (this.#budget.take((n) => this.#dropped(n))) f();
    };
    switch (m.type) {
      case "note":
        say(() => this.#out.note(remoteText(m.text, MAX_TEXT, true)));
        return true;
      case "warning":
        say(() => this.#out.warn(remoteText(m.text, MAX_TEXT, true)));
        return true;
      case "status-text":
        say(() => this.#out.progress(remoteText(m.text, 300)));
        return true;
      case "submitted": {
        this.#job = remoteJobId(m.job);
        const log = m.log ? `; its log there: ${remoteText(m.log, 500)}` : "";
        this.#out.note(`Submitted job ${this.#job} on ${this.#login}${log}`);
        return true;
      }
      case "status":
        if (this.#budget.take()) this.#showStatus(checkStatus(m.status));
        return true;
      case "requeued":
        this.#onRequeued(m);
        return true;
    }
    return false;
  }

  /** The job went back to the queue: connections wait for its next run's server. */
  #onRequeued(m: Record<string, unknown>): void {
    this.#reachable = deferred<MuxSession | undefined>();
    this.#ready = undefined;
    this.#waitingSince = 0;
    this.#out.clearProgress();
    this.#out.warn(
      `${remoteText(m.text, 300)}: the URL changes when it does (the new one is printed here)`,
    );
  }

  #lastStatus: WireStatus | undefined;
  #waitingSince = 0;
  #ticker: ReturnType<typeof setInterval> | undefined;

  #showStatus(w: WireStatus): void {
    this.#job ??= w.id;
    this.#lastStatus = w;
    this.#waitingSince ||= Date.now();
    this.#renderStatus();
    // On a terminal the line ticks every second, as submit's does.
    if (!this.#ticker && Deno.stderr.isTerminal()) {
      this.#ticker = setInterval(() => this.#renderStatus(), 1000);
    }
  }

  #renderStatus(): void {
    const w = this.#lastStatus;
    if (!w || this.#ready || this.#ending) return this.#stopTicker();
    const s = fromWire(w);
    const text = describeJob(s);
    const waited = this.#ticker
      ? ` [${humanDuration((Date.now() - this.#waitingSince) / 1000)}]`
      : "";
    this.#out.progress(
      s.phase === "running" ? `${text}: starting Jupyter...${waited}` : `${text}${waited}`,
    );
  }

  #stopTicker(): void {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  /** Handles an answer; returns an exit code when the session is over. */
  async #onMessage(m: Record<string, unknown>): Promise<number | undefined> {
    this.#stopTicker();
    this.#out.clearProgress();
    switch (m.type) {
      case "ready":
        await this.#onReady(checkReady(m));
        return undefined;
      case "error":
        this.#ending = true;
        throw new Failure(remoteText(m.message, MAX_TEXT, m.raw === true), {
          exitCode: remoteExitCode(m.exitCode),
          raw: m.raw === true,
        });
      case "ended":
        this.#ending = true;
        throw new Failure(`${remoteText(m.text)}; the session is over`);
      case "cancelled":
        if (m.text) this.#out.info(remoteText(m.text, MAX_TEXT, true));
        return this.#req.mode === "cancel" ? 0 : 130;
      case "detached":
        this.#comeBackHint(m.text ? remoteText(m.text, 500) : undefined);
        return 130;
      case "jobs":
        this.#printJobs(checkJobLines(m.jobs));
        return 0;
    }
    return undefined;
  }

  #onFirstSignal(peer: Peer): void {
    this.#ending = true;
    this.#out.clearProgress();
    if (this.#req.mode === "jobs" || this.#req.mode === "cancel") this.#leaveNow();
    if (this.#keeps) {
      peer.session.control({ type: "detach" });
      return;
    }
    const what = this.#job ? `job ${this.#job}` : this.#server ? "the server" : "the job";
    this.#out.note(
      `Ending the session: ${what} is cancelled and waited for, unless another session is ` +
        "attached to it (Ctrl-C again to leave now).",
    );
    peer.session.control({ type: "cancel", session: this.#id });
  }

  /**
   * A second Ctrl-C: leave at once, saying what may still run. The connection closes with
   * this process; the agent then leaves the job as it is.
   */
  #leaveNow(): never {
    this.#out.clearProgress();
    const id = this.#job ?? this.#server;
    if (id) {
      this.#out.warn(
        `left without waiting: ${this.#subject} may still be ` +
          `running; cancel it with: ${this.#command("--cancel", id)}`,
      );
    }
    Deno.exit(130);
  }

  /** How to come back to what was kept (`state`: what the agent said of it). */
  #comeBackHint(state?: string): void {
    const id = this.#job ?? this.#server;
    if (!id) return;
    this.#out.note(
      `Kept ${state ?? this.#subject}. Come back with: ` +
        `${this.#command("--attach", id)}\n` +
        `End it with: ${this.#command("--cancel", id)}`,
    );
  }

  // ---- Ready: the local port, the check through the tunnel, the URL, the browser. ----

  async #onReady(m: ReadyMessage): Promise<void> {
    const shown = this.#shownServer;
    this.#ready = m;
    this.#job = m.job ?? this.#job;
    if (!m.job) this.#server = m.server;
    const session = this.#peer!.session;
    this.#reachable.resolve(session);
    const listener = this.#listen(m.port);
    const base = m.basePath;
    const tokenQuery = `?token=${encodeURIComponent(m.token)}`;
    // Readiness through the whole path before anything is printed or opened.
    const status = await this.#probeThrough(session, listener.port, base, tokenQuery);
    if (status === undefined) return;
    if (status !== 200) {
      this.#out.warn(
        `Jupyter on ${m.node} did not answer through the tunnel (${
          status ? `HTTP ${status}` : "no answer"
        }); the URL may not work yet`,
      );
    }
    if (shown === m.server) {
      this.#out.note(`Reconnected to ${this.#login}: the same URL works again.`);
      return;
    }
    this.#shownServer = m.server;
    const url = `http://127.0.0.1:${listener.port}${base}${tokenQuery}`;
    if (this.#req.json) this.#out.print(JSON.stringify(readyEvent(m, url, listener.port)));
    else if (shown !== undefined) {
      this.#out.print(
        `Job ${m.job} runs again on ${m.node}, with a new Jupyter; its URL (the old one's ` +
          `token no longer works):\n\n  ${url}\n`,
      );
    } else {
      this.#out.print(readyBlock(m, {
        url,
        keep: this.#req.keep,
        attached: this.#req.mode === "attach" && m.job !== undefined,
        program: this.#program,
        login: this.#login,
      }));
    }
    if (this.#req.openBrowser && this.#browsers.length) {
      this.#openBrowser(listener.oneTimeLink(crypto.randomUUID(), `${base}${tokenQuery}`));
    }
  }

  /**
   * The local port browsers connect to, opened at the first ready (or before anything, for
   * `--local-port`) and kept across dials: the server's own port when free here.
   */
  #listen(serverPort: number): LocalListener {
    this.#listener ??= LocalListener.listen(serverPort, false, () => this.#reachable.promise);
    return this.#listener;
  }

  /**
   * Jupyter's status through the local port, the session and the relay: 200 once it answers
   * (tried for about 10 s), the last status otherwise; undefined if the session ended meanwhile.
   */
  async #probeThrough(
    session: MuxSession,
    port: number,
    base: string,
    tokenQuery: string,
  ): Promise<number | undefined> {
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      if (i) await new Promise((r) => setTimeout(r, 200));
      status = await probe(port, `${base}api/status${tokenQuery}`);
      if (session.isEnded) return undefined;
    }
    return status;
  }

  #openBrowser(url: string): void {
    if (openWith(this.#browsers, url)) this.#out.note("Opened it in your browser.");
    else this.#out.note("Could not start a browser here: open the URL above.");
  }

  // ---- --jobs. ----

  #printJobs(jobs: ReturnType<typeof checkJobLines>): void {
    if (!jobs.length) {
      this.#out.info(
        `No Jupyter jobs of yours on ${this.#login} (start one with '${this.#command()}').`,
      );
      return;
    }
    for (const line of jobsTable(jobs)) this.#out.print(line);
    this.#out.info(`\nCome back to one with: ${this.#command("--attach")} ID`);
  }
}
