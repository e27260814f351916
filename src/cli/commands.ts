/**
 * The command table: names, one-line summaries, and lazy loaders. Only the chosen command's
 * module is ever imported, so a short-lived `list` never pays for `notebook`'s code.
 * @module
 */

import type { Command } from "./command.ts";

/** One entry of the table. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<{ command: Command }>;
}

/** Every command, in the order `help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "install",
    summary: "Install a Jupyter kernel configured for Legate (the default command)",
    load: () => import("./install.ts"),
  },
  {
    name: "list",
    summary: "List installed kernels, with each Legate kernel's configuration",
    load: () => import("./list.ts"),
  },
  {
    name: "info",
    summary: "Show a Legate kernel's configuration, as %legate_info does",
    load: () => import("./info.ts"),
  },
  {
    name: "detect",
    summary: "Show the GPUs, CPUs, NUMA domains and memory this node and job provide",
    load: () => import("./detect.ts"),
  },
  {
    name: "remove",
    summary: "Remove kernels by name",
    load: () => import("./remove.ts"),
  },
  {
    name: "notebook",
    summary: "Start Jupyter Notebook with a known URL, token and SSH tunnel",
    load: () => import("./notebook.ts"),
  },
  {
    name: "lab",
    summary: "Start JupyterLab with a known URL, token and SSH tunnel",
    load: () => import("./lab.ts"),
  },
  {
    name: "servers",
    summary: "List the Jupyter servers this tool started, and forget dead ones",
    load: () => import("./servers.ts"),
  },
  {
    name: "stop",
    summary: "Stop Jupyter servers this tool started (by id, or --all)",
    load: () => import("./stop.ts"),
  },
  {
    name: "submit",
    summary: "Run Jupyter on a compute node through the batch scheduler; print URL and tunnel",
    load: () => import("./submit.ts"),
  },
  {
    name: "jobs",
    summary: "List the Jupyter jobs this tool submitted: state, node, time left, URL, tunnel",
    load: () => import("./jobs.ts"),
  },
  {
    name: "cancel",
    summary: "Cancel Jupyter jobs this tool submitted (by job id, or --all)",
    load: () => import("./cancel.ts"),
  },
  {
    name: "connect",
    summary: "From your laptop: run Jupyter on a compute node and open it here, in one command",
    load: () => import("./connect.ts"),
  },
  {
    name: "completions",
    summary: "Print a shell completion script for bash, zsh or fish",
    load: () => import("./completions.ts"),
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
    load: () => import("./agent.ts"),
  },
  {
    name: "relay",
    summary: "(internal) The compute-node side of 'connect'",
    load: () => import("./relay.ts"),
  },
];

/** Finds a command by name, hidden ones included. */
export function findCommand(name: string): CommandEntry | undefined {
  return COMMANDS.find((c) => c.name === name) ?? HIDDEN_COMMANDS.find((c) => c.name === name);
}
