/**
 * `legate-jupyter remove NAME...`: removes kernels by name, case-insensitively, like
 * `jupyter kernelspec remove`; asks first on a terminal and needs `-y` elsewhere.
 * @module
 */

import { type Command, type Context, programName } from "./command.ts";
import { Failure, UsageError } from "./errors.ts";
import type { Parsed } from "./flags.ts";
import { searchDirs } from "./list.ts";
import { findKernel, type KernelEntry, removeKernelDir } from "../kernelspec/store.ts";

/** The remove command. */
export const command: Command = {
  name: "remove",
  summary: "Remove kernels by name",
  usage: "remove NAME... [-y]",
  description: "Names are matched case-insensitively on Jupyter's kernel search path. Nothing is " +
    "removed when any name is not found.",
  flags: [{ name: "yes", short: "y", type: "boolean", help: "Remove without asking" }],
  maxPositionals: Infinity,
  positionals: "NAME...",
  examples: ["legate-jupyter remove legate_sm_gpu", "legate-jupyter remove -y old-1 old-2"],
  run,
};

function run(parsed: Parsed, ctx: Context): number {
  const names = parsed.positionals;
  if (names.length === 0) {
    throw new UsageError(`name the kernels to remove: ${programName(ctx.self)} remove NAME...`);
  }
  const dirs = searchDirs();
  const found: KernelEntry[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const k = findKernel(dirs, name);
    if (k) {
      if (!found.some((f) => f.resourceDir === k.resourceDir)) found.push(k);
    } else missing.push(name);
  }
  if (missing.length) {
    throw new Failure(
      `no kernel named ${missing.map((n) => `'${n}'`).join(", ")}; nothing was removed ('${
        programName(ctx.self)
      } list' shows the installed ones)`,
    );
  }
  if (!parsed.values.yes) {
    if (!Deno.stdin.isTerminal()) {
      throw new UsageError("refusing to remove kernels without confirmation: pass -y");
    }
    for (const k of found) ctx.out.print(`  ${k.name}  ${k.resourceDir}`);
    const answer = prompt(
      `Remove ${found.length} kernel spec${found.length === 1 ? "" : "s"}? [y/N]:`,
    );
    if (!/^y(es)?$/i.test(answer?.trim() ?? "")) {
      ctx.out.print("Nothing was removed.");
      return 1;
    }
  }
  for (const k of found) {
    try {
      removeKernelDir(k.resourceDir);
    } catch (e) {
      if (e instanceof Deno.errors.PermissionDenied) {
        throw new Failure(
          `cannot remove ${k.resourceDir}: permission denied (a system-wide kernel; ask its owner)`,
        );
      }
      throw e;
    }
    ctx.out.print(`Removed ${k.resourceDir}`);
    const next = findKernel(dirs, k.name);
    if (next) ctx.out.note(`note: another kernel named '${k.name}' remains at ${next.resourceDir}`);
  }
  return 0;
}
