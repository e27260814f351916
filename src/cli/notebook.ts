/**
 * `legate-jupyter notebook` (and `lab`, see `lab.ts`): start Jupyter on a verified free port
 * with a token this tool made, wait until it is ready, print the URL and the SSH tunnel
 * commands, record it for `servers`/`stop`, and shut it down cleanly with its kernels.
 * @module
 */

import { join } from "../util/path.ts";
import { type Command, type Context, programName, STOP_SIGNALS } from "./command.ts";
import type { FlagSpec, Parsed } from "./flags.ts";
import { Failure, UsageError } from "./errors.ts";
import type { JupyterApp } from "../jupyter/argv.ts";
import type { JupyterServer, StartResult } from "../jupyter/server.ts";
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
    `stops the server and its kernels. Arguments after -- go to Jupyter unchanged.`;
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

async function runServer(app: "notebook" | "lab", parsed: Parsed, ctx: Context): Promise<number> {
  const v = parsed.values;
  const { port, ip } = checkListen(v);
  const notebookDir = await resolveNotebookDir(v["notebook-dir"] as string | undefined);

  // Heavy modules only once the command really runs.
  const [paths, store, find, argvMod, connect, ports, serverMod, state, ready, logparse, proc] =
    await Promise
      .all([
        import("../kernelspec/paths.ts"),
        import("../kernelspec/store.ts"),
        import("../jupyter/find.ts"),
        import("../jupyter/argv.ts"),
        import("../jupyter/connect.ts"),
        import("../jupyter/ports.ts"),
        import("../jupyter/server.ts"),
        import("../state/servers.ts"),
        import("../jupyter/ready.ts"),
        import("../jupyter/logparse.ts"),
        import("../jupyter/process.ts"),
      ]);
  const { tail, parseServerLog } = logparse;

  const pathEnv = paths.currentPathEnv();
  const kernelDirs = paths.kernelSearchDirs(pathEnv);
  const kernel = v.kernel as string | undefined;
  if (kernel !== undefined) {
    if (!store.KERNEL_NAME.test(kernel)) {
      throw new UsageError(
        `--kernel '${kernel}' is not a kernel name (letters, digits, '-', '.', '_'); ` +
          `see 'legate-jupyter list'`,
      );
    }
    if (!store.findKernel(kernelDirs, kernel)) {
      ctx.out.warn(
        `kernel '${kernel}' is not installed (searched ${kernelDirs.join(", ")}); Jupyter will ` +
          `fall back to its own default. Install it with 'legate-jupyter install --name ${kernel}'`,
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
  const jcmd = found.command;

  if (port !== undefined) {
    const problem = ports.portProblem(ip, port);
    if (problem) {
      throw new Failure(
        `${problem}; choose another with --port, or leave --port out and a free one is chosen`,
      );
    }
  }

  const vars = Deno.env.toObject();
  const host = Deno.hostname();
  const loginHost = (v["login-host"] as string | undefined) ?? batchSubmitHost(vars);
  const jobId = batchJobId(vars);
  const sshUser = (v["ssh-user"] as string | undefined) ?? vars.USER ?? vars.LOGNAME;
  const dir = await state.ensureStateDir(state.currentStateDir());
  const id = state.newServerId();
  const logPath = join(state.logsDir(dir), `${id}.log`);
  const runtimeDir = paths.jupyterRuntimeDir(pathEnv);
  const token = connect.generateToken();
  // Configuration this tool adds (Notebook 6 on jupyter_client 8: see jupyter/config.ts).
  const jconfig = await import("../jupyter/config.ts");
  await jconfig.ensureConfig(jcmd.app, dir);
  const env: Record<string, string> = {
    ...vars,
    ...argvMod.jupyterEnv(token),
    ...jconfig.configEnv(jcmd.app, dir, vars),
  };
  const title = argvMod.appTitle(jcmd.app);
  const timeoutMs = (v.timeout as number) * 1000;
  const terminal = Deno.stderr.isTerminal();

  // Signals: installed before Jupyter starts so that an early Ctrl-C also stops it cleanly.
  // The first one asks Jupyter to shut down (SIGTERM, its clean path: nb 6 answers SIGINT with
  // a confirmation prompt, and dies on SIGHUP without stopping its kernels); a second one
  // kills it.
  let server: JupyterServer | undefined;
  let stopping: Promise<Deno.CommandStatus> | undefined;
  let signals = 0;
  let interruptedBeforeReady = false;
  const requestStop = (why: string) => {
    if (!server) return;
    if (!stopping) {
      if (why) ctx.out.note(why);
      stopping = server.stop(15_000);
    } else {
      server.signal("SIGKILL");
    }
  };
  const onSignal = () => {
    signals++;
    interruptedBeforeReady = true;
    requestStop(signals === 1 ? `Stopping ${title} and its kernels...` : "");
  };
  for (const s of STOP_SIGNALS) Deno.addSignalListener(s, onSignal);

  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let openFile: string | undefined;
  let recorded = false;
  try {
    let chosen = port;
    const tried = new Set<number>();
    let result: StartResult | undefined;
    // A port we chose can be taken between our check and Jupyter's bind; then we choose again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const p = port ?? ports.chooseFreePort(ip, tried);
      tried.add(p);
      chosen = p;
      const args = argvMod.jupyterArgs(jcmd, {
        port: p,
        ip,
        notebookDir,
        kernel,
        extra: parsed.rest,
      });
      const started = performance.now();
      try {
        server = await serverMod.JupyterServer.spawn({
          program: jcmd.program,
          args,
          env,
          cwd: notebookDir,
          logPath,
          echo: v.verbose as boolean,
        });
      } catch (e) {
        throw new Failure(`cannot run ${jcmd.program}: ${(e as Error).message}`);
      }
      if (signals > 0) requestStop("");
      const what = `Starting ${title} (${jcmd.program}) on ${host}:${p}`;
      if (terminal) ctx.out.progress(`${what}...`);
      else ctx.out.note(`${what}; log: ${logPath}`);
      let lastShown = 0;
      result = await server.waitReady(
        { runtimeDir, port: p, ip, token, timeoutMs },
        () => {
          if (!terminal) return;
          const s = Math.floor((performance.now() - started) / 1000);
          if (s !== lastShown) {
            lastShown = s;
            ctx.out.progress(`${what}... ${s}s (log: ${logPath})`);
          }
        },
      );
      ctx.out.clearProgress();
      if (result.kind !== "exited" || port !== undefined || stopping) break;
      if (parseServerLog(server.output).portInUse !== p) break;
      await server.reap([], 5000);
      ctx.out.note(`Port ${p} was taken as Jupyter started; choosing another.`);
    }
    if (!server || !result) throw new Failure("Jupyter did not start");

    if (stopping || interruptedBeforeReady) {
      const status = await (stopping ?? server.stop());
      return status.code;
    }
    if (result.kind === "exited") {
      const status = await server.reap([], 5000);
      const out = tail(server.output, 25);
      const log = parseServerLog(server.output);
      const reason = log.portInUse !== undefined
        ? ` (port ${log.portInUse} is in use; choose another with --port, or leave it out)`
        : /Use --allow-root/.test(server.output)
        ? " (it refuses to run as root: add '-- --allow-root' to pass that option to it)"
        : "";
      throw new Failure(
        `${title} exited with status ${status.code} before it was ready${reason}. ` +
          `Its last output:\n${out.replace(/^/gm, "  | ")}\nFull log: ${logPath}`,
      );
    }
    if (result.kind === "timeout") {
      await server.stop(5000);
      throw new Failure(
        `${title} was not ready after ${v.timeout}s, so it was stopped ` +
          `(raise ${
            jobId && !Deno.stdin.isTerminal() ? "submit's --server-timeout" : "--timeout"
          } if the file system is slow). Its last output:\n` +
          `${tail(server.output, 25).replace(/^/gm, "  | ")}\nFull log: ${logPath}`,
      );
    }

    const info = result.info;
    const nodeHost = connect.nodeLocalHost(ip);
    const baseUrl = connect.serverUrl(nodeHost, chosen!, info.base_url ?? "/");
    const { serverVersions } = await import("../jupyter/versions.ts");
    const versions = await serverVersions({ app: jcmd.app, info, log: result.log, baseUrl, token });
    const record = {
      id,
      app: jcmd.app,
      url: connect.withToken(baseUrl, token),
      baseUrl,
      token,
      port: chosen!,
      ip,
      host,
      pid: info.pid ?? server.pid,
      pidStart: info.pid && info.pid !== server.pid
        ? proc.procInfo(info.pid)?.start
        : server.pidStart,
      supervisorPid: Deno.pid,
      supervisorStart: proc.procInfo(Deno.pid)?.start,
      startedAt: new Date().toISOString(),
      kernel,
      logPath,
      notebookDir,
      jupyter: jcmd.program,
      version: versions.version,
      serverVersion: versions.serverVersion,
      loginHost,
      sshUser,
      jobId,
    };
    const readyOpts = {
      sshConfig: v["ssh-config"] as boolean,
      // In a batch job nobody is at a terminal to press Ctrl-C: the hint names the job instead.
      foreground: Deno.stdin.isTerminal() || !jobId,
      jobId: Deno.stdin.isTerminal() ? undefined : jobId,
      program: programName(ctx.self),
    };
    // Record first (about a millisecond), so that whoever reads the URL can find the entry.
    await state.writeServer(dir, record);
    recorded = true;
    if (v.json) ctx.out.print(JSON.stringify(ready.readyEvent(record, readyOpts)));
    else ctx.out.print(ready.renderReadyBlock(record, readyOpts));

    if (v.open) openFile = await openBrowser(dir, id, record.url, ctx);

    // Every second: a stop request from `stop` on another node? Every 30 s: a heartbeat, so
    // that other nodes see the entry as alive.
    let ticks = 0;
    heartbeat = setInterval(async () => {
      ticks++;
      if (!stopping && await state.stopRequested(dir, id)) {
        requestStop(`Stop requested by 'legate-jupyter stop ${id}'; stopping ${title}...`);
      }
      if (ticks % (state.HEARTBEAT_MS / 1000) === 0) await state.touchServer(dir, id);
    }, 1000);

    const status = await Promise.race([server.status, ...(stopping ? [stopping] : [])]);
    const final = stopping ? await stopping : await server.reap([], 5000);
    if (!stopping && !status.success) {
      ctx.out.warn(`${title} exited with status ${status.code}; its log: ${logPath}`);
    }
    return final.code;
  } finally {
    if (heartbeat !== undefined) clearInterval(heartbeat);
    if (server && !server.exited) await (stopping ?? server.stop(5000));
    if (recorded) await state.removeServer(dir, id);
    if (openFile) await Deno.remove(openFile).catch(() => {});
    for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, onSignal);
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
  const vars = Deno.env.toObject();
  const candidates: string[][] = [];
  for (const b of (vars.BROWSER ?? "").split(":").filter(Boolean)) candidates.push([b]);
  if (Deno.build.os === "darwin") candidates.push(["open"]);
  else if (vars.DISPLAY || vars.WAYLAND_DISPLAY) candidates.push(["xdg-open"]);
  if (candidates.length === 0) {
    ctx.out.note("No browser here (no DISPLAY or $BROWSER): open the URL above on your laptop.");
    return undefined;
  }
  const { writePrivateFile } = await import("../state/servers.ts");
  const file = join(dir, `open-${id}.html`);
  const html = `<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${
    url.replaceAll("&", "&amp;").replaceAll('"', "&quot;")
  }"><a href="${url.replaceAll('"', "&quot;")}">Open Jupyter</a>\n`;
  await writePrivateFile(file, html);
  for (const argv of candidates) {
    try {
      const child = new Deno.Command(argv[0], {
        args: [...argv.slice(1), `file://${file}`],
        stdin: "null",
        stdout: "null",
        stderr: "null",
        detached: true,
      }).spawn();
      child.unref();
      return file;
    } catch {
      // Not installed: try the next one.
    }
  }
  ctx.out.note(`Could not start a browser (${candidates.map((c) => shQuote(c[0])).join(", ")}).`);
  return file;
}
