/**
 * A small, strict command-line parser driven by declarative flag tables.
 *
 * Each command declares its flags as {@link FlagSpec} values; the same tables render help
 * and shell completions. Unlike `node:util` parseArgs it knows integers, counters (`-vv`)
 * and choices, and it never accepts an abbreviation: `--cpu` is an error that suggests
 * `--cpus`.
 * @module
 */

import { UsageError } from "./errors.ts";

export type { FlagSpec, FlagType, Parsed } from "./flag_spec.ts";
import type { FlagSpec, Parsed } from "./flag_spec.ts";

/** Options for {@link parseFlags}. */
export interface ParseOptions {
  /** Largest number of positional arguments (0 when omitted). */
  readonly maxPositionals?: number;
  /** Whether what follows `--` is collected as the rest (else it is taken as positionals). */
  readonly allowRest?: boolean;
}

function defaultOf(spec: FlagSpec): unknown {
  if (spec.default !== undefined) return spec.default;
  if (spec.multiple) return [];
  if (spec.type === "boolean") return false;
  if (spec.type === "count") return 0;
  return undefined;
}

/** Parses a non-negative integer flag value, or throws a {@link UsageError}. */
export function parseIntFlag(flag: string, text: string, min = 0): number {
  if (!/^\+?\d+$/.test(text.trim())) {
    throw new UsageError(
      `${flag} takes a whole number${
        min > 0 ? ` of at least ${min}` : " (0 or more)"
      }, not '${text}'`,
    );
  }
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n)) throw new UsageError(`${flag} value '${text}' is too large`);
  if (n < min) throw new UsageError(`${flag} must be at least ${min}, not ${n}`);
  return n;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** The closest known flag to `name`, for "did you mean" hints. */
export function suggestFlag(name: string, specs: readonly FlagSpec[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const s of specs) {
    if (s.hidden) continue;
    const score = s.name.startsWith(name) ? 0.5 : editDistance(name, s.name);
    if (score < bestScore) [best, bestScore] = [s.name, score];
  }
  return bestScore <= Math.max(2, name.length / 3) ? best : undefined;
}

/** What {@link parseFlags} builds as it walks the arguments. */
interface ParseState {
  readonly values: Record<string, unknown>;
  readonly positionals: string[];
  readonly rest: string[];
  readonly given: Set<string>;
}

/**
 * Takes flag `spec` (shown as `shown`), its value inline (`--x=v`) or from the next argument;
 * returns the index of the last argument used.
 */
function take(
  st: ParseState,
  args: readonly string[],
  spec: FlagSpec,
  shown: string,
  inline: string | undefined,
  i: number,
): number {
  st.given.add(spec.name);
  if (spec.type === "boolean" || spec.type === "count") {
    if (inline !== undefined) throw new UsageError(`${shown} takes no value`);
    st.values[spec.name] = spec.type === "count" ? (st.values[spec.name] as number) + 1 : true;
    return i;
  }
  let text = inline;
  if (text === undefined) {
    if (i + 1 >= args.length) {
      throw new UsageError(`${shown} needs a value: ${shown} ${spec.metavar ?? "VALUE"}`);
    }
    text = args[++i];
  }
  let value: string | number = text;
  if (spec.type === "int") value = parseIntFlag(shown, text, spec.min ?? 0);
  else if (spec.choices && !spec.choices.includes(text)) {
    throw new UsageError(
      `${shown} must be one of ${spec.choices.join(", ")}, not '${text}'`,
    );
  }
  if (spec.multiple) (st.values[spec.name] as unknown[]).push(value);
  else st.values[spec.name] = value;
  return i;
}

/**
 * Parses `args` against `specs`. Throws {@link UsageError} for unknown or abbreviated flags,
 * missing or malformed values, and unexpected positionals.
 */
export function parseFlags(
  args: readonly string[],
  specs: readonly FlagSpec[],
  options: ParseOptions = {},
): Parsed {
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short!, s]));
  const st: ParseState = { values: {}, positionals: [], rest: [], given: new Set<string>() };
  for (const s of specs) st.values[s.name] = defaultOf(s);
  const positional = (arg: string) => {
    if (st.positionals.length >= (options.maxPositionals ?? 0)) {
      throw new UsageError(`unexpected argument '${arg}'; see --help`);
    }
    st.positionals.push(arg);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    // `--` ends the options: what follows is the command's rest (passed on, e.g. to Jupyter)
    // or, for a command without one, positionals, so that `remove -- -x` names kernel '-x'.
    if (arg === "--") {
      if (options.allowRest) st.rest.push(...args.slice(i + 1));
      else args.slice(i + 1).forEach(positional);
      break;
    }
    if (arg.startsWith("--") && arg.length > 2) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const spec = byLong.get(name);
      if (!spec) {
        const hint = suggestFlag(name, specs);
        throw new UsageError(
          `unknown option '--${name}'${hint ? ` (did you mean --${hint}?)` : ""}; see --help`,
        );
      }
      i = take(st, args, spec, `--${name}`, eq < 0 ? undefined : arg.slice(eq + 1), i);
    } else if (arg.startsWith("-") && arg.length > 1 && arg !== "-") {
      // A cluster of short flags (`-vv`, `-yq`); a valued short flag ends the cluster.
      for (let k = 1; k < arg.length; k++) {
        const spec = byShort.get(arg[k]);
        if (!spec) throw new UsageError(`unknown option '-${arg[k]}'; see --help`);
        const valued = spec.type === "string" || spec.type === "int";
        if (valued && k + 1 < arg.length) {
          i = take(st, args, spec, `-${arg[k]}`, arg.slice(k + 1), i);
          break;
        }
        i = take(st, args, spec, `-${arg[k]}`, undefined, i);
      }
    } else positional(arg);
  }
  return st;
}
