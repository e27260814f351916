/**
 * `legate-jupyter connect [USER@]LOGIN`: on the laptop, one command for the whole session.
 * It opens one SSH connection with the system's `ssh` (one authentication), starts this same
 * program's hidden `agent` on the login node in a login shell, and asks it to submit the job
 * (with `submit`'s options), follow it, and relay to Jupyter through a step inside the job.
 * Progress shows here as `submit` shows it there. Once the server answers through the tunnel,
 * the URL on a local port is printed (once, nowhere on disk) and a browser opened. Ctrl-C
 * cancels the job and waits until it has ended (`--keep` keeps it); a dropped connection is
 * dialled again with backoff while the local port stays up, and the job runs on meanwhile.
 *
 * Phases: read the request, dial, ask, follow the events (ready, lost, Ctrl-C), leave.
 * @module
 */

import { type Command, type Context, programName } from "./command.ts";
import { STOP_SIGNALS } from "../util/signals.ts";
import type { FlagSpec, Parsed } from "./flags.ts";
import { Failure, UsageError } from "../util/errors.ts";
import { Output } from "./output.ts";
import { SUBMIT_FLAGS } from "./submit.ts";
import type { Peer } from "../relay/pipes.ts";
import type { SshDial } from "../relay/laptop.ts";
import type { LocalListener } from "../relay/laptop.ts";
import type { JobLine, ReadyMessage, WireStatus } from "../relay/protocol.ts";
import type { MuxSession } from "../relay/mux.ts";

const CONNECT = "Connect";

/**
 * `submit` flags that mean nothing from a laptop (the agent prints nothing for a terminal),
 * and `--ip`: the server stays on the node's loopback, where the relay reaches it.
 */
const NOT_FORWARDED = [
  "script-only",
  "no-wait",
  "json",
  "ssh-config",
  "login-host",
  "ssh-user",
  "ip",
];

const OWN_FLAGS: readonly FlagSpec[] = [
  {
    name: "no-browser",
    type: "boolean",
    group: CONNECT,
    help: "Print the URL but open no browser",
  },
  {
    name: "attach",
    type: "boolean",
    group: CONNECT,
    help: "Come back to a running Jupyter job: JOBID after LOGIN, or the only one",
  },
  {
    name: "jobs",
    type: "boolean",
    group: CONNECT,
    help: "List your Jupyter jobs (and --here servers) on LOGIN, then exit",
  },
  {
    name: "cancel",
    type: "boolean",
    group: CONNECT,
    help: "Cancel the job JOBID (after LOGIN) and wait until it has ended",
  },
  {
    name: "here",
    type: "boolean",
    group: CONNECT,
    help: "Run Jupyter on the login node itself, detached from this SSH session " +
      "(the default where the login node has no batch scheduler)",
  },
  {
    name: "via",
    type: "string",
    metavar: "HOW",
    choices: ["srun", "srun-stdio", "ssh"],
    group: CONNECT,
    help: "How the login node reaches the job's node: srun (a relay step inside the job, the " +
      "bytes over one authenticated connection from the login node to it where the network " +
      "allows; the Slurm default), srun-stdio (everything through the step's own stdio), or " +
      "ssh (into the node from the login node; the PBS and LSF default)",
  },
  {
    name: "remote-command",
    type: "string",
    metavar: "CMD",
    group: CONNECT,
    help: "How to run legate-jupyter on LOGIN, in your login shell there (default: " +
      "legate-jupyter on its PATH), e.g. '~/bin/legate-jupyter' or " +
      "'module load legate && legate-jupyter'",
  },
  {
    name: "local-port",
    type: "int",
    min: 1,
    metavar: "N",
    group: CONNECT,
    help: "Port on this machine; refused if taken (default: the server's port when it is free " +
      "here, else one the system picks)",
  },
  {
    name: "ssh-option",
    short: "o",
    type: "string",
    multiple: true,
    metavar: "OPTION",
    group: CONNECT,
    help: "Pass -o OPTION to ssh (repeatable), e.g. -o Port=2222",
  },
  { name: "json", type: "boolean", help: "Print the ready event as one JSON line" },
];

const KEEP_HELP = "Leave the job running when this session ends (Ctrl-C, --timeout) and say " +
  "how to come back";

/** `connect`'s flags: its own, then `submit`'s scheduler and server flags. */
export const CONNECT_FLAGS: readonly FlagSpec[] = [
  ...OWN_FLAGS,
  ...SUBMIT_FLAGS.filter((f) => !NOT_FORWARDED.includes(f.name)).map((f) =>
    f.name === "keep" ? { ...f, help: KEEP_HELP, group: CONNECT } : f
  ),
];

const FORWARDED = new Set(
  SUBMIT_FLAGS.filter((f) => !NOT_FORWARDED.includes(f.name)).map((f) => f.name),
);

/** `legate-jupyter connect`. */
export const command: Command = {
  name: "connect",
  summary: "From your laptop: run Jupyter on a compute node and open it here, in one command",
  usage: "connect [USER@]LOGIN [options] [-- jupyter options]",
  positionals: "[USER@]LOGIN [JOBID]",
  maxPositionals: 2,
  allowRest: true,
  description: "Run on your laptop. Opens one SSH connection to LOGIN with your ssh and its " +
    "configuration (one authentication: keys, agent, ProxyJump and one-time codes work as " +
    "always), starts legate-jupyter there in a login shell, submits the job as 'submit' " +
    "would (same options) and shows its progress. Jupyter stays on the compute node's " +
    "loopback: its connections go through a relay inside the job (Slurm's srun --overlap), " +
    "so no SSH into the node and no port on the login node. When the server answers through " +
    "the tunnel, prints its URL on a local port and opens a browser. Ctrl-C cancels the job " +
    "and waits until it has ended (--keep keeps it); a dropped connection is dialled again by " +
    "itself and the same URL works again; --attach comes back to a running job, --jobs lists " +
    "them. Needs legate-jupyter of the same version on LOGIN.",
  flags: CONNECT_FLAGS,
  examples: [
    "legate-jupyter connect login.cluster.org --partition gpu --gpus 4 --time 2:00:00",
    "legate-jupyter connect me@login1 --auto-kernel --keep",
    "legate-jupyter connect login1 --attach",
    "legate-jupyter connect login1 --jobs",
    "legate-jupyter connect login1 --here -- --ServerApp.iopub_data_rate_limit=1e10",
  ],
  run,
};

type Mode = "start" | "attach" | "jobs" | "cancel";

/** What the user asked for, checked before anything is dialled. */
interface Request {
  readonly destination: string;
  readonly mode: Mode;
  readonly id?: string;
  /** The `start` or `attach` message for the agent. */
  readonly message: Record<string, unknown>;
}

function readRequest(parsed: Parsed): Request {
  const v = parsed.values;
  const [destination, id] = parsed.positionals;
  if (!destination) {
    throw new UsageError("where? give the login node: connect [USER@]LOGIN (an ssh host or alias)");
  }
  if (destination.startsWith("-")) throw new UsageError(`'${destination}' is not a host name`);
  const modes = (["attach", "jobs", "cancel"] as const).filter((m) => v[m]);
  if (modes.length > 1) {
    throw new UsageError(`--${modes[0]} and --${modes[1]} do not go together; choose one`);
  }
  const mode: Mode = modes.length ? modes[0] : "start";
  if (id !== undefined && mode !== "attach" && mode !== "cancel") {
    throw new UsageError(
      `unexpected argument '${id}': a job id goes with --attach or --cancel; see --help`,
    );
  }
  if (mode === "cancel" && id === undefined) {
    throw new UsageError("which job? give its id after LOGIN: connect LOGIN --cancel JOBID");
  }
  const submitGiven = [...parsed.given].filter((n) => FORWARDED.has(n) && n !== "keep");
  if (mode !== "start" && (submitGiven.length || parsed.rest.length || v.here)) {
    throw new UsageError(
      `--${
        submitGiven[0] ?? (v.here ? "here" : "-")
      } starts a new server; it does not go with --${mode}`,
    );
  }
  const via = v.via as string | undefined;
  if (mode === "start") {
    const args: string[] = [];
    for (const name of parsed.given) {
      if (!FORWARDED.has(name)) continue;
      const value = v[name];
      if (Array.isArray(value)) { for (const x of value) args.push(`--${name}=${x}`); }
      else args.push(value === true ? `--${name}` : `--${name}=${value}`);
    }
    if (parsed.rest.length) args.push("--", ...parsed.rest);
    return { destination, mode, message: { type: "start", args, here: v.here === true, via } };
  }
  if (mode === "attach") return { destination, mode, id, message: { type: "attach", id, via } };
  if (mode === "jobs") return { destination, mode, message: { type: "jobs" } };
  return { destination, mode, id, message: { type: "cancel", id } };
}

async function run(parsed: Parsed, ctx: Context): Promise<number> {
  const request = readRequest(parsed);
  const session = new ConnectSession(request, parsed, ctx);
  return await session.run();
}

const INSTALL_URL =
  "https://github.com/nv-legate/legate-jupyter/releases/latest/download/install.sh";

/** A deferred promise. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Output that never throws: after a closed terminal (SIGHUP) writes fail, and the session
 * must still get its cancel to the login node.
 */
class SafeOutput extends Output {
  override print(text?: string): void {
    try {
      super.print(text);
    } catch { /* the terminal is gone */ }
  }
  override info(text: string): void {
    try {
      super.info(text);
    } catch { /* the terminal is gone */ }
  }
  override warn(message: string): void {
    try {
      super.warn(message);
    } catch { /* the terminal is gone */ }
  }
  override note(message: string): void {
    try {
      super.note(message);
    } catch { /* the terminal is gone */ }
  }
  override progress(message: string): void {
    try {
      super.progress(message);
    } catch { /* the terminal is gone */ }
  }
  override clearProgress(): void {
    try {
      super.clearProgress();
    } catch { /* the terminal is gone */ }
  }
}

/** Thrown to leave with an exit code after the message was already printed. */
class Exit extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}

class ConnectSession {
  readonly #req: Request;
  readonly #v: Record<string, unknown>;
  readonly #ctx: Context;
  readonly #program: string;
  readonly #userOptions: string[];
  #version = "";
  #dial: SshDial | undefined;
  #peer: Peer | undefined;
  #listener: LocalListener | undefined;
  /** The session Jupyter can be reached through (pending while re-dialling). */
  #reachable = deferred<MuxSession | undefined>();
  #ready: ReadyMessage | undefined;
  #url: string | undefined;
  #job: string | undefined;
  #server: string | undefined;
  #shares = false;
  #sshConfig: ReadonlyMap<string, string> = new Map();
  /** Ctrl-C (or SIGTERM, SIGHUP): the first asks to cancel or detach, a second leaves. */
  #signals = 0;
  #signalled = deferred<void>();
  #ending = false;
  #pending:
    | {
      peer: Peer;
      message: Promise<{ kind: "message"; message: Record<string, unknown> } | undefined>;
    }
    | undefined;
  #modules!: {
    protocol: typeof import("../relay/protocol.ts");
    describe: typeof import("../scheduler/describe.ts");
    time: typeof import("../scheduler/time.ts");
  };

  constructor(req: Request, parsed: Parsed, ctx: Context) {
    this.#req = req;
    this.#v = parsed.values;
    this.#ctx = ctx;
    this.#program = programName(ctx.self);
    this.#out = new SafeOutput({ quiet: ctx.out.quiet, color: ctx.out.color });
    this.#userOptions = (parsed.values["ssh-option"] as string[] | undefined) ?? [];
  }

  readonly #out: Output;

  get #login(): string {
    return this.#req.destination;
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
      const { VERSION } = await import("../version.ts");
      this.#version = VERSION;
      this.#modules = {
        protocol: await import("../relay/protocol.ts"),
        describe: await import("../scheduler/describe.ts"),
        time: await import("../scheduler/time.ts"),
      };
      await this.#readSshConfig();
      let peer = await this.#firstDial();
      peer.session.control(this.#req.message);
      for (;;) {
        const next = await this.#nextEvent(peer);
        if (next.kind === "message") {
          const code = await this.#onMessage(next.message);
          if (code !== undefined) return code;
        } else if (next.kind === "lost") {
          if (this.#req.mode === "jobs" || this.#req.mode === "cancel") {
            throw new Failure(`lost the connection to ${this.#login}: ${next.why}`);
          }
          peer = await this.#redial(next.why);
        } else {
          this.#onFirstSignal(peer);
        }
      }
    } catch (e) {
      if (e instanceof Exit) return e.code;
      throw e;
    } finally {
      this.#stopTicker();
      for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, onSignal);
      this.#reachable.resolve(undefined);
      this.#listener?.close();
      this.#out.clearProgress();
      if (this.#peer && !this.#peer.session.isEnded) {
        await Promise.race([this.#peer.session.flush(), new Promise((r) => setTimeout(r, 1000))]);
        this.#peer.session.close("done");
      }
      await this.#dial?.kill();
    }
  }

  // ---- Dialling. ----

  async #readSshConfig(): Promise<void> {
    const { sshConfigText, masterRunning } = await import("../relay/laptop.ts");
    const { parseSshConfig, sharesConnections } = await import("../relay/ssh.ts");
    this.#sshConfig = parseSshConfig(await sshConfigText(this.#login, this.#userOptions));
    this.#shares = sharesConnections(this.#sshConfig) &&
      await masterRunning(this.#login, this.#userOptions);
  }

  /** One dial: the ssh process, the marker, the hello; `abortable`: Ctrl-C stops it. */
  async #dialOnce(abortable: boolean): Promise<
    { ok: true; peer: Peer } | { ok: false; transient: boolean; message: string }
  > {
    const { dialSsh } = await import("../relay/laptop.ts");
    const { sshArgv, agentLine } = await import("../relay/ssh.ts");
    const remote = this.#v["remote-command"] as string | undefined;
    const dial = dialSsh({
      argv: sshArgv({
        destination: this.#login,
        userOptions: this.#userOptions,
        config: this.#sshConfig,
      }),
      line: agentLine(remote),
      detach: this.#shares,
      version: this.#version,
      passStderr: (text) => {
        this.#out.clearProgress();
        try {
          Deno.stderr.writeSync(new TextEncoder().encode(text));
        } catch { /* the terminal is gone */ }
      },
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
    const status = await Promise.race([
      dial.child.status,
      new Promise<undefined>((res) => setTimeout(() => res(undefined), 5000)),
    ]);
    await dial.kill();
    const stderr = dial.stderr();
    const install = `install legate-jupyter ${this.#version} there ` +
      `(curl -fsSL ${INSTALL_URL} | LEGATE_JUPYTER_VERSION=${this.#version} sh)`;
    if (r.kind === "mismatch") {
      return { ok: false, transient: false, message: `${this.#login}: ${r.problem}; ${install}` };
    }
    const code = status?.code;
    if (code === 255) {
      // ssh's own failure; its message is on the terminal already.
      const transient = !/Permission denied|Host key verification failed|Could not resolve/i
        .test(stderr);
      return {
        ok: false,
        transient,
        message: `ssh could not connect to ${this.#login} (exit 255${
          stderr.trim() ? `: ${stderr.trim().split("\n").pop()}` : ""
        })`,
      };
    }
    const name = remote ?? "legate-jupyter";
    if (/unknown command 'agent'/.test(stderr)) {
      return {
        ok: false,
        transient: false,
        message: `the legate-jupyter on ${this.#login} is older than 'connect' (it has no ` +
          `'agent'); ${install}`,
      };
    }
    if (code === 127 || /command not found|no such file or directory/i.test(stderr)) {
      return {
        ok: false,
        transient: false,
        message: `'${name}' was not found on ${this.#login} (in a login shell there); ` +
          `${install}, or say where it is with --remote-command`,
      };
    }
    const said = r.skipped ? `; it printed: ${r.skipped.split("\n").slice(-3).join(" | ")}` : "";
    return {
      ok: false,
      transient: false,
      message: `the remote side of connect did not start on ${this.#login} (exit status ${
        code ?? "unknown"
      }${said}); check that '${name} agent' runs there, or ${install}`,
    };
  }

  async #firstDial(): Promise<Peer> {
    if (Deno.build.os === "windows") {
      throw new Failure("connect runs on macOS and Linux (on Windows: inside WSL)");
    }
    const { which } = await import("../util/which.ts");
    if (!which("ssh")) {
      throw new Failure(
        "no ssh on this machine's PATH: install OpenSSH's client (it brings your keys, " +
          "config and prompts to connect)",
      );
    }
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
    const what = this.#job ? `job ${this.#job}` : this.#server ? `server ${this.#server}` : "";
    this.#out.warn(
      `lost the connection to ${this.#login} (${why})${what ? `; ${what} keeps running` : ""}` +
        "; reconnecting",
    );
    // A shared connection that is still up makes this dial cost no authentication.
    await this.#readSshConfig();
    for (let attempt = 1;; attempt++) {
      if (this.#signals > 0 && (this.#v.keep || !what)) {
        this.#out.clearProgress();
        this.#comeBackHint();
        throw new Exit(130);
      }
      this.#out.progress(`Reconnecting to ${this.#login} (attempt ${attempt})...`);
      // Ctrl-C meanwhile: with --keep, stop dialling; else the dial goes on, to cancel.
      const r = await this.#dialOnce(this.#v.keep === true);
      if (r.ok) {
        this.#out.clearProgress();
        const id = this.#job ?? this.#server;
        if (this.#signals > 0 && !this.#v.keep && id) {
          this.#ending = true;
          this.#out.note(`Reconnected to ${this.#login}; cancelling ${what}...`);
          r.peer.session.control({ type: "cancel", id, resume: true });
        } else {
          r.peer.session.control({ type: "attach", id, via: this.#v.via });
        }
        return r.peer;
      }
      if (r.message === "interrupted") continue; // --keep and Ctrl-C: left at the loop's top.
      if (!r.transient) throw new Failure(r.message);
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
      if (first && this.#signals > 0 && !this.#v.keep && what) {
        this.#out.clearProgress();
        this.#out.note(
          `Ending the session: ${what} is cancelled as soon as ${this.#login} answers again ` +
            "(Ctrl-C again to leave it running).",
        );
      }
    }
  }

  // ---- Events. ----

  async #nextEvent(peer: Peer): Promise<
    | { kind: "message"; message: Record<string, unknown> }
    | { kind: "lost"; why: string }
    | { kind: "signal" }
  > {
    const wanted = ["ready", "error", "ended", "cancelled", "detached", "jobs"];
    const signal = this.#ending
      ? []
      : [this.#signalled.promise.then(() => ({ kind: "signal" as const }))];
    // One waiter per session, kept across calls: a waiter left behind by a race that the
    // signal won would otherwise swallow the next message.
    if (!this.#pending || this.#pending.peer !== peer) {
      this.#pending = {
        peer,
        message: peer.inbox.next(wanted).then(
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

  /** Progress that needs no answer: shown as `submit` shows it. */
  #onProgress(m: Record<string, unknown>): boolean {
    switch (m.type) {
      case "note":
        this.#out.note(String(m.text));
        return true;
      case "warning":
        this.#out.warn(String(m.text));
        return true;
      case "status-text":
        this.#out.progress(String(m.text));
        return true;
      case "submitted":
        this.#job = String(m.job);
        this.#out.note(
          `Submitted job ${m.job} on ${this.#login}${m.log ? `; its log there: ${m.log}` : ""}`,
        );
        return true;
      case "status":
        this.#showStatus(m.status as WireStatus);
        return true;
    }
    return false;
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
    const s = this.#modules.protocol.fromWire(w);
    const text = this.#modules.describe.describeJob(s);
    const waited = this.#ticker
      ? ` [${this.#modules.time.humanDuration((Date.now() - this.#waitingSince) / 1000)}]`
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
        await this.#onReady(m as unknown as ReadyMessage);
        return undefined;
      case "error":
        throw new Failure(String(m.message), {
          exitCode: Number(m.exitCode ?? 1),
          raw: m.raw === true,
        });
      case "ended":
        throw new Failure(`${m.text}; the session is over`);
      case "cancelled":
        if (m.text) this.#out.info(String(m.text));
        return this.#req.mode === "cancel" ? 0 : 130;
      case "detached":
        this.#comeBackHint(m.text ? String(m.text) : undefined);
        return 130;
      case "jobs":
        await this.#printJobs(m.jobs as JobLine[]);
        return 0;
    }
    return undefined;
  }

  #onFirstSignal(peer: Peer): void {
    this.#ending = true;
    this.#out.clearProgress();
    if (this.#req.mode === "jobs" || this.#req.mode === "cancel") this.#leaveNow();
    if (this.#v.keep) {
      peer.session.control({ type: "detach" });
      return;
    }
    const what = this.#job ? `job ${this.#job}` : this.#server ? "the server" : "the job";
    this.#out.note(
      `Ending the session: ${what} is cancelled and waited for (Ctrl-C again to leave now).`,
    );
    peer.session.control({ type: "cancel" });
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
        `left without waiting: ${this.#job ? `job ${id}` : `server ${id}`} may still be ` +
          `running; cancel it with: ${this.#program} connect ${this.#login} --cancel ${id}`,
      );
    }
    Deno.exit(130);
  }

  #comeBackHint(state?: string): void {
    const id = this.#job ?? this.#server;
    if (!id) return;
    this.#out.note(
      `Kept ${state ?? (this.#job ? `job ${id}` : `server ${id}`)}. Come back with: ` +
        `${this.#program} connect ${this.#login} --attach ${id}\n` +
        `End it with: ${this.#program} connect ${this.#login} --cancel ${id}`,
    );
  }

  // ---- Ready: the local port, the check through the tunnel, the URL, the browser. ----

  async #onReady(m: ReadyMessage): Promise<void> {
    const again = this.#ready !== undefined;
    this.#ready = m;
    this.#job = m.job ?? this.#job;
    if (!m.job) this.#server = m.server;
    const { LocalListener, probe } = await import("../relay/laptop.ts");
    const session = this.#peer!.session;
    this.#reachable.resolve(session);
    if (!this.#listener) {
      const given = this.#v["local-port"] as number | undefined;
      try {
        this.#listener = LocalListener.listen(
          given ?? m.port,
          given !== undefined,
          () => this.#reachable.promise,
        );
      } catch (e) {
        throw new Failure(
          `port ${given} on this machine: ${(e as Error).message}; choose another with ` +
            "--local-port, or leave it out",
        );
      }
    }
    const port = this.#listener.port;
    const base = m.basePath.endsWith("/") ? m.basePath : m.basePath + "/";
    const tokenQuery = `?token=${encodeURIComponent(m.token)}`;
    // Readiness through the whole path before anything is printed or opened.
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      if (i) await new Promise((r) => setTimeout(r, 200));
      status = await probe(port, `${base}api/status${tokenQuery}`);
      if (session.isEnded) return;
    }
    if (status !== 200) {
      this.#out.warn(
        `Jupyter on ${m.node} did not answer through the tunnel (${
          status ? `HTTP ${status}` : "no answer"
        }); the URL may not work yet`,
      );
    }
    if (again) {
      this.#out.note(`Reconnected to ${this.#login}: the same URL works again.`);
      return;
    }
    this.#url = `http://127.0.0.1:${port}${base}${tokenQuery}`;
    if (this.#v.json) {
      this.#out.print(JSON.stringify({
        event: "ready",
        url: this.#url,
        local_port: port,
        login: m.login,
        node: m.node,
        port: m.port,
        job: m.job ?? null,
        server: m.server,
        route: m.route,
        direct: m.direct ?? false,
        app: m.app,
        version: m.version ?? null,
        notebook_dir: m.notebookDir,
      }));
    } else this.#out.print(this.#readyBlock(m));
    if (!this.#v["no-browser"]) {
      const link = this.#listener.oneTimeLink(crypto.randomUUID(), `${base}${tokenQuery}`);
      await this.#openBrowser(link);
    }
  }

  #readyBlock(m: ReadyMessage): string {
    const title = `${m.app === "lab" ? "JupyterLab" : "Jupyter Notebook"}${
      m.version ? " " + m.version : ""
    }`;
    const where = m.route === "here"
      ? `on ${m.login} itself as server ${m.server} (detached: it does not depend on this ` +
        "SSH session)"
      : m.route === "srun"
      ? `on ${m.node} in job ${m.job}, through ${m.login} and a relay step inside the job ` +
        `(no SSH into ${m.node}, no port opened on ${m.login}${
          m.direct ? "" : "; the bytes through the step's stdio"
        })`
      : `on ${m.node} in job ${m.job}, through ${m.login} and SSH from there to ${m.node}`;
    const id = m.job ?? m.server;
    const what = m.job ? `job ${m.job}` : `the server`;
    const lines = [
      `${title} is ready ${where}.`,
      "",
      `  ${this.#url}`,
      "",
      `Notebook dir on ${m.route === "here" ? m.login : m.node}: ${m.notebookDir}`,
    ];
    if (m.kernel) lines.push(`Default kernel: ${m.kernel}`);
    lines.push(
      this.#v.keep
        ? `Ctrl-C ends this session and keeps ${what}; come back with: ` +
          `${this.#program} connect ${this.#login} --attach ${id}`
        : `Ctrl-C ends this session and ${
          m.job ? `cancels job ${m.job}` : "stops the server"
        } (--keep would keep it).`,
      "If the connection drops, it is dialled again and the same URL works again.",
    );
    return lines.join("\n") + "\n";
  }

  async #openBrowser(url: string): Promise<void> {
    const { browserCommands, isWsl, openWith } = await import("../util/browser.ts");
    if (openWith(browserCommands(Deno.env.toObject(), { wsl: isWsl() }), url)) {
      this.#out.note("Opened it in your browser.");
    } else {
      this.#out.note("No browser to open here (no DISPLAY or $BROWSER): open the URL above.");
    }
  }

  // ---- --jobs. ----

  async #printJobs(jobs: JobLine[]): Promise<void> {
    if (!jobs.length) {
      this.#out.info(
        `No Jupyter jobs of yours on ${this.#login} (start one with '${this.#program} connect ` +
          `${this.#login}').`,
      );
      return;
    }
    const { formatTable } = await import("../util/table.ts");
    const { formatSlurmDuration } = await import("../scheduler/time.ts");
    const rows = [["ID", "WHAT", "STATE", "NODE", "TIME LEFT", "JUPYTER"]];
    for (const j of jobs) {
      rows.push([
        j.id,
        j.kind === "job" ? `job ${j.name}` : `server (${j.name}, --here)`,
        j.phase === "queued" && j.reason ? `${j.state} (${j.reason})` : j.state,
        j.node ?? "-",
        j.timeLeft === null
          ? "no limit"
          : j.timeLeft === undefined
          ? "-"
          : formatSlurmDuration(j.timeLeft),
        j.serverUp ? "up" : "-",
      ]);
    }
    for (const line of formatTable(rows)) this.#out.print(line);
    this.#out.info(
      `\nCome back to one with: ${this.#program} connect ${this.#login} --attach ID`,
    );
  }
}
