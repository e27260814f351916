/**
 * What `info` shows: one Legate kernel by name, or the one this process runs in, with its
 * configuration as `%legate_info` prints it.
 * @module
 */

import { Failure, UsageError } from "../util/errors.ts";
import { type LegateMetadata, renderInfo, SPEC_KEY } from "../legate/info.ts";
import { currentKernelDirs } from "./python.ts";
import { findKernel, type KernelEntry, kernelNameProblem, shownName } from "./store.ts";
import { environmentOf, recordName } from "../environment/describe.ts";

/** A Legate kernel, as `info` shows it. */
export interface LegateKernel {
  /** The name asked for (or found in the environment). */
  readonly name: string;
  readonly kernel: KernelEntry;
  readonly legate: LegateMetadata;
  /** The name the kernel was installed as (its kernel.json keeps it). */
  readonly specName: string;
  /** Its configuration as `%legate_info` prints it. */
  readonly text: string;
  /** The environment it activates, as `info` names it, if any. */
  readonly environment?: string;
}

/**
 * The Legate kernel named `given`, or (without a name) the one this process runs in; throws a
 * usage error for a bad or missing name, and a failure for a kernel that is not there, broken,
 * or not a Legate kernel. `program` names this program in the hints (asked only for one: it
 * looks the program up on PATH).
 */
export function legateKernel(given: string | undefined, program: () => string): LegateKernel {
  if (given !== undefined) {
    const problem = kernelNameProblem(given, false);
    if (problem) throw new UsageError(`'${shownName(given)}' is not a kernel name: ${problem}`);
  }
  const name = given ?? Deno.env.get(SPEC_KEY);
  if (!name) {
    throw new UsageError(
      `name a kernel: ${program()} info NAME (or run it inside a Legate kernel, where ${SPEC_KEY} ` +
        `is set)`,
    );
  }
  const kernel = findKernel(currentKernelDirs(), name);
  if (!kernel) {
    throw new Failure(`no kernel named '${name}'; '${program()} list' shows the installed ones`);
  }
  if (!kernel.spec) throw new Failure(`kernel '${name}' is broken: ${kernel.problems.join("; ")}`);
  const legate = kernel.spec.metadata?.legate as LegateMetadata | undefined;
  if (!legate || typeof legate !== "object") {
    throw new Failure(
      `kernel '${name}' is not a Legate kernel (its kernel.json has no metadata.legate)`,
    );
  }
  const specName = kernel.spec.env?.[SPEC_KEY] ?? name;
  const env = environmentOf(kernel.spec.metadata);
  return {
    name,
    kernel,
    legate,
    specName,
    text: renderInfo(specName, legate),
    ...(env ? { environment: recordName(env) } : {}),
  };
}
