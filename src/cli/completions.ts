/**
 * `legate-jupyter completions bash|zsh|fish`: a shell completion script generated from the
 * command table and each command's flag table, the same declarations the parser and `--help`
 * use. A command added to `COMMANDS`, or a flag added to a command, completes with no change
 * here. This file builds the model (`src/completion/model.ts`) from the commands; the scripts
 * are written by `src/completion/`.
 * @module
 */

import type { Command, CommandEntry, Context } from "./command.ts";
import { COMMON_FLAGS } from "./command.ts";
import { UsageError } from "../util/errors.ts";
import type { FlagSpec, Parsed } from "../util/flag_spec.ts";
import {
  type CompletionFlag,
  type CompletionModel,
  PROGRAM,
  type Shell,
  SHELLS,
  type ValueCompletion,
} from "../completion/model.ts";
import { lazy } from "../util/lazy.ts";

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

/** Builds the model from a list of commands (exported for tests). */
export function modelOf(commands: readonly Command[]): CompletionModel {
  return {
    commands: commands.map((cmd) => ({
      name: cmd.name,
      summary: cmd.summary,
      flags: [...cmd.flags, ...COMMON_FLAGS].filter((f) => !f.hidden).map(completionFlag),
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

/** Loads every command of `entries` (all of them: completion needs every flag table). */
export async function loadModel(entries: readonly CommandEntry[]): Promise<CompletionModel> {
  const commands = await Promise.all(entries.map(async (entry) => (await entry.load()).command));
  return modelOf(commands);
}

/** The completions command. */
export const command: Command = {
  name: "completions",
  summary: "Print a shell completion script for bash, zsh or fish",
  usage: "completions bash|zsh|fish",
  description: "Prints a script that completes commands, options, option values (launchers, " +
    "files, directories) and installed kernel names. Save it where your shell loads " +
    "completions, as the examples show, and start a new shell.",
  flags: [],
  maxPositionals: 1,
  positionals: SHELLS.join("|"),
  examples: [
    `${PROGRAM} completions bash > ~/.local/share/bash-completion/completions/${PROGRAM}`,
    `${PROGRAM} completions zsh > ~/.zfunc/_${PROGRAM}   # with fpath=(~/.zfunc $fpath) before compinit`,
    `${PROGRAM} completions fish > ~/.config/fish/completions/${PROGRAM}.fish`,
  ],
  run,
};

async function run(parsed: Parsed, ctx: Context): Promise<number> {
  const shell = parsed.positionals[0];
  if (shell === undefined) {
    throw new UsageError(`completions needs a shell: ${PROGRAM} completions ${SHELLS.join("|")}`);
  }
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new UsageError(`no completions for '${shell}'; choose one of ${SHELLS.join(", ")}`);
  }
  const { completionScript } = await lazy<typeof import("../completion/script.ts")>(
    "completion/script.ts",
  );
  ctx.out.write(completionScript(shell as Shell, await loadModel(ctx.commands)));
  return 0;
}
