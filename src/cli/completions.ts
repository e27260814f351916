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
import type { Parsed } from "../util/flag_spec.ts";
import {
  type CompletionModel,
  completionModel,
  PROGRAM,
  type Shell,
  SHELLS,
} from "../completion/model.ts";
import { lazy } from "../util/lazy.ts";

/** Builds the model from a list of commands, each with the flags every command takes. */
export function modelOf(commands: readonly Command[]): CompletionModel {
  return completionModel(
    commands.map((cmd) => ({ ...cmd, flags: [...cmd.flags, ...COMMON_FLAGS] })),
  );
}

/**
 * Loads every command of `entries` (all of them: completion needs every flag table), at once
 * through `all.ts`, and any it lacks on its own.
 */
export async function loadModel(entries: readonly CommandEntry[]): Promise<CompletionModel> {
  const { ALL_COMMANDS } = await lazy<typeof import("./all.ts")>("cli/all.ts");
  const loaded = new Map([...ALL_COMMANDS, [command.name, command]]);
  const commands = await Promise.all(
    entries.map(async (entry) => loaded.get(entry.name) ?? (await entry.load()).command),
  );
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
