import assert from "node:assert/strict";
import { type FlagSpec, parseFlags, parseIntFlag, suggestFlag } from "../src/util/flags.ts";
import { UsageError } from "../src/util/errors.ts";
import { shJoin, shQuote, shSplit } from "../src/util/shell.ts";
import { browserCommands, openWith } from "../src/util/browser.ts";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";
import { VERSION } from "../src/version.ts";

const SPECS: FlagSpec[] = [
  { name: "cpus", type: "int", help: "" },
  { name: "nodes", type: "int", min: 1, default: 1, help: "" },
  { name: "name", type: "string", default: "Legate_SM_GPU", help: "" },
  { name: "launcher", type: "string", choices: ["none", "srun"], default: "none", help: "" },
  { name: "launcher-extra", type: "string", multiple: true, help: "" },
  { name: "consensus", type: "boolean", help: "" },
  { name: "verbose", short: "v", type: "count", help: "" },
];

Deno.test("parseFlags reads long, =, repeated, counted and boolean flags", () => {
  const p = parseFlags(
    [
      "--cpus",
      "4",
      "--name=x",
      "--launcher-extra=--exclusive",
      "--launcher-extra",
      "-A acct",
      "-vv",
      "--consensus",
    ],
    SPECS,
  );
  assert.equal(p.values.cpus, 4);
  assert.equal(p.values.name, "x");
  assert.deepEqual(p.values["launcher-extra"], ["--exclusive", "-A acct"]);
  assert.equal(p.values.verbose, 2);
  assert.equal(p.values.consensus, true);
  assert.equal(p.values.nodes, 1);
  assert.ok(p.given.has("cpus") && !p.given.has("nodes"));
});

Deno.test("parseFlags refuses abbreviations and suggests the full flag", () => {
  assert.throws(() => parseFlags(["--cpu", "4"], SPECS), (e: Error) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /unknown option '--cpu' \(did you mean --cpus\?\)/);
    return true;
  });
});

Deno.test("parseFlags refuses bad integers, negatives, values under the minimum and bad choices", () => {
  for (
    const args of [["--cpus", "abc"], ["--cpus", "-1"], ["--cpus", "1.5"], ["--nodes", "0"], [
      "--launcher",
      "foo",
    ]]
  ) {
    assert.throws(() => parseFlags(args, SPECS), UsageError, args.join(" "));
  }
});

Deno.test("parseFlags refuses a missing value, a value on a boolean and stray positionals", () => {
  assert.throws(() => parseFlags(["--cpus"], SPECS), /needs a value/);
  assert.throws(() => parseFlags(["--consensus=yes"], SPECS), /takes no value/);
  assert.throws(() => parseFlags(["extra"], SPECS), /unexpected argument 'extra'/);
});

Deno.test("parseFlags keeps what follows -- when the command allows it", () => {
  const p = parseFlags(["--cpus", "1", "--", "--NotebookApp.x=1", "y"], SPECS, { allowRest: true });
  assert.deepEqual(p.rest, ["--NotebookApp.x=1", "y"]);
});

Deno.test("parseIntFlag accepts zero and large safe integers only", () => {
  assert.equal(parseIntFlag("--x", "0"), 0);
  assert.equal(parseIntFlag("--x", "4000"), 4000);
  assert.throws(() => parseIntFlag("--x", "99999999999999999999"), UsageError);
});

Deno.test("suggestFlag offers nothing for a word far from every flag", () => {
  assert.equal(suggestFlag("zzzzzzzz", SPECS), undefined);
});

Deno.test("shQuote leaves safe words bare and quotes everything else inertly", () => {
  assert.equal(shQuote("/usr/bin/python3"), "/usr/bin/python3");
  assert.equal(shQuote(""), "''");
  assert.equal(shQuote("a b"), "'a b'");
  assert.equal(shQuote("it's"), `'it'"'"'s'`);
  assert.equal(shJoin(["echo", "$(id)"]), "echo '$(id)'");
});

Deno.test("shQuote output reads back as the same word through a real shell", async () => {
  const hostile = [
    `$(touch /tmp/pwned)`,
    "`id`",
    `a'b"c`,
    "line1\nline2",
    "; rm -rf /",
    "\\",
    "*",
    "~",
  ];
  const script = hostile.map((h) => `printf '%s\\0' ${shQuote(h)}`).join("\n");
  const out = await new Deno.Command("sh", { args: ["-c", script], stdout: "piped" }).output();
  const words = new TextDecoder().decode(out.stdout).split("\0").slice(0, -1);
  assert.deepEqual(words, hostile);
});

Deno.test("shSplit splits like Python's shlex.split", () => {
  assert.deepEqual(shSplit(`--foo 'a b' bar`), ["--foo", "a b", "bar"]);
  assert.deepEqual(shSplit(`a"b c"d e\\ f`), ["ab cd", "e f"]);
  assert.deepEqual(shSplit(`""`), [""]);
  assert.throws(() => shSplit(`'open`), SyntaxError);
});

Deno.test("the version in src/version.ts matches deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(config.version, VERSION);
});

Deno.test("browserCommands tries $BROWSER's entries first, then the system's opener where a display or WSL is", () => {
  const linux = { os: "linux" as const };
  assert.deepEqual(browserCommands({ BROWSER: "firefox:chromium" }, linux), [
    ["firefox"],
    ["chromium"],
  ]);
  assert.deepEqual(browserCommands({ DISPLAY: ":0" }, linux), [["xdg-open"]]);
  assert.deepEqual(browserCommands({ WAYLAND_DISPLAY: "wayland-0" }, linux), [["xdg-open"]]);
  assert.deepEqual(browserCommands({}, linux), [], "no display: no browser");
  assert.deepEqual(browserCommands({}, { os: "linux", wsl: true }), [
    ["wslview"],
    ["cmd.exe", "/c", "start", '""'],
  ]);
  assert.deepEqual(browserCommands({ BROWSER: "b" }, { os: "darwin" }), [["b"], ["open"]]);
});

Deno.test("openWith skips a browser that is not installed and hands the page to the next", async () => {
  await using tmp = await tempDir("lj-browser-");
  const dir = tmp.path;
  const seen = join(dir, "seen");
  const script = join(dir, "browser");
  await Deno.writeTextFile(
    script,
    `#!/bin/sh\nprintf %s "$1" > ${seen}.tmp && mv ${seen}.tmp ${seen}\n`,
    { mode: 0o755 },
  );
  const used = openWith([[join(dir, "missing")], [script]], "http://127.0.0.1:1/?token=t");
  assert.deepEqual(used, [script]);
  let text: string | undefined;
  for (let i = 0; i < 200 && text === undefined; i++) {
    text = await Deno.readTextFile(seen).catch(() => undefined);
    if (text === undefined) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(text, "http://127.0.0.1:1/?token=t");
  assert.equal(openWith([[join(dir, "missing")]], "x"), undefined);
});
