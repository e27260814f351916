/**
 * Kernels that run inside the user's environment, started by real Jupyter (jupyter_client)
 * with real shells (/bin/sh is dash on Debian): a conda-like prefix and a pixi workspace built
 * by hand (no conda, mamba or pixi can be installed here), and a real venv. Every assertion is
 * on what the kernel's own environment holds (a cell reads os.environ) or what the CLI and
 * the kernel print.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, reEscape, ROOT, run, runCli, type RunResult, tempDir } from "./helpers.ts";
import {
  assertOneLineError,
  type Cell,
  exists,
  RUN_KERNEL,
  snapshot,
  SYS_PYTHON,
  writeExecutable,
} from "./support/e2e.ts";
import {
  CONDA_NAMES,
  condaExpected,
  condaLike,
  envCell,
  fakeConda,
  fakeLegate,
  fakeModules,
  HOSTILE,
  HOSTILE_SCRIPT,
  pixiLike,
  rankEnv,
  realVenv,
  writeAsConda,
} from "./support/environments.ts";
import { onStack } from "./support/stack.ts";

const DASH = (() => {
  try {
    return Deno.realPathSync("/bin/sh").endsWith("/dash");
  } catch {
    return false;
  }
})();
const SHELLS = DASH ? ", /bin/sh being dash" : ", /bin/sh NOT dash here";

/** A directory name no shell may run: spaces, quotes, a command substitution. */
const HOSTILE_DIR = "env dir $(touch PWNED) 'q'";

/** Starts kernel `name` through jupyter_client and runs `cells`; the result whether it started or not. */
async function startKernel(
  name: string,
  cells: string[],
  env: Record<string, string>,
): Promise<RunResult & { cells: Cell[] }> {
  const r = await run([SYS_PYTHON, RUN_KERNEL, name, ...cells], {
    env: { PYDEVD_DISABLE_FILE_VALIDATION: "1", ...env },
  });
  return { ...r, cells: r.code === 0 ? JSON.parse(r.stdout).cells : [] };
}

/** The JSON a cell of {@link envCell} printed. */
function envOf(r: { cells: Cell[]; stderr: string }) {
  assert.equal(r.cells[0]?.error, null, r.stderr);
  return JSON.parse(r.cells[0].stdout) as {
    vars: Record<string, string | null>;
    path0: string;
    prefix: string;
    resume: string | null;
  };
}

async function install(args: string[], env: Record<string, string>): Promise<RunResult> {
  const r = await runCli(args, { env });
  assert.equal(r.code, 0, `install ${args.join(" ")}: ${r.stderr}`);
  return r;
}

/** The kernel's warnings on stderr (what Jupyter's log shows). */
function kernelLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("legate-jupyter kernel: "));
}

/** Files named PWNED anywhere under `dir`. */
async function pwned(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.name === "PWNED") found.push(join(d, e.name));
      if (e.isDirectory && !e.isSymlink) await walk(join(d, e.name));
    }
  };
  await walk(dir);
  return found;
}

/**
 * Makes the kernel `name` look installed a minute ago: file times can be as coarse as a clock
 * tick (Linux's multigrain timestamps), so a change made right after install could carry the
 * install's own time, and the launch script's `-nt` could not tell it came after.
 */
async function installedEarlier(dataDir: string, name: string): Promise<void> {
  const past = new Date(Date.now() - 60_000);
  await Deno.utime(join(dataDir, "kernels", name, "launch.sh"), past, past);
}

/** Runs a command a message printed (a `legate-jupyter install --replace ...`), as a user types it. */
async function runPrinted(command: string, env: Record<string, string>): Promise<RunResult> {
  return await run(["sh", "-c", command], { env });
}

Deno.test(`a kernel in a conda-like prefix under a hostile path activates live under jupyter_client: every variable, scripts in bash, banners on stderr${SHELLS}${onStack("jupyter_client", "ipykernel")}`, async () => {
  await using d = await tempDir();
  const { prefix } = await condaLike(join(d.path, HOSTILE_DIR, "envs", "legate"));
  // Jupyter runs in another environment: its bin is on PATH and its variables are set.
  const other = join(d.path, "base");
  const env = isolatedEnv(d.path, {
    CONDA_PREFIX: other,
    PATH: `${other}/bin:/usr/local/bin:/usr/bin:/bin`,
    GONE: "inherited",
  });
  const inst = await install(["--conda-env", prefix, "--name", "condak"], env);
  assert.match(
    inst.stdout,
    new RegExp(
      `^Activates conda environment 'legate' \\(.*\\) at every start: .* 6 activation scripts run by bash$`,
      "m",
    ),
  );
  assert.match(inst.stderr, /state \(env_vars\) sets PATH, which conda reserves; it is ignored/);

  const r = await startKernel("condak", [envCell([...CONDA_NAMES, "CONDA_DEFAULT_ENV"])], {
    ...env,
  });
  const got = envOf(r);
  assert.deepEqual(got.vars, { ...condaExpected(prefix), CONDA_DEFAULT_ENV: "legate" });
  assert.equal(got.path0, join(prefix, "bin"), "the environment's bin is first on PATH");
  assert.equal(got.resume, null, "no marker of the start leaks into the kernel");
  const path =
    (await startKernel("condak", ["import os; print(os.environ['PATH'])"], env)).cells[0];
  assert.equal(
    path.stdout.trim(),
    `${prefix}/bin:/usr/local/bin:/usr/bin:/bin`,
    "Jupyter's env left",
  );
  // The banners went to stderr; the failing script is named; nothing else is said.
  assert.match(r.stderr, /LEGATE-MPI-WRAPPER\/ACTIVATE\.SH/);
  assert.deepEqual(kernelLines(r.stderr), [
    `legate-jupyter kernel: warning: activation script ${prefix}/etc/conda/activate.d/cuda-nvcc_activate.sh failed (status 1); the kernel starts anyway`,
  ]);
  assert.deepEqual(await pwned(d.path), [], "no hostile value or name ran");
  assert.ok(await exists(join(prefix, "etc", "conda", "activate.d", HOSTILE_SCRIPT)));
});

Deno.test(`a captured kernel replays the activation with sh alone, warns once its environment changed, and the refresh it names takes the change in${SHELLS}${onStack("jupyter_client", "ipykernel")}`, async () => {
  await using d = await tempDir();
  const { prefix } = await condaLike(join(d.path, "envs", "cap"));
  const env = isolatedEnv(d.path, { GONE: "inherited" });
  const inst = await install(
    ["--conda-env", prefix, "--name", "capk", "--activate", "captured"],
    env,
  );
  assert.match(
    inst.stdout,
    /^Activates conda environment 'cap' .* from its activation captured now/m,
  );
  assert.match(inst.stderr, /while capturing: activation script .*cuda-nvcc_activate\.sh failed/);
  const script = await Deno.readTextFile(join(d.path, "data", "kernels", "capk", "launch.sh"));
  assert.ok(!script.includes("lj_need"), "no bash at start");
  assert.match(script, /^export LEGATE_MPI_WRAPPER=/m);

  const first = await startKernel("capk", [envCell(CONDA_NAMES)], env);
  assert.deepEqual(envOf(first).vars, condaExpected(prefix));
  assert.deepEqual(kernelLines(first.stderr), [], "nothing to say at a start");
  assert.doesNotMatch(first.stderr, /ACTIVATE\.SH/, "no script ran at start");

  // `conda env config vars set NEW_VAR=1` writes state: the capture is stale.
  await installedEarlier(join(d.path, "data"), "capk");
  const state = join(prefix, "conda-meta", "state");
  const s = JSON.parse(await Deno.readTextFile(state));
  s.env_vars.NEW_VAR = "new";
  await Deno.writeTextFile(state, JSON.stringify(s));
  const stale = await startKernel("capk", [envCell(["NEW_VAR"])], env);
  assert.deepEqual(envOf(stale).vars, { NEW_VAR: null }, "the capture stays as it was");
  const lines = kernelLines(stale.stderr);
  assert.equal(lines.length, 1, stale.stderr);
  const m =
    /^legate-jupyter kernel: warning: the captured activation of environment (.*) is stale \(.*\); refresh it: (.*)$/
      .exec(lines[0]);
  assert.ok(m, lines[0]);
  assert.equal(m[1], prefix);
  const refresh = await runPrinted(m[2], env);
  assert.equal(refresh.code, 0, refresh.stderr);
  const fresh = await startKernel("capk", [envCell(["NEW_VAR", "LEGATE_MPI_WRAPPER"])], env);
  assert.deepEqual(envOf(fresh).vars, {
    NEW_VAR: "new",
    LEGATE_MPI_WRAPPER: condaExpected(prefix).LEGATE_MPI_WRAPPER,
  });
  assert.deepEqual(kernelLines(fresh.stderr), []);
});

Deno.test(`a kernel in a real venv (python3 -m venv) sets VIRTUAL_ENV, puts its bin first and unsets PYTHONHOME${SHELLS}${onStack("jupyter_client", "ipykernel")}`, async () => {
  await using d = await tempDir();
  const venv = await realVenv(join(d.path, "my venv"));
  // Valid for Jupyter's own Python; a venv's activation unsets it for the kernel.
  const env = isolatedEnv(d.path, { PYTHONHOME: "/usr" });
  const inst = await install(["--venv", venv.prefix, "--name", "venvk"], env);
  assert.match(inst.stdout, /^Activates venv .*my venv at every start: 3 variables$/m);
  const meta = JSON.parse(
    await Deno.readTextFile(join(d.path, "data", "kernels", "venvk", "kernel.json")),
  );
  assert.equal(meta.metadata.legate_jupyter.python, venv.python, "the venv's python, not resolved");
  const r = await startKernel("venvk", [envCell(["VIRTUAL_ENV", "PYTHONHOME"])], env);
  const got = envOf(r);
  assert.deepEqual(got.vars, { VIRTUAL_ENV: venv.prefix, PYTHONHOME: null });
  assert.equal(got.path0, join(venv.prefix, "bin"));
  assert.equal(got.prefix, venv.prefix, "sys.prefix is the venv");
});

Deno.test(`a kernel in a pixi-like workspace gets pixi's variables, the manifest's activation env and scripts, and the env's activate.d; a change to the manifest, read at install, is stale until the refresh it names${SHELLS}${onStack("jupyter_client", "ipykernel")}`, async () => {
  await using d = await tempDir();
  const ws = await pixiLike(join(d.path, "demo"));
  const env = isolatedEnv(d.path);
  const inst = await install(["--pixi", ws.root, "--name", "pixik"], env);
  assert.match(inst.stdout, /^Activates pixi environment 'default' of .*demo at every start/m);
  const names = [
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "PIXI_PROJECT_ROOT",
    "PIXI_PROJECT_NAME",
    "PIXI_PROJECT_MANIFEST",
    "PIXI_ENVIRONMENT_NAME",
    "FROM_MANIFEST",
    "PIXI_SETUP_RAN",
    "PIXI_PKG_SCRIPT",
  ];
  const r = await startKernel("pixik", [envCell(names)], env);
  assert.deepEqual(envOf(r).vars, {
    CONDA_PREFIX: ws.prefix,
    CONDA_DEFAULT_ENV: "legate-demo",
    PIXI_PROJECT_ROOT: ws.root,
    PIXI_PROJECT_NAME: "legate-demo",
    PIXI_PROJECT_MANIFEST: join(ws.root, "pixi.toml"),
    PIXI_ENVIRONMENT_NAME: "default",
    FROM_MANIFEST: "manifest value with 'quotes'",
    PIXI_SETUP_RAN: "legate-demo",
    PIXI_PKG_SCRIPT: ws.prefix,
  });
  assert.equal(envOf(r).path0, join(ws.prefix, "bin"));
  assert.deepEqual(kernelLines(r.stderr), []);

  // The manifest is read at install: a change to it is stale until the kernel is refreshed.
  await installedEarlier(join(d.path, "data"), "pixik");
  const manifest = join(ws.root, "pixi.toml");
  await Deno.writeTextFile(
    manifest,
    (await Deno.readTextFile(manifest)).replace("manifest value with 'quotes'", "changed"),
  );
  const stale = await startKernel("pixik", [envCell(["FROM_MANIFEST"])], env);
  const lines = kernelLines(stale.stderr);
  assert.equal(lines.length, 1, stale.stderr);
  const m =
    /^legate-jupyter kernel: warning: the activation of environment (.*) in its pixi manifest \((.*), read at install\) changed after this kernel was installed; take it in: (.*)$/
      .exec(lines[0]);
  assert.ok(m, lines[0]);
  assert.deepEqual([m[1], m[2]], [ws.prefix, manifest]);
  assert.equal((await runPrinted(m[3], env)).code, 0);
  const fresh = await startKernel("pixik", [envCell(["FROM_MANIFEST"])], env);
  assert.deepEqual(envOf(fresh).vars, { FROM_MANIFEST: "changed" });
  assert.deepEqual(kernelLines(fresh.stderr), []);
});

Deno.test(`a kernel installed from inside an activated environment (CONDA_PREFIX set, no flag) starts as if it had been activated, from a Jupyter that knows nothing of it${onStack("jupyter_client", "ipykernel")}`, async () => {
  await using d = await tempDir();
  const { prefix } = await condaLike(join(d.path, "envs", "active"));
  const base = isolatedEnv(d.path);
  // As `conda activate` left the user's shell (LEGATE_MPI_WRAPPER from an earlier activation).
  const activated = {
    ...base,
    CONDA_PREFIX: prefix,
    CONDA_DEFAULT_ENV: "active",
    CONDA_SHLVL: "1",
    PATH: `${prefix}/bin:${base.PATH}`,
    LEGATE_MPI_WRAPPER: "/stale/value",
  };
  for (const mode of ["auto", "captured"]) {
    const inst = await install(["--name", `act-${mode}`, "--activate", mode], activated);
    assert.match(inst.stdout, /^Activates conda environment 'active'/m);
    const spec = JSON.parse(
      await Deno.readTextFile(join(d.path, "data", "kernels", `act-${mode}`, "kernel.json")),
    );
    assert.equal(spec.metadata.legate_jupyter.environment.chosen_by, "$CONDA_PREFIX");
    const r = await startKernel(`act-${mode}`, [envCell(CONDA_NAMES)], { ...base, GONE: "x" });
    assert.deepEqual(envOf(r).vars, condaExpected(prefix), mode);
    assert.equal(envOf(r).path0, join(prefix, "bin"), mode);
  }
});

Deno.test(`a moved conda prefix fails the kernel's start with one line naming it and the fix; list marks the kernel broken; the fix, run, starts it again${onStack("jupyter_client", "ipykernel")}`, async () => {
  await using d = await tempDir();
  const { prefix } = await condaLike(join(d.path, "envs", "old"));
  const env = isolatedEnv(d.path);
  await install(["--conda-env", prefix, "--name", "movedk"], env);
  const moved = join(d.path, "envs", "new");
  await Deno.rename(prefix, moved);

  const r = await startKernel("movedk", [envCell(["CONDA_PREFIX"])], env);
  assert.notEqual(r.code, 0, "the kernel did not start");
  const lines = kernelLines(r.stderr);
  assert.equal(lines.length, 1, r.stderr);
  const m =
    /^legate-jupyter kernel: environment (.*) is gone or has no .* \(moved or deleted\?\), so this kernel cannot start: recreate it there, or reinstall the kernel for its new place: (.*) --conda-env NEW_PREFIX$/
      .exec(lines[0]);
  assert.ok(m, lines[0]);
  assert.equal(m[1], prefix);

  const listed = await runCli(["list", "--json"], { env });
  const entry = JSON.parse(listed.stdout).kernelspecs.movedk;
  assert.equal(entry.broken, true);
  assert.deepEqual(entry.problems, [
    `its environment ${prefix} no longer exists (moved or deleted)`,
  ]);
  assert.match(
    (await runCli(["list"], { env })).stdout,
    /BROKEN: its environment .* no longer exists/,
  );

  const fix = await runPrinted(`${m[2]} --conda-env ${moved}`, env);
  assert.equal(fix.code, 0, fix.stderr);
  const again = await startKernel("movedk", [envCell(["CONDA_PREFIX"])], env);
  assert.deepEqual(envOf(again).vars, { CONDA_PREFIX: moved });
});

Deno.test(`activation scripts that exit, fail or set -e are reported by name and the kernel still starts with what the others set${onStack("jupyter_client", "ipykernel")}`, async () => {
  await using d = await tempDir();
  const { prefix } = await condaLike(join(d.path, "envs", "rough"));
  const dir = join(prefix, "etc", "conda", "activate.d");
  await Deno.writeTextFile(join(dir, "aa-exits.sh"), "echo bye\nexit 3\nexport NEVER=1\n");
  await Deno.writeTextFile(join(dir, "zzz-exits-too.sh"), "export LAST=1\nexit 0\n");
  await Deno.writeTextFile(join(dir, "zz-syntax.sh"), "if then fi (\n");
  const env = isolatedEnv(d.path);
  await install(["--conda-env", prefix, "--name", "roughk"], env);
  const r = await startKernel("roughk", [envCell([...CONDA_NAMES, "NEVER", "LAST"])], env);
  const got = envOf(r);
  assert.deepEqual(got.vars, { ...condaExpected(prefix), NEVER: null, LAST: "1" });
  assert.equal(got.resume, null);
  const at = (n: string) => join(dir, n);
  assert.deepEqual(kernelLines(r.stderr), [
    `legate-jupyter kernel: warning: activation script ${
      at("aa-exits.sh")
    } exited (status 3) instead of returning; the others still run`,
    `legate-jupyter kernel: warning: activation script ${
      at("cuda-nvcc_activate.sh")
    } failed (status 1); the kernel starts anyway`,
    `legate-jupyter kernel: warning: activation script ${
      at("zz-syntax.sh")
    } failed (status 2); the kernel starts anyway`,
    `legate-jupyter kernel: warning: activation script ${
      at("zzz-exits-too.sh")
    } exited (status 0) instead of returning; the others still run`,
  ]);
});

Deno.test(`a system Python's kernel is unchanged, and --activate off keeps an environment's kernel as it was before activation existed${onStack("jupyter_client", "ipykernel")}`, async () => {
  await using d = await tempDir();
  const { prefix, python } = await condaLike(join(d.path, "envs", "plain"));
  const env = isolatedEnv(d.path);
  const sys = await install(["--python", SYS_PYTHON, "--name", "sysk"], env);
  const off = await install(["--conda-env", prefix, "--activate", "off", "--name", "offk"], env);
  for (const [name, r, py] of [["sysk", sys, SYS_PYTHON], ["offk", off, python]] as const) {
    assert.doesNotMatch(r.stdout, /Activates/);
    const dir = join(d.path, "data", "kernels", name);
    const script = await Deno.readTextFile(join(dir, "launch.sh"));
    assert.doesNotMatch(script, /lj_|CONDA_PREFIX|bash/, `${name}: launch.sh as before`);
    assert.match(script, /^connection_file=\$\{1:\?usage: launch\.sh CONNECTION_FILE\}$/m);
    assert.match(script, new RegExp(`^exec ${py} `, "m"));
    const spec = JSON.parse(await Deno.readTextFile(join(dir, "kernel.json")));
    assert.equal(spec.metadata.legate_jupyter.environment, undefined);
    const k = await startKernel(name, [envCell(["CONDA_PREFIX", "LEGATE_MPI_WRAPPER"])], env);
    assert.deepEqual(envOf(k).vars, { CONDA_PREFIX: null, LEGATE_MPI_WRAPPER: null });
    assert.deepEqual(kernelLines(k.stderr), []);
  }
});

Deno.test("--conda-env NAME is found through conda on PATH (a fake: conda cannot be installed here), else ~/.conda/environments.txt, else the envs directories; the prefix is stored", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const home = env.HOME;
  const viaConda = await condaLike(join(d.path, "elsewhere", "one"));
  const viaList = await condaLike(join(d.path, "listed", "two"));
  const viaDir = await condaLike(join(home, ".conda", "envs", "three"));
  const bin = join(d.path, "bin");
  await fakeConda(bin, ["/opt/conda", viaConda.prefix]);
  await Deno.writeTextFile(join(home, ".conda", "environments.txt"), `${viaList.prefix}\n`);
  const withConda = { ...env, PATH: `${bin}:${env.PATH}` };
  const cases: [string, Record<string, string>, string][] = [
    ["one", withConda, viaConda.prefix],
    ["two", withConda, viaList.prefix],
    ["three", env, viaDir.prefix],
  ];
  for (const [name, e, prefix] of cases) {
    const r = await runCli(["--conda-env", name, "--dry-run", "--json"], { env: e });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.environment.prefix, prefix, name);
    assert.equal(out.environment.name, name);
    assert.equal(out.kernel_json.metadata.legate_jupyter.python, join(prefix, "bin", "python"));
  }
  assert.ok(await exists(join(bin, "conda.log")), "conda was asked");
});

Deno.test("install refuses, with exit 2 and one line naming what was searched or missing, an unknown --conda-env, a --venv without pyvenv.cfg, a --pixi without its environment, two environments, and --activate live without one", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  await Deno.mkdir(join(d.path, "notavenv"), { recursive: true });
  const cases: [string[], RegExp][] = [
    [
      ["--conda-env", "nosuch"],
      /--conda-env nosuch: no conda environment of that name \(searched ~\/\.conda\/environments\.txt, .*\/home\/\.conda\/envs, .*\); give its prefix instead/,
    ],
    [
      ["--conda-env", join(d.path, "notavenv")],
      /is not a conda environment \(it has no conda-meta\/\)/,
    ],
    [
      ["--venv", join(d.path, "notavenv")],
      /--venv .*notavenv\/pyvenv\.cfg not found.*python3 -m venv/,
    ],
    [["--pixi", d.path], /no pixi environment 'default' in .*pixi install -e default/],
    [["--venv", "a", "--conda-env", "b"], /choose one of --conda-env, --venv and --pixi/],
    [["--pixi-env", "x"], /--pixi-env .* add --pixi DIR/],
    [["--python", SYS_PYTHON, "--activate", "live"], /--activate live needs an environment/],
    [["--activate", "sometimes"], /--activate/],
    [["--source", join(d.path, "missing.sh")], /--source .*missing\.sh: no such file/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(args, { env });
    assertOneLineError(r, 2, pattern);
    assert.equal(await snapshot(join(d.path, "data")), null, `${args}: nothing written`);
  }
});

Deno.test("--dry-run shows the variables, the scripts in order and the ignored ones; install warns when Legate's wrapper libraries are not built yet, naming the build scripts", async () => {
  await using d = await tempDir();
  const { prefix } = await condaLike(join(d.path, "envs", "unbuilt"), { built: false });
  const env = isolatedEnv(d.path);
  const r = await runCli(["--conda-env", prefix, "--dry-run"], { env });
  assert.equal(r.code, 0, r.stderr);
  for (
    const [pkg, script] of [["legate-mpi-wrapper", "mpi-wrapper/build-mpi-wrapper.sh"], [
      "realm-gex-wrapper",
      "gex-wrapper/build-gex-wrapper.sh",
    ]]
  ) {
    assert.match(
      r.stderr,
      new RegExp(
        `warning: ${pkg} is installed in .* but its library .* has not been built yet.*run ${
          join(prefix, script)
        }$`,
        "m",
      ),
    );
  }
  const block = r.stdout.slice(r.stdout.indexOf("Environment:"), r.stdout.indexOf("\n--- "));
  const scripts = block.slice(block.indexOf("  scripts")).split("\n").slice(1, 7).map((l) =>
    l.trim()
  );
  assert.deepEqual(
    scripts,
    [
      "cuda-nvcc_activate.sh",
      "gdal-activate.sh",
      "legate-mpi-wrapper_activate.sh",
      "realm-gex-wrapper_activate.sh",
      HOSTILE_SCRIPT,
      "zz-after-errexit.sh",
    ].map((s) => join(prefix, "etc", "conda", "activate.d", s)),
  );
  assert.match(
    block,
    /^Environment: conda environment 'unbuilt' .* chosen by --conda-env .*; live activation$/m,
  );
  assert.ok(
    block.includes(
      `\n  read at every start from ${prefix}/etc/conda/env_vars.d/*.json and ${prefix}/conda-meta/state, now: \n`,
    ),
    block,
  );
  assert.match(block, /^ {4}OMPI_MCA_opal_cuda_support="true"$/m);
  assert.match(block, /^ {4}GONE=\(unset\)$/m);
  assert.match(block, /^ {2}ignored \(for other shells\): zz\.csh, zz\.fish$/m);
  assert.ok(block.includes(`HOSTILE_STATE=${JSON.stringify(HOSTILE)}`));
  assert.match(r.stdout, /Nothing was written/);
  assert.equal(await snapshot(join(d.path, "data")), null);
});

Deno.test("info and list show the environment a kernel activates, and list --json records it, with the files a live start reads", async () => {
  await using d = await tempDir();
  const { prefix } = await condaLike(join(d.path, "envs", "shown"));
  const env = isolatedEnv(d.path);
  await install(["--conda-env", prefix, "--name", "Shown", "--activate", "captured"], env);
  const info = await runCli(["info", "Shown"], { env });
  assert.equal(info.code, 0, info.stderr);
  assert.ok(
    info.stdout.endsWith(
      `\nEnvironment: conda environment 'shown' (${prefix}), activated from its capture at install\n`,
    ),
    info.stdout,
  );
  const list = await runCli(["list"], { env });
  assert.match(
    list.stdout,
    /Legate: 1 node; in conda environment 'shown' \(.*\), activated from its capture at install/,
  );
  const json = JSON.parse((await runCli(["list", "--json"], { env })).stdout).kernelspecs.shown;
  assert.equal(json.environment.prefix, prefix);
  assert.equal(json.environment.mode, "captured");
  assert.equal(json.environment.kind, "conda");
  assert.ok(json.environment.captured.includes("LEGATE_MPI_WRAPPER"));
  assert.equal(json.environment.read_at_start, undefined, "a capture reads nothing at start");
  assert.equal(json.broken, false);
  await install(["--conda-env", prefix, "--name", "Live"], env);
  const live = JSON.parse((await runCli(["list", "--json"], { env })).stdout).kernelspecs.live;
  assert.deepEqual(live.environment.read_at_start, [
    join(prefix, "etc", "conda", "env_vars.d", "*.json"),
    join(prefix, "conda-meta", "state"),
  ]);
});

Deno.test(`modules, then --source, then the environment, then --env: each later step wins, a site script's banner goes to stderr and its failure is a warning${onStack("jupyter_client", "ipykernel")}`, async () => {
  await using d = await tempDir();
  const { prefix } = await condaLike(join(d.path, "envs", "site"));
  const site = join(d.path, "site dir", "setup 'site'.sh");
  await Deno.mkdir(join(d.path, "site dir"));
  await Deno.writeTextFile(
    site,
    `echo "site banner on stdout"
export SITE_SAW_MODULE="\${MODULE_LOADED:-none}" OMPI_MCA_opal_cuda_support=from-site PKG_VAR=from-site
[[ -n "$BASH_VERSION" ]] && export SITE_IN_BASH=yes
false
`,
  );
  const modules = await fakeModules(join(d.path, "modules"));
  const env = isolatedEnv(d.path, { MODULESHOME: modules });
  const args = ["--conda-env", prefix, "--name", "sitek", "--module", "site/1"];
  await install([...args, "--source", site, "--env", "PKG_VAR=from-env"], env);
  const names = [
    "MODULE_LOADED",
    "SITE_SAW_MODULE",
    "SITE_IN_BASH",
    "OMPI_MCA_opal_cuda_support",
    "PKG_VAR",
  ];
  const r = await startKernel("sitek", [envCell(names)], env);
  assert.deepEqual(envOf(r).vars, {
    MODULE_LOADED: "site/1",
    SITE_SAW_MODULE: "site/1",
    SITE_IN_BASH: "yes",
    OMPI_MCA_opal_cuda_support: "true",
    PKG_VAR: "from-env",
  });
  assert.match(r.stderr, /^site banner on stdout$/m);
  assert.equal(
    kernelLines(r.stderr)[0],
    `legate-jupyter kernel: warning: --source ${site} returned status 1`,
  );
});

Deno.test(
  `a live kernel takes in at its next start what conda env config vars set or unset after install, a new env_vars.d file and removed ones, with no warning; an awk that fails leaves the values read at install, with one line${SHELLS}${
    onStack("jupyter_client", "ipykernel")
  }`,
  async () => {
    await using d = await tempDir();
    const { prefix } = await condaLike(join(d.path, "envs", "vars"));
    const env = isolatedEnv(d.path);
    await install(["--conda-env", prefix, "--name", "varsk"], env);
    // Changed after install (with file times that say so, however coarse the clock).
    await installedEarlier(join(d.path, "data"), "varsk");
    // As `conda env config vars set NEW_STATE_VAR=... OMPI_MCA_opal_cuda_support=false` and
    // `conda env config vars unset PKG_VAR` leave state (json.dump): ***unset*** hides the
    // package's value.
    const state = join(prefix, "conda-meta", "state");
    const s = JSON.parse(await Deno.readTextFile(state));
    Object.assign(s.env_vars, {
      NEW_STATE_VAR: "set after install",
      OMPI_MCA_opal_cuda_support: "false",
      PKG_VAR: "***unset***",
    });
    await writeAsConda(state, s);
    await Deno.writeTextFile(
      join(prefix, "etc", "conda", "env_vars.d", "20-new.json"),
      JSON.stringify({ NEW_PKG_VAR: "added" }),
    );
    const names = ["NEW_STATE_VAR", "OMPI_MCA_opal_cuda_support", "PKG_VAR", "NEW_PKG_VAR"];
    const r = await startKernel("varsk", [envCell([...names, "LEGATE_MPI_WRAPPER", "GONE"])], env);
    assert.deepEqual(envOf(r).vars, {
      NEW_STATE_VAR: "set after install",
      OMPI_MCA_opal_cuda_support: "false",
      PKG_VAR: null,
      NEW_PKG_VAR: "added",
      LEGATE_MPI_WRAPPER: condaExpected(prefix).LEGATE_MPI_WRAPPER,
      GONE: null,
    });
    assert.deepEqual(kernelLines(r.stderr).filter((l) => !l.includes("cuda-nvcc")), []);

    // An awk that fails (here the environment's own, first on PATH): the values read at install.
    const fake = await writeExecutable(join(prefix, "bin", "awk"), "#!/bin/sh\nexit 3\n");
    const failed = await startKernel("varsk", [envCell(names)], env);
    assert.deepEqual(envOf(failed).vars, {
      NEW_STATE_VAR: null,
      OMPI_MCA_opal_cuda_support: "true",
      PKG_VAR: "pkg",
      NEW_PKG_VAR: null,
    });
    assert.deepEqual(kernelLines(failed.stderr).filter((l) => !l.includes("cuda-nvcc")), [
      `legate-jupyter kernel: warning: ${fake} could not read the variables of environment ${prefix} (env_vars.d and conda env config vars): it exited with status 3, so the values read at install are used`,
    ]);
    await Deno.remove(fake);

    // Neither file any more: nothing of theirs is set, and nothing is said.
    await Deno.remove(state);
    await Deno.remove(join(prefix, "etc", "conda", "env_vars.d"), { recursive: true });
    const none = await startKernel("varsk", [envCell(names)], env);
    assert.deepEqual(envOf(none).vars, {
      NEW_STATE_VAR: null,
      OMPI_MCA_opal_cuda_support: null,
      PKG_VAR: null,
      NEW_PKG_VAR: null,
    });
    assert.deepEqual(kernelLines(none.stderr).filter((l) => !l.includes("cuda-nvcc")), []);
  },
);

Deno.test(
  `a live kernel reads env_vars.d and state as conda's json.loads does (escapes, \\uXXXX and surrogate pairs as UTF-8, whitespace anywhere, hostile values literal); a file that is not JSON, a name no shell can export and a value that is not a string are each warned about by name, and the kernel starts with the rest${SHELLS}${
    onStack("jupyter_client", "ipykernel")
  }`,
  async () => {
    await using d = await tempDir();
    const { prefix } = await condaLike(join(d.path, "envs", "json"));
    const env = isolatedEnv(d.path);
    await install(["--conda-env", prefix, "--name", "jsonk"], env);
    const envVarsD = join(prefix, "etc", "conda", "env_vars.d");
    // By hand: every escape JSON has, upper- and lower-case hex, whitespace and newlines anywhere.
    await Deno.writeTextFile(
      join(envVarsD, "20-escapes.json"),
      '\r\n {\n\t"ESCAPES"\n :\t"q\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u00C9\\u00e9" ,\r\n' +
        '  "RAW_UTF8" : "caf\u00e9 \u{1F600}"\n}\n',
    );
    await Deno.writeTextFile(join(envVarsD, "30-broken.json"), '{"BROKEN": "x",}\n');
    await Deno.writeTextFile(join(envVarsD, "40-later.json"), '{"LATER_FILE": "still read"}');
    const state = join(prefix, "conda-meta", "state");
    const s = JSON.parse(await Deno.readTextFile(state));
    Object.assign(s.env_vars, {
      UNICODE: "é ü 日本 😀 𝄞",
      HOSTILE_AFTER: HOSTILE,
      "not-a-name": "x",
      "$(touch PWNED)": "y",
    });
    await writeAsConda(state, s);
    // conda's own files are strings; a number is not a value conda would write.
    const raw = await Deno.readTextFile(state);
    assert.match(raw, /\\ud83d\\ude00/, "json.dump wrote a surrogate pair");
    await Deno.writeTextFile(state, raw.replace('"env_vars": {', '"env_vars": {\n "NUMBER": 7,'));

    const names = ["ESCAPES", "RAW_UTF8", "BROKEN", "LATER_FILE", "UNICODE", "HOSTILE_AFTER"];
    const r = await startKernel("jsonk", [envCell([...names, "NUMBER", "PKG_VAR"])], env);
    assert.deepEqual(envOf(r).vars, {
      ESCAPES: 'q" b\\ s/ \b\f\n\r\t Éé',
      RAW_UTF8: "café 😀",
      BROKEN: null,
      LATER_FILE: "still read",
      UNICODE: "é ü 日本 😀 𝄞",
      HOSTILE_AFTER: HOSTILE,
      NUMBER: null,
      PKG_VAR: "pkg",
    });
    const ours = kernelLines(r.stderr).filter((l) => !l.includes("cuda-nvcc"));
    const w = "legate-jupyter kernel: warning: ";
    assert.equal(ours.length, 4, r.stderr);
    assert.match(
      ours[0],
      new RegExp(
        `^${w}${
          reEscape(join(envVarsD, "30-broken.json"))
        } is not valid JSON \\(.*\\); its variables are skipped$`,
      ),
    );
    assert.deepEqual(ours.slice(1).sort(), [
      `${w}${state} (env_vars) sets "$(touch PWNED)", which is not a variable name; ignored`,
      `${w}${state} (env_vars) sets "not-a-name", which is not a variable name; ignored`,
      `${w}${state} (env_vars): the value of NUMBER is not a string; ignored`,
    ]);
    assert.deepEqual(await pwned(d.path), [], "no hostile value or name ran");
  },
);

/** The reader of env_vars.d and state that live launch scripts run. */
const ENV_VARS_AWK = join(ROOT, "kernels", "env_vars.awk");

/**
 * Runs the reader under `awk` as the launch script does (the C locale; `state` or "", then the
 * env_vars.d files in name order), then evals what it printed in `shell` with the launch
 * script's `warn`: the environment that results, and the warnings, one a line.
 */
async function readVars(
  awk: string,
  shell: string,
  state: string,
  files: string[],
  inherited: Record<string, string>,
): Promise<{ vars: Record<string, string>; warnings: string[]; printed: string }> {
  const read = await run([awk, "-f", ENV_VARS_AWK, state, ...files], {
    env: { PATH: "/usr/bin:/bin", LC_ALL: "C" },
  });
  assert.equal(read.code, 0, read.stderr);
  assert.equal(read.stderr, "");
  const out = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(out, read.stdout);
    const script = `warn() { printf '%s\n' "$*" >&2; }
lj_vars=$(cat "$1")
eval "$lj_vars"
exec env -0`;
    const evald = await new Deno.Command(shell, {
      args: ["-c", script, "sh", out],
      env: { PATH: "/usr/bin:/bin", ...inherited },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(evald.success, new TextDecoder().decode(evald.stderr));
    const vars: Record<string, string> = {};
    for (const item of new TextDecoder().decode(evald.stdout).split("\0")) {
      const eq = item.indexOf("=");
      if (eq > 0) vars[item.slice(0, eq)] = item.slice(eq + 1);
    }
    const warnings = new TextDecoder().decode(evald.stderr).split("\n").filter((l) => l);
    return { vars, warnings, printed: read.stdout };
  } finally {
    await Deno.remove(out);
  }
}

for (const awk of ["mawk", "gawk"]) {
  const path = `/usr/bin/${awk}`;
  const have = await exists(path);
  Deno.test({
    name: have
      ? `the reader of env_vars.d and state (kernels/env_vars.awk) under ${awk}, its output run by dash and bash: conda's order, duplicates, ***unset***, PATH ignored, every escape, surrogates as UTF-8, hostile values literal, and each file that is not a JSON object skipped with a warning naming it`
      : `the reader of env_vars.d and state under ${awk} skipped: ${path} is not installed (apt-get install ${awk})`,
    ignore: !have,
    async fn() {
      await using d = await tempDir();
      const files: [string, string][] = [
        [
          "10-values.json",
          `{"A": "from 10", "DUP": "first", "DUP": "second", "UNSET_ME": "x", "PATH": "/no",
  "EMPTY": "", "NESTED": [1, {"x": [null, true, false, -0.5e-3, 1E+2, 0]}], "NAN": NaN,
  "INF": -Infinity, "SURR": "\\ud83d\\ude00\\uD834\\uDD1E", "LONE": "a\\ud800b", "NUL": "a\\u0000b",
  "HEX": "\\u00C9\\u00e9\\u20AC\\u0041", "TRICKY": ${JSON.stringify(HOSTILE)},
  "ESC": "\\"\\\\\\/\\b\\f\\n\\r\\t"}`,
        ],
        ["20-crlf.json", `{\r\n"CRLF"\r\n:\r\n"ok"\r\n}\r\n`],
        ["30-empty.json", ""],
        ["40-array.json", "[1, 2]"],
        ["50-trailing.json", '{"TRAILING": "x"} {}'],
        ["60-control.json", '{"CONTROL": "a\tb"}'],
        ["70-truncated.json", '{"TRUNCATED": "abc'],
        ["80-raw.json", '{"RAW": "日本 é"}'],
        ["85-bad-escape.json", '{"BAD_ESCAPE": "\\x41"}'],
        ["86-comma.json", '{"COMMA": "x",}'],
        ["90-names.json", '{"1BAD": "x", "ok_Name_2": "y", "with space": "z", "é": "w"}'],
      ];
      const paths = [];
      for (const [name, text] of files) {
        await Deno.writeTextFile(join(d.path, name), text);
        paths.push(join(d.path, name));
      }
      const state = join(d.path, "state");
      // A later env_vars replaces an earlier one whole, as in Python's dict.
      await Deno.writeTextFile(
        state,
        `{"env_vars": {"REPLACED": "x"}, "other": {"deep": [[[]]], "n": -1},
 "env_vars": {"A": "state wins", "UNSET_ME": "***unset***", "STATE_ONLY": "s"}, "f": 1.5}`,
      );
      const expected: Record<string, string | null> = {
        A: "state wins",
        DUP: "second",
        UNSET_ME: null,
        EMPTY: "",
        NESTED: null,
        NAN: null,
        INF: null,
        SURR: "😀𝄞",
        LONE: null,
        NUL: null,
        HEX: "Éé€A",
        TRICKY: HOSTILE,
        ESC: '"\\/\b\f\n\r\t',
        CRLF: "ok",
        TRAILING: null,
        CONTROL: null,
        TRUNCATED: null,
        RAW: "日本 é",
        BAD_ESCAPE: null,
        COMMA: null,
        ok_Name_2: "y",
        STATE_ONLY: "s",
        REPLACED: null,
        PATH: "/usr/bin:/bin",
      };
      const at = (n: string) => join(d.path, n);
      const notJson = (n: string) =>
        new RegExp(`^${reEscape(at(n))} is not valid JSON \\(.+\\); its variables are skipped$`);
      for (const shell of ["/bin/sh", "/bin/bash"]) {
        const got = await readVars(path, shell, state, paths, { UNSET_ME: "inherited" });
        assert.match(got.printed, /\nlj_read=1\n$/);
        assert.deepEqual(
          Object.fromEntries(Object.keys(expected).map((k) => [k, got.vars[k] ?? null])),
          expected,
          shell,
        );
        const w = got.warnings;
        assert.deepEqual(w.slice(0, 5), [
          `${at("10-values.json")}: the value of NESTED is not a string; ignored`,
          `${at("10-values.json")}: the value of NAN is not a string; ignored`,
          `${at("10-values.json")}: the value of INF is not a string; ignored`,
          `${
            at("10-values.json")
          }: the value of LONE holds a lone surrogate, which is not Unicode; ignored`,
          `${
            at("10-values.json")
          }: the value of NUL holds a NUL character, which no variable can; ignored`,
        ], shell);
        assert.match(w[5], notJson("30-empty.json"));
        assert.equal(
          w[6],
          `${at("40-array.json")} is not a JSON object; its variables are skipped`,
        );
        for (
          const [i, n] of ["50-trailing", "60-control", "70-truncated", "85-bad-escape", "86-comma"]
            .entries()
        ) {
          assert.match(w[7 + i], notJson(`${n}.json`));
        }
        assert.deepEqual(w.slice(12), [
          `${at("90-names.json")} sets "1BAD", which is not a variable name; ignored`,
          `${at("90-names.json")} sets "with space", which is not a variable name; ignored`,
          `${at("90-names.json")} sets "é", which is not a variable name; ignored`,
        ], shell);
      }
      // No state, and a state whose env_vars is not an object.
      const none = await readVars(path, "/bin/sh", "", [at("20-crlf.json")], {});
      assert.equal(none.vars.CRLF, "ok");
      assert.deepEqual(none.warnings, []);
      await Deno.writeTextFile(state, '{"env_vars": "not an object"}');
      const odd = await readVars(path, "/bin/sh", state, [], {});
      assert.deepEqual(odd.warnings, [
        `${state} (env_vars) is not a JSON object; its variables are skipped`,
      ]);
    },
  });
}

const MPIRUN = "/usr/bin/mpirun";
const HAVE_MPIRUN = await Deno.stat(MPIRUN).then(() => true, () => false);

Deno.test({
  name: HAVE_MPIRUN
    ? "a --launcher mpirun kernel with 2 ranks on one node (Debian's Open MPI; Legate's bind script faked): every rank activates the environment itself and sees its variables" +
      onStack("jupyter_client", "ipykernel")
    : `mpirun kernel test skipped: ${MPIRUN} is not installed (apt-get install openmpi-bin)`,
  ignore: !HAVE_MPIRUN,
  async fn() {
    await using d = await tempDir();
    const { prefix } = await condaLike(join(d.path, "envs", "mpi"));
    const ranks = join(d.path, "ranks");
    await Deno.mkdir(ranks);
    await fakeLegate(prefix, ranks);
    const log = join(d.path, "activated.log");
    await Deno.writeTextFile(
      join(prefix, "etc", "conda", "activate.d", "zzzz-where.sh"),
      `echo "\${OMPI_COMM_WORLD_RANK:-launch}" >> '${log}'\n`,
    );
    // Open MPI refuses root unless told; the tests run as root where they build the cluster.
    const asRoot: Record<string, string> = Deno.uid() === 0
      ? { OMPI_ALLOW_RUN_AS_ROOT: "1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM: "1" }
      : {};
    const env = isolatedEnv(d.path, asRoot);
    await install([
      "--conda-env",
      prefix,
      "--name",
      "mpik",
      "--launcher",
      "mpirun",
      "--ranks-per-node",
      "2",
      "--launcher-extra=--oversubscribe",
    ], env);
    const script = await Deno.readTextFile(join(d.path, "data", "kernels", "mpik", "launch.sh"));
    assert.match(
      script,
      /^exec mpirun -n 2 --npernode 2 .* \/bin\/sh .*\/launch\.sh --rank -f "\$connection_file"$/m,
    );

    const r = await startKernel("mpik", [envCell([...CONDA_NAMES, "OMPI_COMM_WORLD_RANK"])], env);
    assert.deepEqual(envOf(r).vars, { ...condaExpected(prefix), OMPI_COMM_WORLD_RANK: "0" });
    for (const rank of [0, 1]) {
      const seen = await rankEnv(ranks, rank);
      for (const [k, v] of Object.entries(condaExpected(prefix))) {
        assert.equal(seen[k] ?? null, v, `rank ${rank}: ${k}`);
      }
      assert.equal(seen.PATH.split(":")[0], join(prefix, "bin"), `rank ${rank}: PATH`);
    }
    const where = (await Deno.readTextFile(log)).trim().split("\n").sort();
    assert.deepEqual(where, ["0", "1", "launch"], "activated at the start and on each rank");
  },
});

/** Whether this process may make a mount namespace (root, and unshare works here). */
const CAN_UNSHARE = Deno.uid() === 0 &&
  (await new Deno.Command("unshare", { args: ["--mount", "true"], stderr: "null" }).output()
    .then((o) => o.success, () => false));

Deno.test({
  name: CAN_UNSHARE
    ? "with no bash on the node, a kernel whose environment has activation scripts fails with one line naming the fix; the fix (a captured kernel, made where bash is) then starts with sh alone" +
      onStack("jupyter_client", "ipykernel")
    : "no-bash kernel test skipped: hiding bash needs root and a mount namespace (unshare --mount)",
  ignore: !CAN_UNSHARE,
  async fn() {
    await using d = await tempDir();
    const { prefix } = await condaLike(join(d.path, "envs", "nobash"));
    const env = isolatedEnv(d.path);
    await install(["--conda-env", prefix, "--name", "nobashk"], env);
    // A node without bash: in a mount namespace of its own, bash is an empty, unexecutable file.
    const withoutBash = (cells: string[]) =>
      run([
        "unshare",
        "--mount",
        "sh",
        "-c",
        'mount --bind /dev/null /usr/bin/bash && mount --bind /dev/null /bin/bash && exec "$@"',
        "sh",
        SYS_PYTHON,
        RUN_KERNEL,
        "nobashk",
        ...cells,
      ], { env: { ...env, PYDEVD_DISABLE_FILE_VALIDATION: "1" } });
    const r = await withoutBash([envCell(["LEGATE_MPI_WRAPPER"])]);
    assert.notEqual(r.code, 0);
    const lines = kernelLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    const m =
      /^legate-jupyter kernel: bash is needed to run the activation scripts of environment (.*) but there is none in \/bin, \/usr\/bin or on PATH; install bash, or reinstall this kernel with --activate captured: (.*)$/
        .exec(lines[0]);
    assert.ok(m, lines[0]);
    assert.equal(m[1], prefix);
    assert.equal((await runPrinted(m[2], env)).code, 0);
    const ok = await withoutBash([envCell(["LEGATE_MPI_WRAPPER"])]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(JSON.parse(ok.stdout).cells[0].stdout).vars, {
      LEGATE_MPI_WRAPPER: condaExpected(prefix).LEGATE_MPI_WRAPPER,
    });
  },
});

Deno.test({
  name: CAN_UNSHARE
    ? "with no awk on the node, a live kernel starts with the variables read at install and says so in one line" +
      onStack("jupyter_client", "ipykernel")
    : "no-awk kernel test skipped: hiding awk needs root and a mount namespace (unshare --mount)",
  ignore: !CAN_UNSHARE,
  async fn() {
    await using d = await tempDir();
    const { prefix } = await condaLike(join(d.path, "envs", "noawk"));
    const env = isolatedEnv(d.path);
    await install(["--conda-env", prefix, "--name", "noawkk"], env);
    const state = join(prefix, "conda-meta", "state");
    const s = JSON.parse(await Deno.readTextFile(state));
    s.env_vars.AFTER_INSTALL = "not read without awk";
    await writeAsConda(state, s);
    // A node without awk: in a mount namespace of its own, every awk on PATH is an empty,
    // unexecutable file (a link to one, such as Debian's /usr/bin/awk, hides what it points to).
    const r = await run([
      "unshare",
      "--mount",
      "sh",
      "-c",
      'for a in /usr/local/bin/awk /usr/bin/awk /bin/awk; do if [ -e "$a" ]; then mount --bind /dev/null "$a" || exit 1; fi; done; exec "$@"',
      "sh",
      SYS_PYTHON,
      RUN_KERNEL,
      "noawkk",
      envCell([...CONDA_NAMES, "AFTER_INSTALL"]),
    ], { env: { ...env, PYDEVD_DISABLE_FILE_VALIDATION: "1" } });
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(JSON.parse(r.stdout).cells[0].stdout);
    assert.deepEqual(got.vars, { ...condaExpected(prefix), AFTER_INSTALL: null });
    const lines = kernelLines(r.stderr).filter((l) => !l.includes("cuda-nvcc"));
    assert.deepEqual(lines, [
      `legate-jupyter kernel: warning: no awk on this node (none on PATH or in /usr/bin) to read the variables of environment ${prefix} (env_vars.d and conda env config vars) at start, so the values read at install are used; install awk (mawk or gawk) to have them read at every start`,
    ]);
  },
});
