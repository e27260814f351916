/**
 * Shared pieces of the end-to-end tests: running the CLI and real Jupyter in an isolated
 * environment, snapshots of kernel directories, and fakes for what cannot exist here
 * (a Python environment layout, environment modules, MPI, Legate's bind script).
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { ROOT, run, type RunResult } from "../helpers.ts";

/** The system Python, which has ipykernel and jupyter_client. */
export const SYS_PYTHON = "/usr/bin/python3";
/** Real Jupyter from Debian. */
export const JUPYTER = "/usr/bin/jupyter";
/** Starts a kernel through jupyter_client and runs cells (see the script's docstring). */
export const RUN_KERNEL = join(ROOT, "tests", "support", "run_kernel.py");

/** The seed's configuration (its `%legate_info` block is the expected output). */
export const SEED_FLAGS = [
  "--cpus",
  "4",
  "--gpus",
  "0",
  "--omps",
  "0",
  "--ompthreads",
  "4",
  "--utility",
  "2",
  "--sysmem",
  "4000",
  "--numamem",
  "0",
  "--fbmem",
  "4000",
  "--zcmem",
  "32",
  "--regmem",
  "0",
];

/** The seed document's `%legate_info` block, with the rst indentation removed. */
export const SEED_INFO = `Kernel 'Legate_SM_GPU' configured for 1 node(s)

Cores:
CPUs to use per rank : 4
GPUs to use per rank : 0
OpenMP groups to use per rank : 0
Threads per OpenMP group : 4
Utility processors per rank : 2

Memory:
DRAM memory per rank (in MBs) : 4000
DRAM memory per NUMA domain per rank (in MBs) : 0
Framebuffer memory per GPU (in MBs) : 4000
Zero-copy memory per rank (in MBs) : 32
Registered CPU-side pinned memory per rank (in MBs) : 0
`;

/** A kernel as `jupyter kernelspec list --json` reports it. */
export interface JupyterKernel {
  resource_dir: string;
  spec: {
    argv: string[];
    env: Record<string, string>;
    display_name: string;
    language: string;
    interrupt_mode: string;
    metadata: Record<string, unknown> & { legate?: Record<string, unknown> };
  };
}

/** Runs `jupyter kernelspec list --json` in `env` and returns its kernelspecs. */
export async function jupyterKernels(
  env: Record<string, string>,
): Promise<Record<string, JupyterKernel>> {
  const r = await run([JUPYTER, "kernelspec", "list", "--json"], { env: quietPython(env) });
  assert.equal(r.code, 0, `jupyter kernelspec list failed: ${r.stderr}`);
  return JSON.parse(r.stdout).kernelspecs;
}

/** Runs `jupyter ARGS` in `env`. */
export async function jupyter(args: string[], env: Record<string, string>): Promise<RunResult> {
  return await run([JUPYTER, ...args], { env: quietPython(env) });
}

/** Cells' outputs from {@link runKernel}. */
export interface Cell {
  stdout: string;
  stderr: string;
  error: string | null;
}

/** Starts kernel `name` through jupyter_client, runs `cells`, and shuts it down. */
export async function runKernel(
  name: string,
  cells: string[],
  env: Record<string, string>,
): Promise<Cell[]> {
  const r = await run([SYS_PYTHON, RUN_KERNEL, name, ...cells], { env: quietPython(env) });
  assert.equal(r.code, 0, `run_kernel.py ${name} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout).cells;
}

/** Silences debugpy's frozen-modules banner, which is noise on stderr. */
function quietPython(env: Record<string, string>): Record<string, string> {
  return { PYDEVD_DISABLE_FILE_VALIDATION: "1", ...env };
}

/**
 * Asserts the shape every error must have: exit `code`, exactly one line on stderr, no stack
 * trace; `pattern` (when given) must match that line.
 */
export function assertOneLineError(r: RunResult, code: number, pattern?: RegExp): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.ok(r.stderr.endsWith("\n"), "the error line ends with a newline");
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
  assert.doesNotMatch(r.stderr, /\b(Uncaught|TypeError|ReferenceError)\b/);
  if (pattern) assert.match(lines[0], pattern);
}

/** Every file under `dir` (relative path → content), or `null` when `dir` does not exist. */
export async function snapshot(dir: string): Promise<Record<string, string> | null> {
  try {
    await Deno.lstat(dir);
  } catch {
    return null;
  }
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(join(dir, rel))) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) {
        out[path + "/"] = "";
        await walk(path);
      } else if (e.isSymlink) out[path] = `-> ${await Deno.readLink(join(dir, path))}`;
      else out[path] = await Deno.readTextFile(join(dir, path)).catch(() => "<binary>");
    }
  };
  await walk("");
  return out;
}

/** Whether `path` exists (without following a final link). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes an executable file, creating its directory. */
export async function writeExecutable(path: string, content: string): Promise<string> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(path, content, { mode: 0o755 });
  await Deno.chmod(path, 0o755);
  return path;
}

/**
 * A fake Python environment at `prefix`: `pyvenv.cfg` and `bin/python` linked to the system
 * Python, so that `sys.prefix` is `prefix`. With `systemSite`, it sees the system's packages
 * (ipykernel); without, it has none. `legate` adds a `legate` package; `bind` Legate's bind
 * script in the installation layout (`share/legate/libexec`) or the wheel layout.
 */
export async function fakeVenv(
  prefix: string,
  options: { systemSite?: boolean; legate?: boolean; bind?: "prefix" | "wheel" } = {},
): Promise<{ python: string; site: string; bind?: string }> {
  await Deno.mkdir(join(prefix, "bin"), { recursive: true });
  await Deno.writeTextFile(
    join(prefix, "pyvenv.cfg"),
    `home = /usr/bin\ninclude-system-site-packages = ${
      options.systemSite ? "true" : "false"
    }\nversion = 3.11\n`,
  );
  const python = join(prefix, "bin", "python");
  await Deno.symlink(SYS_PYTHON, python);
  const version = Deno.realPathSync(SYS_PYTHON).match(/python(\d+\.\d+)$/)?.[1] ?? "3";
  const site = join(prefix, "lib", `python${version}`, "site-packages");
  await Deno.mkdir(site, { recursive: true });
  if (options.legate) {
    await Deno.mkdir(join(site, "legate"), { recursive: true });
    await Deno.writeTextFile(join(site, "legate", "__init__.py"), "");
  }
  let bind: string | undefined;
  if (options.bind) {
    const base = options.bind === "prefix" ? prefix : join(site, "legate");
    bind = await writeExecutable(
      join(base, "share", "legate", "libexec", "legate-bind.sh"),
      recorder("BIND_LOG"),
    );
  }
  return { python, site, bind };
}

/**
 * A POSIX sh program that appends its arguments, NUL-separated and ended by an empty record,
 * to the file named by the environment variable `logVar`, then exits 0.
 */
export function recorder(logVar: string): string {
  return `#!/bin/sh\n{ for a in "$@"; do printf '%s\\0' "$a"; done; printf '\\0'; } >> "$${logVar}"\n`;
}

/** Reads a log written by {@link recorder}: one argv per call. */
export async function readRecords(path: string): Promise<string[][]> {
  const text = await Deno.readTextFile(path);
  const calls: string[][] = [];
  let current: string[] = [];
  for (const field of text.split("\0").slice(0, -1)) {
    if (field === "") {
      calls.push(current);
      current = [];
    } else current.push(field);
  }
  return calls;
}

/**
 * A fake python: a sh script that records its argv (NUL-separated) to `$dir/argv` and its
 * whole environment (`env -0`) to `$dir/env`, then exits 0. Returns its path.
 */
export async function fakePython(dir: string): Promise<string> {
  return await writeExecutable(
    join(dir, "bin", "python"),
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\0' "$a"; done > '${dir}/argv'\nenv -0 > '${dir}/env'\n`,
  );
}

/** Reads what {@link fakePython} recorded. */
export async function readFakePython(
  dir: string,
): Promise<{ argv: string[]; env: Record<string, string> }> {
  const argv = (await Deno.readTextFile(join(dir, "argv"))).split("\0").slice(0, -1);
  const env: Record<string, string> = {};
  for (const item of (await Deno.readTextFile(join(dir, "env"))).split("\0").slice(0, -1)) {
    const eq = item.indexOf("=");
    env[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return { argv, env };
}

/** The `exec` line of a launch script. */
export function execLine(script: string): string {
  const lines = script.split("\n").filter((l) => l.startsWith("exec "));
  assert.equal(lines.length, 1, `one exec line in:\n${script}`);
  return lines[0];
}
