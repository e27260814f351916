/**
 * The generated launch script, run for real with fakes for what cannot exist here (the
 * `module` command, launchers, MPI, Legate's bind script, and a python that records what it
 * was given): quoting of hostile input, module/env order, launcher composition, bind script.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, run, runCli, tempDir } from "./helpers.ts";
import {
  assertOneLineError,
  execLine,
  fakePython,
  fakeVenv,
  readFakePython,
  readRecords,
  recorder,
  snapshot,
  SYS_PYTHON,
  writeExecutable,
} from "./support/e2e.ts";

const SPEC_KEY = "__LEGATE_JUPYTER_KERNEL_SPEC__";

/** Files named PWNED (what `touch PWNED` would create) anywhere under `dir`. */
async function pwned(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.name === "PWNED") found.push(join(d, e.name));
      if (e.isDirectory) await walk(join(d, e.name));
    }
  };
  await walk(dir);
  return found;
}

/** A fake environment-modules init script: `module` as a shell function that records calls. */
async function fakeModulesHome(dir: string): Promise<string> {
  await writeExecutable(
    join(dir, "init", "sh"),
    `module() {
  { for a in "$@"; do printf '%s\\0' "$a"; done; printf '\\0'; } >> "$MODULE_LOG"
  if [ "$1" = load ]; then
    export LOADED_BY_MODULE="$2"
    export OVERRIDE=from-module
  fi
}
`,
  );
  return dir;
}

/** A launch script's text and path after a dry run with `--json`. */
async function plannedScript(args: string[], env: Record<string, string>) {
  const r = await runCli(["--dry-run", "--json", "--python", SYS_PYTHON, ...args], { env });
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  return { script: result.launch_script as string, result };
}

Deno.test("the launch script runs nothing from hostile values: fake module and fake python record them byte-exact", async () => {
  await using d = await tempDir();
  const python = await fakePython(join(d.path, "py"));
  const modulesHome = await fakeModulesHome(join(d.path, "modules"));
  const dataDir = join(d.path, `data $(touch PWNED) 'q' "dq" \`touch PWNED\``);
  const env = isolatedEnv(d.path, { JUPYTER_DATA_DIR: dataDir });
  const hostile = [
    "$(touch PWNED)",
    "`touch PWNED`",
    "'",
    '"',
    "; touch PWNED",
    "line1\nline2 $(touch PWNED)\n",
    "back\\slash \\n \\$HOME",
    "*",
    "~",
    "$HOME ${HOME} $$",
    "",
    "a'b\"c`d$e;f|g&h>i<j(k)l{m}n",
  ];
  const envPairs = hostile.map((v, i) => [`HOSTILE_${i}`, v] as const);
  const modules = ["cuda/12.4", "$(touch PWNED)", "a b; touch PWNED", "it's", '"q"', "x\ny"];
  const displayName = "$(touch PWNED) `touch PWNED` '\"; touch PWNED\nsecond line";
  const r = await runCli([
    "--name",
    "Hostile",
    "--display-name",
    displayName,
    "--python",
    python,
    ...envPairs.flatMap(([k, v]) => ["--env", `${k}=${v}`]),
    "--env",
    "OVERRIDE=from-env",
    ...modules.flatMap((m) => ["--module", m]),
  ], { env, cwd: d.path });
  assert.equal(r.code, 0, r.stderr);
  const dir = join(dataDir, "kernels", "hostile");
  const scriptPath = join(dir, "launch.sh");
  const script = await Deno.readTextFile(scriptPath);
  const spec = JSON.parse(await Deno.readTextFile(join(dir, "kernel.json")));
  assert.equal(spec.display_name, displayName);

  for (const shell of ["sh", "bash"]) {
    const syntax = await run([shell, "-n", scriptPath], { env });
    assert.equal(syntax.code, 0, `${shell} -n: ${syntax.stderr}`);
  }
  const firstModule = script.indexOf("\nload_module ");
  const firstExport = script.indexOf("\nexport ");
  assert.ok(firstModule > 0 && firstModule < firstExport, "modules load before env exports");

  const connection = join(d.path, "conn $(touch PWNED) 'x'.json");
  for (const shell of ["/bin/sh", "/bin/bash"]) {
    const log = join(d.path, `modules-${shell.slice(5)}.log`);
    const ran = await run([shell, scriptPath, connection], {
      env: { ...env, MODULESHOME: modulesHome, MODULE_LOG: log, ...spec.env },
      cwd: d.path,
    });
    assert.equal(ran.code, 0, `${shell}: ${ran.stderr}`);
    assert.deepEqual(await readRecords(log), modules.map((m) => ["load", m]));
    const got = await readFakePython(join(d.path, "py"));
    assert.deepEqual(got.argv, [join(dir, "legate_kernel.py"), "-f", connection]);
    for (const [k, v] of envPairs) assert.equal(got.env[k], v, `${k} byte-exact`);
    assert.equal(got.env.OVERRIDE, "from-env", "--env wins over a value a module sets");
    assert.equal(got.env.LOADED_BY_MODULE, "x\ny", "modules ran in order before the exec");
    assert.equal(got.env[SPEC_KEY], "Hostile");
  }
  assert.deepEqual(await pwned(d.path), [], "no hostile value ran");
});

Deno.test("the launch script (fake python) fails with one clear line when a module cannot be loaded", async () => {
  await using d = await tempDir();
  const python = await fakePython(join(d.path, "py"));
  const env = isolatedEnv(d.path);
  const r = await runCli(["--python", python, "--module", "cuda/12"], { env });
  assert.equal(r.code, 0, r.stderr);
  const ran = await run([
    "/bin/sh",
    join(d.path, "data", "kernels", "legate_sm_gpu", "launch.sh"),
    join(d.path, "conn.json"),
  ], { env: { ...env, MODULESHOME: join(d.path, "none") } });
  assert.equal(ran.code, 1);
  assert.match(ran.stderr, /^legate-jupyter kernel: cannot load module 'cuda\/12'/);
  assert.equal(ran.stderr.trim().split("\n").length, 1);
  assert.equal(await snapshot(join(d.path, "py", "argv")), null, "python never started");
});

Deno.test("srun with nodes, ranks and hostile --launcher-extra: exec line, metadata and a fake srun's argv", async () => {
  await using d = await tempDir();
  const python = await fakePython(join(d.path, "py"));
  const bin = join(d.path, "bin");
  await writeExecutable(join(bin, "srun"), recorder("SRUN_LOG"));
  const env = isolatedEnv(d.path, { PATH: `${bin}:/usr/bin:/bin` });
  const args = [
    "--python",
    python,
    "--launcher",
    "srun",
    "--nodes",
    "2",
    "--ranks-per-node",
    "2",
    "--launcher-extra=--exclusive",
    "--launcher-extra",
    "-A 'my acct' '$(touch PWNED)' \"`touch PWNED`\"",
  ];
  const r = await runCli(args, { env, cwd: d.path });
  assert.equal(r.code, 0, r.stderr);
  const dir = join(d.path, "data", "kernels", "legate_sm_gpu");
  const script = await Deno.readTextFile(join(dir, "launch.sh"));
  const extra = ["--exclusive", "-A", "my acct", "$(touch PWNED)", "`touch PWNED`"];
  assert.ok(
    execLine(script).startsWith("exec srun -n 4 --ntasks-per-node 2 --exclusive -A 'my acct' "),
    execLine(script),
  );
  const spec = JSON.parse(await Deno.readTextFile(join(dir, "kernel.json")));
  assert.deepEqual(spec.metadata.legate.multi_node, {
    launcher: "srun",
    launcher_extra: extra,
    nodes: 2,
    ranks_per_node: 2,
  });
  assert.deepEqual(spec.metadata.legate.argv, args);

  const log = join(d.path, "srun.log");
  const connection = join(d.path, "c.json");
  const ran = await run(["/bin/sh", join(dir, "launch.sh"), connection], {
    env: { ...env, SRUN_LOG: log },
    cwd: d.path,
  });
  assert.equal(ran.code, 0, ran.stderr);
  assert.deepEqual(await readRecords(log), [[
    "-n",
    "4",
    "--ntasks-per-node",
    "2",
    ...extra,
    python,
    join(dir, "legate_kernel.py"),
    "-f",
    connection,
  ]]);
  assert.deepEqual(await pwned(d.path), []);
});

Deno.test("each launcher composes its exec line as upstream", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const cases: [string[], string][] = [
    [[], `exec ${SYS_PYTHON} `],
    [["--launcher", "srun"], `exec srun -n 1 --ntasks-per-node 1 ${SYS_PYTHON} `],
    [
      ["--launcher", "jsrun", "--nodes", "2", "--ranks-per-node", "3"],
      `exec jsrun -n 2 -r 1 -a 3 -c ALL_CPUS -g ALL_GPUS -b none ${SYS_PYTHON} `,
    ],
    [["--launcher", "aprun", "--nodes", "2", "--ranks-per-node", "2"], "exec aprun -n 4 -N 2 "],
    [
      ["--launcher", "aprun", "--launcher-extra", "--foo 'a b'", "--launcher-extra", "bar"],
      "exec aprun -n 1 -N 1 --foo 'a b' bar ",
    ],
    [["--launcher", "dask", "--ranks-per-node", "2"], "exec daskrun --workers-per-node 2 "],
    [["--launcher-extra", "--ignored"], `exec ${SYS_PYTHON} `],
  ];
  for (const [args, prefix] of cases) {
    const { script } = await plannedScript(args, env);
    assert.ok(execLine(script).startsWith(prefix), `${args.join(" ")}: ${execLine(script)}`);
  }
});

Deno.test("mpirun --mpi openmpi and --mpi mpich forward LEGATE_CONFIG and the kernel's variables", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path, { LD_LIBRARY_PATH: "/opt/lib", HOME_LESS: "x" });
  const common = ["--launcher", "mpirun", "--nodes", "2", "--env", "NCCL_DEBUG=INFO"];
  const vars = [
    "LD_LIBRARY_PATH",
    "LEGATE_CONFIG",
    "NCCL_DEBUG",
    "PATH",
    "PYTHONDONTWRITEBYTECODE",
    SPEC_KEY,
  ];
  const open = await plannedScript([...common, "--mpi", "openmpi"], env);
  assert.ok(
    execLine(open.script).startsWith(
      "exec mpirun -n 2 --npernode 1 --bind-to none --mca mpi_warn_on_fork 0 " +
        vars.map((v) => `-x ${v}`).join(" ") + ` ${SYS_PYTHON} `,
    ),
    execLine(open.script),
  );
  const mpich = await plannedScript([...common, "--mpi", "mpich"], env);
  assert.ok(
    execLine(mpich.script).startsWith(
      `exec mpirun -n 2 -ppn 1 --bind-to none -envlist ${vars.join(",")} ${SYS_PYTHON} `,
    ),
    execLine(mpich.script),
  );
  assert.equal(open.result.kernel_json.metadata.legate.multi_node.launcher, "mpirun");
});

Deno.test("mpirun without --mpi asks a fake mpirun for its version: Open MPI, MPICH, or a one-line error", async () => {
  await using d = await tempDir();
  const bin = join(d.path, "bin");
  const env = isolatedEnv(d.path, { PATH: `${bin}:/usr/bin:/bin` });
  const versions: [string, string | null][] = [
    [
      "mpirun (Open MPI) 4.1.4\n\nReport bugs to http://www.open-mpi.org/community/help/",
      "--npernode",
    ],
    ["HYDRA build details:\n    Version:                                 4.0.2", "-ppn"],
    ["Intel(R) MPI Library for Linux* OS, Version 2021.6", null],
  ];
  for (const [text, marker] of versions) {
    await writeExecutable(join(bin, "mpirun"), `#!/bin/sh\ncat <<'EOF'\n${text}\nEOF\n`);
    const r = await runCli(["--dry-run", "--json", "--launcher", "mpirun"], { env });
    if (marker) {
      assert.equal(r.code, 0, r.stderr);
      const line = execLine(JSON.parse(r.stdout).launch_script);
      assert.ok(line.startsWith(`exec mpirun -n 1 ${marker} 1 --bind-to none `), line);
    } else {
      assertOneLineError(r, 1, /--mpi openmpi or --mpi mpich/);
    }
  }
});

Deno.test("legate's bind script under a fake Legate prefix is exec'd as <BIND> --launcher local -- <python> <helper>", async () => {
  await using d = await tempDir();
  const venv = join(d.path, "legate-env");
  const { python, bind } = await fakeVenv(venv, { systemSite: true, legate: true, bind: "prefix" });
  const env = isolatedEnv(d.path);
  const r = await runCli(["--python", python], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "", "Legate and ipykernel found: no warning");
  const dir = join(d.path, "data", "kernels", "legate_sm_gpu");
  const helper = join(dir, "legate_kernel.py");
  const script = await Deno.readTextFile(join(dir, "launch.sh"));
  assert.equal(
    execLine(script),
    `exec ${bind} --launcher local -- ${python} ${helper} -f "$connection_file"`,
  );
  const spec = JSON.parse(await Deno.readTextFile(join(dir, "kernel.json")));
  assert.equal(spec.metadata.legate_jupyter.bind_script, bind);

  const log = join(d.path, "bind.log");
  const ran = await run(["/bin/sh", join(dir, "launch.sh"), "/tmp/c.json"], {
    env: { ...env, BIND_LOG: log },
  });
  assert.equal(ran.code, 0, ran.stderr);
  assert.deepEqual(await readRecords(log), [
    ["--launcher", "local", "--", python, helper, "-f", "/tmp/c.json"],
  ]);

  const srun = await plannedScript(
    [
      "--name",
      "dm",
      "--python",
      python,
      "--launcher",
      "srun",
      "--nodes",
      "2",
      "--ranks-per-node",
      "2",
    ],
    env,
  );
  assert.ok(
    execLine(srun.script).startsWith(
      `exec srun -n 4 --ntasks-per-node 2 ${bind} --launcher srun -- ${python} `,
    ),
    execLine(srun.script),
  );
});

Deno.test("legate's bind script in a fake wheel layout is found; without Legate there is a warning and no bind", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const wheel = await fakeVenv(join(d.path, "wheel"), {
    systemSite: true,
    legate: true,
    bind: "wheel",
  });
  const w = await runCli(["--dry-run", "--json", "--python", wheel.python], { env });
  assert.equal(w.code, 0, w.stderr);
  assert.ok(wheel.bind?.includes("/site-packages/legate/share/legate/libexec/"));
  assert.ok(
    execLine(JSON.parse(w.stdout).launch_script).startsWith(
      `exec ${wheel.bind} --launcher local -- ${wheel.python} `,
    ),
  );

  const plain = await fakeVenv(join(d.path, "plain"), { systemSite: true });
  const p = await runCli(["--python", plain.python], { env });
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stderr, /warning: Legate is not installed for /);
  const script = await Deno.readTextFile(
    join(d.path, "data", "kernels", "legate_sm_gpu", "launch.sh"),
  );
  assert.ok(execLine(script).startsWith(`exec ${plain.python} `));
});
