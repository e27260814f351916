/**
 * `legate-jupyter info [NAME]`: a Legate kernel's configuration as `%legate_info` shows it.
 * @module
 */

import type { Command, Context } from "./command.ts";
import { programName } from "./program.ts";
import type { Parsed } from "../util/flag_spec.ts";
import { SPEC_KEY } from "../legate/info.ts";
import { lazy } from "../util/lazy.ts";

/** The info command. */
export const command: Command = {
  name: "info",
  summary: "Show a Legate kernel's configuration, as %legate_info does",
  usage: "info [NAME] [--json]",
  description: `Without NAME, the kernel this runs in (${SPEC_KEY}) is shown.`,
  flags: [{ name: "json", type: "boolean", help: "Print the kernel's Legate metadata as JSON" }],
  maxPositionals: 1,
  positionals: "NAME",
  examples: ["legate-jupyter info Legate_SM_GPU", "legate-jupyter info legate_sm_gpu --json"],
  run,
};

async function run(parsed: Parsed, ctx: Context): Promise<number> {
  const { legateKernel } = await lazy<typeof import("../kernelspec/info.ts")>(
    "kernelspec/info.ts",
  );
  const { name, kernel, legate, specName, text, environment } = legateKernel(
    parsed.positionals[0],
    () => programName(ctx.self),
  );
  if (parsed.values.json) {
    ctx.out.print(JSON.stringify(
      {
        name: specName,
        resource_dir: kernel.resourceDir,
        display_name: kernel.spec!.display_name ?? null,
        legate_config: kernel.spec!.env?.LEGATE_CONFIG ?? null,
        legate,
        legate_jupyter: kernel.spec!.metadata?.legate_jupyter ?? null,
        problems: kernel.problems,
      },
      null,
      2,
    ));
    return 0;
  }
  ctx.out.write(text);
  if (environment) ctx.out.write(`\nEnvironment: ${environment}\n`);
  for (const p of kernel.problems) ctx.out.warn(`kernel '${name}' is broken: ${p}`);
  return 0;
}
