/**
 * Shell completion scripts, generated from a model of the program's commands and flags (which
 * `src/cli/completions.ts` builds from the same tables the parser and `--help` use). This
 * module holds the model; `bash.ts`, `zsh.ts` and `fish.ts` write the scripts, `script.ts`
 * picks one.
 * @module
 */

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
