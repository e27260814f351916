/**
 * `legate-jupyter completions bash|zsh|fish`: a shell completion script generated from the
 * command table and each command's flag table, the same declarations the parser and `--help`
 * use. A command added to `COMMANDS`, or a flag added to a command, completes with no change here.
 * @module
 */

import type { Command, Context } from "./command.ts";
import { COMMON_FLAGS } from "./command.ts";
import { COMMANDS } from "./commands.ts";
import { UsageError } from "../util/errors.ts";
import type { FlagSpec, Parsed } from "./flags.ts";

const PROGRAM = "legate-jupyter";
const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = typeof SHELLS[number];

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

/** Loads every command in `COMMANDS` (all of them: completion needs every flag table). */
export async function loadModel(): Promise<CompletionModel> {
  const commands = await Promise.all(COMMANDS.map(async (entry) => (await entry.load()).command));
  return modelOf(commands);
}

/** `help` is handled by mod.ts, not the table, but completes like a command taking one. */
const HELP_SUMMARY = "Show help for a command";

// ---------------------------------------------------------------------------------------------
// bash

/** Quotes `s` for POSIX shells (bash, zsh). */
function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

function flagWords(flags: readonly CompletionFlag[]): string[] {
  return flags.flatMap((f) => [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])]);
}

function bashValue(value: ValueCompletion): string {
  switch (value.kind) {
    case "choices":
      return `_legate_jupyter_words ${shQuote(value.words.join(" "))}`;
    case "file":
      return "_legate_jupyter_files -f";
    case "dir":
      return "_legate_jupyter_files -d";
    case "kernel":
      return `_legate_jupyter_words "$(_legate_jupyter_kernels)"`;
    case "command":
      return `_legate_jupyter_reply < <(compgen -c -- "$cur")`;
    case "none":
      return ":";
  }
}

function bashCommandCase(cmd: CompletionCommand, model: CompletionModel): string[] {
  const lines = [`    ${cmd.name})`];
  const valued = cmd.flags.filter((f) => f.value);
  if (valued.length) {
    // The word after a flag that takes a value is that value. Values with nothing to offer
    // (numbers, free text) share one branch that offers nothing.
    const pattern = (f: CompletionFlag) => [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])];
    const free = valued.filter((f) => f.value!.kind === "none").flatMap(pattern);
    lines.push(`      case $prev in`);
    for (const f of valued) {
      if (f.value!.kind === "none") continue;
      lines.push(`        ${pattern(f).join("|")}) ${bashValue(f.value!)}; return ;;`);
    }
    if (free.length) lines.push(`        ${free.join("|")}) return ;;`);
    lines.push(`      esac`);
  }
  const words = flagWords(cmd.flags);
  if (cmd.name === model.defaultCommand) {
    // As the first word, an option also selects this command, and --version is valid too.
    lines.push(
      `      if [[ $cur == -* && $first == 1 ]]; then`,
      `        _legate_jupyter_words ${
        shQuote([...words, ...flagWords(model.topFlags)].join(" "))
      }`,
      `        return`,
      `      fi`,
    );
  }
  lines.push(
    `      if [[ $cur == -* ]]; then`,
    `        _legate_jupyter_words ${shQuote(words.join(" "))}`,
    `        return`,
    `      fi`,
  );
  if (cmd.positional && cmd.positional.value.kind !== "none") {
    lines.push(`      ${bashValue(cmd.positional.value)}`);
  }
  lines.push(`      ;;`);
  return lines;
}

/** The bash completion script (bash 3.2 and later: macOS still ships 3.2). */
export function bashScript(model: CompletionModel): string {
  const names = [...model.commands.map((c) => c.name), "help"];
  return [
    `# bash completion for ${PROGRAM}; generated by '${PROGRAM} completions bash'.`,
    `# Install: ${PROGRAM} completions bash > ~/.local/share/bash-completion/completions/${PROGRAM}`,
    `#      or: echo 'eval "$(${PROGRAM} completions bash)"' >> ~/.bashrc`,
    ``,
    `# Installed kernel names, from the directories Jupyter searches for kernels.`,
    `_legate_jupyter_kernels() {`,
    `  local d k IFS=:`,
    `  for d in \${JUPYTER_PATH:-} "\${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}" \\`,
    `    "$HOME/Library/Jupyter" \${VIRTUAL_ENV:+"$VIRTUAL_ENV/share/jupyter"} \\`,
    `    \${CONDA_PREFIX:+"$CONDA_PREFIX/share/jupyter"} /usr/local/share/jupyter /usr/share/jupyter; do`,
    `    [ -n "$d" ] || continue`,
    `    for k in "$d"/kernels/*/kernel.json; do`,
    `      [ -f "$k" ] || continue`,
    `      k=\${k%/kernel.json}`,
    `      printf '%s\\n' "\${k##*/}"`,
    `    done`,
    `  done`,
    `}`,
    ``,
    `# Reads candidates, one a line, into COMPREPLY (no word splitting: names may hold spaces).`,
    `_legate_jupyter_reply() {`,
    `  local line`,
    `  COMPREPLY=()`,
    `  while IFS= read -r line; do COMPREPLY+=("$line"); done`,
    `}`,
    ``,
    `_legate_jupyter_words() {`,
    `  _legate_jupyter_reply < <(compgen -W "$1" -- "$cur")`,
    `}`,
    ``,
    `_legate_jupyter_files() {`,
    `  compopt -o filenames 2>/dev/null`,
    `  _legate_jupyter_reply < <(compgen "$1" -- "$cur")`,
    `}`,
    ``,
    `_legate_jupyter() {`,
    `  local cur prev cmd first i`,
    `  COMPREPLY=()`,
    `  cur=\${COMP_WORDS[COMP_CWORD]}`,
    `  prev=\${COMP_WORDS[COMP_CWORD-1]}`,
    `  # bash splits '--flag=value' at '=' (COMP_WORDBREAKS): complete the value of --flag.`,
    `  if [[ $cur == = ]]; then`,
    `    cur=""`,
    `  elif [[ $prev == = && $COMP_CWORD -ge 3 ]]; then`,
    `    prev=\${COMP_WORDS[COMP_CWORD-2]}`,
    `  fi`,
    `  # The first word names the command, unless it is an option: then '${model.defaultCommand}' runs.`,
    `  if [[ $COMP_CWORD -eq 1 && $cur != -* ]]; then`,
    `    _legate_jupyter_words ${shQuote(names.join(" "))}`,
    `    return`,
    `  fi`,
    `  cmd=${model.defaultCommand}`,
    `  first=1`,
    `  if [[ \${COMP_WORDS[1]} != -* ]]; then`,
    `    cmd=\${COMP_WORDS[1]}`,
    `    first=2`,
    `  fi`,
    `  # After a literal '--' the words belong to another program.`,
    `  for ((i = first; i < COMP_CWORD; i++)); do`,
    `    if [[ \${COMP_WORDS[i]} == -- ]]; then`,
    `      _legate_jupyter_files -f`,
    `      return`,
    `    fi`,
    `  done`,
    `  case $cmd in`,
    ...model.commands.flatMap((c) => bashCommandCase(c, model)),
    `    help)`,
    `      [[ $COMP_CWORD -eq 2 ]] && _legate_jupyter_words ${
      shQuote(model.commands.map((c) => c.name).join(" "))
    }`,
    `      ;;`,
    `  esac`,
    `}`,
    ``,
    `complete -F _legate_jupyter ${PROGRAM}`,
    ``,
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// zsh

/** Escapes text for a `[description]` inside an `_arguments` spec. */
function zshDescription(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("[", "\\[").replaceAll("]", "\\]");
}

/** Escapes text for a `:message:` part of an `_arguments` spec or a `name:description` pair. */
function zshColon(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll(":", "\\:");
}

function zshAction(value: ValueCompletion): string {
  switch (value.kind) {
    case "choices":
      return `(${value.words.map((w) => w.replace(/([\\\s()'"])/g, "\\$1")).join(" ")})`;
    case "file":
      return "_files";
    case "dir":
      return "_files -/";
    case "kernel":
      return "_legate_jupyter_kernels";
    case "command":
      return "_command_names -e";
    case "none":
      return " ";
  }
}

function zshFlagSpecs(f: CompletionFlag): string[] {
  const star = f.repeatable ? "*" : "";
  const desc = `[${zshDescription(f.help)}]`;
  const arg = f.value ? `:${zshColon(f.metavar)}:${zshAction(f.value)}` : "";
  const specs = [`${star}--${f.long}${f.value ? "=" : ""}${desc}${arg}`];
  if (f.short) specs.push(`${star}-${f.short}${f.value ? "+" : ""}${desc}${arg}`);
  return specs.map(shQuote);
}

function zshCommandCase(cmd: CompletionCommand, model: CompletionModel): string[] {
  const specs = cmd.flags.flatMap(zshFlagSpecs);
  if (cmd.positional && cmd.positional.value.kind !== "none") {
    const p = cmd.positional;
    specs.push(shQuote(`${p.many ? "*" : "1"}:${zshColon(p.label)}:${zshAction(p.value)}`));
  }
  const body = (extra: string[]) => [`_arguments -S :`, ...specs, ...extra].join(" \\\n          ");
  const lines = [`    ${cmd.name})`];
  if (cmd.name === model.defaultCommand) {
    lines.push(
      `      if (( top )); then`,
      `        ${body(model.topFlags.flatMap(zshFlagSpecs))}`,
      `      else`,
      `        ${body([])}`,
      `      fi`,
    );
  } else {
    lines.push(`      ${body([])}`);
  }
  lines.push(`      ;;`);
  return lines;
}

/** The zsh completion script, usable from `fpath` (as `_legate-jupyter`) or sourced. */
export function zshScript(model: CompletionModel): string {
  const described = model.commands.map((c) =>
    shQuote(`${zshColon(c.name)}:${zshColon(c.summary)}`)
  );
  return [
    `#compdef ${PROGRAM}`,
    `# zsh completion for ${PROGRAM}; generated by '${PROGRAM} completions zsh'.`,
    `# Install: ${PROGRAM} completions zsh > ~/.zfunc/_${PROGRAM}`,
    `#          and in ~/.zshrc, before compinit: fpath=(~/.zfunc $fpath)`,
    `#      or: in ~/.zshrc, after compinit: source <(${PROGRAM} completions zsh)`,
    ``,
    `_legate_jupyter_kernels() {`,
    `  local -a kernels dirs`,
    `  local d k`,
    `  dirs=(\${(s.:.)JUPYTER_PATH} "\${JUPYTER_DATA_DIR:-$HOME/.local/share/jupyter}"`,
    `    "$HOME/Library/Jupyter" \${VIRTUAL_ENV:+$VIRTUAL_ENV/share/jupyter}`,
    `    \${CONDA_PREFIX:+$CONDA_PREFIX/share/jupyter} /usr/local/share/jupyter /usr/share/jupyter)`,
    `  for d in $dirs; do`,
    `    for k in $d/kernels/*/kernel.json(N); do`,
    `      kernels+=(\${k:h:t})`,
    `    done`,
    `  done`,
    `  local expl`,
    `  _wanted kernels expl kernel compadd -a kernels`,
    `}`,
    ``,
    `_legate_jupyter() {`,
    `  local -a commands`,
    `  local cmd top=0`,
    `  commands=(`,
    ...described.map((d) => `    ${d}`),
    `  )`,
    `  if (( CURRENT == 2 )) && [[ $words[2] != -* ]]; then`,
    `    local -a first`,
    `    first=($commands ${shQuote(`help:${zshColon(HELP_SUMMARY)}`)})`,
    `    _describe -t commands '${PROGRAM} command' first`,
    `    return`,
    `  fi`,
    `  # The first word names the command, unless it is an option: then '${model.defaultCommand}' runs.`,
    `  if [[ $words[2] == -* ]]; then`,
    `    cmd=${model.defaultCommand}`,
    `    top=1`,
    `  else`,
    `    cmd=$words[2]`,
    `    shift words`,
    `    (( CURRENT-- ))`,
    `  fi`,
    `  case $cmd in`,
    ...model.commands.flatMap((c) => zshCommandCase(c, model)),
    `    help)`,
    `      (( CURRENT == 2 )) && _describe -t commands 'command' commands`,
    `      ;;`,
    `  esac`,
    `}`,
    ``,
    `# Autoloaded from fpath, the file's body is the function's; sourced, it registers itself.`,
    `if [[ $zsh_eval_context[-1] == loadautofunc ]]; then`,
    `  _legate_jupyter "$@"`,
    `else`,
    `  compdef _legate_jupyter ${PROGRAM}`,
    `fi`,
    ``,
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// fish

/** Quotes `s` for fish (whose single quotes know `\'` and `\\`). */
function fishQuote(s: string): string {
  return `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function fishValue(value: ValueCompletion): string {
  switch (value.kind) {
    case "choices":
      return `-x -a ${fishQuote(value.words.join(" "))}`;
    case "file":
      return "-r -F";
    case "dir":
      return `-x -a '(__fish_complete_directories (commandline -ct))'`;
    case "kernel":
      return `-x -a '(__legate_jupyter_kernels)'`;
    case "command":
      return `-x -a '(__fish_complete_command)'`;
    case "none":
      return "-x";
  }
}

function fishFlag(condition: string, f: CompletionFlag): string {
  const parts = [`complete -c ${PROGRAM} -n ${fishQuote(condition)} -l ${f.long}`];
  if (f.short) parts.push(`-s ${f.short}`);
  if (f.value) parts.push(fishValue(f.value));
  parts.push(`-d ${fishQuote(f.help)}`);
  return parts.join(" ");
}

/** The fish completion script. */
export function fishScript(model: CompletionModel): string {
  const lines = [
    `# fish completion for ${PROGRAM}; generated by '${PROGRAM} completions fish'.`,
    `# Install: ${PROGRAM} completions fish > ~/.config/fish/completions/${PROGRAM}.fish`,
    ``,
    `function __legate_jupyter_kernels`,
    `    set -l dirs (string split -n : -- "$JUPYTER_PATH")`,
    `    if set -q JUPYTER_DATA_DIR`,
    `        set -a dirs $JUPYTER_DATA_DIR`,
    `    else`,
    `        set -a dirs $HOME/.local/share/jupyter`,
    `    end`,
    `    set -a dirs $HOME/Library/Jupyter /usr/local/share/jupyter /usr/share/jupyter`,
    `    set -q VIRTUAL_ENV; and set -a dirs $VIRTUAL_ENV/share/jupyter`,
    `    set -q CONDA_PREFIX; and set -a dirs $CONDA_PREFIX/share/jupyter`,
    `    for k in $dirs/kernels/*/kernel.json`,
    `        basename (dirname $k)`,
    `    end`,
    `end`,
    ``,
    `# The command being completed: the first word, unless it is an option (then: ${model.defaultCommand}).`,
    `function __legate_jupyter_command`,
    `    set -l tokens (commandline -opc)`,
    `    if test (count $tokens) -ge 2; and not string match -q -- '-*' $tokens[2]`,
    `        echo $tokens[2]`,
    `    else`,
    `        echo ${model.defaultCommand}`,
    `    end`,
    `end`,
    ``,
    `function __legate_jupyter_using -a name`,
    `    test (__legate_jupyter_command) = $name`,
    `end`,
    ``,
    `# Whether the word being completed is the first one (a command name or a first option).`,
    `function __legate_jupyter_first`,
    `    test (count (commandline -opc)) -eq 1`,
    `end`,
    ``,
    `complete -c ${PROGRAM} -f`,
  ];
  for (const cmd of model.commands) {
    lines.push(
      `complete -c ${PROGRAM} -n __legate_jupyter_first -a ${cmd.name} -d ${
        fishQuote(cmd.summary)
      }`,
    );
  }
  lines.push(
    `complete -c ${PROGRAM} -n __legate_jupyter_first -a help -d ${fishQuote(HELP_SUMMARY)}`,
  );
  for (const f of model.topFlags) lines.push(fishFlag("__legate_jupyter_first", f));
  for (const cmd of model.commands) {
    const condition = `__legate_jupyter_using ${cmd.name}`;
    for (const f of cmd.flags) lines.push(fishFlag(condition, f));
    const p = cmd.positional;
    if (p && p.value.kind !== "none") {
      const args = fishValue(p.value).replace(/^-[xr] /, "");
      // Only after the command word: the first word is completed as a command name above.
      lines.push(
        `complete -c ${PROGRAM} -n ${
          fishQuote(`${condition}; and not __legate_jupyter_first`)
        } ${args}`,
      );
    }
  }
  lines.push(
    `complete -c ${PROGRAM} -n '__legate_jupyter_using help; and test (count (commandline -opc)) -eq 2' -a ${
      fishQuote(model.commands.map((c) => c.name).join(" "))
    }`,
    ``,
  );
  return lines.join("\n");
}

/** The script for `shell`. */
export function completionScript(shell: Shell, model: CompletionModel): string {
  switch (shell) {
    case "bash":
      return bashScript(model);
    case "zsh":
      return zshScript(model);
    case "fish":
      return fishScript(model);
  }
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
  ctx.out.write(completionScript(shell as Shell, await loadModel()));
  return 0;
}
