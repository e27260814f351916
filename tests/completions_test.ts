/**
 * Tests of `legate-jupyter completions`: each script parses in its shell, and the bash (and fish)
 * scripts complete commands, flags and values when driven the way the shell drives them.
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, run, runCli, tempDir } from "./helpers.ts";
import { COMMANDS, findCommand } from "../src/cli/commands.ts";
import { COMMON_FLAGS } from "../src/cli/command.ts";
import type { Command } from "../src/cli/command.ts";
import { modelOf } from "../src/cli/completions.ts";
import { bashScript } from "../src/completion/bash.ts";
import { fishScript } from "../src/completion/fish.ts";
import { zshScript } from "../src/completion/zsh.ts";

const SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";

function which(program: string): string | undefined {
  for (const dir of SYSTEM_PATH.split(":")) {
    try {
      if (Deno.statSync(join(dir, program)).isFile) return join(dir, program);
    } catch { /* not in this directory */ }
  }
  return undefined;
}

const SHELLS = { bash: which("bash"), zsh: which("zsh"), fish: which("fish") };

/** A test name that states why the test is skipped when `shell` is missing. */
function named(name: string, shell: keyof typeof SHELLS): string {
  return SHELLS[shell]
    ? name
    : `${name} (skipped: ${shell} is not installed; apt-get install ${shell}, listed in .ci/apt-packages)`;
}

async function script(shell: string, dir: string): Promise<string> {
  const result = await runCli(["completions", shell], { env: isolatedEnv(dir) });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  const path = join(dir, `completion.${shell}`);
  await Deno.writeTextFile(path, result.stdout);
  return path;
}

/**
 * Runs the bash completion function as bash does on TAB: COMP_WORDS holds the words after the
 * program name plus the word being completed (last), COMP_CWORD its index. Returns COMPREPLY
 * for each case, in order, from one bash process.
 */
async function bashComplete(
  scriptPath: string,
  cases: string[][],
  env: Record<string, string>,
): Promise<string[][]> {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const lines = [`source ${q(scriptPath)} || exit 3`];
  for (const words of cases) {
    lines.push(
      `COMP_WORDS=(legate-jupyter ${words.map(q).join(" ")})`,
      `COMP_CWORD=${words.length}`,
      `COMPREPLY=()`,
      `_legate_jupyter`,
      `printf '%s\\n' "\${COMPREPLY[@]}" | LC_ALL=C sort`,
      `echo '<<end>>'`,
    );
  }
  const result = await run([SHELLS.bash!, "--norc", "--noprofile", "-c", lines.join("\n")], {
    env: { PATH: SYSTEM_PATH, ...env },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  const out = result.stdout.split("<<end>>\n");
  out.pop();
  return out.map((block) => block.split("\n").filter((l) => l !== ""));
}

async function loadCommand(name: string): Promise<Command> {
  const entry = findCommand(name);
  assert.ok(entry, `command ${name} is registered`);
  return (await entry.load()).command;
}

for (const shell of ["bash", "zsh", "fish"] as const) {
  Deno.test({
    name: named(`completions ${shell} prints a script that ${shell} -n accepts`, shell),
    ignore: !SHELLS[shell],
    async fn() {
      await using tmp = await tempDir();
      const path = await script(shell, tmp.path);
      const text = await Deno.readTextFile(path);
      // Every registered command is in the script, whatever was added since.
      for (const c of COMMANDS) assert.match(text, new RegExp(`\\b${c.name}\\b`), c.name);
      const check = await run([SHELLS[shell]!, "-n", path], { env: { PATH: SYSTEM_PATH } });
      assert.equal(check.code, 0, `${shell} -n failed: ${check.stderr}`);
      assert.equal(check.stderr, "");
    },
  });
}

Deno.test({
  name: named("bash completion completes command names, flags and launcher choices on TAB", "bash"),
  ignore: !SHELLS.bash,
  async fn() {
    await using tmp = await tempDir();
    const path = await script("bash", tmp.path);
    const launcher = (await loadCommand("install")).flags.find((f) => f.name === "launcher");
    assert.ok(launcher?.choices?.length, "install declares --launcher with choices");

    const [ins, cpus, launchers, equals, first, help, shells, topCpus, dash] = await bashComplete(
      path,
      [
        ["ins"],
        ["install", "--cp"],
        ["install", "--launcher", ""],
        ["install", "--launcher", "=", launcher.choices[0].slice(0, 2)],
        [""],
        ["help", ""],
        ["completions", ""],
        ["--cp"],
        ["list", "--ver"],
      ],
      isolatedEnv(tmp.path),
    );
    assert.deepEqual(ins, ["install"]);
    assert.deepEqual(cpus, ["--cpus"]);
    assert.deepEqual(launchers, [...launcher.choices].sort());
    assert.deepEqual(
      equals,
      launcher.choices.filter((c) => c.startsWith(launcher.choices![0].slice(0, 2))).sort(),
    );
    // The command list comes from COMMANDS at generation time, plus mod.ts's `help`.
    assert.deepEqual(first, [...COMMANDS.map((c) => c.name), "help"].sort());
    assert.deepEqual(help, COMMANDS.map((c) => c.name).sort());
    assert.deepEqual(shells, ["bash", "fish", "zsh"]);
    // An option as the first word runs `install`, so its flags complete there too.
    assert.deepEqual(topCpus, ["--cpus"]);
    // --version is only valid as the first word.
    assert.deepEqual(dash, []);
  },
});

Deno.test({
  name: named("bash completion offers every flag of every registered command", "bash"),
  ignore: !SHELLS.bash,
  async fn() {
    await using tmp = await tempDir();
    const path = await script("bash", tmp.path);
    const cases: string[][] = [];
    const expected: string[] = [];
    for (const entry of COMMANDS) {
      const cmd = (await entry.load()).command;
      for (const f of [...cmd.flags, ...COMMON_FLAGS]) {
        if (f.hidden) continue;
        cases.push([entry.name, `--${f.name}`]);
        expected.push(`--${f.name}`);
      }
    }
    const replies = await bashComplete(path, cases, isolatedEnv(tmp.path));
    replies.forEach((reply, i) => {
      assert.ok(reply.includes(expected[i]), `${cases[i].join(" ")}<TAB> offers ${expected[i]}`);
    });
  },
});

Deno.test({
  name: named(
    "bash completion offers installed kernel names for info and files for --python",
    "bash",
  ),
  ignore: !SHELLS.bash,
  async fn() {
    await using tmp = await tempDir();
    const path = await script("bash", tmp.path);
    const data = join(tmp.path, "data");
    for (const k of ["lj-one", "lj-two"]) {
      await Deno.mkdir(join(data, "kernels", k), { recursive: true });
      await Deno.writeTextFile(join(data, "kernels", k, "kernel.json"), "{}");
    }
    // A directory without kernel.json is not a kernel.
    await Deno.mkdir(join(data, "kernels", "lj-broken"), { recursive: true });
    const py = join(tmp.path, "envs", "python3.11");
    await Deno.mkdir(join(tmp.path, "envs"));
    await Deno.writeTextFile(py, "");

    const [kernels, python] = await bashComplete(
      path,
      [["info", "lj-"], ["install", "--python", join(tmp.path, "envs", "py")]],
      isolatedEnv(tmp.path, { JUPYTER_DATA_DIR: data }),
    );
    assert.deepEqual(kernels, ["lj-one", "lj-two"]);
    assert.deepEqual(python, [py]);
  },
});

Deno.test({
  name: named(
    "bash completion picks up a command and flag added to the table, with no other change",
    "bash",
  ),
  ignore: !SHELLS.bash,
  async fn() {
    await using tmp = await tempDir();
    const frob: Command = {
      name: "frobnicate",
      summary: "A command added later",
      usage: "frobnicate",
      flags: [{ name: "level", type: "string", choices: ["low", "high"], help: "How hard" }],
      examples: [],
      run: () => Promise.resolve(0),
    };
    const path = join(tmp.path, "completion.bash");
    await Deno.writeTextFile(path, bashScript(modelOf([await loadCommand("install"), frob])));
    const [first, flag, value] = await bashComplete(
      path,
      [["fro"], ["frobnicate", "--le"], ["frobnicate", "--level", ""]],
      isolatedEnv(tmp.path),
    );
    assert.deepEqual(first, ["frobnicate"]);
    assert.deepEqual(flag, ["--level"]);
    assert.deepEqual(value, ["high", "low"]);
  },
});

Deno.test({
  name: named(
    "zsh and fish scripts for a table with quotes and brackets in help still parse",
    "zsh",
  ),
  ignore: !SHELLS.zsh || !SHELLS.fish,
  async fn() {
    await using tmp = await tempDir();
    const odd: Command = {
      name: "odd",
      summary: "It's [odd]: really",
      usage: "odd",
      flags: [
        { name: "x", short: "x", type: "string", metavar: "A:B", help: "Quote ' and \\ and [x]" },
        { name: "v", type: "count", help: "More: [v]" },
      ],
      maxPositionals: 2,
      positionals: "NAME...",
      examples: [],
      run: () => Promise.resolve(0),
    };
    const model = modelOf([odd]);
    for (const [shell, text] of [["zsh", zshScript(model)], ["fish", fishScript(model)]]) {
      const path = join(tmp.path, `odd.${shell}`);
      await Deno.writeTextFile(path, text);
      const check = await run([SHELLS[shell as "zsh" | "fish"]!, "-n", path], {
        env: { PATH: SYSTEM_PATH },
      });
      assert.equal(check.code, 0, `${shell} -n: ${check.stderr}`);
    }
  },
});

Deno.test({
  name: named("fish completion completes command names and launcher choices", "fish"),
  ignore: !SHELLS.fish,
  async fn() {
    await using tmp = await tempDir();
    const path = await script("fish", tmp.path);
    const launcher = (await loadCommand("install")).flags.find((f) => f.name === "launcher");
    const complete = async (line: string) => {
      const result = await run(
        [SHELLS.fish!, "--no-config", "-c", `source '${path}'; complete -C '${line}'`],
        { env: isolatedEnv(tmp.path, { XDG_CONFIG_HOME: join(tmp.path, "config") }) },
      );
      assert.equal(result.code, 0, result.stderr);
      // fish 4 also lists fuzzy matches (--cp: --experimental-copy-path, --min-cpu-chunk);
      // what the user gets for a word is its prefix matches, which fish shows first and alone.
      const word = line.slice(line.lastIndexOf(" ") + 1);
      return result.stdout.split("\n").filter(Boolean).map((l) => l.split("\t")[0])
        .filter((c) => c.startsWith(word)).sort();
    };
    assert.deepEqual(await complete("legate-jupyter ins"), ["install"]);
    assert.deepEqual(await complete("legate-jupyter install --cp"), ["--cpus"]);
    assert.deepEqual(
      await complete("legate-jupyter install --launcher "),
      [...launcher!.choices!].sort(),
    );
  },
});

Deno.test("completions without a shell, or with an unknown one, exits 2 with one line naming the choices", async () => {
  await using tmp = await tempDir();
  for (const args of [["completions"], ["completions", "tcsh"]]) {
    const result = await runCli(args, { env: isolatedEnv(tmp.path) });
    assert.equal(result.code, 2);
    assert.equal(result.stdout, "");
    assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    assert.match(result.stderr, /^legate-jupyter: error: .*bash.*zsh.*fish/);
  }
});
