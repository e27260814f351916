/**
 * The declaration of one command-line flag. It sits below the CLI because the areas declare
 * flags too (the Legate options table, the scheduler flags); the parser that reads them is
 * `src/cli/flags.ts`.
 * @module
 */

/** How a flag takes its value. */
export type FlagType = "boolean" | "string" | "int" | "count";

/** One command-line flag. */
export interface FlagSpec {
  /** Long name without dashes: `cpus` for `--cpus`. */
  readonly name: string;
  /** One-letter alias without the dash. */
  readonly short?: string;
  readonly type: FlagType;
  /** A string or int flag that may be given more than once; values collect in order. */
  readonly multiple?: boolean;
  /** Name of the value in help text. */
  readonly metavar?: string;
  readonly help: string;
  /** Value when the flag is absent (`undefined`, `false`, `0` or `[]` when omitted). */
  readonly default?: string | number | boolean;
  readonly choices?: readonly string[];
  /** Smallest accepted integer (0 when omitted: every integer flag is non-negative). */
  readonly min?: number;
  /** Help section heading. */
  readonly group?: string;
  /** What completion offers for the value. */
  readonly complete?: "file" | "dir" | "kernel" | "command";
  /** Left out of help (kept for compatibility). */
  readonly hidden?: boolean;
}
