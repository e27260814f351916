/**
 * The plan of an activation, composed from what was found at install: the variables an
 * activator sets (conda's `CONDA_*`, pixi's `PIXI_*`, a venv's `VIRTUAL_ENV`), the package and
 * user variables in conda's order (`env_vars.d` files by name, then `state`, which wins;
 * `***unset***` unsets; a live start reads them again), the scripts, and the files whose change
 * makes what was read at install stale.
 * Pure: no file, process or network access.
 * @module
 */

import { join } from "../util/path.ts";
import { activateDir, envVarsDir, stateFile } from "./prefix.ts";
import type { Activation, EnvChoice, EnvVar, PrefixFacts } from "./types.ts";

/** The variables the activator itself sets, before the environment's own. */
export function activatorVars(choice: EnvChoice): EnvVar[] {
  const { prefix, name, pixi } = choice;
  if (choice.kind === "venv") return [["VIRTUAL_ENV", prefix], ["PYTHONHOME", null]];
  if (pixi) {
    const shown = pixi.env === "default" ? pixi.project : `${pixi.project}:${pixi.env}`;
    return [
      ["CONDA_PREFIX", prefix],
      ["CONDA_DEFAULT_ENV", shown],
      ["PIXI_PROJECT_ROOT", pixi.root],
      ["PIXI_PROJECT_NAME", pixi.project],
      ...(pixi.manifest ? [["PIXI_PROJECT_MANIFEST", pixi.manifest] as EnvVar] : []),
      ["PIXI_ENVIRONMENT_NAME", pixi.env],
      ["PIXI_PROMPT", `(${shown}) `],
    ];
  }
  return [
    ["CONDA_PREFIX", prefix],
    ["CONDA_DEFAULT_ENV", name],
    ["CONDA_SHLVL", "1"],
    ["CONDA_PROMPT_MODIFIER", `(${name}) `],
  ];
}

/** Later entries win; the order is each name's first appearance, as conda builds its dict. */
export function mergeVars(...lists: readonly (readonly EnvVar[])[]): EnvVar[] {
  const merged = new Map<string, string | null>();
  for (const list of lists) for (const [k, v] of list) merged.set(k, v);
  return [...merged];
}

/** The plan for `choice`, in `mode`, with the prefix's `facts` and the kernel's `python`. */
export function activationPlan(
  choice: EnvChoice,
  facts: PrefixFacts,
  mode: "live" | "captured",
  python: string,
): Activation {
  const conda = choice.kind !== "venv";
  const { prefix } = choice;
  const live = mode === "live";
  // What `-nt` compares with the launch script at start: what was read at install and is not
  // read again. A live start reads env_vars.d and state itself; the manifest is read at
  // install in either mode; a capture holds the scripts' and the variables' effect.
  const stamps = conda
    ? [
      ...(live ? [] : [stateFile(prefix), envVarsDir(prefix), join(envVarsDir(prefix), "*")]),
      ...(choice.pixi?.manifest ? [choice.pixi.manifest] : []),
      ...(live
        ? []
        : [activateDir(prefix), join(activateDir(prefix), "*"), ...facts.manifestScripts]),
    ]
    : [];
  const own = activatorVars(choice);
  const prefixVars = mergeVars(facts.packageVars, facts.stateVars);
  return {
    choice,
    mode,
    python,
    activeVar: conda ? "CONDA_PREFIX" : "VIRTUAL_ENV",
    vars: mergeVars(own, prefixVars, facts.manifestVars),
    own,
    prefixVars,
    ...(conda && live
      ? { readAtStart: { envVarsDir: envVarsDir(prefix), stateFile: stateFile(prefix) } }
      : {}),
    bin: join(prefix, "bin"),
    scriptDirs: conda ? [activateDir(prefix)] : [],
    scripts: facts.manifestScripts,
    stamps,
    warnings: facts.warnings,
    facts,
  };
}
