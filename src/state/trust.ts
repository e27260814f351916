/**
 * What the tool checks before it acts on a process a state file names (what it checks before
 * it believes the file is `src/os/private.ts`). State files are claims, not facts: they live in
 * the user's home, may be stale (a PID reused after a reboot), copied from another machine,
 * half-written, or written by someone else where a shared directory was pre-created. The rules
 * are set out in `README.md` beside this file; this module is where the process checks are
 * enforced, so that every command applies the same ones.
 * @module
 */

import { currentSelf, haveProc, parseStat, type ProcInfo, type Self } from "../os/proc.ts";

/** What {@link verifyProcess} concluded about a PID an entry names. */
export type ProcessVerdict =
  /** Safe to signal: every check passed. */
  | { readonly kind: "verified"; readonly proc: ProcInfo }
  /** No such process any more (or a zombie, or another process that reused the PID). */
  | { readonly kind: "gone" }
  /** Alive, but the tool will not signal it; `reason` says why, for the user. */
  | { readonly kind: "refused"; readonly reason: string };

/** The claim an entry makes about a process. */
export interface ProcessClaim {
  /** The PID as the entry records it (any JSON value: it is checked here). */
  readonly pid: unknown;
  /** Its start time in clock ticks since boot, as recorded. */
  readonly start: unknown;
  /** What the process should be, for messages: `Jupyter`, `the supervising legate-jupyter`. */
  readonly what: string;
  /** Whether its command line is what the entry says runs there. */
  readonly matches: (argv: readonly string[]) => boolean;
}

/** Reads `/proc/PID`: identity, state letter, owner and command line; undefined when gone. */
function readProc(
  pid: number,
): { info: ProcInfo; state: string; uid: number | null; argv: string[] } | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const info = parseStat(stat);
    if (!info) return undefined;
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    const uid = Deno.statSync(`/proc/${pid}`).uid;
    const argv = new TextDecoder().decode(Deno.readFileSync(`/proc/${pid}/cmdline`))
      .split("\0");
    if (argv.at(-1) === "") argv.pop();
    return { info, state, uid, argv };
  } catch {
    return undefined;
  }
}

/**
 * Decides whether the process an entry names may be signalled. Before any signal, the PID must
 * be greater than 1 and not this process or its parent, the process must run as this user,
 * its start time must be the recorded one (an entry without one is never signalled), and its
 * command line must be what the entry says runs there. Pure except for reading `/proc`.
 */
export function verifyProcess(claim: ProcessClaim, self: Self = currentSelf()): ProcessVerdict {
  const pid = claim.pid;
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 1) {
    return { kind: "refused", reason: `PID ${JSON.stringify(pid)} is never signalled` };
  }
  if (pid === self.pid || pid === self.ppid) {
    return { kind: "refused", reason: `PID ${pid} is this command or its parent` };
  }
  if (!haveProc()) {
    return { kind: "refused", reason: `there is no /proc here to check what PID ${pid} runs` };
  }
  const p = readProc(pid);
  if (!p || p.state === "Z" || p.state === "X") return { kind: "gone" };
  const start = claim.start;
  if (typeof start !== "number" || !Number.isSafeInteger(start)) {
    return {
      kind: "refused",
      reason: `the entry records no start time for PID ${pid}, so it cannot be told apart from ` +
        "another process that reused the PID",
    };
  }
  if (p.info.start !== start) return { kind: "gone" };
  if (p.uid !== null && p.uid !== self.uid) {
    return { kind: "refused", reason: `PID ${pid} runs as uid ${p.uid}, not as you` };
  }
  if (!claim.matches(p.argv)) {
    const shown = p.argv.join(" ").slice(0, 80);
    return { kind: "refused", reason: `PID ${pid} runs '${shown}', not ${claim.what}` };
  }
  return { kind: "verified", proc: p.info };
}

/**
 * Whether `argv` is the Jupyter server an entry names: this tool starts it with
 * `--port=PORT --port-retries=0 ... --notebook-dir=DIR`, its own arguments (so they are there
 * whatever the program is — `jupyter-notebook`, `python3 -m jupyter_server`, a wrapper, or the
 * `sh` that execs it while the server starts — and whatever options after `--` add).
 */
export function isJupyterArgv(
  argv: readonly string[],
  entry: { readonly port: number; readonly notebookDir: string },
): boolean {
  return argv.includes(`--port=${entry.port}`) && argv.includes("--port-retries=0") &&
    argv.includes(`--notebook-dir=${entry.notebookDir}`);
}

/** Whether `argv` is a `legate-jupyter notebook` or `lab` (compiled, or `deno run mod.ts`). */
export function isSupervisorArgv(argv: readonly string[]): boolean {
  return argv.some((a) => a === "notebook" || a === "lab");
}

/** Whether process `pid` runs as this user (false when it is gone or /proc is absent). */
export function runsAsSelf(pid: number, self: Self = currentSelf()): boolean {
  try {
    return Deno.statSync(`/proc/${pid}`).uid === self.uid;
  } catch {
    return false;
  }
}
