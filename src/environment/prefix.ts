/**
 * What an environment's prefix holds for activation, read once at install: the package
 * variables of `etc/conda/env_vars.d/*.json` and the user's of `conda-meta/state` (`conda env
 * config vars set`; a live start reads both again, with kernels/env_vars.awk), the `activate.d`
 * scripts, a pixi manifest's activation, and Legate's wrapper packages whose library has not
 * been built yet. This is the file-system edge of the area; nothing here runs anything.
 * @module
 */

import { compareCodeUnits } from "../util/compare.ts";
import { basename, join } from "../util/path.ts";
import { isDir } from "./find.ts";
import { manifestActivation } from "./pixi.ts";
import type { EnvChoice, EnvVar, PrefixFacts } from "./types.ts";

/** conda's marker for "unset this variable" in `state` and `env_vars.d`. */
export const UNSET = "***unset***";
/** Variables conda refuses to take from `state` (and so do we). */
const RESERVED = new Set(["PATH"]);
/** A name the shell can export. */
export const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The `activate.d` directory of a conda-like prefix. */
export function activateDir(prefix: string): string {
  return join(prefix, "etc", "conda", "activate.d");
}

/** The `env_vars.d` directory of a conda-like prefix. */
export function envVarsDir(prefix: string): string {
  return join(prefix, "etc", "conda", "env_vars.d");
}

/** The `conda-meta/state` file of a conda-like prefix. */
export function stateFile(prefix: string): string {
  return join(prefix, "conda-meta", "state");
}

function names(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].filter((e) => !e.isDirectory).map((e) => e.name)
      .sort(compareCodeUnits);
  } catch {
    return [];
  }
}

/** A JSON file's object, or a warning saying why it could not be read. */
function readObject(path: string): Record<string, unknown> | string {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    return `${path} cannot be read (${(e as Error).message}); its variables are skipped`;
  }
  try {
    const v = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch {
    // Reported below.
  }
  return `${path} is not a JSON object; its variables are skipped`;
}

/** The variables of one object, checked: names the shell can export, string values. */
function varsOf(obj: unknown, where: string, warnings: string[]): EnvVar[] {
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) return [];
  const out: EnvVar[] = [];
  for (const [name, value] of Object.entries(obj as Record<string, unknown>)) {
    if (RESERVED.has(name)) {
      warnings.push(`${where} sets ${name}, which conda reserves; it is ignored, as conda does`);
    } else if (!VAR_NAME.test(name)) {
      warnings.push(`${where} sets ${JSON.stringify(name)}, which is not a variable name; ignored`);
    } else if (typeof value === "string") {
      // Strings only, as conda writes them and as the launch script's awk reads them.
      out.push([name, value === UNSET ? null : value]);
    } else {
      warnings.push(`${where}: the value of ${name} is not a string; ignored`);
    }
  }
  return out;
}

function packageVars(prefix: string, warnings: string[]): EnvVar[] {
  const dir = envVarsDir(prefix);
  const out: EnvVar[] = [];
  for (const name of names(dir).filter((n) => n.endsWith(".json"))) {
    const obj = readObject(join(dir, name));
    if (typeof obj === "string") warnings.push(obj);
    else out.push(...varsOf(obj, join(dir, name), warnings));
  }
  return out;
}

function stateVars(prefix: string, warnings: string[]): EnvVar[] {
  const path = stateFile(prefix);
  try {
    Deno.statSync(path);
  } catch {
    return [];
  }
  const obj = readObject(path);
  if (typeof obj === "string") {
    warnings.push(obj);
    return [];
  }
  return varsOf(obj.env_vars, `${path} (env_vars)`, warnings);
}

/** Whether any file under `dir` (at most `depth` levels down) is called `name`. */
function hasFile(dir: string, name: string, depth = 6): boolean {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return false;
  }
  if (entries.some((e) => !e.isDirectory && e.name === name)) return true;
  return depth > 0 &&
    entries.some((e) => e.isDirectory && hasFile(join(dir, e.name), name, depth - 1));
}

/** Legate's wrapper packages: installed, and their library built by the script they ship? */
const WRAPPERS = [
  ["legate-mpi-wrapper", "mpi-wrapper", "liblegate_mpi_wrapper.so", "build-mpi-wrapper.sh"],
  ["realm-gex-wrapper", "gex-wrapper", "librealm_gex_wrapper.so", "build-gex-wrapper.sh"],
] as const;

function unbuiltWrappers(prefix: string): string[] {
  const meta = names(join(prefix, "conda-meta"));
  return WRAPPERS.filter(([pkg, dir, lib]) =>
    meta.some((m) =>
      m.startsWith(`${pkg}-`) && m.endsWith(".json") && /^\d/.test(m.slice(pkg.length + 1))
    ) &&
    !hasFile(join(prefix, dir), lib)
  ).map(([pkg, dir, lib, build]) =>
    `${pkg} is installed in ${prefix} but its library (${lib}) has not been built yet, so ` +
    `multi-node runs will not use it: activate the environment and run ${join(prefix, dir, build)}`
  );
}

function manifestFacts(choice: EnvChoice, warnings: string[]) {
  const manifest = choice.pixi?.manifest;
  if (!choice.pixi || !manifest) return { scripts: [], vars: [] as EnvVar[] };
  let text = "";
  try {
    text = Deno.readTextFileSync(manifest);
  } catch (e) {
    warnings.push(
      `${manifest} cannot be read (${(e as Error).message}); its activation is skipped`,
    );
  }
  const act = manifestActivation(text, choice.pixi.env, basename(manifest) === "pyproject.toml");
  return {
    scripts: act.scripts.map((s) => s.startsWith("/") ? s : join(choice.pixi!.root, s)),
    vars: varsOf(Object.fromEntries(act.env), `${manifest} [activation.env]`, warnings),
  };
}

/** Reads what activation needs from the prefix of `choice`. */
export function readPrefix(choice: EnvChoice): PrefixFacts {
  const warnings: string[] = [];
  if (choice.kind === "venv") {
    return {
      packageVars: [],
      stateVars: [],
      scripts: [],
      otherShells: [],
      manifestScripts: [],
      manifestVars: [],
      warnings,
    };
  }
  const all = isDir(activateDir(choice.prefix)) ? names(activateDir(choice.prefix)) : [];
  const manifest = manifestFacts(choice, warnings);
  return {
    packageVars: packageVars(choice.prefix, warnings),
    stateVars: stateVars(choice.prefix, warnings),
    scripts: all.filter((n) => n.endsWith(".sh")),
    otherShells: all.filter((n) => !n.endsWith(".sh")),
    manifestScripts: manifest.scripts,
    manifestVars: manifest.vars,
    warnings: [...warnings, ...unbuiltWrappers(choice.prefix)],
  };
}
