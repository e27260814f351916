/**
 * What `connect` prints on the laptop, as pure functions of what the agent said: the ready
 * block (or its JSON event) and the `--jobs` table.
 * @module
 */

import type { JobLine, ReadyMessage } from "../relay/protocol.ts";
import { formatSlurmDuration } from "../scheduler/time.ts";
import { formatTable } from "../util/table.ts";
import { shQuote } from "../util/shell.ts";

/** What the ready block says besides the agent's message. */
export interface ReadyView {
  /** The URL on the laptop's local port, with the token. */
  readonly url: string;
  /** `--keep`: Ctrl-C leaves the job running. */
  readonly keep: boolean;
  /** `--attach`: this session came back to a job another started; Ctrl-C keeps it. */
  readonly attached?: boolean;
  /** This program as the user types it. */
  readonly program: string;
  /** The login node as the user named it. */
  readonly login: string;
}

/** The block printed once the server answers through the tunnel. */
export function readyBlock(m: ReadyMessage, v: ReadyView): string {
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
  const lines = [
    `${title} is ready ${where}.`,
    "",
    `  ${v.url}`,
    "",
    `Notebook dir on ${m.route === "here" ? m.login : m.node}: ${m.notebookDir}`,
  ];
  if (m.kernel) lines.push(`Default kernel: ${m.kernel}`);
  lines.push(
    ctrlC(m, v, `${v.program} connect ${shQuote(v.login)}`, id),
    "If the connection drops, it is dialled again and the same URL works again.",
  );
  return lines.join("\n") + "\n";
}

/** What Ctrl-C does to the job or server, as the ready block says it. */
function ctrlC(m: ReadyMessage, v: ReadyView, connect: string, id: string): string {
  const what = m.job ? `job ${m.job}` : "the server";
  if (v.keep) {
    return `Ctrl-C ends this session and keeps ${what}; come back with: ` +
      `${connect} --attach ${shQuote(id)}`;
  }
  if (v.attached) {
    return `Ctrl-C ends this session and keeps ${what} (this session came back to it); ` +
      `end it with: ${connect} --cancel ${shQuote(id)}`;
  }
  if (!m.job) return "Ctrl-C ends this session and stops the server (--keep would keep it).";
  return `Ctrl-C ends this session and cancels job ${m.job}, unless another connect session ` +
    "is attached to it then (--keep would keep it).";
}

/** `--json`'s ready event. */
export function readyEvent(
  m: ReadyMessage,
  url: string,
  localPort: number,
): Record<string, unknown> {
  return {
    event: "ready",
    url,
    local_port: localPort,
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
  };
}

/** `--jobs`'s table, one line a row (the jobs list is not empty). */
export function jobsTable(jobs: readonly JobLine[]): string[] {
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
  return formatTable(rows);
}
