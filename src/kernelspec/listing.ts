/**
 * What `list` shows of the kernels on Jupyter's search path: each kernel with its Legate
 * configuration, when it has one (`info.ts` shows one kernel).
 * @module
 */

import { type LegateMetadata, summarize } from "../legate/info.ts";
import { currentKernelDirs } from "./python.ts";
import { type KernelEntry, listKernels, listSkippedDirs } from "./store.ts";
import { shQuote } from "../util/shell.ts";
import { environmentOf, recordName } from "../environment/describe.ts";

/** A kernel on the search path, with its Legate configuration summed up when it has one. */
export interface ListedKernel extends KernelEntry {
  /** One line on the Legate configuration (`1 node, cpus 4, ...`), for Legate kernels. */
  readonly legateSummary?: string;
  /** `metadata.legate_jupyter.environment`: the environment the kernel activates, if any. */
  readonly environment?: Record<string, unknown>;
  /** What `list` says of it (`conda environment 'x' (/p), activated live at every start`). */
  readonly environmentSummary?: string;
}

function legateOf(k: KernelEntry): LegateMetadata | undefined {
  const legate = k.spec?.metadata?.legate;
  return legate && typeof legate === "object" ? legate as LegateMetadata : undefined;
}

/**
 * Every kernel on the search path `dirs` (by default this process's), in Jupyter's precedence
 * order.
 */
export function listedKernels(dirs: readonly string[] = currentKernelDirs()): ListedKernel[] {
  return listKernels(dirs).map((k) => {
    const legate = legateOf(k);
    const environment = environmentOf(k.spec?.metadata);
    return {
      ...k,
      ...(legate ? { legateSummary: summarize(legate) } : {}),
      ...(environment ? { environment, environmentSummary: recordName(environment) } : {}),
    };
  });
}

/**
 * Directories on the search path `dirs` that Jupyter skips (no kernel.json, or one that is not
 * a file), as broken entries naming the removal that works, `PROGRAM remove NAME`: one of them
 * is why `install NAME` refuses a name no kernel has. `program` is asked only when there is one
 * (finding the program on PATH costs every `list` a walk of PATH otherwise).
 */
export function skippedKernels(
  program: () => string,
  dirs: readonly string[] = currentKernelDirs(),
): ListedKernel[] {
  const skipped = listSkippedDirs(dirs);
  if (skipped.length === 0) return [];
  const name = program();
  return skipped.map((d) => ({
    name: d.name,
    resourceDir: d.resourceDir,
    problems: [
      `${d.why}, so Jupyter skips it; remove it with '${name} remove ${shQuote(d.name)}'`,
    ],
    shadows: [],
  }));
}

/** The search path `list` reads once for both of the above. */
export { currentKernelDirs };
