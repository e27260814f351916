/**
 * `legate-jupyter notebook` (and `lab`, see `lab.ts`): start Jupyter on a verified free port
 * with a token this tool made, wait until it is ready, print the URL and the SSH tunnel
 * commands, record it for `servers`/`stop`, and shut it down cleanly with its kernels.
 * @module
 */

import { join } from "../util/path.ts";
import { type Command, type Context, programName } from "./command.ts";
import { STOP_SIGNALS } from "../util/signals.ts";
import type { FlagSpec, Parsed } from "./flags.ts";
import { Failure, UsageError } from "../util/errors.ts";
import type { JupyterApp, JupyterCommand } from "../jupyter/argv.ts";
import type { JupyterServer, StartResult } from "../jupyter/server.ts";
import type { ServerRecord } from "../state/servers.ts";
import type { Route, RouteLearning } from "../jupyter/route.ts";
import { batchJobId, batchSubmitHost } from "../scheduler/types.ts";
import { shQuote } from "../util/shell.ts";

const SERVER = "Server";
const TUNNEL = "Tunnel";

/** The flags `notebook` and `lab` share. */
export const NOTEBOOK_FLAGS: readonly FlagSpec[] = [
  {
    name: "port",
    short: "p",
    type: "int",
    min: 1,
    metavar: "N",
    group: SERVER,
    help: "Port to listen on; refused if taken (default: a free port chosen and verified)",
  },
  {
    name: "ip",
    type: "string",
    metavar: "ADDR",
    default: "127.0.0.1",
    group: SERVER,
    help: "Address to listen on; anything but loopback exposes the server to the network",
  },
  {
    name: "notebook-dir",
    type: "string",
    metavar: "DIR",
    complete: "dir",
    group: SERVER,
    help: "Directory the server shows (default: the current directory)",
  },
  {
    name: "jupyter",
    type: "string",
    metavar: "PATH",
    complete: "file",
    group: SERVER,
    help: "The jupyter (or jupyter-notebook, jupyter-lab) program to run, or its directory " +
      "(default: beside a Legate kernel's Python, else on PATH)",
  },
  {
    name: "kernel",
    short: "k",
    type: "string",
    metavar: "NAME",
    complete: "kernel",
    group: SERVER,
    help: "Make this kernel the server's default kernel",
  },
  {
    name: "timeout",
    type: "int",
    min: 1,
    metavar: "SECONDS",
    default: 120,
    group: SERVER,
    help: "How long to wait for Jupyter to be ready",
  },
  {
    name: "verbose",
    short: "v",
    type: "boolean",
    group: SERVER,
    help: "Echo Jupyter's log to stderr (it always goes to the log file)",
  },
  {
    name: "login-host",
    type: "string",
    metavar: "HOST",
    group: TUNNEL,
    help: "Login node your laptop reaches (default: the batch job's submit host, else this node)",
  },
  {
    name: "ssh-user",
    type: "string",
    metavar: "USER",
    group: TUNNEL,
    help: "Your user name on the cluster (default: $USER)",
  },
  {
    name: "ssh-config",
    type: "boolean",
    group: TUNNEL,
    help: "Also print an ~/.ssh/config snippet for the tunnel",
  },
  { name: "json", type: "boolean", help: "Print the ready event as one JSON line" },
  { name: "open", type: "boolean", help: "Open a browser here when one is available" },
];

/**
 * The checked `--port` and `--ip` of `notebook`/`lab` (also run by `submit` on the login node,
 * so that a typo is not found hours later on the compute node). Throws {@link UsageError}.
 */
export function checkListen(
  v: Readonly<Record<string, unknown>>,
): { port: number | undefined; ip: string } {
  const port = v.port as number | undefined;
  if (port !== undefined && port > 65535) {
    throw new UsageError(`--port must be between 1 and 65535, not ${port}`);
  }
  const ip = (v.ip as string).trim();
  if (ip === "") throw new UsageError("--ip needs an address, e.g. --ip 127.0.0.1");
  // A host name, an IPv4 or IPv6 address: anything else makes Jupyter fail after start-up.
  if (
    !/^(\[[0-9A-Fa-f:.%\w]+\]|[0-9A-Fa-f:.%]+|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/.test(ip)
  ) {
    throw new UsageError(
      `--ip '${ip}' is not an address or host name; give one such as 127.0.0.1 or 0.0.0.0`,
    );
  }
  return { port, ip };
}

function describe(app: JupyterApp): string {
  const what = app === "lab" ? "JupyterLab" : "Jupyter Notebook";
  return `Starts ${what} on a free port of this node (or --port), bound to 127.0.0.1, with a ` +
    `token made here and passed in the environment (never on the command line), waits until it ` +
    `is ready, and prints its URL with the token and the SSH commands that tunnel to it from ` +
    `your laptop. Jupyter's log goes to a file under ~/.local/state/legate-jupyter. Ctrl-C ` +
    `stops the server and its kernels. Exit status: a stop you ask for (Ctrl-C, SIGTERM, ` +
    `SIGHUP, or 'legate-jupyter stop') exits 0 once Jupyter and its kernels are gone, whether ` +
    `Jupyter was still starting or running; Jupyter failing to start exits 1, and Jupyter ` +
    `ending on its own exits with its status. Arguments after -- go to Jupyter unchanged.`;
}

/** Builds the command for `app` (`notebook` or `lab`). */
export function makeCommand(app: "notebook" | "lab"): Command {
  return {
    name: app,
    summary: app === "lab"
      ? "Start JupyterLab with a known URL, token and SSH tunnel"
      : "Start Jupyter Notebook with a known URL, token and SSH tunnel",
    usage: `${app} [options] [-- jupyter options]`,
    description: describe(app),
    flags: NOTEBOOK_FLAGS,
    allowRest: true,
    examples: [
      `legate-jupyter ${app}`,
      `legate-jupyter ${app} --kernel legate-gpu --port 8899`,
      `legate-jupyter ${app} --login-host login.cluster.org --ssh-config`,
      `legate-jupyter ${app} --json -- --${
        app === "lab" ? "ServerApp" : "NotebookApp"
      }.iopub_data_rate_limit=1e10`,
    ],
    run: (parsed, ctx) => runServer(app, parsed, ctx),
  };
}

/** `legate-jupyter notebook`. */
export const command: Command = makeCommand("notebook");

async function resolveNotebookDir(given: string | undefined): Promise<string> {
  const dir = given ?? Deno.cwd();
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch {
    throw new UsageError(`--notebook-dir ${dir}: no such directory; give an existing directory`);
  }
  if (!info.isDirectory) {
    throw new UsageError(`--notebook-dir ${dir}: not a directory; give an existing directory`);
  }
  return await Deno.realPath(dir);
}

/** What `notebook` resolved from its flags and the node before it starts anything. */
interface Plan {
  readonly app: "notebook" | "lab";
  readonly port: number | undefined;
  readonly ip: string;
  readonly notebookDir: string;
  readonly kernel: string | undefined;
  readonly jupyter: JupyterCommand;
  readonly extra: readonly string[];
  readonly title: string;
  readonly host: string;
  readonly loginHost: string | undefined;
  readonly jobId: string | undefined;
  readonly sshUser: string | undefined;
  readonly timeoutMs: number;
  readonly verbose: boolean;
}

/** The state this run owns: its id, entry and log, the token, Jupyter's environment. */
interface Session {
  readonly dir: string;
  readonly id: string;
  readonly logPath: string;
  readonly runtimeDir: string;
  readonly token: string;
  readonly env: Record<string, string>;
}

/**
 * The run of one server, in phases: resolve the plan (nothing started), open the session
 * (state dir, log, runtime dir), start Jupyter (its entry is written, as `starting`, before
 * Jupyter may exec; the laptop's route is learned while it starts), report a failed start,
 * announce the ready server, and supervise it until it exits or is stopped. A stop asked for at
 * any point (a signal, or `stop`) exits 0 once Jupyter and its kernels are gone.
 */
async function runServer(app: "notebook" | "lab", parsed: Parsed, ctx: Context): Promise<number> {
  const run = new ServerRun(ctx);
  try {
    const plan = await resolvePlan(app, parsed, ctx);
    if (run.stopAsked) return 0;
    const session = await openSession(ctx, plan.jupyter.app);
    const result = await run.start(plan, session);
    if (run.stopAsked) return await run.finishStop();
    if (result.kind !== "ready") throw await startFailure(plan, session, run.server!, result);
    const route = await run.route();
    const record = await readyRecord(plan, session, run.server!, run.port!, result, route);
    await run.announce(record, parsed, plan, route);
    return await run.supervise(plan, session);
  } finally {
    await run.close();
  }
}

/** Phase 1: everything checked and looked up, nothing started. Throws {@link UsageError}. */
async function resolvePlan(app: "notebook" | "lab", parsed: Parsed, ctx: Context): Promise<Plan> {
  const v = parsed.values;
  const { port, ip } = checkListen(v);
  const notebookDir = await resolveNotebookDir(v["notebook-dir"] as string | undefined);
  const [paths, store, find, argvMod, ports] = await Promise.all([
    import("../kernelspec/paths.ts"),
    import("../kernelspec/store.ts"),
    import("../jupyter/find.ts"),
    import("../jupyter/argv.ts"),
    import("../jupyter/ports.ts"),
  ]);
  const kernelDirs = paths.kernelSearchDirs(paths.currentPathEnv());
  const kernel = v.kernel as string | undefined;
  if (kernel !== undefined) {
    if (!store.KERNEL_NAME.test(kernel)) {
      throw new UsageError(
        `--kernel '${kernel}' is not a kernel name (letters, digits, '-', '.', '_'); ` +
          `see '${programName(ctx.self)} list'`,
      );
    }
    if (!store.findKernel(kernelDirs, kernel)) {
      ctx.out.warn(
        `kernel '${kernel}' is not installed (searched ${kernelDirs.join(", ")}); Jupyter will ` +
          `fall back to its own default. Install it with '${
            programName(ctx.self)
          } install --name ${kernel}'`,
      );
    }
  }

  const found = await find.findJupyter({
    app,
    explicit: v.jupyter as string | undefined,
    kernelDirs,
    kernel,
    path: Deno.env.get("PATH") ?? "",
  });
  if (found.explicitProblem) {
    throw new UsageError(`${found.explicitProblem}; give the path of jupyter or jupyter-${app}`);
  }
  if (!found.command) {
    throw new Failure(
      `no Jupyter found: looked for ${find.candidateNames(app).join(" and ")} ` +
        `${found.searched.join(", then ")}. Install it into the Legate environment ` +
        `(conda install -c conda-forge ${app === "lab" ? "jupyterlab" : "notebook"}, or ` +
        `pip install ${app === "lab" ? "jupyterlab" : "notebook"}) or pass --jupyter PATH`,
    );
  }
  if (port !== undefined) {
    const problem = ports.portProblem(ip, port);
    if (problem) {
      throw new Failure(
        `${problem}; choose another with --port, or leave --port out and a free one is chosen`,
      );
    }
  }
  const vars = Deno.env.toObject();
  return {
    app,
    port,
    ip,
    notebookDir,
    kernel,
    jupyter: found.command,
    extra: parsed.rest,
    title: argvMod.appTitle(found.command.app),
    host: Deno.hostname(),
    loginHost: (v["login-host"] as string | undefined) ?? batchSubmitHost(vars),
    jobId: batchJobId(vars),
    sshUser: (v["ssh-user"] as string | undefined) ?? vars.USER ?? vars.LOGNAME,
    timeoutMs: (v.timeout as number) * 1000,
    verbose: v.verbose as boolean,
  };
}

/**
 * Phase 2: the private state this run writes into. Jupyter writes the token into files in its
 * runtime directory (`nbserver-PID.json`, `*-open.html`) with modes of its own choosing, so
 * that directory must be private: ours but open to others is tightened to 0700; someone
 * else's is replaced by a private one under the state dir.
 */
async function openSession(ctx: Context, app: JupyterApp): Promise<Session> {
  const [paths, state, connect, argvMod] = await Promise.all([
    import("../kernelspec/paths.ts"),
    import("../state/servers.ts"),
    import("../jupyter/connect.ts"),
    import("../jupyter/argv.ts"),
  ]);
  const dir = await state.ensureStateDir(state.currentStateDir());
  const id = state.newServerId();
  const token = connect.generateToken();
  const env: Record<string, string> = { ...Deno.env.toObject(), ...argvMod.jupyterEnv(token) };
  // Configuration this tool adds (Notebook 6 on jupyter_client 8: see jupyter/config.ts).
  const jconfig = await import("../jupyter/config.ts");
  await jconfig.ensureConfig(app, dir);
  Object.assign(env, jconfig.configEnv(app, dir, env));
  let runtimeDir = paths.jupyterRuntimeDir(paths.currentPathEnv());
  const problem = await runtimeDirProblem(runtimeDir);
  if (problem) {
    const own = join(dir, "runtime");
    await (await import("../os/private.ts")).ensurePrivateDir(own);
    ctx.out.note(`Jupyter's runtime directory ${runtimeDir} ${problem}: using ${own} instead.`);
    runtimeDir = own;
    env.JUPYTER_RUNTIME_DIR = own;
  }
  return { dir, id, logPath: join(state.logsDir(dir), `${id}.log`), runtimeDir, token, env };
}

/**
 * Makes Jupyter's runtime directory private (0700) when it is this user's; says why it cannot
 * be used otherwise.
 */
async function runtimeDirProblem(path: string): Promise<string | undefined> {
  try {
    await Deno.mkdir(path, { recursive: true, mode: 0o700 });
    const info = await Deno.stat(path);
    if (!info.isDirectory) return "is not a directory";
    if (info.uid !== null && info.uid !== Deno.uid()) return `belongs to uid ${info.uid}`;
    if (info.mode !== null && (info.mode & 0o077) !== 0) await Deno.chmod(path, 0o700);
    return undefined;
  } catch (e) {
    return `cannot be made private (${(e as Error).message})`;
  }
}

/**
 * Phase 4: why Jupyter did not become ready, as one error with the end of its output. A
 * server that timed out is stopped first.
 */
async function startFailure(
  plan: Plan,
  session: Session,
  server: JupyterServer,
  result: StartResult,
): Promise<Failure> {
  const { tail, parseServerLog } = await import("../jupyter/logparse.ts");
  const last = () =>
    `${tail(server.output, 25).replace(/^/gm, "  | ")}\nFull log: ${session.logPath}`;
  if (result.kind === "timeout") {
    await server.stop(5000);
    return new Failure(
      `${plan.title} was not ready after ${plan.timeoutMs / 1000}s, so it was stopped ` +
        `(raise ${
          plan.jobId && !Deno.stdin.isTerminal() ? "submit's --server-timeout" : "--timeout"
        } if the file system is slow). Its last output:\n${last()}`,
    );
  }
  const status = await server.reap([], 5000);
  const log = parseServerLog(server.output);
  const reason = log.portInUse !== undefined
    ? ` (port ${log.portInUse} is in use; choose another with --port, or leave it out)`
    : /Use --allow-root/.test(server.output)
    ? " (it refuses to run as root: add '-- --allow-root' to pass that option to it)"
    : "";
  return new Failure(
    `${plan.title} exited with status ${status.code} before it was ready${reason}. ` +
      `Its last output:\n${last()}`,
  );
}

/**
 * The entry of the server once ready: the runtime file's PID, base URL and version, and the
 * route the laptop takes to it.
 */
async function readyRecord(
  plan: Plan,
  session: Session,
  server: JupyterServer,
  port: number,
  result: Extract<StartResult, { kind: "ready" }>,
  route: Route,
): Promise<ServerRecord> {
  const [connect, proc] = await Promise.all([
    import("../jupyter/connect.ts"),
    import("../os/proc.ts"),
  ]);
  const info = result.info;
  const base = startingRecord(plan, session, server, port, connect, proc);
  const baseUrl = connect.serverUrl(
    connect.nodeLocalHost(plan.ip),
    base.port,
    info.base_url ?? "/",
  );
  const { serverVersions } = await import("../jupyter/versions.ts");
  const versions = await serverVersions({
    app: plan.jupyter.app,
    info,
    log: result.log,
    baseUrl,
    token: session.token,
  });
  return {
    ...base,
    url: connect.withToken(baseUrl, session.token),
    baseUrl,
    // A wrapper that does not exec leaves Jupyter in a child: the runtime file names it.
    pid: info.pid ?? server.pid,
    pidStart: info.pid && info.pid !== server.pid
      ? proc.procInfo(info.pid)?.start
      : server.pidStart,
    startedAt: new Date().toISOString(),
    version: versions.version,
    serverVersion: versions.serverVersion,
    loginHost: route.loginHost,
    jobId: plan.jobId ?? route.jobId,
    sshRefused: route.sshRefused,
    state: "ready",
  };
}

/** The entry written the moment Jupyter is spawned (its URL's path is a guess until ready). */
function startingRecord(
  plan: Plan,
  session: Session,
  server: JupyterServer,
  port: number,
  connect: typeof import("../jupyter/connect.ts"),
  proc: typeof import("../os/proc.ts"),
): ServerRecord {
  const baseUrl = connect.serverUrl(connect.nodeLocalHost(plan.ip), port, "/");
  return {
    id: session.id,
    app: plan.jupyter.app,
    url: connect.withToken(baseUrl, session.token),
    baseUrl,
    token: session.token,
    port,
    ip: plan.ip,
    host: plan.host,
    pid: server.pid,
    pidStart: server.pidStart,
    supervisorPid: Deno.pid,
    supervisorStart: proc.procInfo(Deno.pid)?.start,
    startedAt: new Date().toISOString(),
    kernel: plan.kernel,
    logPath: session.logPath,
    notebookDir: plan.notebookDir,
    jupyter: plan.jupyter.program,
    loginHost: plan.loginHost,
    sshUser: plan.sshUser,
    jobId: plan.jobId,
    state: "starting",
  };
}

/**
 * One run's moving parts: the Jupyter child, the signal listeners, the entry and its
 * heartbeat. Signals: the first asks Jupyter to shut down (SIGTERM, its clean path: nb 6
 * answers SIGINT with a confirmation prompt, and dies on SIGHUP without stopping its
 * kernels); a second one kills it.
 */
class ServerRun {
  readonly #ctx: Context;
  server: JupyterServer | undefined;
  /** The port the current child was started on. */
  port: number | undefined;
  #stopping: Promise<Deno.CommandStatus> | undefined;
  #signals = 0;
  #session: Session | undefined;
  #recorded = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #openFile: string | undefined;
  #title = "Jupyter";
  #route: Promise<RouteLearning> | undefined;
  readonly #onSignal = () => {
    this.#signals++;
    this.requestStop(this.#signals === 1 ? `Stopping ${this.#title} and its kernels...` : "");
  };

  constructor(ctx: Context) {
    this.#ctx = ctx;
    // Installed before anything starts, so that an early Ctrl-C also stops cleanly.
    for (const s of STOP_SIGNALS) Deno.addSignalListener(s, this.#onSignal);
  }

  /** Whether a stop was asked for (a signal, or a stop request through the state dir). */
  get stopAsked(): boolean {
    return this.#signals > 0 || this.#stopping !== undefined;
  }

  /** Asks Jupyter to stop (with `why` shown), or kills it when asked a second time. */
  requestStop(why: string): void {
    if (!this.server) return;
    if (!this.#stopping) {
      if (why) this.#ctx.out.note(why);
      this.#stopping = this.server.stop(15_000);
    } else {
      this.server.signal("SIGKILL");
    }
  }

  /**
   * Phase 3: spawns Jupyter (held at its gate), records the entry as `starting`, lets Jupyter
   * go, and waits until it is ready. A port we chose can be taken between our check and
   * Jupyter's bind; then we choose again (three tries).
   */
  async start(plan: Plan, session: Session): Promise<StartResult> {
    this.#session = session;
    this.#title = plan.title;
    const [serverMod, argvMod, ports, logparse] = await Promise.all([
      import("../jupyter/server.ts"),
      import("../jupyter/argv.ts"),
      import("../jupyter/ports.ts"),
      import("../jupyter/logparse.ts"),
    ]);
    const out = this.#ctx.out;
    const terminal = Deno.stderr.isTerminal();
    const tried = new Set<number>();
    let result: StartResult = { kind: "timeout" };
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = plan.port ?? ports.chooseFreePort(plan.ip, tried);
      tried.add(port);
      const args = argvMod.jupyterArgs(plan.jupyter, {
        port,
        ip: plan.ip,
        notebookDir: plan.notebookDir,
        kernel: plan.kernel,
        extra: plan.extra,
      });
      const started = performance.now();
      // The log file is opened here: a full or read-only state dir fails now, with its cause.
      const server = await serverMod.JupyterServer.spawn({
        program: plan.jupyter.program,
        args,
        env: session.env,
        cwd: plan.notebookDir,
        logPath: session.logPath,
        echo: plan.verbose,
        gated: true,
      });
      this.server = server;
      this.port = port;
      const state = await this.#record(plan, session);
      // A stop asked for meanwhile: Jupyter never starts (the gate is stopped instead).
      if (this.#signals > 0) this.requestStop("");
      else await server.release();
      // Only now: the heartbeat's set-up, the route's module loads and its squeue spawn, done
      // any earlier, would delay Jupyter's exec by about 15 ms; Jupyter's own start hides them.
      this.#startHeartbeat(state);
      this.#route ??= this.#learnRoute(plan);
      const what = `Starting ${plan.title} (${plan.jupyter.program}) on ${plan.host}:${port}`;
      if (terminal) out.progress(`${what}...`);
      else out.note(`${what}; log: ${session.logPath}`);
      let lastShown = 0;
      result = await server.waitReady(
        {
          runtimeDir: session.runtimeDir,
          port,
          ip: plan.ip,
          token: session.token,
          timeoutMs: plan.timeoutMs,
        },
        () => {
          if (!terminal) return;
          const s = Math.floor((performance.now() - started) / 1000);
          if (s !== lastShown) {
            lastShown = s;
            out.progress(`${what}... ${s}s (log: ${session.logPath})`);
          }
        },
      );
      out.clearProgress();
      if (result.kind !== "exited" || plan.port !== undefined || this.#stopping) break;
      if (logparse.parseServerLog(server.output).portInUse !== port) break;
      await server.reap([], 5000);
      out.note(`Port ${port} was taken as Jupyter started; choosing another.`);
    }
    return result;
  }

  /** Writes the `starting` entry of the current child; returns the state module. */
  async #record(plan: Plan, session: Session): Promise<typeof import("../state/servers.ts")> {
    const [state, connect, proc] = await Promise.all([
      import("../state/servers.ts"),
      import("../jupyter/connect.ts"),
      import("../os/proc.ts"),
    ]);
    await state.writeServer(
      session.dir,
      startingRecord(plan, session, this.server!, this.port!, connect, proc),
    );
    this.#recorded = true;
    return state;
  }

  /**
   * Every second: a stop request from `stop` (on any node sharing the home)? Every 30 s: a
   * heartbeat, so that other nodes see the entry as alive. From the first entry on.
   */
  #startHeartbeat(state: typeof import("../state/servers.ts")): void {
    if (this.#heartbeat !== undefined) return;
    const { dir, id } = this.#session!;
    let ticks = 0;
    this.#heartbeat = setInterval(async () => {
      ticks++;
      if (!this.#stopping && await state.stopRequested(dir, id)) {
        this.requestStop(
          `Stop requested by '${
            programName(this.#ctx.self)
          } stop ${id}'; stopping ${this.#title}...`,
        );
      }
      if (ticks % (state.HEARTBEAT_MS / 1000) === 0) await state.touchServer(dir, id);
    }, 1000);
  }

  /** A stop asked for during start-up: wait for it to finish; exit 0. */
  async finishStop(): Promise<number> {
    if (this.server) await (this.#stopping ?? this.server.stop());
    return 0;
  }

  /**
   * The login node the laptop goes through (the scheduler knows it where nothing else says) and
   * whether this node lets SSH in: asked as Jupyter starts, read once it is ready.
   */
  #learnRoute(plan: Plan): Promise<RouteLearning> {
    return import("../jupyter/route.ts").then((m) =>
      m.startRoute({
        host: plan.host,
        ip: plan.ip,
        loginHost: plan.loginHost,
        user: plan.sshUser,
        home: Deno.env.get("HOME"),
      })
    );
  }

  /**
   * The route {@link ServerRun.start} set out to learn once Jupyter was released, waiting at
   * most 5 s more for it (on a machine that is not overloaded it has answered long before
   * Jupyter is ready).
   */
  async route(): Promise<Route> {
    return await (await this.#route!).settle(5000);
  }

  /** Phase 5: records the ready server and prints its URL and tunnels (or the JSON event). */
  async announce(record: ServerRecord, parsed: Parsed, plan: Plan, route: Route): Promise<void> {
    const [state, ready] = await Promise.all([
      import("../state/servers.ts"),
      import("../server/ready.ts"),
    ]);
    const v = parsed.values;
    const { dir, id } = this.#session!;
    const readyOpts = {
      sshConfig: v["ssh-config"] as boolean,
      // In a batch job nobody is at a terminal to press Ctrl-C: the hint names the job instead.
      foreground: Deno.stdin.isTerminal() || !plan.jobId,
      jobId: Deno.stdin.isTerminal() ? undefined : plan.jobId,
      program: programName(this.#ctx.self),
      loginUnknown: route.loginUnknown,
    };
    // Record first (about a millisecond), so that whoever reads the URL can find the entry.
    await state.writeServer(dir, record);
    if (v.json) this.#ctx.out.print(JSON.stringify(ready.readyEvent(record, readyOpts)));
    else this.#ctx.out.print(ready.renderReadyBlock(record, readyOpts));
    if (v.open) this.#openFile = await openBrowser(dir, id, record.url, this.#ctx);
  }

  /**
   * Phase 6: waits until Jupyter exits or is stopped. A stop asked for exits 0; Jupyter
   * ending on its own exits with its status.
   */
  async supervise(plan: Plan, session: Session): Promise<number> {
    const server = this.server!;
    const status = await Promise.race([server.status, ...(this.#stopping ? [this.#stopping] : [])]);
    if (this.#stopping) {
      await this.#stopping;
      return 0;
    }
    const final = await server.reap([], 5000);
    if (!status.success) {
      this.#ctx.out.warn(
        `${plan.title} exited with status ${status.code}; its log: ${session.logPath}`,
      );
    }
    return final.code;
  }

  /** Phase 7, always: nothing of this run is left running or recorded. */
  async close(): Promise<void> {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    if (this.server && !this.server.exited) await (this.#stopping ?? this.server.stop(5000));
    if (this.#recorded && this.#session) {
      const state = await import("../state/servers.ts");
      await state.removeServer(this.#session.dir, this.#session.id);
    }
    if (this.#openFile) await Deno.remove(this.#openFile).catch(() => {});
    (await this.#route)?.cancel();
    for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, this.#onSignal);
  }
}

/**
 * Opens the URL in a browser where one is available. The browser gets a private redirect
 * file, not the URL, so that the token never shows in `ps` (Jupyter's own trick).
 */
async function openBrowser(
  dir: string,
  id: string,
  url: string,
  ctx: Context,
): Promise<string | undefined> {
  const { browserCommands, openWith } = await import("../util/browser.ts");
  // No WSL openers: the browser gets a file of this (Linux) side, which Windows' cannot open.
  const candidates = browserCommands(Deno.env.toObject());
  if (candidates.length === 0) {
    ctx.out.note("No browser here (no DISPLAY or $BROWSER): open the URL above on your laptop.");
    return undefined;
  }
  const { writePrivateFile } = await import("../os/private.ts");
  const file = join(dir, `open-${id}.html`);
  const html = `<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${
    url.replaceAll("&", "&amp;").replaceAll('"', "&quot;")
  }"><a href="${url.replaceAll('"', "&quot;")}">Open Jupyter</a>\n`;
  await writePrivateFile(file, html);
  if (!openWith(candidates, `file://${file}`)) {
    ctx.out.note(
      `Could not start a browser (${candidates.map((c) => shQuote(c[0])).join(", ")}).`,
    );
  }
  return file;
}
