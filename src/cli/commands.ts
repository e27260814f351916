/**
 * The command table: names, one-line summaries, and lazy loaders. Only the chosen command's
 * module is ever loaded (through `src/util/lazy.ts`: `deno run` would load every module a
 * literal `import()` names), so a short-lived `list` never pays for `notebook`'s code.
 * @module
 */

import type { CommandEntry } from "./command.ts";
import { lazy } from "../util/lazy.ts";

/** Every command, in the order `help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "install",
    summary: "Install a Jupyter kernel configured for Legate (the default command)",
    load: () => lazy<typeof import("./install.ts")>("cli/install.ts"),
  },
  {
    name: "list",
    summary: "List installed kernels, with each Legate kernel's configuration",
    load: () => lazy<typeof import("./list.ts")>("cli/list.ts"),
  },
  {
    name: "info",
    summary: "Show a Legate kernel's configuration, as %legate_info does",
    load: () => lazy<typeof import("./info.ts")>("cli/info.ts"),
  },
  {
    name: "detect",
    summary: "Show the GPUs, CPUs, NUMA domains and memory this node and job provide",
    load: () => lazy<typeof import("./detect.ts")>("cli/detect.ts"),
  },
  {
    name: "remove",
    summary: "Remove kernels by name",
    load: () => lazy<typeof import("./remove.ts")>("cli/remove.ts"),
  },
  {
    name: "notebook",
    summary: "Start Jupyter Notebook with a known URL, token and SSH tunnel",
    load: () => lazy<typeof import("./notebook.ts")>("cli/notebook.ts"),
  },
  {
    name: "lab",
    summary: "Start JupyterLab with a known URL, token and SSH tunnel",
    load: () => lazy<typeof import("./lab.ts")>("cli/lab.ts"),
  },
  {
    name: "servers",
    summary: "List the Jupyter servers this tool started, and forget dead ones",
    load: () => lazy<typeof import("./servers.ts")>("cli/servers.ts"),
  },
  {
    name: "stop",
    summary: "Stop Jupyter servers this tool started (by id, or --all)",
    load: () => lazy<typeof import("./stop.ts")>("cli/stop.ts"),
  },
  {
    name: "submit",
    summary: "Run Jupyter on a compute node through the batch scheduler; print URL and tunnel",
    load: () => lazy<typeof import("./submit.ts")>("cli/submit.ts"),
  },
  {
    name: "jobs",
    summary: "List the Jupyter jobs this tool submitted: state, node, time left, URL, tunnel",
    load: () => lazy<typeof import("./jobs.ts")>("cli/jobs.ts"),
  },
  {
    name: "cancel",
    summary: "Cancel Jupyter jobs this tool submitted (by job id, or --all)",
    load: () => lazy<typeof import("./cancel.ts")>("cli/cancel.ts"),
  },
  {
    name: "connect",
    summary: "From your laptop: run Jupyter on a compute node and open it here, in one command",
    load: () => lazy<typeof import("./connect.ts")>("cli/connect.ts"),
  },
  {
    name: "completions",
    summary: "Print a shell completion script for bash, zsh or fish",
    load: () => lazy<typeof import("./completions.ts")>("cli/completions.ts"),
  },
];

/**
 * Commands that `connect` starts on the far side of its SSH connection and of the job: they
 * speak its framed protocol on stdin/stdout, not to a person, so they are left out of help,
 * completion and did-you-mean hints. `agent` runs on the login node (it submits, follows and
 * cancels the job and relays the browser's connections); `relay` runs inside the job, on the
 * node where Jupyter listens, and dials Jupyter's loopback port for each connection.
 */
export const HIDDEN_COMMANDS: readonly CommandEntry[] = [
  {
    name: "agent",
    summary: "(internal) The login-node side of 'connect'",
    load: () => lazy<typeof import("./agent.ts")>("cli/agent.ts"),
  },
  {
    name: "relay",
    summary: "(internal) The compute-node side of 'connect'",
    load: () => lazy<typeof import("./relay.ts")>("cli/relay.ts"),
  },
];

/** Finds a command by name, hidden ones included. */
export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name) ?? HIDDEN_COMMANDS.find((c) => c.name === name);
}
