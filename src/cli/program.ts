/**
 * How this program names itself in the commands it prints, so that a user can run them again
 * as printed.
 * @module
 */

import { shJoin } from "../util/shell.ts";
import { which } from "../util/which.ts";

/**
 * How to name this program in the commands it prints, as the user would type it again: a
 * binary (or launcher) by its file name when that name finds it on PATH, else by its path;
 * `deno run -A /path/mod.ts` (a checkout) as exactly that.
 */
export function programName(
  self: readonly string[],
  pathVar: string = Deno.env.get("PATH") ?? "",
): string {
  if (self.length === 0) return "legate-jupyter";
  const [exe, ...rest] = self;
  const slash = exe.lastIndexOf("/");
  const base = slash < 0 ? exe : exe.slice(slash + 1);
  const found = slash < 0 ? exe : which(base, pathVar);
  const name = found !== undefined && sameFile(found, exe) ? base : exe;
  return shJoin([name, ...rest]);
}

function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return Deno.realPathSync(a) === Deno.realPathSync(b);
  } catch {
    return false;
  }
}
