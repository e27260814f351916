/**
 * The Python a kernel runs: which one, and what it has installed, found by looking at the
 * file system rather than starting Python (which would cost more than the whole install).
 * @module
 */

import { basename, dirname, join } from "../util/path.ts";
import { absolute, isExecutable, which } from "../util/which.ts";
import { currentPathEnv, kernelSearchDirs } from "./paths.ts";

/** Where the default Python came from, for messages. */
export interface PythonChoice {
  readonly path: string;
  readonly source: string;
}

/**
 * The Python to use when `--python` is not given: `$CONDA_PREFIX/bin/python`, else
 * `$VIRTUAL_ENV/bin/python`, else `python3` on PATH. The path is absolute but links are kept:
 * a virtual environment's `python` is a link, and resolving it would leave the environment.
 */
export function defaultPython(
  vars: Readonly<Record<string, string | undefined>>,
): PythonChoice | undefined {
  for (
    const [name, source] of [["CONDA_PREFIX", "$CONDA_PREFIX"], ["VIRTUAL_ENV", "$VIRTUAL_ENV"]]
  ) {
    const prefix = vars[name];
    if (prefix) {
      const path = join(prefix, "bin", "python");
      if (isExecutable(path)) return { path: absolute(path), source };
    }
  }
  const onPath = which("python3", vars.PATH ?? "");
  return onPath ? { path: onPath, source: "python3 on PATH" } : undefined;
}

/** What the file system says about a Python installation. */
export interface PythonInfo {
  readonly path: string;
  /** `sys.prefix`, as far as the file system tells. */
  readonly prefix: string;
  /** Directories that hold its importable packages. */
  readonly sitePackages: string[];
  readonly hasIpykernel: boolean;
  readonly hasLegate: boolean;
  /** Legate's `legate-bind.sh`, when Legate is installed. */
  readonly bindScript?: string;
}

function listDir(path: string): string[] {
  try {
    return Array.from(Deno.readDirSync(path), (e) => e.name);
  } catch {
    return [];
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The `sys.prefix` of the Python at `path`: its virtualenv or conda-like environment (whose
 * `conda-meta/` marks it, whatever its `bin/python` links to), else its installation.
 */
export function pythonPrefix(path: string): string {
  const env = dirname(dirname(path));
  if (exists(join(env, "pyvenv.cfg")) || exists(join(env, "conda-meta"))) return env;
  try {
    return dirname(dirname(Deno.realPathSync(path)));
  } catch {
    return env;
  }
}

function versionHint(path: string): string | undefined {
  const m = /^python(\d+\.\d+)$/.exec(basename(path));
  if (m) return m[1];
  try {
    return /python(\d+\.\d+)$/.exec(basename(Deno.realPathSync(path)))?.[1];
  } catch {
    return undefined;
  }
}

function siteDirsUnder(prefix: string, version?: string): string[] {
  const dirs: string[] = [];
  for (const lib of ["lib", "lib64", join("local", "lib")]) {
    for (const name of listDir(join(prefix, lib))) {
      if (!/^python3(\.\d+)?$/.test(name)) continue;
      if (version && name !== "python3" && name !== `python${version}`) continue;
      for (const sub of ["site-packages", "dist-packages"]) {
        const dir = join(prefix, lib, name, sub);
        if (exists(dir)) dirs.push(dir);
      }
    }
  }
  return dirs;
}

/** Inspects the Python at `path` (which must exist). */
export function inspectPython(path: string, home?: string): PythonInfo {
  const prefix = pythonPrefix(path);
  const version = versionHint(path);
  const site = siteDirsUnder(prefix, version);
  const cfg = readText(join(prefix, "pyvenv.cfg"));
  if (cfg) {
    // A virtualenv may see its base installation's packages too.
    const include = /include-system-site-packages\s*=\s*true/i.test(cfg);
    const base = /^home\s*=\s*(.+)$/m.exec(cfg)?.[1]?.trim();
    if (include && base) site.push(...siteDirsUnder(dirname(base), version));
  } else if (home && version) {
    const user = join(home, ".local", "lib", `python${version}`, "site-packages");
    if (exists(user)) site.push(user);
  }
  const has = (pkg: string) => site.some((d) => exists(join(d, pkg, "__init__.py")));
  const hasLegate = has("legate");
  return {
    path,
    prefix,
    sitePackages: site,
    hasIpykernel: has("ipykernel"),
    hasLegate,
    bindScript: findBindScript(prefix, site),
  };
}

/**
 * Legate's bind script, where upstream's `get_legate_paths()` would find it: under the
 * installation prefix (`share/legate/libexec`), or inside the `legate` package of a wheel.
 */
export function findBindScript(
  prefix: string,
  sitePackages: readonly string[],
): string | undefined {
  const candidates = [
    join(prefix, "share", "legate", "libexec", "legate-bind.sh"),
    ...sitePackages.map((d) => join(d, "legate", "share", "legate", "libexec", "legate-bind.sh")),
  ];
  return candidates.find((c) => exists(c));
}

/**
 * The kernel search directories for this process, as `list`, `info` and `remove` see them:
 * Jupyter's, with the default Python's environment among them.
 */
export function currentKernelDirs(): string[] {
  const env = currentPathEnv();
  const python = defaultPython(env.vars);
  return kernelSearchDirs(env, python ? pythonPrefix(python.path) : undefined);
}
