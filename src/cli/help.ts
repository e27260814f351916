/**
 * `--help` for a command, rendered from its declaration (its flag table, usage, description
 * and examples).
 * @module
 */

import { type Command, COMMON_FLAGS } from "./command.ts";
import type { FlagSpec } from "../util/flag_spec.ts";

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
