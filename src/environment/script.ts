/**
 * The launch script's activation, as text: the pieces of `kernels/activate.sh` filled in for
 * one plan, in the order a kernel start runs them (bash when needed; modules; `--source`; the
 * prefix check; the activator's variables and PATH; `env_vars.d` and `state`, read by
 * `kernels/env_vars.awk` at a live start, else captured; the `activate.d` scripts). Every value
 * that reaches the script is quoted here. Pure: the templates come in as text.
 * @module
 */

import { shQuote } from "../util/shell.ts";
import type { Activation, Captured, EnvVar } from "./types.ts";

/** The launch script's pieces that activate an environment (see the kernelspec's LaunchParts). */
export interface ActivationParts {
  /** Replaces the argument check at the top: re-runs under bash when needed, parses --rank. */
  readonly start: string;
  /** Opens the block that a start resumed after a script's `exit` skips (modules inside). */
  readonly beforeModules: string;
  /** `--source`, the prefix check, the variables; closes that block. */
  readonly afterModules: string;
  /** The activation scripts (live), after that block. */
  readonly scripts: string;
}

/** What the launch script activates, and the words its messages use. */
export interface PartsRequest {
  readonly activation?: Activation;
  /** The captured variables (captured mode). */
  readonly captured?: Captured;
  /** `--source FILE`, absolute. */
  readonly source?: string;
  /** The command that reinstalls the kernel as it was (`legate-jupyter install --replace …`). */
  readonly refresh: string;
  /** For a capture run: mark the environment before and after activation with these lines. */
  readonly capture?: { readonly before: string; readonly after: string };
}

/** The texts the pieces are made from. */
export interface ActivationTemplates {
  /** `kernels/activate.sh`: the pieces, after `#@@ name` lines. */
  readonly script: string;
  /** `kernels/env_vars.awk`: reads `env_vars.d` and `state` at a live start. */
  readonly envVars: string;
}

/** The piece called `name` in the template (the lines after `#@@ name`). */
export function piece(template: string, name: string): string {
  const start = template.indexOf(`\n#@@ ${name}\n`);
  if (start < 0) throw new Error(`activation template has no piece '${name}'`);
  const body = template.slice(start + name.length + 6);
  const end = body.indexOf("\n#@@ ");
  return end < 0 ? body : body.slice(0, end + 1);
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(/@([A-Z_]+)@/g, (m, k: string) => k in values ? values[k] : m);
}

/** `export NAME='value'` or `unset NAME`. */
export function varLine([name, value]: EnvVar): string {
  return value === null ? `unset ${name}` : `export ${name}=${shQuote(value)}`;
}

/** A path with a glob after it: the path quoted, `/*`, `/*.sh` or `/*.json` left to the shell. */
function globWord(path: string): string {
  const m = /^(.*)(\/\*(?:\.sh|\.json)?)$/.exec(path);
  return m ? `${shQuote(m[1])}${m[2]}` : shQuote(path);
}

function envFlag(a: Activation): string {
  if (a.choice.kind === "venv") return "--venv";
  return a.choice.kind === "pixi" ? "--pixi" : "--conda-env";
}

function bashPiece(req: PartsRequest, template: string): string {
  const a = req.activation;
  const live = a?.mode === "live";
  const globs = live ? a.scriptDirs.map((d) => globWord(`${d}/*.sh`)) : [];
  const needBash = !!req.source || (live && a.scripts.length > 0);
  if (!needBash && globs.length === 0) return "";
  const why = req.source
    ? `bash is needed to source ${req.source} (--source) but there is none in /bin, /usr/bin ` +
      "or on PATH; install bash"
    : `bash is needed to run the activation scripts of environment ${a!.choice.prefix} but ` +
      "there is none in /bin, /usr/bin or on PATH; install bash, or reinstall this kernel with " +
      `--activate captured: ${req.refresh} --activate captured`;
  return fill(piece(template, "bash"), {
    NEED_BASH: needBash ? "1" : "",
    SCRIPT_GLOBS: globs.join(" "),
    NO_BASH: shQuote(why),
  });
}

/** The variables of env_vars.d and state: read by awk at this start, else as read at install. */
function readVars(
  a: Activation,
  files: NonNullable<Activation["readAtStart"]>,
  templates: ActivationTemplates,
): string {
  const { prefix } = a.choice;
  const what = `the variables of environment ${prefix} (env_vars.d and conda env config vars)`;
  return fill(piece(templates.script, "vars"), {
    STATE: shQuote(files.stateFile),
    VARS_GLOB: globWord(`${files.envVarsDir}/*.json`),
    // Its comments stay in kernels/env_vars.awk; the launch script points there.
    PROGRAM: shQuote(
      templates.envVars.split("\n").filter((l) => l.trim() && !/^\s*#/.test(l)).join("\n"),
    ),
    NO_AWK: shQuote(
      `no awk on this node (none on PATH or in /usr/bin) to read ${what} at start, so the ` +
        "values read at install are used; install awk (mawk or gawk) to have them read at every start",
    ),
    FILES: shQuote(what),
    INSTALLED: a.prefixVars.map((v) => "    " + varLine(v) + "\n").join(""),
  });
}

function variables(a: Activation, req: PartsRequest, templates: ActivationTemplates): string {
  const template = templates.script;
  const { prefix, kind } = a.choice;
  const gone = `environment ${prefix} is gone or has no ${a.python} (moved or deleted?), so ` +
    `this kernel cannot start: recreate it there, or reinstall the kernel for its new place: ` +
    `${req.refresh} ${envFlag(a)} NEW_${kind === "pixi" ? "WORKSPACE" : "PREFIX"}`;
  const stale = a.mode === "captured"
    ? `the captured activation of environment ${prefix} is stale (its activate.d, env_vars.d ` +
      `or state changed after this kernel was installed); refresh it: ${req.refresh}`
    : `the activation of environment ${prefix} in its pixi manifest (${
      a.choice.pixi?.manifest ?? ""
    }, read at install) changed after this kernel was installed; take it in: ${req.refresh}`;
  const lines = [
    fill(piece(template, "check"), { PYTHON: shQuote(a.python), GONE: shQuote(gone) }),
  ];
  if (a.stamps.length > 0) {
    lines.push(fill(piece(template, "stale"), {
      STAMPS: a.stamps.map(globWord).join(" "),
      STALE: shQuote(stale),
    }));
  }
  lines.push(fill(piece(template, "switch"), { OTHER: a.activeVar }));
  if (req.capture) lines.push(req.capture.before + "\n");
  const set = (vars: readonly EnvVar[]) => vars.map((v) => varLine(v) + "\n").join("");
  const path = `PATH=${shQuote(a.bin)}\${PATH:+:$PATH}\nexport PATH\n`;
  if (a.mode === "captured" && req.captured) {
    lines.push(req.captured.lines.map((l) => l + "\n").join(""));
  } else if (a.readAtStart) {
    // In the order an activation runs them: its own variables and PATH, then env_vars.d and
    // state as they are now, then the manifest's.
    lines.push(set(a.own), path, readVars(a, a.readAtStart, templates));
    lines.push(set(a.facts.manifestVars));
  } else {
    lines.push(set(a.vars), path);
  }
  return lines.join("");
}

/**
 * The launch script's pieces for `req`, or undefined when there is nothing to activate and
 * nothing to source (the launch script is then as it always was).
 */
export function activationParts(
  req: PartsRequest,
  templates: ActivationTemplates,
): ActivationParts | undefined {
  const template = templates.script;
  const a = req.activation;
  if (!a && !req.source) return undefined;
  const scripts = a?.mode === "live" && (a.scriptDirs.length > 0 || a.scripts.length > 0)
    ? fill(piece(template, "scripts"), {
      SCRIPT_GLOBS: a.scriptDirs.map((d) => globWord(`${d}/*.sh`)).join(" "),
      SCRIPTS: a.scripts.map(shQuote).join(" "),
    })
    : "";
  // What sources scripts also handles one that exits: the start resumes after it, skipping
  // the block that the modules, --source and the variables are in.
  const sourcing = scripts !== "" || req.source !== undefined;
  const start = bashPiece(req, template) +
    fill(piece(template, "start"), { PREFIX: shQuote(a?.choice.prefix ?? "") }) +
    (sourcing ? piece(template, "sourcing") : "");
  const source = req.source ? fill(piece(template, "source"), { SOURCE: shQuote(req.source) }) : "";
  const vars = a ? variables(a, req, templates) : "";
  return {
    start,
    beforeModules: sourcing ? 'if [ -z "$lj_resuming" ]; then\n' : "",
    afterModules: `${source}${vars}${sourcing ? "fi\n" : ""}`,
    scripts: scripts + (req.capture ? req.capture.after + "\n" : ""),
  };
}
