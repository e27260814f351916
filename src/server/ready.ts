/**
 * The "server is ready" block and its JSON twin. Pure: `notebook` prints them on the node
 * where Jupyter runs, and the Slurm `submit` prints the same block on the login node from the
 * state entry the compute node wrote.
 * @module
 */

import type { ServerRecord } from "../state/servers.ts";
import { appTitle, type JupyterApp } from "../jupyter/argv.ts";
import {
  attachCommand,
  serverUrl,
  sshAlias,
  sshConfigSnippet,
  type TunnelCommand,
  tunnelCommands,
  tunnelProblem,
  type TunnelTarget,
  withToken,
} from "../jupyter/connect.ts";

/** Options for {@link renderReadyBlock} and {@link readyEvent}. */
export interface ReadyOptions {
  /** The login node the laptop reaches (default: the record's `loginHost`). */
  readonly loginHost?: string;
  /** The cluster user name (default: the record's `sshUser`). */
  readonly sshUser?: string;
  /** The port on the laptop (default: the server's port). */
  readonly localPort?: number;
  /** Add the `~/.ssh/config` snippet. */
  readonly sshConfig?: boolean;
  /** The server is supervised by this terminal (adds "Ctrl-C here" to the stop hint). */
  readonly foreground?: boolean;
  /** How to invoke this program in the stop hint (default `legate-jupyter`). */
  readonly program?: string;
  /** The batch job the server runs in: the stop hint then says how to end the job. */
  readonly jobId?: string;
  /** The server runs on a compute node and nothing named its login node (a string: why). */
  readonly loginUnknown?: boolean | string;
}

/** The tunnel target of a recorded server. */
export function tunnelTarget(r: ServerRecord, o: ReadyOptions = {}): TunnelTarget {
  return {
    host: r.host,
    port: r.port,
    ip: r.ip,
    localPort: o.localPort,
    loginHost: o.loginHost ?? r.loginHost,
    user: o.sshUser ?? r.sshUser,
    loginUnknown: o.loginUnknown,
    sshRefused: r.sshRefused,
    jobId: r.jobId,
  };
}

/** The URL to open on the laptop once the tunnel is up. */
export function laptopUrl(r: ServerRecord, o: ReadyOptions = {}): string {
  const path = new URL(r.baseUrl).pathname;
  return withToken(serverUrl("localhost", o.localPort ?? r.port, path), r.token);
}

/**
 * The block printed when a server is ready. Call it with the state entry; for a server on
 * another node (the Slurm case) pass that login node as `loginHost`:
 * `renderReadyBlock(record, { loginHost: "login1", sshUser: "me" })`.
 */
export function renderReadyBlock(r: ServerRecord, o: ReadyOptions = {}): string {
  const t = tunnelTarget(r, o);
  const program = o.program ?? "legate-jupyter";
  const lines = [
    `${readyTitle(r)} is ready on ${r.host} (port ${r.port}, pid ${r.pid}, id ${r.id}).`,
    "",
    `  URL on ${r.host}:  ${r.url}`,
    `  Notebook dir:  ${r.notebookDir}`,
  ];
  if (r.kernel) lines.push(`  Default kernel:  ${r.kernel}`);
  lines.push(`  Jupyter log:  ${r.logPath}`);
  const commands = tunnelCommands(t);
  const problem = tunnelProblem(t);
  if (problem) {
    lines.push("", ...wrap(`From your laptop: ${problem}`, 96));
    const attach = attachCommand(t);
    if (attach) lines.push("", "Or, best:", `  # ${attach.label}`, `  ${attach.command}`);
  } else {
    lines.push("", "From your laptop, open the tunnel with one of:");
    for (const c of commands) lines.push(`  # ${c.label}`, `  ${c.command}`);
    lines.push(`then browse to ${laptopUrl(r, o)}`);
  }
  if (o.sshConfig && !problem) {
    lines.push(
      "",
      `Or add this to ~/.ssh/config on your laptop and run: ssh -N ${sshAlias(t)}`,
      "",
      ...sshConfigSnippet(t).trimEnd().split("\n").map((l) => `  ${l}`),
    );
  }
  lines.push(
    "",
    o.jobId
      ? `It runs in job ${o.jobId}, which ends when the server stops. ` +
        `End both with: ${program} cancel ${o.jobId}`
      : `Stop it with ${o.foreground ? "Ctrl-C here, or " : ""}${program} stop ${r.id}`,
  );
  return lines.join("\n") + "\n";
}

/**
 * What runs, with both versions when they differ: "JupyterLab 4.0.11 on Jupyter Server 2.15.0",
 * "Jupyter Notebook 6.4.12" (notebook ≤ 6 is its own server), "Jupyter Server 2.15.0".
 */
export function readyTitle(r: ServerRecord): string {
  const app = r.app as JupyterApp;
  const title = `${appTitle(app)}${r.version ? " " + r.version : ""}`;
  return r.serverVersion && app !== "server"
    ? `${title} on Jupyter Server ${r.serverVersion}`
    : title;
}

/** The ready event for `--json`: one object, printed as one line. */
export interface ReadyEvent {
  readonly event: "ready";
  readonly id: string;
  readonly app: string;
  /** The application's own version (JupyterLab's for `lab`, Notebook's for `notebook`). */
  readonly version?: string;
  /** jupyter_server's version, when the application runs on it. */
  readonly server_version?: string;
  readonly url: string;
  readonly laptop_url: string;
  readonly token: string;
  readonly host: string;
  readonly ip: string;
  readonly port: number;
  readonly pid: number;
  readonly notebook_dir: string;
  readonly kernel: string | null;
  readonly log: string;
  readonly started_at: string;
  readonly tunnel: TunnelCommand[];
  /** Why `tunnel` is empty and what to do instead; null when it is not. */
  readonly tunnel_problem: string | null;
  /** Where `tunnel` is empty for a server in a job: the `connect --attach` that reaches it. */
  readonly attach: TunnelCommand | null;
  readonly ssh_config: string | null;
}

/** The `--json` ready event of a recorded server. */
export function readyEvent(r: ServerRecord, o: ReadyOptions = {}): ReadyEvent {
  const t = tunnelTarget(r, o);
  return {
    event: "ready",
    id: r.id,
    app: r.app,
    version: r.version,
    server_version: r.serverVersion,
    url: r.url,
    laptop_url: laptopUrl(r, o),
    token: r.token,
    host: r.host,
    ip: r.ip,
    port: r.port,
    pid: r.pid,
    notebook_dir: r.notebookDir,
    kernel: r.kernel ?? null,
    log: r.logPath,
    started_at: r.startedAt,
    tunnel: tunnelCommands(t),
    tunnel_problem: tunnelProblem(t) ?? null,
    attach: attachCommand(t) ?? null,
    ssh_config: tunnelProblem(t) ? null : sshConfigSnippet(t),
  };
}

/** `text` broken into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}
