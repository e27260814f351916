/**
 * What activating a kernel's environment is made of: which environment (found at install),
 * what its prefix holds, and the plan the launch script carries out at every kernel start.
 * @module
 */

/** The values of `--activate`. */
export const ACTIVATE_MODES = ["auto", "live", "captured", "off"] as const;
/** How a kernel activates its environment. */
export type ActivateMode = typeof ACTIVATE_MODES[number];

/** The kinds of environment a kernel can activate. */
export type EnvKind = "conda" | "pixi" | "venv";

/** A pixi workspace's environment. */
export interface PixiWorkspace {
  /** The directory that holds the manifest and `.pixi/`. */
  readonly root: string;
  /** `pixi.toml` or `pyproject.toml`, when there is one. */
  readonly manifest?: string;
  /** The workspace's name (the manifest's, else the directory's). */
  readonly project: string;
  /** The environment's name (`default` unless `--pixi-env`). */
  readonly env: string;
}

/** The environment a kernel runs in, as found at install. */
export interface EnvChoice {
  readonly kind: EnvKind;
  /** Its absolute prefix, links kept (a venv's `bin/python` must not be resolved). */
  readonly prefix: string;
  /** Its name: a conda environment's (`base` for a root), a venv's directory, pixi's env. */
  readonly name: string;
  /** What chose it, for messages: `--conda-env legate`, `$CONDA_PREFIX`, `--python`, … */
  readonly chosenBy: string;
  readonly pixi?: PixiWorkspace;
}

/** A variable the activation sets (a string) or unsets (null). */
export type EnvVar = readonly [name: string, value: string | null];

/** What an environment's prefix holds, read once at install. */
export interface PrefixFacts {
  /** `etc/conda/env_vars.d/*.json` in name order, then `conda-meta/state`'s `env_vars`. */
  readonly packageVars: readonly EnvVar[];
  readonly stateVars: readonly EnvVar[];
  /** `etc/conda/activate.d/*.sh` at install, in the order they run. */
  readonly scripts: readonly string[];
  /** Files in `activate.d` that are for other shells (`.csh`, `.fish`, …) and never run. */
  readonly otherShells: readonly string[];
  /** The pixi manifest's `[activation]` scripts (absolute) and `[activation.env]`. */
  readonly manifestScripts: readonly string[];
  readonly manifestVars: readonly EnvVar[];
  /** Problems worth a warning at install (unreadable JSON, a reserved or invalid name, …). */
  readonly warnings: readonly string[];
}

/** The plan of an activation: what the launch script does, in order, at kernel start. */
export interface Activation {
  readonly choice: EnvChoice;
  readonly mode: "live" | "captured";
  /** The Python the kernel runs (checked at start together with the prefix). */
  readonly python: string;
  /** The variable that names an active environment of this kind (`CONDA_PREFIX`, `VIRTUAL_ENV`). */
  readonly activeVar: "CONDA_PREFIX" | "VIRTUAL_ENV";
  /** What a start sets, as read at install: the activator's, env_vars.d's, state's, the manifest's. */
  readonly vars: readonly EnvVar[];
  /** The activator's own variables (`CONDA_*`, `PIXI_*`, `VIRTUAL_ENV`), set first. */
  readonly own: readonly EnvVar[];
  /** The variables of `env_vars.d` and then `state` at install, merged (state wins). */
  readonly prefixVars: readonly EnvVar[];
  /**
   * Where a live start reads `env_vars.d` and `state` again (a conda-like prefix, live): the
   * values at install are then only the fallback of a node without awk.
   */
  readonly readAtStart?: { readonly envVarsDir: string; readonly stateFile: string };
  /** Put first on PATH. */
  readonly bin: string;
  /** Directories whose `*.sh` run at start in name order (conda's `activate.d`). */
  readonly scriptDirs: readonly string[];
  /** Scripts that run after those (pixi's manifest scripts). */
  readonly scripts: readonly string[];
  /** Files whose change after install makes what was read at install stale (and not again). */
  readonly stamps: readonly string[];
  /** Warnings for the install to print. */
  readonly warnings: readonly string[];
  /** Names of what was read at install, for `--dry-run` and metadata. */
  readonly facts: PrefixFacts;
}

/** The captured activation: what bash changed, as sh replays it. */
export interface Captured {
  /** Lines of sh: `unset NAME` and `export NAME=...`, every value quoted. */
  readonly lines: readonly string[];
  /** The names set or unset, sorted. */
  readonly names: readonly string[];
  /** Warnings the activation printed while it was captured. */
  readonly warnings: readonly string[];
}
