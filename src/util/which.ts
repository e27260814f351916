/**
 * Looking programs up on PATH, without a shell.
 * @module
 */

import { isAbsolute, join, resolve } from "./path.ts";

/** Whether `path` is an executable regular file (following links). */
export function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The first executable `name` on `pathVar` (a PATH string), or undefined. */
export function which(name: string, pathVar = Deno.env.get("PATH") ?? ""): string | undefined {
  if (name.includes("/")) return isExecutable(name) ? absolute(name) : undefined;
  for (const dir of pathVar.split(":")) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return absolute(candidate);
  }
  return undefined;
}

/** `path` made absolute against the working directory, without resolving links. */
export function absolute(path: string): string {
  return isAbsolute(path) ? path : resolve(path);
}
