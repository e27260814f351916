/**
 * The shape of a command, and the help text rendered from it.
 *
 * Every command module under `src/cli/` exports one {@link Command}. Help, parsing and shell
 * completions are all derived from its `flags` table, so a flag is declared exactly once.
 * @module
 */

import type { FlagSpec, Parsed } from "./flags.ts";
import type { Output } from "./output.ts";
import { shJoin } from "../util/shell.ts";
import { which } from "../util/which.ts";

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

function flagLabel(f: FlagSpec): string {
  const long = `--${f.name}`;
  const value = f.type === "string" || f.type === "int"
    ? ` ${f.metavar ?? (f.type === "int" ? "N" : "VALUE")}`
    : "";
  return (f.short ? `-${f.short}, ` : "    ") + long + value;
}

function defaultNote(f: FlagSpec): string {
  if (f.default === undefined || f.default === false) return "";
  return ` (default: ${f.default})`;
}

function wrap(text: string, width: number, indent: number): string {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let line = "";
  for (const w of words) {
    if (line && line.length + 1 + w.length > width - indent) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.join("\n" + " ".repeat(indent));
}

/** Renders `--help` for a command from its declaration. */
export function renderHelp(program: string, cmd: Command, width = 100): string {
  const flags = [...cmd.flags, ...COMMON_FLAGS].filter((f) => !f.hidden);
  const groups = new Map<string, FlagSpec[]>();
  for (const f of flags) {
    const g = f.group ?? "Options";
    groups.set(g, [...(groups.get(g) ?? []), f]);
  }
  const labelWidth = Math.min(34, Math.max(...flags.map((f) => flagLabel(f).length)) + 2);
  const parts = [`Usage: ${program} ${cmd.usage}`, "", cmd.summary];
  if (cmd.description) parts.push("", wrap(cmd.description, width, 0));
  for (const [group, list] of groups) {
    parts.push("", `${group}:`);
    for (const f of list) {
      const label = "  " + flagLabel(f);
      const choices = f.choices ? ` [${f.choices.join(", ")}]` : "";
      const help = wrap(f.help + choices + defaultNote(f), width, labelWidth + 2);
      parts.push(
        label.length >= labelWidth + 2
          ? `${label}\n${" ".repeat(labelWidth + 2)}${help}`
          : label.padEnd(labelWidth + 2) + help,
      );
    }
  }
  if (cmd.examples.length) {
    parts.push("", "Examples:", ...cmd.examples.map((e) => `  ${e}`));
  }
  return parts.join("\n") + "\n";
}
