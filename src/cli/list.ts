/**
 * `legate-jupyter list`: every kernelspec on Jupyter's search path, in Jupyter's precedence
 * order, with a configuration summary for Legate kernels and broken kernels shown as such.
 * @module
 */

import type { Command, Context } from "./command.ts";
import { programName } from "./program.ts";
import type { Parsed } from "../util/flag_spec.ts";
import { printable } from "../util/printable.ts";
import { lazy } from "../util/lazy.ts";

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

async function run(parsed: Parsed, ctx: Context): Promise<number> {
  const { currentKernelDirs, listedKernels, skippedKernels } = await lazy<
    typeof import("../kernelspec/listing.ts")
  >("kernelspec/listing.ts");
  const dirs = currentKernelDirs();
  const kernels = listedKernels(dirs);
  const { out } = ctx;
  if (parsed.values.names) {
    if (kernels.length) out.print(kernels.map((k) => k.name).join("\n"));
    return 0;
  }
  // Not in --names: those are the names Jupyter can start (completions offer them).
  kernels.push(...skippedKernels(() => programName(ctx.self), dirs));
  if (parsed.values.json) {
    const kernelspecs: Record<string, unknown> = {};
    for (const k of kernels) {
      kernelspecs[k.name] = {
        resource_dir: k.resourceDir,
        spec: k.spec ?? null,
        legate: k.legateSummary ?? null,
        environment: k.environment ?? null,
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
    const what = k.problems.length
      ? `BROKEN: ${k.problems.join("; ")}`
      : k.legateSummary !== undefined
      ? `Legate: ${k.legateSummary}${k.environmentSummary ? `; in ${k.environmentSummary}` : ""}`
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
