/**
 * Shell completion scripts, generated from a model of the program's commands and flags, built
 * here from the commands' declarations (the same tables the parser and `--help` use; the
 * command `src/cli/completions.ts` hands them over). This module holds the model;
 * `bash.ts`, `zsh.ts` and `fish.ts` write the scripts, `script.ts` picks one.
 * @module
 */

import type { FlagSpec } from "../util/flag_spec.ts";

/** The program the scripts complete. */
export const PROGRAM = "legate-jupyter";

/** The shells there are scripts for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;
/** One of {@link SHELLS}. */
export type Shell = typeof SHELLS[number];

/** `help` is handled by mod.ts, not the table, but completes like a command taking one. */
export const HELP_SUMMARY = "Show help for a command";

/** What a shell should offer for a value: fixed words, or a kind of thing. */
export type ValueCompletion =
  | { readonly kind: "none" }
  | { readonly kind: "choices"; readonly words: readonly string[] }
  | { readonly kind: "file" | "dir" | "kernel" | "command" };

/** A flag as completion sees it. */
export interface CompletionFlag {
  readonly long: string;
  readonly short?: string;
  readonly help: string;
  /** What its value completes to; absent for flags that take no value. */
  readonly value?: ValueCompletion;
  readonly metavar: string;
  /** Whether it may be given more than once (repeatable values and counters). */
  readonly repeatable: boolean;
}

/** A command as completion sees it. */
export interface CompletionCommand {
  readonly name: string;
  readonly summary: string;
  readonly flags: readonly CompletionFlag[];
  /** What positional arguments complete to, and whether more than one is taken. */
  readonly positional?: {
    readonly label: string;
    readonly value: ValueCompletion;
    readonly many: boolean;
  };
}

/** Everything a completion script is generated from. */
export interface CompletionModel {
  /** The real commands, in `help` order. */
  readonly commands: readonly CompletionCommand[];
  /** The command that runs when the first argument is an option (`install`, as upstream). */
  readonly defaultCommand: string;
  /** Options accepted only as the first argument (`--version`). */
  readonly topFlags: readonly CompletionFlag[];
}

function valueOf(spec: FlagSpec): ValueCompletion | undefined {
  if (spec.type === "boolean" || spec.type === "count") return undefined;
  if (spec.choices?.length) return { kind: "choices", words: spec.choices };
  if (spec.complete) return { kind: spec.complete };
  return { kind: "none" };
}

function completionFlag(spec: FlagSpec): CompletionFlag {
  return {
    long: spec.name,
    short: spec.short,
    help: spec.help,
    value: valueOf(spec),
    metavar: spec.metavar ?? (spec.type === "int" ? "N" : "VALUE"),
    repeatable: spec.multiple === true || spec.type === "count",
  };
}

/**
 * Positionals carry only a label (`NAME...`, `bash|zsh|fish`), so their completion is read from
 * it: alternatives separated by `|` are the choices, a kernel NAME completes installed kernels.
 */
function positionalValue(label: string): ValueCompletion {
  const bare = label.replace(/\.\.\.$/, "").replace(/^\[|\]$/g, "");
  const words = bare.split("|");
  if (words.length > 1 && words.every((w) => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(w))) {
    return { kind: "choices", words };
  }
  if (/KERNEL|NAME/i.test(bare)) return { kind: "kernel" };
  if (/DIR/i.test(bare)) return { kind: "dir" };
  if (/FILE|PATH/i.test(bare)) return { kind: "file" };
  return { kind: "none" };
}

/** A command as its declaration gives it: what the model is built from. */
export interface DeclaredCommand {
  readonly name: string;
  readonly summary: string;
  /** Every flag it takes (hidden ones are left out of the model). */
  readonly flags: readonly FlagSpec[];
  readonly maxPositionals?: number;
  /** The positional arguments' label (`NAME...`, `bash|zsh|fish`). */
  readonly positionals?: string;
}

/** Builds the model from the commands' declarations, in `help` order. */
export function completionModel(commands: readonly DeclaredCommand[]): CompletionModel {
  return {
    commands: commands.map((cmd) => ({
      name: cmd.name,
      summary: cmd.summary,
      flags: cmd.flags.filter((f) => !f.hidden).map(completionFlag),
      positional: cmd.maxPositionals
        ? {
          label: cmd.positionals ?? "ARG",
          value: positionalValue(cmd.positionals ?? ""),
          many: cmd.maxPositionals > 1,
        }
        : undefined,
    })),
    defaultCommand: "install",
    topFlags: [{
      long: "version",
      short: "V",
      help: "Show the version",
      metavar: "",
      repeatable: false,
    }],
  };
}
