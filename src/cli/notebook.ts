/**
 * `legate-jupyter notebook` (and `lab`, see `lab.ts`): start Jupyter on a verified free port
 * with a token this tool made, wait until it is ready, print the URL and the SSH tunnel
 * commands, record it for `servers`/`stop`, and shut it down cleanly with its kernels. This
 * file declares the flags and reads them into a request; the run itself is
 * `src/server/run.ts`.
 * @module
 */

import type { Command, Context } from "./command.ts";
import { programName } from "./program.ts";
import type { FlagSpec, Parsed } from "../util/flag_spec.ts";
import { checkListen } from "../server/listen.ts";
import type { ServerRequest } from "../server/plan.ts";
import { lazy } from "../util/lazy.ts";

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

function describe(app: "notebook" | "lab"): string {
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

/** The request `notebook` or `lab` makes of `src/server/run.ts`; a bad `--port`/`--ip` throws. */
function readRequest(app: "notebook" | "lab", parsed: Parsed, ctx: Context): ServerRequest {
  const v = parsed.values;
  const { port, ip } = checkListen(v);
  return {
    app,
    port,
    ip,
    notebookDir: v["notebook-dir"] as string | undefined,
    jupyter: v.jupyter as string | undefined,
    kernel: v.kernel as string | undefined,
    timeoutS: v.timeout as number,
    verbose: v.verbose as boolean,
    loginHost: v["login-host"] as string | undefined,
    sshUser: v["ssh-user"] as string | undefined,
    sshConfig: v["ssh-config"] as boolean,
    json: v.json as boolean,
    open: v.open as boolean,
    extra: parsed.rest,
    program: programName(ctx.self),
  };
}

async function runServer(app: "notebook" | "lab", parsed: Parsed, ctx: Context): Promise<number> {
  const request = readRequest(app, parsed, ctx);
  const server = await lazy<typeof import("../server/run.ts")>("server/run.ts");
  return await server.runServer(request, ctx.out);
}
