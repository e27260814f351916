/**
 * The name the program gives itself in the commands it prints (`stop ID`, `cancel JOB`,
 * `jobs`...) and in the batch scripts it writes: the name the user typed. A binary or a
 * launcher on PATH by its file name, elsewhere by its path; a checkout as `deno run -A
 * /path/mod.ts`. A launcher is an executable script with a `deno run` shebang that imports
 * mod.ts, as tests/cluster/ puts on the cluster's PATH.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { programName } from "../src/cli/program.ts";
import { shQuote } from "../src/util/shell.ts";
import { isolatedEnv, PROGRAM, ROOT, run, runCli, tempDir } from "./helpers.ts";

Deno.test("programName names a binary on PATH by its file name, and by its path elsewhere", async () => {
  await using tmp = await tempDir();
  const bin = join(tmp.path, "bin");
  await Deno.mkdir(bin);
  await Deno.writeTextFile(join(bin, "lj"), "#!/bin/sh\n", { mode: 0o755 });
  assert.equal(programName([join(bin, "lj")], `/nonexistent:${bin}`), "lj");
  assert.equal(programName([join(bin, "lj")], "/usr/bin:/bin"), join(bin, "lj"));
  // Another program of the same name earlier on PATH: the name alone would run that one.
  const other = join(tmp.path, "other");
  await Deno.mkdir(other);
  await Deno.writeTextFile(join(other, "lj"), "#!/bin/sh\n", { mode: 0o755 });
  assert.equal(programName([join(bin, "lj")], `${other}:${bin}`), join(bin, "lj"));
});

Deno.test("programName names a checkout as the deno command that runs it, quoted for a shell", () => {
  assert.equal(
    programName(["/opt/no-such-deno/deno", "run", "-A", "/src/my tools/mod.ts"], "/usr/bin"),
    "/opt/no-such-deno/deno run -A '/src/my tools/mod.ts'",
  );
});

Deno.test("run as 'deno run -A mod.ts', the program names itself so in the commands it prints", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path, { XDG_STATE_HOME: join(tmp.path, "state") });
  const r = await runCli(["stop"], { env });
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(`(see '${PROGRAM} servers')`), r.stderr);
  const c = await runCli(["cancel", "4242"], { env });
  assert.ok(c.stderr.includes(`(see '${PROGRAM} jobs')`), c.stderr);
});

Deno.test("a launcher on PATH is the program: hints name it as typed, and batch scripts run it", async () => {
  await using tmp = await tempDir();
  const bin = join(tmp.path, "bin");
  await Deno.mkdir(bin);
  const launcher = join(bin, "lj-dev");
  await Deno.writeTextFile(
    launcher,
    // env -S splits its line as a shell would: the paths quoted, for a checkout with a space.
    `#!/usr/bin/env -S ${shQuote(Deno.execPath())} run -A --quiet ` +
      `--config=${shQuote(join(ROOT, "deno.json"))}\n` +
      `import { main } from ${JSON.stringify(pathToFileURL(join(ROOT, "mod.ts")).href)};\n` +
      `Deno.exit(await main(Deno.args));\n`,
    { mode: 0o755 },
  );
  const env = isolatedEnv(tmp.path, {
    XDG_STATE_HOME: join(tmp.path, "state"),
    PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
  });
  await Deno.mkdir(env.HOME, { recursive: true });
  const stop = await run(["lj-dev", "stop"], { env });
  assert.equal(stop.code, 2);
  assert.match(stop.stderr, /\(see 'lj-dev servers'\) or --all/);
  const script = await run(
    ["lj-dev", "submit", "--scheduler", "slurm", "--script-only"],
    { env, cwd: env.HOME },
  );
  assert.equal(script.code, 0, script.stderr);
  assert.match(script.stdout, new RegExp(`^${launcher} notebook `, "m"));
  assert.doesNotMatch(script.stdout, /mod\.ts/);
});
