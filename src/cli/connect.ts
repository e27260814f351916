/**
 * `legate-jupyter connect [USER@]LOGIN`: on the laptop, one command for the whole session:
 * one SSH connection, the job submitted and followed on the login node, Jupyter reached
 * through a relay inside the job, its URL on a local port. This file declares the flags and
 * reads them into a request; the session itself is `src/connect/session.ts`.
 * @module
 */

import type { Command, Context } from "./command.ts";
import { programName } from "./program.ts";
import type { FlagSpec, Parsed } from "../util/flag_spec.ts";
import { UsageError } from "../util/errors.ts";
import { SUBMIT_FLAGS } from "./submit.ts";
import type { Mode, Request } from "../connect/session.ts";
import { lazy } from "../util/lazy.ts";

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
    name: "remote-timeout",
    type: "int",
    min: 1,
    metavar: "S",
    default: 30,
    group: CONNECT,
    help: "Seconds legate-jupyter on LOGIN may take to answer once ssh has logged you in " +
      "(a login file that waits for input, or prints without end, is reported then)",
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
    "and waits until it has ended, unless another session is attached to it (--keep keeps " +
    "it; a session that came back with --attach keeps it too); a dropped connection is " +
    "dialled again by itself and the same URL works again; a requeued job is waited for and " +
    "its new URL printed; --attach comes back to a running job, --jobs lists them. Needs " +
    "legate-jupyter of the same version on LOGIN.",
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

/** What the user asked for, checked before anything is dialled. Throws {@link UsageError}. */
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
  const common = {
    destination,
    mode,
    keep: v.keep === true,
    json: v.json === true,
    openBrowser: !v["no-browser"],
    localPort: v["local-port"] as number | undefined,
    remoteCommand: v["remote-command"] as string | undefined,
    remoteTimeoutS: (v["remote-timeout"] as number | undefined) ?? 30,
    via,
    sshOptions: (v["ssh-option"] as string[] | undefined) ?? [],
  };
  if (mode === "start") {
    const message = { type: "start", args: startArgs(parsed), here: v.here === true, via };
    return { ...common, message };
  }
  if (mode === "attach") return { ...common, id, message: { type: "attach", id, via } };
  if (mode === "jobs") return { ...common, message: { type: "jobs" } };
  return { ...common, id, message: { type: "cancel", id } };
}

/** The `submit` arguments the agent gets, as the user gave them. */
function startArgs(parsed: Parsed): string[] {
  const args: string[] = [];
  for (const name of parsed.given) {
    if (!FORWARDED.has(name)) continue;
    const value = parsed.values[name];
    if (Array.isArray(value)) { for (const x of value) args.push(`--${name}=${x}`); }
    else args.push(value === true ? `--${name}` : `--${name}=${value}`);
  }
  if (parsed.rest.length) args.push("--", ...parsed.rest);
  return args;
}

async function run(parsed: Parsed, ctx: Context): Promise<number> {
  const request = readRequest(parsed);
  const { runSession } = await lazy<typeof import("../connect/session.ts")>(
    "connect/session.ts",
  );
  return await runSession(request, ctx.out, programName(ctx.self));
}
