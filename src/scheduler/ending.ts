/**
 * Why a running Jupyter job ended, in one line: the time limit, a cancel from outside, a node
 * that failed, or Jupyter itself exiting (its status, read from the job's log, where the job's
 * `notebook` wrote it) — with the log's path where it says more. What `connect` tells the
 * laptop when the job ends under a session.
 * @module
 */

import type { JobStatus } from "./types.ts";
import { humanDuration } from "./time.ts";

/** How Jupyter ended, as the job's `notebook` wrote it in the job's log. */
export interface JupyterExit {
  /** "Jupyter Notebook", "JupyterLab"... */
  readonly title: string;
  readonly status: number;
}

/** What is known about a job that has ended. */
export interface EndFacts {
  readonly id: string;
  /** The scheduler's last word on it; absent once it has forgotten the job. */
  readonly status?: JobStatus;
  /** The node it ran on. */
  readonly node?: string;
  /** The job's log, as this host sees it. */
  readonly logPath?: string;
  readonly jupyter?: JupyterExit;
}

const SIGNALS: Readonly<Record<number, string>> = {
  1: "SIGHUP",
  2: "SIGINT",
  6: "SIGABRT",
  9: "SIGKILL",
  11: "SIGSEGV",
  15: "SIGTERM",
};

/** `137` → "killed by SIGKILL (kill -9, or the out-of-memory killer)"; undefined below 129. */
function signalWords(status: number): string | undefined {
  if (status <= 128 || status > 128 + 64) return undefined;
  const name = SIGNALS[status - 128] ?? `signal ${status - 128}`;
  return status === 137
    ? `killed by ${name} (kill -9, or the out-of-memory killer)`
    : `killed by ${name}`;
}

/** The job's state and the reason Slurm gives, e.g. `FAILED (NonZeroExitCode)`. */
function stateWords(s: JobStatus): string {
  return `${s.state}${s.reason && s.reason !== "None" ? ` (${s.reason})` : ""}`;
}

/** One line saying why job `f.id` ended, its cause first. Pure. */
export function describeEnd(f: EndFacts): string {
  const s = f.status;
  const log = f.logPath ? `; the job's log: ${f.logPath}` : "";
  const word = s ? s.state.split(/\s+/)[0].toUpperCase() : "";
  switch (word) {
    case "TIMEOUT":
      return `job ${f.id} reached its time limit${
        s!.timeLimit !== undefined && s!.timeLimit !== Infinity
          ? ` of ${humanDuration(s!.timeLimit)}`
          : ""
      } (TIMEOUT)`;
    case "CANCELLED":
      // Slurm keeps the reason the job last waited for: it says nothing of the cancel.
      return `job ${f.id} was cancelled outside this session (scancel, another connect ` +
        "session or an administrator; the scheduler does not say which)";
    case "NODE_FAIL":
      return `job ${f.id} ended because its node${f.node ? ` ${f.node}` : ""} failed ` +
        `(NODE_FAIL)${log}`;
    case "PREEMPTED":
      return `job ${f.id} was preempted by the scheduler (PREEMPTED)`;
    case "OUT_OF_MEMORY":
      return `job ${f.id} ran out of memory (OUT_OF_MEMORY)${log}`;
    case "BOOT_FAIL":
      return `job ${f.id} ended: its node failed to boot (BOOT_FAIL)`;
    case "DEADLINE":
      return `job ${f.id} reached its deadline (DEADLINE)`;
  }
  // Otherwise (FAILED, COMPLETED, or forgotten) Jupyter's own end says what happened.
  return jupyterEnd(f, log) ??
    (s
      ? `job ${f.id} ended ${stateWords(s)}${log}`
      : `job ${f.id} has ended (the scheduler no longer knows it)${log}`);
}

function jupyterEnd(f: EndFacts, log: string): string | undefined {
  const j = f.jupyter;
  if (!j) return undefined;
  const on = f.node ? ` on ${f.node}` : "";
  const job = `job ${f.id} ${f.status ? `ended ${stateWords(f.status)}` : "has ended"}`;
  if (j.status === 0) {
    return `${j.title}${on} was shut down (from its page, or with 'stop'), and ${job}`;
  }
  const how = signalWords(j.status);
  return `${j.title}${on} exited with status ${j.status}${how ? `, ${how}` : ""}, and ${job}${log}`;
}

/**
 * How Jupyter ended, from the last lines the job's `notebook` wrote in its log ("Jupyter
 * Notebook exited with status 137", or the batch script's own end line); undefined when the log
 * cannot be read or says nothing of it.
 */
export async function jupyterExitFromLog(logPath: string | undefined): Promise<
  JupyterExit | undefined
> {
  if (!logPath) return undefined;
  let text: string;
  try {
    using file = await Deno.open(logPath);
    const size = (await file.stat()).size;
    const start = Math.max(0, size - 64 * 1024);
    await file.seek(start, Deno.SeekMode.Start);
    const buf = new Uint8Array(size - start);
    let off = 0;
    while (off < buf.length) {
      const n = await file.read(buf.subarray(off));
      if (n === null) break;
      off += n;
    }
    text = new TextDecoder().decode(buf.subarray(0, off));
  } catch {
    return undefined;
  }
  return parseJupyterExit(text);
}

/** The last "TITLE exited with status N" or job end line in `text` (a job's log). Pure. */
export function parseJupyterExit(text: string): JupyterExit | undefined {
  let found: JupyterExit | undefined;
  const ours = /^legate-jupyter: (?:warning: )?(Jupyter[\w ]*?) exited with status (\d+)/gm;
  for (const m of text.matchAll(ours)) found = { title: m[1], status: Number(m[2]) };
  if (found) return found;
  const end = /^legate-jupyter: job \S+ ended .* with status (\d+)$/gm;
  for (const m of text.matchAll(end)) found = { title: "Jupyter", status: Number(m[1]) };
  return found;
}
