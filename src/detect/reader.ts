/**
 * How detection reads the machine: only through its {@link Probe}, with every failure turned
 * into a line of `problems` instead of an exception; and what every reader shares (sorting
 * names as numbers, quoting junk in messages, "the smallest, and where").
 * @module
 */

import type { Probe } from "./probe.ts";

/** Reads files for one detection run, turning failures into `problems`. */
export class Reader {
  readonly problems: string[] = [];
  constructor(readonly probe: Probe) {}

  /** A file's text; `undefined` when absent (a problem unless `optional`) or unreadable. */
  text(path: string, optional = false): string | undefined {
    try {
      return this.probe.readFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && optional) return undefined;
      this.problems.push(`cannot read ${this.shown(path)}: ${reason(error)}`);
      return undefined;
    }
  }

  /** A directory's entries; `undefined` when absent (a problem unless `optional`). */
  dir(path: string, optional = false): string[] | undefined {
    try {
      return this.probe.readDir(path).sort(naturalCompare);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound && optional) return undefined;
      this.problems.push(`cannot list ${this.shown(path)}: ${reason(error)}`);
      return undefined;
    }
  }

  /** A path as the user should see it: under the fixture root when there is one. */
  shown(path: string): string {
    return this.probe.root === "/" ? path : `${this.probe.root.replace(/\/+$/, "")}${path}`;
  }
}

/** Why a read failed, in a few words. */
export function reason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotCapable) {
    return "Deno refuses /proc and /sys without --allow-all (run with -A)";
  }
  if (error instanceof Deno.errors.IsADirectory) return "it is a directory, not a file";
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0];
}

// Intl collation costs ~15 ms to set up, most of detect's budget; digits compare by value.
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i], y = pb[i];
    const nx = /^\d/.test(x), ny = /^\d/.test(y);
    const d = nx && ny ? Number(x) - Number(y) : x < y ? -1 : x > y ? 1 : 0;
    if (d !== 0) return d;
  }
  return pa.length - pb.length;
}

/** `text` quoted for a message, cut at `max` characters. */
export function quote(text: string, max = 60): string {
  const t = text.trim();
  return `'${t.length > max ? t.slice(0, max) + "…" : t}'`;
}

/** The smallest value of a limit found, and the file it was found in. */
export interface Smallest<T> {
  value: T;
  at: string;
}
