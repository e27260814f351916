/**
 * Parsers for what Slurm's commands print. Pure functions, tested on recorded output.
 * @module
 */

import { parseSlurmDuration, parseSlurmTimestamp } from "./time.ts";
import {
  compactStatus,
  type JobPhase,
  type JobStatus,
  type Submission,
  warningLines,
} from "./types.ts";

/**
 * The squeue `--format` this tool asks for: id, state, reason, node list, time left, time
 * limit, start time (the `squeue --start` estimate while pending), partition, name. The name
 * comes last because it is the only field that may contain the separator.
 */
export const SQUEUE_FORMAT = "%i|%T|%r|%N|%L|%l|%S|%P|%j";

/** Parses `sbatch --parsable` output: `JOBID` or `JOBID;CLUSTER`; undefined when it is neither. */
export function parseSbatchParsable(stdout: string): { id: string; cluster?: string } | undefined {
  const line = stdout.trim().split("\n").pop()?.trim() ?? "";
  const m = /^(\d+(?:_\d+)?)(?:;(\S+))?$/.exec(line);
  if (!m) return undefined;
  return m[2] ? { id: m[1], cluster: m[2] } : { id: m[1] };
}

/** A submission from sbatch's output, or undefined when stdout holds no job id. */
export function parseSbatchResult(stdout: string, stderr: string): Submission | undefined {
  const parsed = parseSbatchParsable(stdout);
  return parsed && { ...parsed, warnings: warningLines(stderr) };
}

const QUEUED = new Set([
  "PENDING",
  "CONFIGURING",
  "REQUEUED",
  "REQUEUE_HOLD",
  "REQUEUE_FED",
  "RESV_DEL_HOLD",
  "SPECIAL_EXIT",
]);
const RUNNING = new Set([
  "RUNNING",
  "COMPLETING",
  "SUSPENDED",
  "STOPPED",
  "SIGNALING",
  "STAGE_OUT",
  "RESIZING",
]);

/** The phase of a Slurm job state word (`PENDING`, `RUNNING`, `COMPLETED`, `CANCELLED`...). */
export function slurmPhase(state: string): JobPhase {
  const word = state.trim().split(/\s+/)[0].toUpperCase();
  if (QUEUED.has(word)) return "queued";
  if (RUNNING.has(word)) return "running";
  return "ended";
}

/** Parses one line printed with {@link SQUEUE_FORMAT}; undefined for a malformed line. */
export function parseSqueueLine(line: string): JobStatus | undefined {
  const parts = line.split("|");
  if (parts.length < 9) return undefined;
  const [id, state, reason, nodes, left, limit, start, partition] = parts;
  const name = parts.slice(8).join("|");
  if (!/^\d+(?:_\d+)?$/.test(id.trim()) || state.trim() === "") return undefined;
  const opt = (s: string) => {
    const t = s.trim();
    return t === "" || t === "None" || t === "(null)" || t === "N/A" ? undefined : t;
  };
  const phase = slurmPhase(state);
  const status: JobStatus = {
    id: id.trim(),
    state: state.trim(),
    phase,
    reason: opt(reason),
    nodeList: opt(nodes),
    // squeue keeps printing the last figure after the end; it means nothing then.
    timeLeft: phase === "ended" ? undefined : parseSlurmDuration(left),
    timeLimit: parseSlurmDuration(limit),
    startTime: parseSlurmTimestamp(start),
    partition: opt(partition),
    name: name === "" ? undefined : name,
  };
  return compactStatus(status);
}

/** Parses squeue output printed with {@link SQUEUE_FORMAT} and `-h`, keyed by job id. */
export function parseSqueue(stdout: string): Map<string, JobStatus> {
  const jobs = new Map<string, JobStatus>();
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const job = parseSqueueLine(line);
    if (job && !jobs.has(job.id)) jobs.set(job.id, job);
  }
  return jobs;
}

/** Whether squeue's stderr says it does not know the job (finished more than MinJobAge ago). */
export function isUnknownJobError(stderr: string): boolean {
  return /Invalid job id specified/i.test(stderr);
}
