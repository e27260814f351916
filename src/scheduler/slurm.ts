/**
 * Slurm's process edge: `sbatch`, `squeue` and `scancel` run with `Deno.Command`, their
 * output parsed by `slurm_parse.ts`. Errors are Slurm's own words ({@link SchedulerError}).
 * @module
 */

import { runTool } from "./exec.ts";
import { isUnknownJobError, parseSbatchResult, parseSqueue, SQUEUE_FORMAT } from "./slurm_parse.ts";
import {
  type EdgeOptions,
  type JobStatus,
  type Scheduler,
  SchedulerError,
  type Submission,
} from "./types.ts";

/**
 * Submits `script` with `sbatch --parsable` (the script on stdin; `args` go before it and
 * override its `#SBATCH` lines). Throws {@link SchedulerError} with sbatch's stderr verbatim.
 */
export async function sbatch(
  script: string,
  options: EdgeOptions & { args?: readonly string[] } = {},
): Promise<Submission> {
  const r = await runTool("sbatch", ["--parsable", ...(options.args ?? [])], {
    ...options,
    stdin: script,
  });
  if (r.code !== 0) throw new SchedulerError("sbatch", r.code, r.stderr, r.stdout);
  const sub = parseSbatchResult(r.stdout, r.stderr);
  if (!sub) {
    throw new SchedulerError(
      "sbatch",
      r.code,
      `sbatch printed no job id: ${JSON.stringify(r.stdout.trim())}${
        r.stderr.trim() ? `\n${r.stderr.trim()}` : ""
      }`,
    );
  }
  return sub;
}

async function squeueOnce(ids: readonly string[], options: EdgeOptions) {
  return await runTool(
    "squeue",
    ["-h", "-t", "all", "-j", ids.join(","), "-o", SQUEUE_FORMAT],
    options,
  );
}

/**
 * The status of each of `ids` (any state, including COMPLETED/CANCELLED for MinJobAge after
 * the end); a job Slurm has forgotten is absent from the map.
 */
export async function squeue(
  ids: readonly string[],
  options: EdgeOptions = {},
): Promise<Map<string, JobStatus>> {
  if (ids.length === 0) return new Map();
  const r = await squeueOnce(ids, options);
  if (r.code === 0) return parseSqueue(r.stdout);
  if (!isUnknownJobError(r.stderr)) throw new SchedulerError("squeue", r.code, r.stderr, r.stdout);
  if (ids.length === 1) return new Map();
  // One forgotten id fails the whole query: ask for each job on its own.
  const found = new Map<string, JobStatus>();
  for (const part of await Promise.all(ids.map((id) => squeue([id], options)))) {
    for (const [id, job] of part) found.set(id, job);
  }
  return found;
}

/** The status of job `id`, or undefined once Slurm has forgotten it. */
export async function jobStatus(
  id: string,
  options: EdgeOptions = {},
): Promise<JobStatus | undefined> {
  return (await squeue([id], options)).get(id);
}

/** Cancels `ids` with `scancel` (which is silent, and succeeds, for jobs already gone). */
export async function scancel(ids: readonly string[], options: EdgeOptions = {}): Promise<void> {
  if (ids.length === 0) return;
  const r = await runTool("scancel", [...ids], options);
  if (r.code !== 0) throw new SchedulerError("scancel", r.code, r.stderr, r.stdout);
}

/**
 * Whether a Slurm controller answers here: `sinfo` runs and exits 0 within `timeoutMs`.
 * Returns the reason when it does not (for skipping tests, or a hint before submitting).
 */
export async function slurmAvailable(
  timeoutMs = 5000,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    const r = await runTool("sinfo", ["-h", "-o", "%P %a"], {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (r.code === 0 && r.stdout.trim() !== "") return { ok: true };
    const why = (r.stderr.trim().split("\n").pop() ?? "").trim();
    return { ok: false, reason: `sinfo failed (exit ${r.code}${why ? `: ${why}` : ""})` };
  } catch (e) {
    return { ok: false, reason: `sinfo did not run: ${(e as Error).message}` };
  }
}

/** Slurm as a {@link Scheduler}. */
export const SLURM: Scheduler = {
  name: "slurm",
  submit: sbatch,
  status: squeue,
  cancel: scancel,
};
