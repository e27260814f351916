/**
 * Captured activation (`--activate captured`): the launch script's own activation is run once
 * at install, by bash, in a clean environment (the user's PATH without other environments,
 * HOME, the locale and the module system's settings), and what it changed is written into the
 * kernel as plain `export`/`unset` lines that `sh` replays at every start. A variable that only
 * gained segments (PATH, LD_LIBRARY_PATH) is replayed relative to the kernel's own value.
 * The run is the process edge; {@link capturedLines} is pure.
 * @module
 */

import { compareCodeUnits } from "../util/compare.ts";
import { join } from "../util/path.ts";
import { shQuote } from "../util/shell.ts";
import { type ActivationParts, varLine } from "./script.ts";
import { VAR_NAME } from "./prefix.ts";
import type { Activation, Captured } from "./types.ts";

/** Variables a shell sets for itself, whose change is no part of an activation. */
const VOLATILE = new Set(["_", "PWD", "OLDPWD", "SHLVL"]);

/** Parses `env -0` output into a map. */
export function parseEnvDump(bytes: Uint8Array): Map<string, string> {
  const vars = new Map<string, string>();
  for (const item of new TextDecoder().decode(bytes).split("\0")) {
    const eq = item.indexOf("=");
    if (eq > 0) vars.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return vars;
}

/** How sh sets `name` from `before` to `after`: relative to its value when only segments were added. */
function assignment(name: string, before: string | undefined, after: string): string {
  const at = before ? `:${after}:`.indexOf(`:${before}:`) : -1;
  if (before === undefined || at < 0 || after === before) return `export ${name}=${shQuote(after)}`;
  const pre = after.slice(0, at).replace(/:$/, "");
  const post = after.slice(at + before.length).replace(/^:/, "");
  const own = pre ? `\${${name}:+:$${name}}` : `\${${name}:+$${name}:}`;
  if (!post) return `export ${name}=${shQuote(pre)}${own}`;
  if (!pre) return `export ${name}=${own}${shQuote(post)}`;
  return `export ${name}=${shQuote(pre)}${own}:${shQuote(post)}`;
}

/**
 * The lines that replay a capture, and the names they set or unset: first the variables the
 * plan unsets (a clean environment may not have had them), then every difference between
 * `before` and `after`, by name.
 */
export function capturedLines(
  a: Activation,
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): { lines: string[]; names: string[] } {
  const changed = new Map<string, string>();
  for (const name of [...new Set([...before.keys(), ...after.keys()])].sort(compareCodeUnits)) {
    if (VOLATILE.has(name) || !VAR_NAME.test(name)) continue;
    const b = before.get(name);
    const v = after.get(name);
    if (b !== v) changed.set(name, v === undefined ? `unset ${name}` : assignment(name, b, v));
  }
  const unsets = a.vars.filter(([k, v]) => v === null && !changed.has(k));
  return {
    lines: [...unsets.map(varLine), ...changed.values()],
    names: [...unsets.map(([k]) => k), ...changed.keys()].sort(compareCodeUnits),
  };
}

/**
 * The environment the capture runs in: what a kernel started from a login shell has, less
 * any environment already active (so that it makes no difference whether the user installs
 * from inside the environment).
 */
export function captureEnv(
  vars: Readonly<Record<string, string | undefined>>,
  a: Activation,
): Record<string, string> {
  const keep =
    /^(HOME|USER|LOGNAME|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR|SHELL|MODULEPATH|MODULESHOME|LMOD_[A-Z_]+)$/;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) if (v !== undefined && keep.test(k)) env[k] = v;
  const drop = new Set([
    a.bin,
    vars.CONDA_PREFIX && join(vars.CONDA_PREFIX, "bin"),
    vars.VIRTUAL_ENV && join(vars.VIRTUAL_ENV, "bin"),
  ]);
  env.PATH = (vars.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(":").filter((d) =>
    d && !drop.has(d)
  ).join(":");
  return env;
}

/** What {@link captureActivation} needs besides the plan. */
export interface CaptureRun {
  /** The launch script for the given pieces (the kernelspec's composition). */
  readonly render: (parts: ActivationParts) => string;
  /** The pieces for a capture run with these before/after lines (see activationParts). */
  readonly parts: (capture: { before: string; after: string }) => ActivationParts;
  readonly env: Record<string, string>;
  readonly cwd: string;
}

/** Thrown when the capture could not run or its activation failed; the message says why. */
export class CaptureFailed extends Error {
  override name = "CaptureFailed";
}

/** Runs the activation of `a` once in bash and returns what it changed. */
export async function captureActivation(a: Activation, run: CaptureRun): Promise<Captured> {
  const dir = Deno.makeTempDirSync({ prefix: "legate-jupyter-capture-" });
  try {
    const [before, after, script] = ["before", "after", "launch.sh"].map((f) => join(dir, f));
    const parts = run.parts({
      before: `env -0 > ${shQuote(before)}`,
      after: `env -0 > ${shQuote(after)}\nexit 0`,
    });
    Deno.writeTextFileSync(script, run.render(parts), { mode: 0o700 });
    const out = await new Deno.Command("/bin/bash", {
      args: ["--noprofile", "--norc", script, join(dir, "connection.json")],
      env: run.env,
      clearEnv: true,
      cwd: run.cwd,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal: AbortSignal.timeout(300_000),
    }).output().catch((e) => {
      throw new CaptureFailed(
        e instanceof Deno.errors.NotFound
          ? "bash is needed to capture the activation (/bin/bash not found); install it, or use --activate live"
          : `the activation did not finish (${(e as Error).message})`,
      );
    });
    const lines = new TextDecoder().decode(out.stderr).split("\n");
    const ours = lines.filter((l) => l.startsWith("legate-jupyter kernel: "))
      .map((l) => l.slice("legate-jupyter kernel: ".length));
    if (!out.success) {
      const why = ours.at(-1) ?? lines.filter((l) => l.trim()).at(-1) ?? `bash exited ${out.code}`;
      throw new CaptureFailed(why);
    }
    const dump = (p: string) => parseEnvDump(Deno.readFileSync(p));
    const { lines: replay, names } = capturedLines(a, dump(before), dump(after));
    const warnings = ours.filter((l) => l.startsWith("warning: ")).map((l) => l.slice(9));
    return { lines: replay, names, warnings };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
