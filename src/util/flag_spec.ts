/**
 * The declaration of one command-line flag, and what parsing a command line makes of the
 * flags. It sits below the CLI because the areas declare flags too (the Legate options table,
 * the scheduler flags) and read parsed ones (`connect`'s agent gets `submit`'s); the parser
 * itself is `flags.ts`.
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

/** Parsed values keyed by flag name, positionals, and what followed `--`. */
export interface Parsed {
  readonly values: Record<string, unknown>;
  readonly positionals: string[];
  /** Arguments after a literal `--`. */
  readonly rest: string[];
  /** Names of the flags given on the command line. */
  readonly given: ReadonlySet<string>;
}
