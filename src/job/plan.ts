/**
 * What `submit` (and `connect`'s agent, for a `start`) will submit: `submit`'s flags checked on
 * the login node, and the batch script that runs this program's `notebook` (or `lab`) on the
 * compute node, with the log where the scheduler writes it.
 * @module
 */

import { Failure, UsageError } from "../util/errors.ts";
import type { Parsed } from "../util/flag_spec.ts";
import { checkListen } from "../server/listen.ts";
import { DEFAULT_JOB_NAME, type SchedulerName } from "../scheduler/types.ts";
import { AUTO_KERNEL_NAME, FORWARDED } from "./flags.ts";
import { KERNEL_NAME } from "../kernelspec/store.ts";
import { batchOptionsFromFlags } from "../scheduler/flags.ts";
import { detectScheduler } from "../scheduler/scheduler.ts";
import { renderBatchScript } from "../scheduler/script.ts";
import { currentStateDir, logsDir } from "../state/servers.ts";

/** What `submit` will submit: the script and where its job runs and logs. */
export interface Plan {
  readonly scheduler: SchedulerName;
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

/** The scheduler to submit to: `--scheduler`, else the one on PATH (Slurm for a script). */
function chooseScheduler(v: Readonly<Record<string, unknown>>): SchedulerName {
  const given = v.scheduler as SchedulerName | undefined;
  const scheduler = given ?? detectScheduler() ?? (v["script-only"] ? "slurm" : undefined);
  if (!scheduler) {
    throw new Failure(
      "no batch scheduler here: none of sbatch, qsub or bsub is on PATH; run this on the " +
        "cluster's login node, or pass --scheduler slurm|pbs|lsf with --script-only",
    );
  }
  return scheduler;
}

/** The server's flags that `submit` checks here: the kernel, `--install-arg`, the address. */
function checkServerFlags(
  parsed: Parsed,
): { autoKernel: boolean; kernel: string | undefined; installArgs: string[] } {
  const v = parsed.values;
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
  return { autoKernel, kernel, installArgs };
}

/** The `notebook` (or `lab`) command the job runs, with the flags forwarded to it. */
function notebookCommand(
  parsed: Parsed,
  self: readonly string[],
  fixed: { workdir: string; kernel?: string; loginHost: string; sshUser?: string },
): string[] {
  const v = parsed.values;
  const nb: string[] = [...self, v.lab ? "lab" : "notebook"];
  const forward = (name: string, value: unknown) => {
    if (value === undefined || value === false) return;
    nb.push(value === true ? `--${name}` : `--${name}=${value}`);
  };
  for (const name of FORWARDED) {
    if (name === "notebook-dir") forward(name, fixed.workdir);
    else if (name === "kernel") forward(name, fixed.kernel);
    else if (name === "login-host") forward(name, fixed.loginHost);
    else if (parsed.given.has(name)) forward(name, v[name]);
  }
  forward("ssh-user", fixed.sshUser);
  if (parsed.given.has("server-timeout")) forward("timeout", v["server-timeout"]);
  if (parsed.rest.length) nb.push("--", ...parsed.rest);
  return nb;
}

/** Where the job's log goes: `--output` (relative to the job's directory), else the state dir. */
function logPattern(
  scheduler: SchedulerName,
  given: string | undefined,
  workdir: string,
): string {
  if (given !== undefined) checkOutputPattern(scheduler, given);
  // The scheduler reads a relative log path from the job's directory; so does `submit`.
  return given === undefined
    ? defaultOutput(scheduler, logsDir(currentStateDir()))
    : given.startsWith("/")
    ? given
    : `${workdir}/${given}`;
}

/**
 * Checks `submit`'s flags and writes the batch script; throws {@link UsageError} for bad
 * input. `self` is how the job runs this program.
 */
export async function planJob(parsed: Parsed, self: readonly string[]): Promise<Plan> {
  const v = parsed.values;
  const scheduler = chooseScheduler(v);
  const { autoKernel, kernel, installArgs } = checkServerFlags(parsed);
  const workdir = await resolveDir(v["notebook-dir"] as string | undefined);
  const loginHost = (v["login-host"] as string | undefined) ?? Deno.hostname();
  const sshUser = (v["ssh-user"] as string | undefined) ?? Deno.env.get("USER") ??
    Deno.env.get("LOGNAME");
  const command = notebookCommand(parsed, self, { workdir, kernel, loginHost, sshUser });
  const preStep = autoKernel
    ? [
      ...self,
      "install",
      "--auto",
      "--replace",
      "--name",
      kernel!,
      ...multiNodeArgs(scheduler, v, installArgs),
      ...installArgs,
    ]
    : undefined;
  const output = logPattern(scheduler, v.output as string | undefined, workdir);
  const options = {
    ...batchOptionsFromFlags(v, { scheduler, command, preStep, output, workdir }),
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
