/**
 * `legate-jupyter info [NAME]`: a Legate kernel's configuration as `%legate_info` shows it.
 * @module
 */

import { type Command, type Context, programName } from "./command.ts";
import { Failure, UsageError } from "../util/errors.ts";
import type { Parsed } from "./flags.ts";
import { searchDirs } from "./list.ts";
import { findKernel, kernelNameProblem, shownName } from "../kernelspec/store.ts";
import { SPEC_KEY } from "../kernelspec/spec.ts";
import { type LegateMetadata, renderInfo } from "../legate/info.ts";
import { type EnvironmentRecord, recordName } from "../environment/describe.ts";

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

function run(parsed: Parsed, ctx: Context): number {
  const given = parsed.positionals[0];
  if (given !== undefined) {
    const problem = kernelNameProblem(given, false);
    if (problem) throw new UsageError(`'${shownName(given)}' is not a kernel name: ${problem}`);
  }
  const name = given ?? Deno.env.get(SPEC_KEY);
  if (!name) {
    throw new UsageError(
      `name a kernel: ${
        programName(ctx.self)
      } info NAME (or run it inside a Legate kernel, where ${SPEC_KEY} is set)`,
    );
  }
  const kernel = findKernel(searchDirs(), name);
  if (!kernel) {
    throw new Failure(
      `no kernel named '${name}'; '${programName(ctx.self)} list' shows the installed ones`,
    );
  }
  if (!kernel.spec) throw new Failure(`kernel '${name}' is broken: ${kernel.problems.join("; ")}`);
  const legate = kernel.spec.metadata?.legate as LegateMetadata | undefined;
  if (!legate || typeof legate !== "object") {
    throw new Failure(
      `kernel '${name}' is not a Legate kernel (its kernel.json has no metadata.legate)`,
    );
  }
  const specName = kernel.spec.env?.[SPEC_KEY] ?? name;
  if (parsed.values.json) {
    ctx.out.print(JSON.stringify(
      {
        name: specName,
        resource_dir: kernel.resourceDir,
        display_name: kernel.spec.display_name ?? null,
        legate_config: kernel.spec.env?.LEGATE_CONFIG ?? null,
        legate,
        legate_jupyter: kernel.spec.metadata?.legate_jupyter ?? null,
        problems: kernel.problems,
      },
      null,
      2,
    ));
    return 0;
  }
  ctx.out.write(renderInfo(specName, legate));
  const env = (kernel.spec.metadata?.legate_jupyter as { environment?: unknown } | undefined)
    ?.environment;
  if (env && typeof env === "object") {
    ctx.out.write(`\nEnvironment: ${recordName(env as EnvironmentRecord)}\n`);
  }
  for (const p of kernel.problems) ctx.out.warn(`kernel '${name}' is broken: ${p}`);
  return 0;
}
