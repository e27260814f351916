/**
 * The program's front door, end to end: `--version`, `help`, every command's `--help`, unknown
 * commands, and colour (only on a terminal, never with NO_COLOR). Commands are read from
 * `COMMANDS` when the tests run, so a command added later is covered without editing this file.
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, MOD, ROOT, run, runCli, tempDir } from "./helpers.ts";
import { COMMANDS } from "../src/cli/commands.ts";
import { VERSION } from "../src/version.ts";

const VERSION_LINE =
  `legate-jupyter ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})\n`;

Deno.test("--version, -V and version (with or without -q) print 'legate-jupyter VERSION (deno X, TARGET)' and exit 0", async () => {
  await using tmp = await tempDir();
  for (const args of [["--version"], ["-V"], ["version"], ["-q", "--version"], ["-V", "--quiet"]]) {
    const arg = args.join(" ");
    const result = await runCli(args, { env: isolatedEnv(tmp.path) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, VERSION_LINE, arg);
    assert.equal(result.stderr, "");
  }
  const config = JSON.parse(await Deno.readTextFile(join(ROOT, "deno.json")));
  assert.equal(config.version, VERSION, "deno.json and src/version.ts carry the same version");
});

Deno.test("help, --help and -h list every command in COMMANDS with its summary and exit 0", async () => {
  await using tmp = await tempDir();
  const outputs = new Set<string>();
  for (const arg of ["help", "--help", "-h"]) {
    const result = await runCli([arg], { env: isolatedEnv(tmp.path) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    assert.match(result.stdout, /^Usage: legate-jupyter /);
    for (const c of COMMANDS) {
      const line = result.stdout.split("\n").find((l) => l.trimStart().startsWith(c.name + " "));
      assert.ok(line, `${arg} lists ${c.name}`);
      assert.ok(line.endsWith(c.summary), `${arg} shows ${c.name}'s summary: ${line}`);
    }
    outputs.add(result.stdout);
  }
  assert.equal(outputs.size, 1, "the three spellings print the same overview");
});

Deno.test("help CMD and CMD --help print the same Usage: and Examples: for every command, exit 0", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path);
  for (const entry of COMMANDS) {
    const { command } = await entry.load();
    const viaHelp = await runCli(["help", entry.name], { env });
    const viaFlag = await runCli([entry.name, "--help"], { env });
    const viaShort = await runCli([entry.name, "-h"], { env });
    for (const r of [viaHelp, viaFlag, viaShort]) {
      assert.equal(r.code, 0, `${entry.name}: ${r.stderr}`);
      assert.equal(r.stderr, "", entry.name);
    }
    const help = viaHelp.stdout;
    assert.match(help, new RegExp(`^Usage: legate-jupyter ${entry.name}\\b`), entry.name);
    assert.match(help, /\nExamples:\n {2}\S/, `${entry.name} --help shows examples`);
    assert.equal(viaFlag.stdout, help, `${entry.name} --help equals help ${entry.name}`);
    assert.equal(viaShort.stdout, help, `${entry.name} -h equals help ${entry.name}`);
    for (const f of command.flags) {
      if (!f.hidden) {
        assert.ok(help.includes(`--${f.name}`), `${entry.name} --help shows --${f.name}`);
      }
    }
  }
});

Deno.test("an unknown command exits 2 with one line on stderr naming it and nothing on stdout", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path);
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /^legate-jupyter: error: unknown command 'frobnicate'.*--help/],
    [["instal"], /^legate-jupyter: error: unknown command 'instal' \(did you mean 'install'\?\)/],
    [["help", "frobnicate"], /^legate-jupyter: error: unknown command 'frobnicate'/],
    [
      ["help", "instal"],
      /^legate-jupyter: error: unknown command 'instal' \(did you mean 'install'\?\)/,
    ],
  ];
  for (const [args, pattern] of cases) {
    const result = await runCli(args, { env });
    assert.equal(result.code, 2, args.join(" "));
    assert.equal(result.stdout, "");
    assert.equal(result.stderr.split("\n").filter(Boolean).length, 1, result.stderr);
    assert.match(result.stderr, pattern);
  }
});

const SCRIPT = ["/usr/bin/script", "/bin/script"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});
const NO_PTY = SCRIPT ? "" : " (skipped: util-linux 'script' is needed to run under a terminal)";

/** Runs `argv` with stdout and stderr on a pseudo-terminal (util-linux `script`). */
function onTerminal(argv: string[], env: Record<string, string>) {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return run([SCRIPT!, "-qec", argv.map(q).join(" "), "/dev/null"], {
    env: { SHELL: "/bin/sh", TERM: "xterm", ...env },
  });
}

Deno.test({
  name:
    `warnings are coloured on a terminal, and not when NO_COLOR is set or output is piped${NO_PTY}`,
  ignore: !SCRIPT,
  async fn() {
    await using tmp = await tempDir();
    const probe = join(tmp.path, "probe.ts");
    await Deno.writeTextFile(
      probe,
      `import { Output } from ${JSON.stringify(join(ROOT, "src/cli/output.ts"))};\n` +
        `new Output().warn("careful");\n`,
    );
    const argv = [Deno.execPath(), "run", "-A", "--quiet", probe];
    const base = isolatedEnv(tmp.path);
    delete (base as Record<string, string | undefined>).NO_COLOR;

    const colour = await onTerminal(argv, base);
    assert.equal(colour.code, 0, colour.stdout);
    assert.ok(
      colour.stdout.includes("\x1b[33mlegate-jupyter: warning:\x1b[0m careful"),
      colour.stdout,
    );

    const noColor = await onTerminal(argv, { ...base, NO_COLOR: "1" });
    assert.equal(noColor.code, 0);
    assert.ok(noColor.stdout.includes("legate-jupyter: warning: careful"), noColor.stdout);
    assert.ok(!noColor.stdout.includes("\x1b["), "NO_COLOR=1: no escape codes");

    const piped = await run(argv, { env: base });
    assert.equal(piped.stderr, "legate-jupyter: warning: careful\n");
  },
});

Deno.test({
  name: `list on a terminal with NO_COLOR set prints a broken kernel without escape codes${NO_PTY}`,
  ignore: !SCRIPT,
  async fn() {
    await using tmp = await tempDir();
    const env = isolatedEnv(tmp.path, { JUPYTER_PATH: "" });
    const broken = join(env.JUPYTER_DATA_DIR, "kernels", "lj-broken");
    await Deno.mkdir(broken, { recursive: true });
    await Deno.writeTextFile(join(broken, "kernel.json"), "{not json");
    const result = await onTerminal(
      [Deno.execPath(), "run", "-A", "--quiet", MOD, "list"],
      { ...env, NO_COLOR: "1" },
    );
    assert.equal(result.code, 0, result.stdout);
    assert.match(result.stdout, /lj-broken/);
    assert.ok(
      !result.stdout.includes("\x1b["),
      `no escape codes: ${JSON.stringify(result.stdout)}`,
    );
  },
});
