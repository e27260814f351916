/**
 * Why a program could not be started, by cause (src/util/start_error.ts): Deno's spawn errors
 * are real here, from real programs, directories and modes.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";
import { startCause, startProblem } from "../src/util/start_error.ts";
import { reportOf } from "../src/util/report.ts";

function spawnError(program: string, options: { cwd?: string; path?: string } = {}): unknown {
  try {
    const child = new Deno.Command(program, {
      cwd: options.cwd,
      env: options.path ? { PATH: options.path } : undefined,
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.kill();
    return undefined;
  } catch (e) {
    return e;
  }
}

Deno.test("startCause calls a program found nowhere on PATH missing", () => {
  const e = spawnError("lj-no-such-program-here");
  assert.deepEqual(startCause(e), { kind: "missing" });
  assert.equal(startProblem("x", { kind: "missing" }), undefined);
});

Deno.test("startCause names a working directory that does not exist, not the program", async () => {
  await using d = await tempDir();
  const gone = join(d.path, "gone");
  const e = spawnError("true", { cwd: gone });
  assert.deepEqual(startCause(e, gone), { kind: "cwd", dir: gone });
  assert.match(reportOf(e).message, new RegExp(`working directory ${gone} is gone`));
});

Deno.test("startCause finds the file on PATH that is not executable, which the PATH search skips", async () => {
  await using d = await tempDir();
  await Deno.writeTextFile(join(d.path, "tool"), "#!/bin/sh\n", { mode: 0o644 });
  const e = spawnError("tool", { path: d.path });
  const cause = startCause(e, undefined, d.path);
  assert.deepEqual(cause, { kind: "not-executable", path: join(d.path, "tool") });
  assert.match(startProblem("tool", cause!)!, /tool is not executable .*chmod \+x/);
});

Deno.test("startCause calls a program given by path that is not executable not executable", async () => {
  await using d = await tempDir();
  const file = join(d.path, "script");
  await Deno.writeTextFile(file, "#!/bin/sh\n", { mode: 0o644 });
  const e = spawnError(file);
  assert.equal(startCause(e)?.kind, "not-executable");
});

Deno.test("startCause leaves errors that are not spawn errors to others (a missing file)", () => {
  let e: unknown;
  try {
    Deno.readTextFileSync("/nonexistent/lj-file");
  } catch (err) {
    e = err;
  }
  assert.equal(startCause(e), undefined);
  assert.doesNotMatch(reportOf(e).message, /could not be started|was not found/);
});
