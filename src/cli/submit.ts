/**
 * `legate-jupyter submit`: write a batch script that runs this program's `notebook` (or
 * `lab`) on a compute node, submit it, follow it through the queue, and print the server's URL
 * and the tunnel through the login node once Jupyter is ready there. This file declares the
 * flags and reads them into a request; the plan is `src/job/plan.ts`, the submission and the
 * wait `src/job/submit.ts`.
 * @module
 */

import type { Command, Context } from "./command.ts";
import { programName } from "./program.ts";
import type { FlagSpec, Parsed } from "../util/flag_spec.ts";
import { SCHEDULER_FLAGS } from "../scheduler/flags.ts";
import { AUTO_KERNEL_NAME, FORWARDED } from "../job/flags.ts";
import { NOTEBOOK_FLAGS } from "./notebook.ts";
import { lazy } from "../util/lazy.ts";

const JOB = "Job";
const SERVER = "Server";

/** `submit`'s flags (`connect` takes most of them and hands them to its agent). */
export const SUBMIT_FLAGS: readonly FlagSpec[] = [
  ...SCHEDULER_FLAGS,
  {
    name: "output",
    type: "string",
    metavar: "PATH",
    complete: "file",
    group: "Scheduler",
    help: "The job's log (default: ~/.local/state/legate-jupyter/logs/job-%j.log); it holds " +
      "the URL with the token, so keep it private",
  },
  ...NOTEBOOK_FLAGS.filter((f) => FORWARDED.includes(f.name) || f.name === "ssh-user").map((f) =>
    f.name === "login-host"
      ? { ...f, help: "Login node your laptop reaches (default: this node, where you submit)" }
      : f
  ),
  {
    name: "lab",
    type: "boolean",
    group: SERVER,
    help: "Start JupyterLab instead of Jupyter Notebook",
  },
  {
    name: "auto-kernel",
    type: "boolean",
    group: SERVER,
    help: `Install or refresh a Legate kernel (--kernel, default ${AUTO_KERNEL_NAME}) sized by ` +
      "'detect' inside the allocation, before Jupyter starts",
  },
  {
    name: "install-arg",
    type: "string",
    multiple: true,
    metavar: "ARG",
    group: SERVER,
    help:
      "With --auto-kernel: pass ARG to 'install' (repeatable), e.g. --install-arg=--module=cuda",
  },
  {
    name: "server-timeout",
    type: "int",
    min: 1,
    metavar: "SECONDS",
    default: 120,
    group: SERVER,
    help: "How long the job waits for Jupyter to be ready before it gives up",
  },
  {
    name: "script-only",
    type: "boolean",
    group: JOB,
    help: "Print the batch script and submit nothing",
  },
  {
    name: "no-wait",
    type: "boolean",
    group: JOB,
    help: "Return once the job is submitted (follow it with 'legate-jupyter jobs')",
  },
  {
    name: "timeout",
    type: "int",
    min: 1,
    metavar: "SECONDS",
    group: JOB,
    help: "Stop waiting after SECONDS (queue time included) and cancel the job, unless --keep",
  },
  {
    name: "keep",
    type: "boolean",
    group: JOB,
    help: "Leave the job queued or running when the wait ends early (--timeout, Ctrl-C)",
  },
  {
    name: "ssh-config",
    type: "boolean",
    group: "Tunnel",
    help: "Also print an ~/.ssh/config snippet",
  },
  {
    name: "json",
    type: "boolean",
    help: "Print the result (ready, or submitted) as one JSON line",
  },
];

/** `legate-jupyter submit`. */
export const command: Command = {
  name: "submit",
  summary: "Run Jupyter on a compute node through the batch scheduler; print URL and tunnel",
  usage: "submit [scheduler options] [server options] [-- jupyter options]",
  description: "Writes a batch script that runs 'legate-jupyter notebook' (or lab) on the " +
    "allocated node, submits it (sbatch, qsub or bsub), and follows it: while it waits, the " +
    "job's state, the reason and the scheduler's start estimate; once it runs, the server's " +
    "URL with its token and the SSH commands that tunnel to the compute node through this " +
    "login node. The scheduler's own error is shown as it printed it. Ctrl-C, a closed " +
    "terminal or --timeout while waiting cancel the job (unless --keep). With --auto-kernel the job first installs " +
    "a Legate kernel sized for its own GPUs, CPUs and memory.",
  flags: SUBMIT_FLAGS,
  allowRest: true,
  examples: [
    "legate-jupyter submit --partition gpu --gpus 4 --time 2:00:00 --auto-kernel",
    "legate-jupyter submit --account proj42 --nodes 2 --gpus 8 --gpu-flag gres --kernel legate-2n",
    "legate-jupyter submit --sbatch-arg=--begin=now+1hour --no-wait",
    "legate-jupyter submit --scheduler pbs --partition workq --script-only > job.sh",
  ],
  run,
};

async function run(parsed: Parsed, ctx: Context): Promise<number> {
  const v = parsed.values;
  const { planJob } = await lazy<typeof import("../job/plan.ts")>("job/plan.ts");
  const p = await planJob(parsed, ctx.self);
  if (v["script-only"]) {
    ctx.out.write(p.script);
    return 0;
  }
  const { submitJob } = await lazy<typeof import("../job/submit.ts")>("job/submit.ts");
  return await submitJob(p, {
    json: v.json as boolean,
    noWait: v["no-wait"] as boolean,
    keep: v.keep as boolean,
    timeoutS: v.timeout as number | undefined,
    serverTimeoutS: (v["server-timeout"] as number | undefined) ?? 120,
    sshConfig: v["ssh-config"] as boolean,
    program: programName(ctx.self),
  }, ctx.out);
}
