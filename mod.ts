/**
 * legate-jupyter: install Jupyter kernels configured for Legate, detect what a node and a
 * batch job provide, and start Jupyter locally or through the scheduler.
 *
 * This module only parses the command line and dispatches; each command lives in
 * `src/cli/<name>.ts` and is imported only when it runs.
 * @module
 */

import { COMMANDS, findCommand } from "./src/cli/commands.ts";
import { type Command, COMMON_FLAGS } from "./src/cli/command.ts";
import { parseFlags, suggestFlag } from "./src/util/flags.ts";
import { UsageError } from "./src/util/errors.ts";
import { Output, writeError } from "./src/cli/output.ts";
import { VERSION } from "./src/version.ts";
import { isExecutable } from "./src/util/which.ts";
import { lazy } from "./src/util/lazy.ts";

const PROGRAM = "legate-jupyter";

/**
 * How to invoke this same program again (for the scripts it writes and the commands it
 * prints): a compiled binary by its path; an executable script that imports this module (a
 * launcher on PATH with a `deno run` shebang) by that script's path, as if it were the binary;
 * otherwise `deno run -A` and this module.
 */
export function selfCommand(): string[] {
  const exe = Deno.execPath();
  const base = exe.split("/").pop() ?? "";
  if (!/^deno(\.exe)?$/.test(base)) return [exe];
  const main = Deno.mainModule;
  if (main !== import.meta.url && main.startsWith("file:")) {
    const launcher = decodeURIComponent(new URL(main).pathname);
    if (isExecutable(launcher)) return [launcher];
  }
  return [
    exe,
    "run",
    "-A",
    import.meta.filename ?? decodeURIComponent(new URL(import.meta.url).pathname),
  ];
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `Usage: ${PROGRAM} <command> [options]`,
    `       ${PROGRAM} [install options]      (same as '${PROGRAM} install', as upstream)`,
    "",
    "Install Jupyter kernels configured for Legate, see what a node and a job provide,",
    "and start Jupyter with a known URL, token and SSH tunnel.",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Options:",
    "  -h, --help       Show help (also: legate-jupyter help <command>)",
    "  -V, --version    Show the version",
    "",
    `Run '${PROGRAM} <command> --help' for a command's options and examples.`,
    "",
  ].join("\n");
}

function versionText(): string {
  return `${PROGRAM} ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})\n`;
}

async function loadCommand(name: string): Promise<Command> {
  const entry = findCommand(name);
  if (!entry) {
    const hint = suggestFlag(
      name,
      COMMANDS.map((c) => ({ name: c.name, type: "boolean", help: "" })),
    );
    throw new UsageError(
      `unknown command '${name}'${
        hint ? ` (did you mean '${hint}'?)` : ""
      }; run '${PROGRAM} --help' for the list`,
    );
  }
  return (await entry.load()).command;
}

/**
 * Runs the program with `args` and returns the exit code. Errors become one line on stderr:
 * exit 2 for usage errors, 1 for failures.
 */
export async function main(args: readonly string[]): Promise<number> {
  try {
    const [first, ...restArgs] = args;
    // `-q` changes nothing about the version line, so `-q --version` is as good as `--version`.
    const unquiet = args.filter((a) => a !== "-q" && a !== "--quiet");
    if (
      first === "version" ||
      (unquiet.length === 1 && (unquiet[0] === "--version" || unquiet[0] === "-V"))
    ) {
      new Output().write(versionText());
      return 0;
    }
    if (first === "--help" || first === "-h") {
      new Output().write(overview());
      return 0;
    }
    if (first === "help") {
      if (restArgs.length === 0) {
        new Output().write(overview());
        return 0;
      }
      const cmd = await loadCommand(restArgs[0]);
      new Output().write(await help(cmd));
      return 0;
    }
    let name = "install";
    let cmdArgs: readonly string[] = args;
    if (first !== undefined && !first.startsWith("-")) {
      name = first;
      cmdArgs = restArgs;
    }
    const cmd = await loadCommand(name);
    const parsed = parseFlags(cmdArgs, [...cmd.flags, ...COMMON_FLAGS], {
      maxPositionals: cmd.maxPositionals,
      allowRest: cmd.allowRest,
    });
    const out = new Output({ quiet: parsed.values.quiet as boolean });
    if (parsed.values.help) {
      out.write(await help(cmd));
      return 0;
    }
    return await cmd.run(parsed, { args: cmdArgs, out, self: selfCommand(), commands: COMMANDS });
  } catch (error) {
    return await reportError(error);
  }
}

/** A command's `--help` (its renderer is loaded only when help is asked for). */
async function help(cmd: Command): Promise<string> {
  const { renderHelp } = await lazy<typeof import("./src/cli/help.ts")>("cli/help.ts");
  return renderHelp(PROGRAM, cmd);
}

/**
 * One line on stderr for any error (see `reportOf`, loaded only when there is one); returns the
 * exit code. An unexpected error says how to see its stack.
 */
async function reportError(error: unknown): Promise<number> {
  const { reportOf } = await lazy<typeof import("./src/util/report.ts")>("util/report.ts");
  const r = reportOf(error);
  if (r.bug && Deno.env.get("LEGATE_JUPYTER_DEBUG")) console.error(error);
  const hint = r.bug
    ? " (an unexpected error; set LEGATE_JUPYTER_DEBUG=1 for details and please report it)"
    : "";
  writeError(r.raw ? r.message : `${PROGRAM}: error: ${r.message}${hint}`);
  return r.exitCode;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
