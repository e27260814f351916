/**
 * Jupyter's directories, resolved exactly as jupyter_core resolves them, without starting
 * Python. Pure functions of an environment snapshot so that tests can state any layout.
 * @module
 */

import { join } from "../util/path.ts";

/** The parts of the process environment the resolution reads. */
export interface PathEnv {
  /** Environment variables. */
  readonly vars: Readonly<Record<string, string | undefined>>;
  /** The user's home directory (jupyter_core uses realpath(expanduser("~"))). */
  readonly home: string;
  /** `Deno.build.os`. */
  readonly os: string;
}

/** Snapshot of this process's environment for the resolvers below. */
export function currentPathEnv(): PathEnv {
  const vars = Deno.env.toObject();
  let home = vars.HOME ?? "/";
  try {
    home = Deno.realPathSync(home);
  } catch {
    // A home that does not exist yet is still where Jupyter would look.
  }
  return { vars, home, os: Deno.build.os };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.length > 0 ? value : undefined;
}

function truthy(value: string): boolean {
  return !["no", "n", "false", "off", "0", "0.0"].includes(value.toLowerCase());
}

/** `jupyter_data_dir()`: JUPYTER_DATA_DIR, else ~/Library/Jupyter (macOS), else XDG. */
export function jupyterDataDir(env: PathEnv): string {
  const explicit = nonEmpty(env.vars.JUPYTER_DATA_DIR);
  if (explicit) return explicit;
  if (env.os === "darwin") return join(env.home, "Library", "Jupyter");
  const xdg = nonEmpty(env.vars.XDG_DATA_HOME) ?? join(env.home, ".local", "share");
  return join(xdg, "jupyter");
}

/** `jupyter_runtime_dir()`: JUPYTER_RUNTIME_DIR, else `<data dir>/runtime`. */
export function jupyterRuntimeDir(env: PathEnv): string {
  return nonEmpty(env.vars.JUPYTER_RUNTIME_DIR) ?? join(jupyterDataDir(env), "runtime");
}

/** Jupyter's system-wide data directories on POSIX. */
export const SYSTEM_JUPYTER_PATH: readonly string[] = [
  "/usr/local/share/jupyter",
  "/usr/share/jupyter",
];

/**
 * Whether jupyter_core puts the environment's directories before the user's: the
 * JUPYTER_PREFER_ENV_PATH switch, else (jupyter_core 5) an active virtualenv or non-base
 * conda environment.
 */
export function preferEnvPath(env: PathEnv): boolean {
  const set = env.vars.JUPYTER_PREFER_ENV_PATH;
  if (set !== undefined) return truthy(set);
  if (nonEmpty(env.vars.VIRTUAL_ENV)) return true;
  const conda = nonEmpty(env.vars.CONDA_PREFIX);
  return conda !== undefined && (env.vars.CONDA_DEFAULT_ENV ?? "base") !== "base";
}

/**
 * `jupyter_path()`: the data search path, highest precedence first.
 * `envPrefix` is the Python environment's prefix (`sys.prefix`), when known.
 */
export function jupyterPath(env: PathEnv, envPrefix?: string): string[] {
  const paths: string[] = [];
  const add = (p: string) => {
    const clean = p.length > 1 ? p.replace(/\/+$/, "") : p;
    if (clean && !paths.includes(clean)) paths.push(clean);
  };
  for (const p of (env.vars.JUPYTER_PATH ?? "").split(":")) if (p) add(p);
  const user = [jupyterDataDir(env)];
  if (env.os !== "darwin") {
    const userBase = nonEmpty(env.vars.PYTHONUSERBASE) ?? join(env.home, ".local");
    user.push(join(userBase, "share", "jupyter"));
  }
  const envDirs = envPrefix ? [join(envPrefix, "share", "jupyter")] : [];
  const ordered = preferEnvPath(env) ? [...envDirs, ...user] : [...user, ...envDirs];
  for (const p of ordered) add(p);
  for (const p of SYSTEM_JUPYTER_PATH) add(p);
  return paths;
}

/** `KernelSpecManager.kernel_dirs`: every kernels directory, highest precedence first. */
export function kernelSearchDirs(env: PathEnv, envPrefix?: string): string[] {
  const ipython = nonEmpty(env.vars.IPYTHONDIR) ?? join(env.home, ".ipython");
  const dirs = jupyterPath(env, envPrefix).map((p) => join(p, "kernels"));
  const ip = join(ipython, "kernels");
  return dirs.includes(ip) ? dirs : [...dirs, ip];
}

/** Where `--user` installs kernels. */
export function userKernelsDir(env: PathEnv): string {
  return join(jupyterDataDir(env), "kernels");
}

/** Where `--prefix DIR` installs kernels. */
export function prefixKernelsDir(prefix: string): string {
  return join(prefix, "share", "jupyter", "kernels");
}
