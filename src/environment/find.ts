/**
 * A conda environment named on the command line (`--conda-env NAME`), found at install and
 * stored as its absolute prefix: asked of conda, mamba or micromamba when one is on PATH, and
 * looked for in `~/.conda/environments.txt` and the usual `envs/` directories otherwise (or
 * as well), so that it works on a node where no conda is installed.
 * @module
 */

import { basename, dirname, join } from "../util/path.ts";
import { which } from "../util/which.ts";

/** Where a conda environment was looked for, and what was found. */
export interface CondaSearch {
  /** The environment's prefix, when found. */
  readonly prefix?: string;
  /** What was searched, in order, for the message when nothing was found. */
  readonly searched: readonly string[];
}

/** Whether `path` is a directory. */
export function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Whether `prefix` holds a conda environment (conda, mamba, micromamba and pixi write `conda-meta/`). */
export function isCondaPrefix(prefix: string): boolean {
  return isDir(join(prefix, "conda-meta"));
}

/**
 * The conda-like tools on PATH (and `$CONDA_EXE`, which `conda init` sets), each once, in the
 * order they are asked.
 */
function condaTools(vars: Readonly<Record<string, string | undefined>>): string[] {
  const path = vars.PATH ?? "";
  const found = [
    vars.CONDA_EXE,
    which("conda", path),
    which("mamba", path),
    which("micromamba", path),
  ]
    .filter((t): t is string => !!t && t.startsWith("/"));
  return [...new Set(found)];
}

/** The environments a tool lists with `env list --json` (`{"envs": [...]}`), or undefined. */
async function listedBy(tool: string): Promise<string[] | undefined> {
  try {
    const out = await new Deno.Command(tool, {
      args: ["env", "list", "--json"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
      signal: AbortSignal.timeout(60_000),
    }).output();
    if (!out.success) return undefined;
    const envs = JSON.parse(new TextDecoder().decode(out.stdout))?.envs;
    return Array.isArray(envs) ? envs.filter((e): e is string => typeof e === "string") : undefined;
  } catch {
    return undefined;
  }
}

/** Whether prefix `p` is the environment called `name`: its directory's name, or `base` for a root. */
function named(p: string, name: string): boolean {
  if (name === "base") return basename(dirname(p)) !== "envs" && isDir(join(p, "envs"));
  return basename(p) === name;
}

/** The `envs/` directories conda, mamba and micromamba use when none is configured. */
export function envsDirs(
  vars: Readonly<Record<string, string | undefined>>,
  home: string,
): string[] {
  const dirs: string[] = [];
  for (const v of [vars.CONDA_ENVS_PATH, vars.CONDA_ENVS_DIRS]) {
    for (const d of (v ?? "").split(":")) if (d) dirs.push(d);
  }
  dirs.push(join(home, ".conda", "envs"));
  for (const root of [vars.MAMBA_ROOT_PREFIX, vars.CONDA_ROOT]) {
    if (root) dirs.push(join(root, "envs"));
  }
  if (vars.CONDA_EXE) dirs.push(join(dirname(dirname(vars.CONDA_EXE)), "envs"));
  for (const d of ["miniforge3", "miniconda3", "anaconda3", "mambaforge", "micromamba"]) {
    dirs.push(join(home, d, "envs"));
  }
  return [...new Set(dirs)];
}

/** The prefixes listed in `~/.conda/environments.txt` (conda writes every env it makes there). */
function registered(home: string): string[] {
  try {
    return Deno.readTextFileSync(join(home, ".conda", "environments.txt"))
      .split("\n").map((l) => l.trim()).filter((l) => l.startsWith("/"));
  } catch {
    return [];
  }
}

/** Looks for the conda environment called `name`; see the module's description. */
export async function findCondaEnv(
  name: string,
  vars: Readonly<Record<string, string | undefined>>,
  home: string,
): Promise<CondaSearch> {
  const searched: string[] = [];
  for (const tool of condaTools(vars)) {
    searched.push(`${tool} env list`);
    const hit = (await listedBy(tool))?.find((p) => named(p, name) && isCondaPrefix(p));
    if (hit) return { prefix: hit, searched };
  }
  searched.push("~/.conda/environments.txt");
  const listed = registered(home).find((p) => named(p, name) && isCondaPrefix(p));
  if (listed) return { prefix: listed, searched };
  for (const dir of envsDirs(vars, home)) {
    searched.push(dir);
    const p = join(dir, name);
    if (name !== "base" && isCondaPrefix(p)) return { prefix: p, searched };
  }
  return { searched };
}
