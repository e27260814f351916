/**
 * POSIX path helpers. `node:path` would do, but importing it starts Deno's Node
 * compatibility layer, which costs about 10 ms: a third of this program's whole start-up.
 * @module
 */

/** Normalises `.`/`..` and repeated slashes. */
export function normalize(path: string): string {
  const abs = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length && out[out.length - 1] !== "..") out.pop();
      else if (!abs) out.push("..");
    } else out.push(part);
  }
  const joined = out.join("/");
  return abs ? "/" + joined : joined || ".";
}

/** Joins path segments and normalises the result. */
export function join(...parts: string[]): string {
  return normalize(parts.filter((p) => p !== "").join("/"));
}

/** Whether `path` is absolute. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/** `path` resolved against the working directory (or `base`), without following links. */
export function resolve(path: string, base?: string): string {
  return isAbsolute(path) ? normalize(path) : join(base ?? Deno.cwd(), path);
}

/** The directory part of `path`. */
export function dirname(path: string): string {
  const p = path.length > 1 ? path.replace(/\/+$/, "") : path;
  const i = p.lastIndexOf("/");
  if (i < 0) return ".";
  if (i === 0) return "/";
  return p.slice(0, i);
}

/** The last part of `path`. */
export function basename(path: string): string {
  const p = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return p.slice(p.lastIndexOf("/") + 1);
}
