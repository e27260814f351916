/**
 * `legate-jupyter submit`: write a batch script that runs this program's `notebook` (or
 * `lab`) on a compute node, submit it, follow it through the queue, and print the server's URL
 * and the tunnel through the login node once Jupyter is ready there.
 *
 * The login node learns that the server is ready from the state entry `notebook` writes on the
 * compute node into the shared home (`src/state/servers.ts`). It looks for that file every
 * 0.1 s from the moment of submission (file events do not cross NFS clients), so the URL
 * appears within a fraction of a second of Jupyter being ready, however slowly the scheduler is
 * asked about the job.
 * @module
 */

import { type Command, type Context, programName } from "./command.ts";
import { STOP_SIGNALS } from "../util/signals.ts";
import type { FlagSpec, Parsed } from "./flags.ts";
import { Failure, UsageError } from "../util/errors.ts";
import { SCHEDULER_FLAGS } from "../scheduler/flags.ts";
import { DEFAULT_JOB_NAME } from "../scheduler/types.ts";
import { NOTEBOOK_FLAGS } from "./notebook.ts";
import { checkListen } from "../server/listen.ts";

const JOB = "Job";
const SERVER = "Server";

/** The kernel name `--auto-kernel` installs when `--kernel` does not name one. */
export const AUTO_KERNEL_NAME = "legate-auto";

// `notebook` flags that `submit` forwards to the job; the others mean something only to a
// terminal that watches the server (--json, --open) or are `submit`'s own (--timeout).
const FORWARDED = ["port", "ip", "notebook-dir", "jupyter", "kernel", "verbose", "login-host"];

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

/** What `submit` will submit: the script and where its job runs and logs. */
export interface Plan {
  readonly scheduler: import("../scheduler/types.ts").SchedulerName;
  readonly script: string;
  readonly kernel?: string;
  readonly workdir: string;
  /** The log path as given to the scheduler (may hold `%j`). */
  readonly output: string;
  readonly jobName: string;
  readonly loginHost: string;
  readonly sshUser?: string;
}

async function resolveDir(given: string | undefined): Promise<string> {
  const dir = given ?? Deno.cwd();
  try {
    if ((await Deno.stat(dir)).isDirectory) return await Deno.realPath(dir);
  } catch {
    // Reported below.
  }
  throw new UsageError(`--notebook-dir ${dir}: no such directory; give an existing directory`);
}

function defaultOutput(scheduler: string, logs: string): string {
  // PBS has no job-id pattern in -o; a directory makes it name the file after the job.
  if (scheduler === "pbs") return `${logs}/`;
  return `${logs}/job-${scheduler === "lsf" ? "%J" : "%j"}.log`;
}

// The log-name patterns `submit` can expand to find the log: Slurm's %j %x %u %A (the job id
// for a job that is not an array) and %%; LSF's %J. Others (%N, %t, %a...) name files that only
// the job knows.
const PATTERNS: Record<string, RegExp> = { slurm: /%(?![jxuA%])/, pbs: /(?!)/, lsf: /%(?!J)/ };

function checkOutputPattern(scheduler: string, output: string): void {
  if (PATTERNS[scheduler].test(output)) {
    const allowed = scheduler === "lsf" ? "%J" : "%j, %x, %u, %A or %%";
    throw new UsageError(
      `--output ${output}: only ${allowed} can stand in a log name that submit follows`,
    );
  }
}

/** The log path of job `id` from the `--output` pattern. */
export function expandOutput(
  output: string,
  job: { id: string; name: string; user?: string },
): string {
  return output.replace(
    /%([jJAxu%])/g,
    (_, c: string) =>
      c === "%" ? "%" : c === "x" ? job.name : c === "u" ? job.user ?? "%u" : job.id,
  );
}

/**
 * For a job of several nodes, the kernel must launch Legate across them: `--nodes`,
 * `--ranks-per-node` and the scheduler's launcher, unless `--install-arg` already says.
 */
function multiNodeArgs(
  scheduler: string,
  v: Readonly<Record<string, unknown>>,
  installArgs: readonly string[],
): string[] {
  const nodes = (v.nodes as number | undefined) ?? 1;
  if (nodes <= 1) return [];
  const given = (flag: string) => installArgs.some((a) => a === flag || a.startsWith(flag + "="));
  const args: string[] = [];
  if (!given("--nodes")) args.push(`--nodes=${nodes}`);
  if (!given("--ranks-per-node")) {
    args.push(`--ranks-per-node=${(v["ntasks-per-node"] as number | undefined) ?? 1}`);
  }
  if (!given("--launcher")) args.push(`--launcher=${scheduler === "slurm" ? "srun" : "mpirun"}`);
  return args;
}

/**
 * Checks `submit`'s flags and writes the batch script; throws {@link UsageError} for bad
 * input. Only `ctx.self` is used from the context (the program the job runs).
 */
export async function plan(parsed: Parsed, ctx: Pick<Context, "self">): Promise<Plan> {
  const v = parsed.values;
  const { detectScheduler } = await import("../scheduler/scheduler.ts");
  const { batchOptionsFromFlags } = await import("../scheduler/flags.ts");
  const { renderBatchScript } = await import("../scheduler/script.ts");
  const { currentStateDir, logsDir } = await import("../state/servers.ts");
  const { KERNEL_NAME } = await import("../kernelspec/store.ts");

  const given = v.scheduler as Plan["scheduler"] | undefined;
  const scheduler = given ?? detectScheduler() ?? (v["script-only"] ? "slurm" : undefined);
  if (!scheduler) {
    throw new Failure(
      "no batch scheduler here: none of sbatch, qsub or bsub is on PATH; run this on the " +
        "cluster's login node, or pass --scheduler slurm|pbs|lsf with --script-only",
    );
  }
  const autoKernel = v["auto-kernel"] as boolean;
  const kernel = (v.kernel as string | undefined) ?? (autoKernel ? AUTO_KERNEL_NAME : undefined);
  if (kernel !== undefined && !KERNEL_NAME.test(kernel)) {
    throw new UsageError(
      `--kernel '${kernel}' is not a kernel name (letters, digits, '-', '.', '_')`,
    );
  }
  const installArgs = (v["install-arg"] as string[] | undefined) ?? [];
  if (installArgs.length && !autoKernel) {
    throw new UsageError("--install-arg only applies with --auto-kernel; add --auto-kernel");
  }
  checkListen(v);
  if (v["no-wait"] && parsed.given.has("timeout")) {
    throw new UsageError("--timeout bounds the wait, and --no-wait does not wait; drop one");
  }
  const workdir = await resolveDir(v["notebook-dir"] as string | undefined);
  const loginHost = (v["login-host"] as string | undefined) ?? Deno.hostname();
  const sshUser = (v["ssh-user"] as string | undefined) ?? Deno.env.get("USER") ??
    Deno.env.get("LOGNAME");

  const nb: string[] = [...ctx.self, v.lab ? "lab" : "notebook"];
  const forward = (name: string, value: unknown) => {
    if (value === undefined || value === false) return;
    nb.push(value === true ? `--${name}` : `--${name}=${value}`);
  };
  for (const name of FORWARDED) {
    if (name === "notebook-dir") forward(name, workdir);
    else if (name === "kernel") forward(name, kernel);
    else if (name === "login-host") forward(name, loginHost);
    else if (parsed.given.has(name)) forward(name, v[name]);
  }
  forward("ssh-user", sshUser);
  if (parsed.given.has("server-timeout")) forward("timeout", v["server-timeout"]);
  if (parsed.rest.length) nb.push("--", ...parsed.rest);

  const preStep = autoKernel
    ? [
      ...ctx.self,
      "install",
      "--auto",
      "--replace",
      "--name",
      kernel!,
      ...multiNodeArgs(scheduler, v, installArgs),
      ...installArgs,
    ]
    : undefined;
  const givenOutput = v.output as string | undefined;
  if (givenOutput !== undefined) checkOutputPattern(scheduler, givenOutput);
  // The scheduler reads a relative log path from the job's directory; so does `submit`.
  const output = givenOutput === undefined
    ? defaultOutput(scheduler, logsDir(currentStateDir()))
    : givenOutput.startsWith("/")
    ? givenOutput
    : `${workdir}/${givenOutput}`;
  const options = {
    ...batchOptionsFromFlags(v, { scheduler, command: nb, preStep, output, workdir }),
    // Slurm (SLURM_UMASK) and PBS (-W umask) can create the log private; LSF cannot.
    umask: scheduler === "lsf" ? undefined : ownUmask(),
  };
  return {
    scheduler,
    script: renderBatchScript(options),
    kernel,
    workdir,
    output,
    jobName: options.jobName ?? DEFAULT_JOB_NAME,
    loginHost,
    sshUser,
  };
}

/** This process's umask (Linux 4.7+ reports it), to restore in the job; undefined if unknown. */
function ownUmask(): string | undefined {
  try {
    return /^Umask:\s*([0-7]{3,4})$/m.exec(Deno.readTextFileSync("/proc/self/status"))?.[1];
  } catch {
    return undefined;
  }
}

async function run(parsed: Parsed, ctx: Context): Promise<number> {
  const v = parsed.values;
  const p = await plan(parsed, ctx);
  if (v["script-only"]) {
    ctx.out.write(p.script);
    return 0;
  }
  const state = await import("../state/servers.ts");
  const dir = await state.ensureStateDir(state.currentStateDir());
  // Signals are caught from before sbatch to the end: a Ctrl-C while a slow controller answers
  // must not leave a job nobody knows of, so it is acted on once the job has an id and a record.
  const interrupt = new AbortController();
  const onSignal = () => interrupt.abort();
  for (const s of STOP_SIGNALS) Deno.addSignalListener(s, onSignal);
  try {
    return await submitAndFollow(p, dir, parsed, ctx, interrupt.signal);
  } finally {
    for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, onSignal);
  }
}

/** A job {@link submitPlanned} submitted and recorded. */
export interface SubmittedJob {
  readonly id: string;
  readonly submittedAt: Date;
  /** The job's log, when its name can be known here. */
  readonly logPath: string | undefined;
  /** What the scheduler printed on stderr although it accepted the job. */
  readonly warnings: readonly string[];
}

/**
 * Submits the planned job and records it for `jobs`/`cancel` (and `connect --attach`). Throws
 * the scheduler's own error. `connect`'s agent submits through here too.
 */
export async function submitPlanned(p: Plan, dir: string): Promise<SubmittedJob> {
  const { schedulerFor } = await import("../scheduler/scheduler.ts");
  const { writeJob } = await import("../scheduler/jobs_state.ts");
  // sbatch creates the job's log with SLURM_UMASK (documented in sbatch(1)); the script then
  // restores the user's umask, read from the same place.
  const env = p.scheduler === "slurm" && p.script.includes("\numask ")
    ? { SLURM_UMASK: "0077" }
    : undefined;
  const submittedAt = new Date();
  const sub = await schedulerFor(p.scheduler).submit(p.script, { cwd: p.workdir, env });
  const logPath = p.output.endsWith("/")
    ? undefined
    : expandOutput(p.output, { id: sub.id, name: p.jobName, user: Deno.env.get("USER") });
  await writeJob(dir, {
    id: sub.id,
    scheduler: p.scheduler,
    cluster: sub.cluster,
    name: p.jobName,
    submittedAt: submittedAt.toISOString(),
    submitHost: Deno.hostname(),
    logPath,
    workdir: p.workdir,
    kernel: p.kernel,
  });
  return { id: sub.id, submittedAt, logPath, warnings: sub.warnings };
}

async function submitAndFollow(
  p: Plan,
  dir: string,
  parsed: Parsed,
  ctx: Context,
  interrupt: AbortSignal,
): Promise<number> {
  const v = parsed.values;
  const { schedulerFor } = await import("../scheduler/scheduler.ts");
  const sched = schedulerFor(p.scheduler);
  const sub = await submitPlanned(p, dir);
  for (const w of sub.warnings) ctx.out.note(w);
  const { submittedAt, logPath } = sub;
  const program = programName(ctx.self);
  if (interrupt.aborted && !v.keep) {
    const { removeJob } = await import("../scheduler/jobs_state.ts");
    await sched.cancel([sub.id]);
    await removeJob(dir, p.scheduler, sub.id);
    ctx.out.note(`Interrupted while submitting; cancelled job ${sub.id} (keep it with --keep)`);
    return 130;
  }
  if (v["no-wait"]) {
    if (v.json) {
      ctx.out.print(JSON.stringify({
        event: "submitted",
        job_id: sub.id,
        scheduler: p.scheduler,
        log: logPath ?? null,
      }));
    } else {
      ctx.out.print(`Submitted job ${sub.id}${logPath ? ` (log: ${logPath})` : ""}.`);
      ctx.out.info(`Follow it with '${program} jobs'; end it with '${program} cancel ${sub.id}'.`);
    }
    return 0;
  }
  ctx.out.note(`Submitted job ${sub.id}${logPath ? `; its log: ${logPath}` : ""}`);
  return await follow(p, { id: sub.id, submittedAt, logPath }, dir, parsed, ctx, interrupt);
}

async function follow(
  p: Plan,
  submitted: { id: string; submittedAt: Date; logPath: string | undefined },
  dir: string,
  parsed: Parsed,
  ctx: Context,
  interrupt: AbortSignal,
): Promise<number> {
  const v = parsed.values;
  const { id, submittedAt, logPath } = submitted;
  const program = programName(ctx.self);
  const { schedulerFor } = await import("../scheduler/scheduler.ts");
  const { followJob } = await import("../job/follow.ts");
  const { describeJob } = await import("../scheduler/describe.ts");
  const { humanDuration } = await import("../scheduler/time.ts");
  const sched = schedulerFor(p.scheduler);
  const timeout = v.timeout as number | undefined;

  let last: import("../scheduler/types.ts").JobStatus | undefined;
  let done = false;
  // On a terminal the line ticks every second (time waited, time to the estimate); elsewhere
  // it is written once per change of state, so that logs are not flooded.
  const tty = Deno.stderr.isTerminal();
  const show = () => {
    if (!last || done) return;
    const what = describeJob(last);
    const waited = tty ? ` [${humanDuration((Date.now() - submittedAt.getTime()) / 1000)}]` : "";
    ctx.out.progress(
      last.phase === "running" ? `${what}: starting Jupyter...${waited}` : `${what}${waited}`,
    );
  };
  const ticker = tty ? setInterval(show, 1000) : undefined;
  let result: Awaited<ReturnType<typeof followJob>>;
  try {
    result = await followJob(
      submitted,
      {
        scheduler: sched,
        stateDir: dir,
        timeoutS: timeout,
        serverTimeoutS: (v["server-timeout"] as number | undefined) ?? 120,
        interrupt,
        program,
      },
      {
        status: (s) => {
          last = s;
          show();
        },
        warn: (m) => {
          ctx.out.clearProgress();
          ctx.out.warn(m);
        },
        note: (m) => {
          ctx.out.clearProgress();
          ctx.out.note(m);
        },
      },
    );
  } finally {
    done = true;
    if (ticker !== undefined) clearInterval(ticker);
    ctx.out.clearProgress();
  }
  last = result.last ?? last;

  const outcome = result.outcome;
  if (outcome.kind === "ready") {
    const r = outcome.record;
    const opts = {
      loginHost: p.loginHost,
      sshUser: p.sshUser,
      sshConfig: v["ssh-config"] as boolean,
      program,
      jobId: id,
    };
    if (v.json) {
      const { readyEvent } = await import("../server/ready.ts");
      ctx.out.print(JSON.stringify({ ...readyEvent(r, opts), job_id: id, job_log: logPath }));
    } else {
      const { renderReadyBlock } = await import("../server/ready.ts");
      ctx.out.print(renderReadyBlock(r, opts));
    }
    return 0;
  }
  const { removeJob } = await import("../scheduler/jobs_state.ts");
  if (outcome.kind === "ended") {
    await removeJob(dir, p.scheduler, id);
    const { endedBeforeReady } = await import("../job/follow.ts");
    throw new Failure(await endedBeforeReady(id, outcome.status, logPath));
  }
  const why = outcome.kind === "timeout" ? `gave up waiting after ${timeout}s` : "interrupted";
  const where = last ? describeJob(last) : `job ${id}`;
  if (v.keep) {
    ctx.out.warn(
      `${why}; ${where}; it was left ${last?.phase === "running" ? "running" : "queued"} ` +
        `(--keep). Follow it with '${program} jobs', end it with '${program} cancel ${id}'`,
    );
    return outcome.kind === "timeout" ? 1 : 130;
  }
  await sched.cancel([id]);
  await removeJob(dir, p.scheduler, id);
  const message = `${why}; ${where}; cancelled it (keep it with --keep)`;
  if (outcome.kind === "timeout") throw new Failure(message);
  ctx.out.note(message.charAt(0).toUpperCase() + message.slice(1));
  return 130;
}
