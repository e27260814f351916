/**
 * Batch scripts for Slurm, PBS and LSF, rendered from the templates in `kernels/batch/`.
 * Pure: options in, script text out. Every value that reaches the script goes through
 * `shQuote`, and values that would break out of a directive line (control characters,
 * backslashes) are refused with a {@link UsageError} before anything is written.
 * @module
 */

import slurmTemplate from "../../kernels/batch/slurm.sh" with { type: "text" };
import pbsTemplate from "../../kernels/batch/pbs.sh" with { type: "text" };
import lsfTemplate from "../../kernels/batch/lsf.sh" with { type: "text" };
import bodyTemplate from "../../kernels/batch/body.sh" with { type: "text" };
import { UsageError } from "../util/errors.ts";
import { shJoin, shQuote } from "../util/shell.ts";
import { formatHms, parseSlurmDuration } from "./time.ts";
import { DEFAULT_JOB_NAME, type SchedulerName } from "./types.ts";

/** How a GPU request is written for Slurm: `--gpus=N` or `--gres=gpu:N`. */
export type GpuFlag = "gpus" | "gres";

/** What the job asks for and runs. Names follow the `submit` flags. */
export interface BatchOptions {
  readonly scheduler: SchedulerName;
  /** Slurm partition; the queue (`-q`) for PBS and LSF. */
  readonly partition?: string;
  readonly account?: string;
  /** Slurm only. */
  readonly qos?: string;
  /** Time limit in Slurm's syntax (`90`, `1:30:00`, `1-00:00:00`). */
  readonly time?: string;
  readonly nodes?: number;
  readonly ntasksPerNode?: number;
  readonly cpusPerTask?: number;
  /** Memory per node in Slurm's syntax: `N` (MiB) or `N[K|M|G|T]`. */
  readonly mem?: string;
  /** GPUs per node. */
  readonly gpus?: number;
  /** Slurm's GPU request form (`gpus` when omitted). */
  readonly gpuFlag?: GpuFlag;
  /** Slurm only: `--constraint`. */
  readonly constraint?: string;
  /** Slurm only: `--reservation`. */
  readonly reservation?: string;
  readonly jobName?: string;
  /** Arguments written verbatim (quoted) as extra directives: `--sbatch-arg`. */
  readonly extraArgs?: readonly string[];
  /** The job's log file (`%j`/`%J` allowed as the scheduler allows). */
  readonly output?: string;
  /** Directory the job runs in. */
  readonly workdir?: string;
  /**
   * The command the job runs, as an argv: this program's own invocation followed by
   * `notebook ...` arguments.
   */
  readonly command: readonly string[];
  /** An argv run first (e.g. `install --auto --replace --name NAME`); the job stops if it fails. */
  readonly preStep?: readonly string[];
  /**
   * The umask the job's processes should have (octal, e.g. `0022`): `submit` gives the
   * scheduler a strict one so that the job's log, which holds the server's token, is created
   * private, and the script restores the user's own for everything else.
   */
  readonly umask?: string;
  /** Minutes before the time limit at which the log announces the end (10 when omitted). */
  readonly warnMinutes?: number;
}

// Directive lines are parsed by sbatch/qsub/bsub, not by the shell: a newline would start a
// shell line, and sbatch treats a backslash as an escape even inside quotes. C1 controls
// (\x80-\x9f) are refused too: `jobs` and `squeue` print the job's name to terminals.
// deno-lint-ignore no-control-regex
const UNSAFE = /[\x00-\x1f\x7f-\x9f\\]/;

function checkValue(flag: string, value: string): string {
  if (value === "") throw new UsageError(`${flag} needs a non-empty value`);
  if (UNSAFE.test(value)) {
    throw new UsageError(
      `${flag} value ${JSON.stringify(value)} contains a control character or a backslash, ` +
        "which a batch directive cannot hold; remove it",
    );
  }
  return value;
}

function checkWord(flag: string, value: string): string {
  checkValue(flag, value);
  if (/\s/.test(value)) throw new UsageError(`${flag} takes one word, not '${value}'`);
  return value;
}

/**
 * Time limit in seconds from `--time` (`Infinity` for `0`, which asks Slurm for no limit); a
 * {@link UsageError} when Slurm would not accept it.
 */
export function parseTimeOption(text: string): number {
  const seconds = parseSlurmDuration(text);
  if (seconds === 0) return Infinity;
  if (seconds === undefined) {
    throw new UsageError(
      `--time takes minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (e.g. 1:30:00), not '${text}'`,
    );
  }
  return seconds;
}

/**
 * Memory from `--mem` as a number and unit (`M` when none is given). `0` is Slurm's "all of
 * each node's memory".
 */
export function parseMemOption(text: string): { amount: number; unit: "K" | "M" | "G" | "T" } {
  const m = /^(\d+)([KMGT])?B?$/i.exec(text.trim());
  if (!m) {
    throw new UsageError(`--mem takes a size such as 16G, 500M or 4096 (MiB), not '${text}'`);
  }
  return { amount: Number(m[1]), unit: (m[2]?.toUpperCase() ?? "M") as "K" | "M" | "G" | "T" };
}

// Directives `submit` writes itself and relies on (the log it reads, the name `jobs` shows,
// the directory Jupyter serves): a pass-through copy would silently win over them.
const OWN_DIRECTIVES: Record<SchedulerName, Record<string, string>> = {
  slurm: {
    "--output": "--output",
    "-o": "--output",
    "--error": "--output",
    "-e": "--output",
    "--job-name": "--job-name",
    "-J": "--job-name",
    "--chdir": "--notebook-dir",
    "-D": "--notebook-dir",
  },
  pbs: { "-o": "--output", "-e": "--output", "-j": "--output", "-N": "--job-name" },
  lsf: { "-o": "--output", "-e": "--output", "-J": "--job-name", "-cwd": "--notebook-dir" },
};

/**
 * A pass-through argument as directive words: `--begin=now+1hour` stays one word; `-l
 * walltime=1:00:00` (an option and its value in one argument, as PBS and LSF users write them)
 * becomes two.
 */
function extraWords(arg: string): string[] {
  const m = /^(-{1,2}[A-Za-z][\w-]*)\s+(\S.*)$/.exec(arg);
  return m ? [m[1], m[2]] : [arg];
}

function checkExtra(scheduler: SchedulerName, arg: string): void {
  checkValue("--sbatch-arg", arg);
  const option = extraWords(arg)[0].split("=")[0];
  const own = OWN_DIRECTIVES[scheduler][option];
  if (own) {
    throw new UsageError(
      `--sbatch-arg ${arg}: ${option} is set by submit itself (the job's log, name and ` +
        `directory are what it follows); use submit's ${own} instead`,
    );
  }
}

function unsupported(flag: string, scheduler: SchedulerName): never {
  throw new UsageError(
    `${flag} is Slurm-only and has no ${scheduler.toUpperCase()} equivalent here; ` +
      "pass the site's own option with --sbatch-arg",
  );
}

function positive(flag: string, n: number | undefined): number | undefined {
  if (n === undefined) return undefined;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`${flag} must be at least 1, not ${n}`);
  }
  return n;
}

/** Checks `o` and returns the normalized numbers; throws {@link UsageError} on bad input. */
function validate(o: BatchOptions) {
  if (o.command.length === 0) throw new Error("BatchOptions.command is empty");
  for (
    const [flag, v] of [
      ["--partition", o.partition],
      ["--account", o.account],
      ["--qos", o.qos],
      ["--constraint", o.constraint],
      ["--reservation", o.reservation],
    ] as const
  ) if (v !== undefined) checkWord(flag, v);
  if (o.jobName !== undefined) checkValue("--job-name", o.jobName);
  if (o.output !== undefined) checkValue("--output", o.output);
  if (o.workdir !== undefined) checkValue("--workdir", o.workdir);
  if (o.umask !== undefined && !/^0?[0-7]{3}$/.test(o.umask)) {
    throw new Error(`unexpected umask '${o.umask}'`);
  }
  for (const a of o.extraArgs ?? []) checkExtra(o.scheduler, a);
  if (o.scheduler !== "slurm") {
    if (o.qos !== undefined) unsupported("--qos", o.scheduler);
    if (o.constraint !== undefined) unsupported("--constraint", o.scheduler);
    if (o.reservation !== undefined) unsupported("--reservation", o.scheduler);
  }
  const seconds = o.time === undefined ? undefined : parseTimeOption(o.time);
  const mem = o.mem === undefined ? undefined : parseMemOption(o.mem);
  if (mem?.amount === 0 && o.scheduler !== "slurm") {
    throw new UsageError(
      `--mem 0 (all of a node's memory) is Slurm's; give a size for ${o.scheduler.toUpperCase()}`,
    );
  }
  // The end is announced 10 minutes before the limit, or halfway through a shorter job.
  const limitMinutes = seconds === undefined || seconds === Infinity ? Infinity : seconds / 60;
  return {
    seconds,
    mem,
    nodes: positive("--nodes", o.nodes),
    tasks: positive("--ntasks-per-node", o.ntasksPerNode),
    cpus: positive("--cpus-per-task", o.cpusPerTask),
    gpus: o.gpus === 0 ? undefined : positive("--gpus", o.gpus),
    warn: Math.max(1, Math.floor(Math.min(o.warnMinutes ?? 10, limitMinutes / 2))),
  };
}

type Checked = ReturnType<typeof validate>;

function slurmDirectives(o: BatchOptions, c: Checked): string[] {
  const lines: string[] = [];
  const add = (flag: string, value: string | number | undefined) => {
    if (value !== undefined) lines.push(`#SBATCH --${flag}=${shQuote(String(value))}`);
  };
  add("job-name", o.jobName ?? DEFAULT_JOB_NAME);
  add("partition", o.partition);
  add("account", o.account);
  add("qos", o.qos);
  add("time", o.time);
  add("nodes", c.nodes);
  add("ntasks-per-node", c.tasks);
  add("cpus-per-task", c.cpus);
  add("mem", c.mem && (c.mem.amount === 0 ? "0" : `${c.mem.amount}${c.mem.unit}`));
  if (c.gpus !== undefined) {
    if ((o.gpuFlag ?? "gpus") === "gres") add("gres", `gpu:${c.gpus}`);
    else {
      // --gpus counts the whole job and Slurm may spread it unevenly (6+2 for 8 on 2 nodes);
      // the option means GPUs on each node, which is what --gpus-per-node asks for.
      if ((c.nodes ?? 1) > 1) add("gpus-per-node", c.gpus);
      else add("gpus", c.gpus);
    }
  }
  add("constraint", o.constraint);
  add("reservation", o.reservation);
  add("output", o.output);
  add("chdir", o.workdir);
  return lines;
}

function pbsDirectives(o: BatchOptions, c: Checked): string[] {
  const lines: string[] = [];
  const add = (...words: string[]) => lines.push(`#PBS ${shJoin(words)}`);
  add("-N", o.jobName ?? DEFAULT_JOB_NAME);
  if (o.partition) add("-q", o.partition);
  if (o.account) add("-A", o.account);
  if (c.seconds !== undefined && c.seconds !== Infinity) {
    add("-l", `walltime=${formatHms(c.seconds)}`);
  }
  const tasks = c.tasks ?? 1;
  const chunk = [`${c.nodes ?? 1}`, `ncpus=${tasks * (c.cpus ?? 1)}`, `mpiprocs=${tasks}`];
  if (c.gpus !== undefined) chunk.push(`ngpus=${c.gpus}`);
  if (c.mem) chunk.push(`mem=${c.mem.amount}${c.mem.unit.toLowerCase()}b`);
  add("-l", `select=${chunk.join(":")}`);
  if ((c.nodes ?? 1) > 1) add("-l", "place=scatter");
  // One log: stderr joins stdout. The log will hold the token: created private (the script
  // restores the user's umask for everything else).
  add("-j", "oe");
  if (o.umask !== undefined) add("-W", "umask=077");
  if (o.output) add("-o", o.output);
  return lines;
}

function lsfDirectives(o: BatchOptions, c: Checked): string[] {
  const lines: string[] = [];
  const add = (...words: string[]) => lines.push(`#BSUB ${shJoin(words)}`);
  add("-J", o.jobName ?? DEFAULT_JOB_NAME);
  if (o.partition) add("-q", o.partition);
  if (o.account) add("-P", o.account);
  if (c.seconds !== undefined && c.seconds !== Infinity) {
    const minutes = Math.ceil(c.seconds / 60);
    add("-W", `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, "0")}`);
  }
  const perHost = (c.tasks ?? 1) * (c.cpus ?? 1);
  add("-n", String((c.nodes ?? 1) * perHost));
  add("-R", `span[ptile=${perHost}]`);
  if (c.mem) {
    // LSF reserves memory per slot: the per-node figure is spread over the node's slots.
    const mib = c.mem.amount * { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024 }[c.mem.unit];
    add("-R", `rusage[mem=${Math.max(1, Math.ceil(mib / perHost))}MB]`);
  }
  if (c.gpus !== undefined) add("-gpu", `num=${c.gpus}`);
  // Without -o, LSF mails the output instead of writing a log.
  add("-o", o.output ?? `${DEFAULT_JOB_NAME}-%J.log`);
  if (o.workdir) add("-cwd", o.workdir);
  return lines;
}

/** Replaces every `{{NAME}}` in one pass, so that inserted text is never expanded again. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`template placeholder ${whole} has no value`);
    return v;
  });
}

/** The template text for `scheduler` (for `--script-only` documentation and tests). */
export function templateFor(scheduler: SchedulerName): string {
  return { slurm: slurmTemplate, pbs: pbsTemplate, lsf: lsfTemplate }[scheduler];
}

/** Renders the batch script for `options`. Throws {@link UsageError} on bad options. */
export function renderBatchScript(options: BatchOptions): string {
  const c = validate(options);
  const directives = {
    slurm: slurmDirectives,
    pbs: pbsDirectives,
    lsf: lsfDirectives,
  }[options.scheduler](options, c);
  // Pass-through arguments come last, each as its own directive line.
  const prefix = { slurm: "#SBATCH", pbs: "#PBS", lsf: "#BSUB" }[options.scheduler];
  for (const a of options.extraArgs ?? []) directives.push(`${prefix} ${shJoin(extraWords(a))}`);
  const workdir = options.workdir !== undefined && options.scheduler !== "slurm"
    ? `cd ${shQuote(options.workdir)} || exit 1`
    : "";
  const pre = options.preStep?.length
    ? [
      `if ! ${shJoin(options.preStep)}; then`,
      `  echo "legate-jupyter: preparing the kernel failed (see above); stopping the job" >&2`,
      "  exit 1",
      "fi",
    ].join("\n")
    : "";
  const body = fillTemplate(bodyTemplate, {
    WARN_MINUTES: String(c.warn),
    WARN_SECONDS: String(c.warn * 60),
    WORKDIR: workdir,
    UMASK: options.umask === undefined
      ? ""
      : `# The log was created private (it will hold the token); the job's files are not.\n` +
        `umask ${options.umask}`,
    PRE_STEP: pre,
    COMMAND: shJoin(options.command),
  });
  const limit = c.seconds === undefined || c.seconds === Infinity ? "" : String(c.seconds);
  return fillTemplate(templateFor(options.scheduler), {
    DIRECTIVES: directives.join("\n"),
    LIMIT_SECONDS: limit,
    BODY: body.trimEnd(),
  }).replace(/\n{3,}/g, "\n\n");
}
