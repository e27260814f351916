/**
 * Runs one scheduler command (sbatch, squeue, qsub...) to completion and collects its output.
 * The only place in this area that starts processes.
 * @module
 */

import { Failure } from "../util/errors.ts";
import { startCause, startProblem } from "../util/start_error.ts";
import { type EdgeOptions, SchedulerError } from "./types.ts";

/** What a finished command printed. */
export interface ToolResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const HINTS: Record<string, string> = {
  sbatch: "Slurm",
  squeue: "Slurm",
  scancel: "Slurm",
  qsub: "PBS",
  qstat: "PBS",
  qdel: "PBS",
  bsub: "LSF",
  bjobs: "LSF",
  bkill: "LSF",
  scontrol: "Slurm",
  sacct: "Slurm",
  srun: "Slurm",
};

/**
 * Runs `command args`, with `stdin` written to it when given. A missing program becomes a
 * {@link Failure} that says which scheduler it belongs to and how to choose another; one that
 * cannot start for another reason (a working directory that cannot be entered, a program that
 * is not executable) a {@link Failure} that says so.
 */
export async function runTool(
  command: string,
  args: readonly string[],
  options: EdgeOptions & { stdin?: string } = {},
): Promise<ToolResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args: [...args],
      env: options.env,
      cwd: options.cwd,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
      signal: options.signal,
    }).spawn();
  } catch (e) {
    const cause = startCause(e, options.cwd, options.env?.PATH);
    if (cause?.kind === "missing") {
      const kind = HINTS[command] ? `a ${HINTS[command]}` : "the";
      throw new Failure(
        `'${command}' was not found on PATH: run this on a login node of ${kind} cluster, ` +
          "or choose the cluster's scheduler with --scheduler slurm|pbs|lsf",
      );
    }
    if (cause) throw new Failure(startProblem(command, cause)!);
    throw e;
  }
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    // A command that exits without reading its stdin closes the pipe; its status tells why.
    await writer.write(new TextEncoder().encode(options.stdin)).catch(() => {});
    await writer.close().catch(() => {});
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Like {@link runTool}, for a status or cancel command that may fail only because a job is
 * already gone (`isGone` reads its stderr): any other failure is a {@link SchedulerError}.
 */
export async function runAllowingGone(
  command: string,
  args: readonly string[],
  isGone: (stderr: string) => boolean,
  options: EdgeOptions = {},
): Promise<ToolResult> {
  const r = await runTool(command, args, options);
  if (r.code !== 0 && !isGone(r.stderr)) {
    throw new SchedulerError(command, r.code, r.stderr, r.stdout);
  }
  return r;
}
