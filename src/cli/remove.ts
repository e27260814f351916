/**
 * `legate-jupyter remove NAME...`: removes kernels by name, case-insensitively, like
 * `jupyter kernelspec remove`; asks first on a terminal and needs `-y` elsewhere.
 * @module
 */

import type { Command, Context } from "./command.ts";
import { programName } from "./program.ts";
import { Failure, UsageError } from "../util/errors.ts";
import type { Parsed } from "../util/flag_spec.ts";
import { lazy } from "../util/lazy.ts";

/** The remove command. */
export const command: Command = {
  name: "remove",
  summary: "Remove kernels by name",
  usage: "remove NAME... [-y]",
  description: "Names are matched case-insensitively on Jupyter's kernel search path. Nothing is " +
    "removed when any name is not found. A kernel directory is moved out of Jupyter's view in " +
    "one step, then deleted: when that move is not permitted, nothing of it is deleted. " +
    "Directories Jupyter skips because their kernel.json is missing or not a file can be " +
    "removed too. " +
    "Put names that begin with '-' after '--'.",
  flags: [{ name: "yes", short: "y", type: "boolean", help: "Remove without asking" }],
  maxPositionals: Infinity,
  positionals: "NAME...",
  examples: [
    "legate-jupyter remove legate_sm_gpu",
    "legate-jupyter remove -y old-1 old-2",
    "legate-jupyter remove -y -- -oddly-named",
  ],
  run,
};

/** A kernel directory to remove, and what Jupyter makes of it. */
interface Target {
  readonly name: string;
  readonly resourceDir: string;
  /** Why Jupyter does not list it, for directories whose kernel.json is not a file. */
  readonly broken?: string;
}

async function run(parsed: Parsed, ctx: Context): Promise<number> {
  const [{ currentKernelDirs }, store] = await Promise.all([
    lazy<typeof import("../kernelspec/python.ts")>("kernelspec/python.ts"),
    lazy<typeof import("../kernelspec/store.ts")>("kernelspec/store.ts"),
  ]);
  const { findBrokenKernelDirs, findKernel, kernelNameProblem, removeKernelDir, shownName } = store;
  const { skippedBecause } = store;
  const names = parsed.positionals;
  if (names.length === 0) {
    throw new UsageError(`name the kernels to remove: ${programName(ctx.self)} remove NAME...`);
  }
  for (const name of names) {
    const problem = kernelNameProblem(name, false);
    if (problem) {
      throw new UsageError(
        `'${shownName(name)}' is not a kernel name: ${problem}; nothing was removed`,
      );
    }
  }
  const dirs = currentKernelDirs();
  const found: Target[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const k = findKernel(dirs, name);
    const targets: Target[] = k
      ? [{ name: k.name, resourceDir: k.resourceDir }]
      : findBrokenKernelDirs(dirs, name).map((resourceDir) => ({
        name: name.toLowerCase(),
        resourceDir,
        broken: `${skippedBecause(resourceDir) ?? "it is not a kernel"}, so Jupyter skips it`,
      }));
    if (targets.length === 0) missing.push(name);
    for (const t of targets) {
      if (!found.some((f) => f.resourceDir === t.resourceDir)) found.push(t);
    }
  }
  if (missing.length) {
    throw new Failure(
      `no kernel named ${
        missing.map((n) => `'${shownName(n)}'`).join(", ")
      }; nothing was removed ('${programName(ctx.self)} list' shows the installed ones)`,
    );
  }
  if (!parsed.values.yes) {
    if (!Deno.stdin.isTerminal()) {
      throw new UsageError("refusing to remove kernels without confirmation: pass -y");
    }
    for (const k of found) {
      ctx.out.print(`  ${shownName(k.name)}  ${k.resourceDir}${k.broken ? ` (${k.broken})` : ""}`);
    }
    const answer = prompt(
      `Remove ${found.length} kernel spec${found.length === 1 ? "" : "s"}? [y/N]:`,
    );
    if (!/^y(es)?$/i.test(answer?.trim() ?? "")) {
      ctx.out.print("Nothing was removed.");
      return 1;
    }
  }
  const removed: string[] = [];
  for (const k of found) {
    let leftover: string | undefined;
    try {
      leftover = removeKernelDir(k.resourceDir);
    } catch (e) {
      if (!(e instanceof store.RemoveRefused)) throw e;
      const before = removed.length ? ` (removed before it: ${removed.join(", ")})` : "";
      throw new Failure(`cannot remove ${k.resourceDir}: ${e.message}${before}`);
    }
    removed.push(k.resourceDir);
    ctx.out.print(`Removed ${k.resourceDir}`);
    if (leftover) {
      ctx.out.warn(
        `${k.resourceDir} is out of Jupyter's view, but not all its files could be deleted: ` +
          `delete ${leftover} yourself`,
      );
    }
    const next = findKernel(dirs, k.name);
    if (next) ctx.out.note(`note: another kernel named '${k.name}' remains at ${next.resourceDir}`);
  }
  return 0;
}
