/**
 * The shipped binary: `scripts/compile.sh` builds it and it behaves like `deno run -A mod.ts`;
 * `scripts/glibc-floor.sh` reads the oldest glibc a Linux binary needs.
 *
 * `deno compile` needs denort, Deno's runtime-only binary, which it downloads unless DENORT_BIN
 * names a local one or the Deno cache already holds it. Where neither is true and the download
 * fails (no network), the compile tests are skipped and their names say why.
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, ROOT, run, runCli, tempDir } from "./helpers.ts";
import { VERSION } from "../src/version.ts";

const COMPILE_SH = join(ROOT, "scripts", "compile.sh");
const GLIBC_FLOOR_SH = join(ROOT, "scripts", "glibc-floor.sh");
const SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";

/** Where `deno compile` caches denort for this Deno and machine (cli/tools/compile). */
async function cachedDenort(): Promise<string | undefined> {
  const info = await run([Deno.execPath(), "info", "--json"], { env: Deno.env.toObject() });
  const denoDir = JSON.parse(info.stdout).denoDir as string;
  const zip = join(
    denoDir,
    "dl",
    "release",
    `v${Deno.version.deno}`,
    `denort-${Deno.build.target}.zip`,
  );
  return await Deno.stat(zip).then(() => zip, () => undefined);
}

/**
 * Why the compile tests cannot run here, or undefined when they can. Tries a one-line compile
 * when no local denort is known, bounded by a timeout so a dead network cannot stall the suite.
 */
async function whyNoDenort(): Promise<string | undefined> {
  if (Deno.env.get("DENORT_BIN")) return undefined; // set: a wrong one must fail, not skip
  if (await cachedDenort()) return undefined;
  const dir = await Deno.makeTempDir({ prefix: "lj-denort-probe-" });
  try {
    await Deno.writeTextFile(join(dir, "probe.ts"), "console.log('probe');\n");
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["compile", "--no-check", "--output", join(dir, "probe"), join(dir, "probe.ts")],
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(30_000),
    }).output();
    if (out.success) return undefined;
    const why = new TextDecoder().decode(out.stderr).split("\n").find((l) =>
      /error sending|dns|connect/i.test(l)
    ) ??
      `deno compile exited ${out.code}`;
    return `no denort: DENORT_BIN is unset, the Deno cache has no denort-${Deno.build.target}.zip ` +
      `and the download failed (${why.trim().slice(0, 160)}); set DENORT_BIN to run these`;
  } catch (error) {
    return `no denort: DENORT_BIN is unset and a probe compile did not finish in 30 s (${error})`;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const NO_DENORT = await whyNoDenort();
const skipNote = NO_DENORT ? ` (skipped: ${NO_DENORT})` : "";

/** Replaces each way the program names itself with `<self>`, so outputs can be compared. */
function normalize(text: string, self: string[]): string {
  const forms = [
    self.map((s) => JSON.stringify(s)).join(",\n"),
    self.map((s) => JSON.stringify(s)).join(", "),
    self.map((s) => JSON.stringify(s)).join(","),
    self.join(" "),
  ];
  let out = text;
  for (const form of forms) out = out.replaceAll(form, "<self>");
  // Pretty-printed JSON arrays indent each element: match them whatever the indent.
  const pattern = self.map((s) => JSON.stringify(s).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(
    ",\\n\\s*",
  );
  return out.replace(new RegExp(pattern, "g"), "<self>");
}

Deno.test({
  name: `compile.sh builds a binary that behaves like deno run -A mod.ts${skipNote}`,
  ignore: NO_DENORT !== undefined,
  async fn(t) {
    await using tmp = await tempDir();
    const bin = join(tmp.path, "legate-jupyter");
    const build = await run(["/bin/sh", COMPILE_SH], {
      env: { ...Deno.env.toObject(), OUTPUT: bin, NO_COLOR: "1" },
      cwd: ROOT,
    });
    assert.equal(build.code, 0, build.stderr);
    assert.match(
      build.stderr,
      new RegExp(`compile: wrote ${bin.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`),
    );

    const env = isolatedEnv(tmp.path);
    const same = async (args: string[]) => {
      const compiled = await run([bin, ...args], { env });
      const script = await runCli(args, { env });
      const self = [Deno.execPath(), "run", "-A", join(ROOT, "mod.ts")];
      assert.equal(compiled.code, script.code, `${args.join(" ")}: exit codes`);
      assert.equal(normalize(compiled.stdout, [bin]), normalize(script.stdout, self), "stdout");
      assert.equal(normalize(compiled.stderr, [bin]), normalize(script.stderr, self), "stderr");
      return compiled;
    };

    await t.step("--version names the version, Deno and the target", async () => {
      const r = await same(["--version"]);
      assert.equal(r.code, 0);
      assert.equal(
        r.stdout,
        `legate-jupyter ${VERSION} (deno ${Deno.version.deno}, ${Deno.build.target})\n`,
      );
    });
    await t.step(
      "install --dry-run prints the same kernel files (embedded templates)",
      async () => {
        const r = await same(["install", "--dry-run", "--python", "/usr/bin/python3"]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /kernel\.json/);
      },
    );
    await t.step("help and completions are the same", async () => {
      await same(["--help"]);
      await same(["completions", "bash"]);
    });
    await t.step("a usage error exits 2 the same way", async () => {
      const r = await same(["frobnicate"]);
      assert.equal(r.code, 2);
    });
  },
});

Deno.test("compile.sh rejects an unknown target with exit 2 and the list of targets", async () => {
  const result = await run(["/bin/sh", COMPILE_SH, "riscv64-unknown-linux-gnu"], {
    env: { PATH: SYSTEM_PATH, HOME: Deno.env.get("HOME") ?? "/tmp" },
    cwd: ROOT,
  });
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    "compile: error: unknown target 'riscv64-unknown-linux-gnu'; use one of: x86_64-unknown-linux-gnu " +
      "aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin\n",
  );
});

Deno.test("compile.sh with DENORT_BIN naming a missing file fails before compiling, naming it", async () => {
  await using tmp = await tempDir();
  const missing = join(tmp.path, "no-such-denort");
  const result = await run(["/bin/sh", COMPILE_SH], {
    env: {
      ...Deno.env.toObject(),
      DENORT_BIN: missing,
      OUTPUT: join(tmp.path, "out"),
      NO_COLOR: "1",
    },
    cwd: ROOT,
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`compile: error: DENORT_BIN=${missing} does not exist`));
  assert.equal(await Deno.stat(join(tmp.path, "out")).then(() => true, () => false), false);
});

const BINUTILS = ["objdump", "readelf"].some((p) =>
  SYSTEM_PATH.split(":").some((d) => {
    try {
      return Deno.statSync(join(d, p)).isFile;
    } catch {
      return false;
    }
  })
);
const noFloor = Deno.build.os !== "linux"
  ? " (skipped: glibc floors are for Linux binaries)"
  : !BINUTILS
  ? " (skipped: needs objdump or readelf; apt-get install binutils, listed in .ci/apt-packages)"
  : "";

Deno.test({
  name:
    `glibc-floor.sh prints the glibc the deno binary needs and fails when MAX is lower${noFloor}`,
  ignore: noFloor !== "",
  async fn() {
    const env = { PATH: SYSTEM_PATH };
    const exe = Deno.execPath();
    const floor = await run(["/bin/sh", GLIBC_FLOOR_SH, exe], { env });
    assert.equal(floor.code, 0, floor.stderr);
    assert.match(floor.stdout, /^2\.\d+\n$/);
    const version = floor.stdout.trim();

    const atFloor = await run(["/bin/sh", GLIBC_FLOOR_SH, exe, version], { env });
    assert.equal(atFloor.code, 0, atFloor.stderr);
    assert.equal(atFloor.stdout, floor.stdout);

    const below = await run(["/bin/sh", GLIBC_FLOOR_SH, exe, "2.2"], { env });
    assert.equal(below.code, 1);
    assert.equal(below.stderr.split("\n").filter(Boolean).length, 1, below.stderr);
    assert.match(
      below.stderr,
      new RegExp(`needs glibc ${version.replace(".", "\\.")}, above the allowed 2\\.2 `),
    );

    // Versions compare as numbers, not text: 2.28 is above 2.3.
    const minor = Number(version.split(".")[1]);
    if (minor >= 10) {
      const textual = await run(["/bin/sh", GLIBC_FLOOR_SH, exe, "2.9"], { env });
      assert.equal(textual.code, 1, "2.9 < 2.1x must fail");
    }
  },
});

Deno.test({
  name: `glibc-floor.sh refuses a file that is not an ELF binary, and a malformed MAX${noFloor}`,
  ignore: noFloor !== "",
  async fn() {
    const env = { PATH: SYSTEM_PATH };
    const notElf = await run(["/bin/sh", GLIBC_FLOOR_SH, join(ROOT, "mod.ts")], { env });
    assert.equal(notElf.code, 1);
    assert.match(notElf.stderr, /^glibc-floor: error: .*mod\.ts is not an ELF executable/);
    const badMax = await run(["/bin/sh", GLIBC_FLOOR_SH, Deno.execPath(), "rhel8"], { env });
    assert.equal(badMax.code, 2);
    assert.equal(
      badMax.stderr,
      "glibc-floor: error: MAX must be a version like 2.28, not 'rhel8'\n",
    );
  },
});
