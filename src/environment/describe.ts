/**
 * How an activation is shown: the one line `install` prints, the block `--dry-run` prints, and
 * the record kept in `metadata.legate_jupyter.environment`, which `info` and `list` read back.
 * Pure.
 * @module
 */

import { join } from "../util/path.ts";
import { printable } from "../util/printable.ts";
import type { Activation, Captured, EnvChoice } from "./types.ts";

/** `conda environment 'legate' (/p)`, `venv /p`, `pixi environment 'default' of /w`. */
export function environmentName(
  choice: Pick<EnvChoice, "kind" | "name" | "prefix"> & { pixi?: { root: string } },
): string {
  if (choice.kind === "venv") return `venv ${choice.prefix}`;
  if (choice.kind === "pixi") {
    return `pixi environment '${choice.name}' of ${choice.pixi?.root ?? choice.prefix}`;
  }
  return choice.name === choice.prefix
    ? `conda environment ${choice.prefix}`
    : `conda environment '${choice.name}' (${choice.prefix})`;
}

/** The scripts that run at start, as paths, in order (those at install). */
function scriptPaths(a: Activation): string[] {
  const dirs = a.scriptDirs.flatMap((d) => a.facts.scripts.map((s) => join(d, s)));
  return [...dirs, ...a.scripts];
}

/** The line `install` prints: which environment, and how it is activated. */
export function summaryLine(a: Activation, captured?: Captured): string {
  const what = environmentName(a.choice);
  if (a.mode === "captured") {
    return `Activates ${what} from its activation captured now (${captured?.names.length ?? 0} ` +
      "variables, replayed by sh at every start; reinstall with --replace when it changes)";
  }
  const scripts = scriptPaths(a).length;
  return `Activates ${what} at every start: ${a.vars.length + 1} variables` +
    (a.choice.kind === "venv"
      ? ""
      : `, ${scripts} activation script${scripts === 1 ? "" : "s"} run by bash`);
}

/** The lines `--dry-run` prints about the activation. */
export function dryRunLines(a: Activation, captured?: Captured): string[] {
  const lines = [
    `Environment: ${
      environmentName(a.choice)
    }, chosen by ${a.choice.chosenBy}; ${a.mode} activation`,
  ];
  const shown = (v: string | null) => v === null ? "(unset)" : JSON.stringify(v);
  if (a.mode === "captured" && captured) {
    lines.push(`  captured (replayed by sh): ${captured.lines.length ? "" : "nothing"}`);
    for (const l of captured.lines) lines.push(`    ${l}`);
  } else if (a.readAtStart) {
    const { envVarsDir, stateFile } = a.readAtStart;
    lines.push(`  variables: PATH gains ${a.bin} first`);
    for (const [k, v] of a.own) lines.push(`    ${k}=${shown(v)}`);
    lines.push(
      `  read at every start from ${join(envVarsDir, "*.json")} and ${stateFile}, now: ${
        a.prefixVars.length ? "" : "none"
      }`,
    );
    for (const [k, v] of a.prefixVars) lines.push(`    ${k}=${shown(v)}`);
    if (a.facts.manifestVars.length) {
      lines.push(`  the pixi manifest's [activation.env] (read at install):`);
      for (const [k, v] of a.facts.manifestVars) lines.push(`    ${k}=${shown(v)}`);
    }
  } else {
    lines.push(`  variables: PATH gains ${a.bin} first`);
    for (const [k, v] of a.vars) lines.push(`    ${k}=${shown(v)}`);
  }
  if (!(a.mode === "captured" && captured)) {
    const scripts = scriptPaths(a);
    lines.push(
      `  scripts (run by bash at every start, in this order): ${scripts.length ? "" : "none"}`,
    );
    for (const s of scripts) lines.push(`    ${s}`);
  }
  if (a.facts.otherShells.length) {
    lines.push(`  ignored (for other shells): ${a.facts.otherShells.join(", ")}`);
  }
  return lines;
}

/** `metadata.legate_jupyter.environment`. */
export function environmentRecord(a: Activation, captured?: Captured): Record<string, unknown> {
  const c = a.choice;
  return {
    kind: c.kind,
    prefix: c.prefix,
    name: c.name,
    mode: a.mode,
    chosen_by: c.chosenBy,
    variables: Object.fromEntries(a.vars),
    ...(a.readAtStart
      ? {
        read_at_start: [join(a.readAtStart.envVarsDir, "*.json"), a.readAtStart.stateFile],
      }
      : {}),
    scripts: scriptPaths(a),
    ignored: [...a.facts.otherShells],
    ...(captured ? { captured: [...captured.names] } : {}),
    ...(c.pixi
      ? {
        pixi: {
          root: c.pixi.root,
          manifest: c.pixi.manifest ?? null,
          project: c.pixi.project,
          env: c.pixi.env,
        },
      }
      : {}),
  };
}

/** `metadata.legate_jupyter.environment` as read back from a kernel.json (anyone's text). */
export interface EnvironmentRecord {
  readonly kind?: unknown;
  readonly prefix?: unknown;
  readonly name?: unknown;
  readonly mode?: unknown;
  readonly pixi?: unknown;
}

/** What `info` and `list` say about a recorded environment. */
export function recordName(r: EnvironmentRecord): string {
  const text = (v: unknown) => typeof v === "string" ? printable(v, 200) : "?";
  const kind = r.kind === "venv" || r.kind === "pixi" ? r.kind : "conda";
  const root = (r.pixi as { root?: unknown } | undefined)?.root;
  const what = environmentName({
    kind,
    name: text(r.name),
    prefix: text(r.prefix),
    pixi: typeof root === "string" ? { root: text(root) } : undefined,
  });
  return `${what}, activated ${
    r.mode === "captured" ? "from its capture at install" : "live at every start"
  }`;
}

/** The environment record of a kernel.json's `metadata`, if it has one (anyone's text). */
export function environmentOf(
  metadata: Record<string, unknown> | undefined,
): (EnvironmentRecord & Record<string, unknown>) | undefined {
  const tool = metadata?.legate_jupyter as { environment?: unknown } | undefined;
  const env = tool?.environment;
  return env && typeof env === "object" && !Array.isArray(env)
    ? env as EnvironmentRecord & Record<string, unknown>
    : undefined;
}
