/**
 * The shape of a command.
 *
 * Every command module under `src/cli/` exports one {@link Command}. Help (`help.ts`), parsing
 * (`flags.ts`) and shell completions (`completions.ts`) are all derived from its `flags` table,
 * so a flag is declared exactly once.
 * @module
 */

import type { FlagSpec, Parsed } from "../util/flag_spec.ts";
import type { Output } from "./output.ts";

/** What a running command gets besides its parsed flags. */
export interface Context {
  /** The arguments after the command name, verbatim (upstream records them in metadata). */
  readonly args: readonly string[];
  readonly out: Output;
  /** How this program is invoked (`legate-jupyter`, or `deno run -A /path/mod.ts`). */
  readonly self: readonly string[];
  /** The program's commands, as `help` lists them (`completions` completes every one). */
  readonly commands: readonly CommandEntry[];
}

/** One entry of the command table (`commands.ts`): its name, summary, and how to load it. */
export interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: () => Promise<{ command: Command }>;
}

/** One subcommand. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Usage line after the program name, e.g. `install [options]`. */
  readonly usage: string;
  /** A paragraph or two under the usage line. */
  readonly description?: string;
  readonly flags: readonly FlagSpec[];
  readonly maxPositionals?: number;
  /** Names of positional arguments, for help and completion. */
  readonly positionals?: string;
  readonly allowRest?: boolean;
  readonly examples: readonly string[];
  run(parsed: Parsed, ctx: Context): number | Promise<number>;
}

/** Flags every command accepts. */
export const COMMON_FLAGS: readonly FlagSpec[] = [
  { name: "help", short: "h", type: "boolean", help: "Show this help and exit", group: "General" },
  {
    name: "quiet",
    short: "q",
    type: "boolean",
    help: "Print only results and errors",
    group: "General",
  },
];
