/**
 * Which environment a kernel activates: the one `--conda-env`, `--venv` or `--pixi` names, else
 * the one its Python belongs to (a prefix with `conda-meta/`, a venv with `pyvenv.cfg`, or
 * what `$CONDA_PREFIX`/`$VIRTUAL_ENV` chose). Reads only the file system, and conda's own
 * listing when a name has to be found.
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { basename, dirname, join, resolve } from "../util/path.ts";
import { findCondaEnv, isCondaPrefix, isDir } from "./find.ts";
import type { ActivateMode, EnvChoice, EnvKind, PixiWorkspace } from "./types.ts";

/** The environment flags of `install`, as given. */
export interface EnvRequest {
  readonly condaEnv?: string;
  readonly venv?: string;
  readonly pixi?: string;
  readonly pixiEnv?: string;
  readonly activate: ActivateMode;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** A path as typed, made absolute (links kept: a venv must not be resolved). */
function absolutePath(path: string, home: string): string {
  return resolve(path.startsWith("~/") ? join(home, path.slice(2)) : path);
}

/** The pixi workspace of a prefix `ROOT/.pixi/envs/NAME`, or undefined. */
function pixiOf(prefix: string): PixiWorkspace | undefined {
  const m = /^(.*)\/\.pixi\/envs\/([^/]+)$/.exec(prefix);
  return m ? workspace(m[1], m[2]) : undefined;
}

/** A workspace at `root` (a directory, or its manifest), environment `env`. */
function workspace(root: string, env: string): PixiWorkspace {
  const manifest = ["pixi.toml", "pyproject.toml"].map((f) => join(root, f)).find(isFile);
  let project = basename(root);
  if (manifest) {
    try {
      const text = Deno.readTextFileSync(manifest);
      const m =
        /^\s*\[(?:project|workspace|tool\.pixi\.(?:project|workspace))\]\s*$[\s\S]*?^\s*name\s*=\s*["']([^"'\n]+)["']/m
          .exec(text);
      if (m) project = m[1];
    } catch {
      // The directory's name stands in for an unreadable manifest's.
    }
  }
  return { root, manifest, project, env };
}

/** The name conda gives `prefix`: its directory's name inside `envs/`, `base` for a root. */
function condaName(prefix: string): string {
  if (basename(dirname(prefix)) === "envs") return basename(prefix);
  return isDir(join(prefix, "envs")) ? "base" : prefix;
}

function condaChoice(prefix: string, chosenBy: string, name?: string): EnvChoice {
  const pixi = pixiOf(prefix);
  const kind: EnvKind = pixi ? "pixi" : "conda";
  return { kind, prefix, name: pixi?.env ?? name ?? condaName(prefix), chosenBy, pixi };
}

async function fromCondaFlag(
  value: string,
  vars: Record<string, string | undefined>,
  home: string,
) {
  if (value.includes("/") || value.startsWith("~")) {
    const prefix = absolutePath(value, home);
    if (!isCondaPrefix(prefix)) {
      throw new UsageError(
        `--conda-env ${value}: ${prefix} is not a conda environment (it has no conda-meta/); ` +
          "give the prefix of one, or its name",
      );
    }
    return condaChoice(prefix, `--conda-env ${value}`);
  }
  const found = await findCondaEnv(value, vars, home);
  if (!found.prefix) {
    throw new UsageError(
      `--conda-env ${value}: no conda environment of that name (searched ${
        found.searched.join(", ")
      }); give its prefix instead: --conda-env /path/to/env`,
    );
  }
  return condaChoice(found.prefix, `--conda-env ${value}`, value);
}

function fromVenvFlag(value: string, home: string): EnvChoice {
  const prefix = absolutePath(value, home);
  if (!isFile(join(prefix, "pyvenv.cfg"))) {
    throw new UsageError(
      `--venv ${value}: ${join(prefix, "pyvenv.cfg")} not found, so this is not a virtual ` +
        `environment; make one with python3 -m venv ${prefix}, or give the right directory`,
    );
  }
  return { kind: "venv", prefix, name: basename(prefix), chosenBy: `--venv ${value}` };
}

function fromPixiFlag(value: string, env: string, home: string): EnvChoice {
  let root = absolutePath(value, home);
  if (isFile(root)) root = dirname(root);
  const prefix = join(root, ".pixi", "envs", env);
  if (!isCondaPrefix(prefix)) {
    throw new UsageError(
      `--pixi ${value}: no pixi environment '${env}' in ${root} (${prefix} is missing); ` +
        `run 'pixi install -e ${env}' there first, or name another with --pixi-env`,
    );
  }
  return {
    kind: "pixi",
    prefix,
    name: env,
    chosenBy: `--pixi ${value}`,
    pixi: workspace(root, env),
  };
}

/**
 * The environment the flags name, or undefined when none does. Exit 2 (UsageError) for flags
 * that name nothing, or more than one environment.
 */
export async function requestedEnvironment(
  req: EnvRequest,
  vars: Record<string, string | undefined>,
  home: string,
): Promise<EnvChoice | undefined> {
  const given = [req.condaEnv, req.venv, req.pixi].filter((v) => v !== undefined);
  if (given.length > 1) throw new UsageError("choose one of --conda-env, --venv and --pixi");
  if (req.pixiEnv !== undefined && req.pixi === undefined) {
    throw new UsageError("--pixi-env names an environment of a pixi workspace: add --pixi DIR");
  }
  for (const v of given) {
    if (v === "") throw new UsageError("--conda-env, --venv and --pixi need a value");
  }
  if (req.condaEnv !== undefined) return await fromCondaFlag(req.condaEnv, vars, home);
  if (req.venv !== undefined) return fromVenvFlag(req.venv, home);
  if (req.pixi !== undefined) return fromPixiFlag(req.pixi, req.pixiEnv ?? "default", home);
  return undefined;
}

/**
 * The environment the Python at `python` belongs to: its prefix (`python`'s directory's
 * parent, links kept) when that has `conda-meta/` or `pyvenv.cfg`, or when `$CONDA_PREFIX` or
 * `$VIRTUAL_ENV` named it. Undefined for a system Python.
 */
export function environmentOfPython(
  python: string,
  vars: Readonly<Record<string, string | undefined>>,
  pythonSource = `--python ${python}`,
): EnvChoice | undefined {
  const prefix = dirname(dirname(python));
  const by = (name: string) => vars[name] && resolve(vars[name]!) === prefix;
  if (isCondaPrefix(prefix) || by("CONDA_PREFIX")) {
    return condaChoice(prefix, by("CONDA_PREFIX") ? "$CONDA_PREFIX" : pythonSource);
  }
  if (isFile(join(prefix, "pyvenv.cfg")) || by("VIRTUAL_ENV")) {
    return {
      kind: "venv",
      prefix,
      name: basename(prefix),
      chosenBy: by("VIRTUAL_ENV") ? "$VIRTUAL_ENV" : pythonSource,
    };
  }
  return undefined;
}

/** `--activate` resolved: `auto` is live when there is an environment and off otherwise. */
export function activationMode(
  mode: ActivateMode,
  choice: EnvChoice | undefined,
): "live" | "captured" | "off" {
  if (mode === "auto") return choice ? "live" : "off";
  if (mode !== "off" && !choice) {
    throw new UsageError(
      `--activate ${mode} needs an environment: add --conda-env, --venv or --pixi, or a --python ` +
        "that lives in one",
    );
  }
  return mode;
}
