/**
 * `legate-jupyter list`: every kernelspec on Jupyter's search path, in Jupyter's precedence
 * order, with a configuration summary for Legate kernels and broken kernels shown as such.
 * @module
 */

import { type Command, type Context, programName } from "./command.ts";
import type { Parsed } from "./flags.ts";
import { currentPathEnv, kernelSearchDirs } from "../kernelspec/paths.ts";
import { defaultPython, pythonPrefix } from "../kernelspec/python.ts";
import { type KernelEntry, listKernels, listSkippedDirs } from "../kernelspec/store.ts";
import { shQuote } from "../util/shell.ts";
import { type LegateMetadata, summarize } from "../legate/info.ts";
import { printable } from "../util/printable.ts";
import { type EnvironmentRecord, recordName } from "../environment/describe.ts";

/** The widest kernel name and description `list` prints before cutting them. */
const MAX_NAME = 60;
const MAX_TEXT = 200;

/** The list command. */
export const command: Command = {
  name: "list",
  summary: "List installed kernels, with each Legate kernel's configuration",
  usage: "list [--json | --names]",
  description: "Kernels are listed in the order Jupyter searches for them; a kernel hidden by " +
    "another of the same name earlier on the path is noted. Broken kernels (unreadable " +
    "kernel.json, missing interpreter or launch script) are marked, not skipped.",
  flags: [
    {
      name: "json",
      type: "boolean",
      help: "Print JSON shaped like 'jupyter kernelspec list --json'",
    },
    { name: "names", type: "boolean", help: "Print only the kernel names, one a line" },
  ],
  examples: ["legate-jupyter list", "legate-jupyter list --json | jq '.kernelspecs | keys'"],
  run,
};

function legateOf(k: KernelEntry): LegateMetadata | undefined {
  const legate = k.spec?.metadata?.legate;
  return legate && typeof legate === "object" ? legate as LegateMetadata : undefined;
}

/** `metadata.legate_jupyter.environment`: the environment the kernel activates, if any. */
function environmentOf(k: KernelEntry): EnvironmentRecord | undefined {
  const tool = k.spec?.metadata?.legate_jupyter as { environment?: unknown } | undefined;
  const env = tool?.environment;
  return env && typeof env === "object" ? env as EnvironmentRecord : undefined;
}

function inEnvironment(k: KernelEntry): string {
  const env = environmentOf(k);
  return env ? `; in ${recordName(env)}` : "";
}

/** The kernel search directories for this process, as `list`, `info` and `remove` see them. */
export function searchDirs(): string[] {
  const env = currentPathEnv();
  const python = defaultPython(env.vars);
  return kernelSearchDirs(env, python ? pythonPrefix(python.path) : undefined);
}

/**
 * Directories Jupyter skips, as broken entries: one of them is why `install NAME` refuses a
 * name no kernel has, and `remove NAME` takes it away.
 */
function skippedEntries(dirs: readonly string[], program: string): KernelEntry[] {
  return listSkippedDirs(dirs).map((d) => ({
    name: d.name,
    resourceDir: d.resourceDir,
    problems: [
      `${d.why}, so Jupyter skips it; remove it with '${program} remove ${shQuote(d.name)}'`,
    ],
    shadows: [],
  }));
}

function run(parsed: Parsed, ctx: Context): number {
  const dirs = searchDirs();
  const kernels = listKernels(dirs);
  const { out } = ctx;
  if (parsed.values.names) {
    if (kernels.length) out.print(kernels.map((k) => k.name).join("\n"));
    return 0;
  }
  // Not in --names: those are the names Jupyter can start (completions offer them).
  kernels.push(...skippedEntries(dirs, programName(ctx.self)));
  if (parsed.values.json) {
    const kernelspecs: Record<string, unknown> = {};
    for (const k of kernels) {
      const legate = legateOf(k);
      kernelspecs[k.name] = {
        resource_dir: k.resourceDir,
        spec: k.spec ?? null,
        legate: legate ? summarize(legate) : null,
        environment: environmentOf(k) ?? null,
        broken: k.problems.length > 0,
        problems: k.problems,
        shadows: k.shadows,
      };
    }
    out.print(JSON.stringify({ kernelspecs }, null, 2));
    return 0;
  }
  if (kernels.length === 0) {
    out.print("No kernels available");
    return 0;
  }
  // A kernel.json is anyone's text: names and display names are shown escaped, and cut.
  const rows = kernels.map((k) => {
    const legate = legateOf(k);
    const what = k.problems.length
      ? `BROKEN: ${k.problems.join("; ")}`
      : legate
      ? `Legate: ${summarize(legate)}${inEnvironment(k)}`
      : String(k.spec?.display_name ?? "");
    return { k, name: printable(k.name, MAX_NAME), what: printable(what, MAX_TEXT) };
  });
  const nameWidth = Math.max(...rows.map((r) => r.name.length));
  out.print("Available kernels:");
  for (const { k, name, what } of rows) {
    const shown = k.problems.length
      ? out.paint("31", name.padEnd(nameWidth), "stdout")
      : name.padEnd(nameWidth);
    out.print(`  ${shown}    ${k.resourceDir}`);
    out.print(`  ${" ".repeat(nameWidth)}    ${what}`);
    for (const s of k.shadows) out.print(`  ${" ".repeat(nameWidth)}    (hides ${s})`);
  }
  return 0;
}
