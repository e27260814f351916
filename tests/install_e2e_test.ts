/**
 * `legate-jupyter install` end to end: upstream's messages and exit codes, refusal of bad
 * input with nothing written, where kernels go (--user, --prefix, --sys-prefix, XDG), which
 * Python they run, --dry-run and --json.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli, tempDir } from "./helpers.ts";
import {
  assertOneLineError,
  execLine,
  exists,
  fakeVenv,
  jupyterKernels,
  snapshot,
  SYS_PYTHON,
} from "./support/e2e.ts";
import { onStack } from "./support/stack.ts";

const EXISTS = (name: string) =>
  `ERROR: kernel spec '${name}' already exists. Remove it by running: ` +
  `'jupyter kernelspec uninstall ${name.toLowerCase()}', `;

function kernelsOf(dir: string): string {
  return join(dir, "data", "kernels");
}

async function readSpec(dir: string) {
  return JSON.parse(await Deno.readTextFile(join(dir, "kernel.json")));
}

Deno.test("install prints upstream's success line first on stdout and nothing on stderr", async () => {
  await using d = await tempDir();
  const r = await runCli([], { env: isolatedEnv(d.path) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout.split("\n")[0],
    "Jupyter kernel spec Legate_SM_GPU (Legate_SM_GPU) has been installed",
  );
  assert.doesNotMatch(r.stderr, /ipykernel/, "the system Python has ipykernel: no warning");
  assert.ok(await exists(join(kernelsOf(d.path), "legate_sm_gpu", "kernel.json")));
});

Deno.test("install -v and -vv print upstream's transcript before the success line", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const v = await runCli(["-v", "--name", "demo"], { env });
  assert.equal(v.code, 0, v.stderr);
  assert.ok(
    v.stdout.startsWith(
      "Wrote kernel spec file demo/kernel.json\n\nJupyter kernel spec demo (demo) has been installed\n",
    ),
    JSON.stringify(v.stdout),
  );

  const named = await runCli(["--name", "Foo-1.x", "--display-name", "My Kernel", "-v"], { env });
  assert.ok(
    named.stdout.startsWith(
      "Wrote kernel spec file Foo-1.x/kernel.json\n\n" +
        "Jupyter kernel spec Foo-1.x (My Kernel) has been installed\n",
    ),
    JSON.stringify(named.stdout),
  );
  assert.ok(await exists(join(kernelsOf(d.path), "foo-1.x", "kernel.json")));

  const vv = await runCli(["-vv"], { env });
  assert.equal(vv.code, 0, vv.stderr);
  const json = await Deno.readTextFile(join(kernelsOf(d.path), "legate_sm_gpu", "kernel.json"));
  assert.ok(
    vv.stdout.startsWith(
      "Wrote kernel spec file Legate_SM_GPU/kernel.json\n\n" +
        `\n${json.trimEnd()}\n\n` +
        "Jupyter kernel spec Legate_SM_GPU (Legate_SM_GPU) has been installed\n",
    ),
    JSON.stringify(vv.stdout),
  );
  assert.deepEqual(JSON.parse(json).metadata.legate.argv, ["-vv"]);
});

Deno.test("install -q prints only the result line", async () => {
  await using d = await tempDir();
  const r = await runCli(["-q", "--name", "quiet"], { env: isolatedEnv(d.path) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "Jupyter kernel spec quiet (quiet) has been installed\n");
});

Deno.test("install refuses an existing name in any case with upstream's message, exit 1 and nothing changed", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  assert.equal((await runCli(["--cpus", "1"], { env })).code, 0);
  const before = await snapshot(kernelsOf(d.path));

  const again = await runCli(["--cpus", "2"], { env });
  assertOneLineError(again, 1);
  assert.ok(again.stderr.startsWith(EXISTS("Legate_SM_GPU")), again.stderr);
  assert.equal(again.stdout, "");

  const upper = await runCli(["--name", "LEGATE_SM_GPU", "-v"], { env });
  assertOneLineError(upper, 1);
  assert.ok(upper.stderr.startsWith(EXISTS("LEGATE_SM_GPU")), upper.stderr);
  assert.equal(upper.stdout, "", "-v prints nothing before the exists check, as upstream");

  assert.deepEqual(await snapshot(kernelsOf(d.path)), before);
});

Deno.test("install refuses a name that exists in a JUPYTER_PATH kernel dir, and python3", async () => {
  await using d = await tempDir();
  const jp = join(d.path, "jp");
  const env = isolatedEnv(d.path, { JUPYTER_PATH: jp });
  await Deno.mkdir(join(jp, "kernels", "legate_sm_gpu"), { recursive: true });
  await Deno.writeTextFile(
    join(jp, "kernels", "legate_sm_gpu", "kernel.json"),
    JSON.stringify({ argv: [SYS_PYTHON], display_name: "Other", language: "python" }),
  );
  const r = await runCli([], { env });
  assertOneLineError(r, 1);
  assert.ok(r.stderr.startsWith(EXISTS("Legate_SM_GPU")), r.stderr);
  assert.equal(await snapshot(kernelsOf(d.path)), null, "nothing written");

  const py = await runCli(["--name", "Python3"], { env });
  assertOneLineError(
    py,
    1,
    /^ERROR: kernel spec 'Python3' already exists: it is Jupyter's own Python kernel, which cannot be replaced\. Choose a new kernel name\.$/,
  );
  assert.equal(await snapshot(kernelsOf(d.path)), null);
});

Deno.test("install --replace replaces the kernel and leaves no temporary entry behind", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  assert.equal((await runCli(["--cpus", "1", "--module", "old/1"], { env })).code, 0);
  const r = await runCli(["--cpus", "2", "--replace"], { env });
  assert.equal(r.code, 0, r.stderr);
  const dir = join(kernelsOf(d.path), "legate_sm_gpu");
  assert.equal((await readSpec(dir)).env.LEGATE_CONFIG, "--cpus 2 --logdir .");
  assert.doesNotMatch(await Deno.readTextFile(join(dir, "launch.sh")), /old\/1/);
  assert.deepEqual(
    [...Deno.readDirSync(kernelsOf(d.path))].map((e) => e.name),
    ["legate_sm_gpu"],
  );
  assert.deepEqual(
    [...Deno.readDirSync(join(d.path, "data"))].map((e) => e.name).filter((n) =>
      n.startsWith(".legate-jupyter-")
    ),
    [],
    "no staging or old directory left beside the kernels dir",
  );
});

/** Bad input: exit code, a pattern for the one stderr line, and the arguments. */
/** Exit code, the error line, the arguments, and what the environment lacks (PATH without mpirun). */
const BAD_INPUT: [number, RegExp, string[], Record<string, string>?][] = [
  [2, /foo bar/, ["--name", "foo bar"]],
  [2, /--cpu\b.*--cpus/, ["--cpu", "4"]],
  [2, /--bogus/, ["--bogus"]],
  [2, /abc/, ["--cpus", "abc"]],
  [2, /-1/, ["--cpus", "-1"]],
  [2, /--cpus/, ["--cpus"]],
  [2, /--nodes/, ["--nodes", "0"]],
  [2, /--ranks-per-node/, ["--ranks-per-node", "0"]],
  [2, /--launcher.*foo/, ["--launcher", "foo"]],
  [2, /launcher/, ["--nodes", "2"]],
  [2, /launcher/, ["--ranks-per-node", "3"]],
  [2, /--user/, ["--user", "--prefix", "/tmp/never"]],
  [2, /--sys-prefix/, ["--prefix", "/tmp/never", "--sys-prefix"]],
  [2, /KEY=VALUE/, ["--env", "NOEQUALS"]],
  [2, /LEGATE_CONFIG/, ["--env", "LEGATE_CONFIG=--cpus 1"]],
  [2, /--launcher-extra/, ["--launcher", "srun", "--launcher-extra", "'unterminated"]],
  [2, /dask/, ["--launcher", "dask", "--nodes", "2"]],
  [2, /extra/, ["extra"]],
  [2, /--mpi/, ["--launcher", "mpirun", "--mpi", "lam"]],
  [1, /--python/, ["--python", "/nonexistent/python3"]],
  // Debian's openmpi-bin is installed for the mpirun tests: this PATH leaves it out.
  [1, /mpirun/, ["--launcher", "mpirun", "--python", "/usr/bin/python3"], { PATH: "/nonexistent" }],
];

for (const [code, pattern, args, extra] of BAD_INPUT) {
  Deno.test(`install ${JSON.stringify(args)} exits ${code} with one line and writes nothing`, async () => {
    await using d = await tempDir();
    const r = await runCli(args, { env: isolatedEnv(d.path, extra) });
    assertOneLineError(r, code, pattern);
    assert.equal(r.stdout, "");
    assert.equal(await snapshot(kernelsOf(d.path)), null, "kernels dir absent");
  });
}

Deno.test("install --prefix DIR installs into DIR/share/jupyter/kernels/NAME and warns when off the search path", async () => {
  await using d = await tempDir();
  const r = await runCli(["--prefix", "rel/pfx", "--name", "Pfx"], {
    env: isolatedEnv(d.path),
    cwd: d.path,
  });
  assert.equal(r.code, 0, r.stderr);
  const dir = join(d.path, "rel", "pfx", "share", "jupyter", "kernels", "pfx");
  const spec = await readSpec(dir);
  assert.deepEqual(spec.argv, ["/bin/sh", join(dir, "launch.sh"), "{connection_file}"]);
  assert.match(r.stderr, /not on Jupyter's kernel search path/);
  assert.match(r.stderr, /JUPYTER_PATH=/);
  assert.equal(await snapshot(kernelsOf(d.path)), null, "nothing in the user dir");
});

Deno.test("install --sys-prefix installs under a fake venv's prefix and keeps the venv's python path", async () => {
  await using d = await tempDir();
  const venv = join(d.path, "venv");
  const { python } = await fakeVenv(venv, { systemSite: true });
  const r = await runCli(["--python", python, "--sys-prefix"], { env: isolatedEnv(d.path) });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /ipykernel/, "the venv sees the system's ipykernel");
  const dir = join(venv, "share", "jupyter", "kernels", "legate_sm_gpu");
  const spec = await readSpec(dir);
  assert.equal(spec.metadata.legate_jupyter.python, python, "not resolved to /usr/bin/python3");
  assert.ok(
    execLine(await Deno.readTextFile(join(dir, "launch.sh"))).startsWith(`exec ${python} `),
  );
  assert.equal(await snapshot(kernelsOf(d.path)), null);
});

Deno.test(`install honours XDG_DATA_HOME when JUPYTER_DATA_DIR is unset, where Jupyter finds it${onStack("jupyter_client")}`, async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path, { XDG_DATA_HOME: join(d.path, "xdg") });
  delete env.JUPYTER_DATA_DIR;
  const r = await runCli(["--name", "Xdg"], { env });
  assert.equal(r.code, 0, r.stderr);
  const dir = join(d.path, "xdg", "jupyter", "kernels", "xdg");
  assert.ok(await exists(join(dir, "kernel.json")));
  assert.equal((await jupyterKernels(env)).xdg?.resource_dir, dir);
});

/** The python a dry run would store, from its JSON. */
async function chosenPython(env: Record<string, string>, cwd?: string, extra: string[] = []) {
  const r = await runCli(["--dry-run", "--json", ...extra], { env, cwd });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).kernel_json.metadata.legate_jupyter.python as string;
}

Deno.test("install picks CONDA_PREFIX's python, then VIRTUAL_ENV's, then python3 on PATH (fake envs)", async () => {
  await using d = await tempDir();
  const conda = join(d.path, "conda");
  await Deno.mkdir(join(conda, "bin"), { recursive: true });
  await Deno.symlink(SYS_PYTHON, join(conda, "bin", "python"));
  const { python: venvPython } = await fakeVenv(join(d.path, "venv"), { systemSite: true });
  const base = isolatedEnv(d.path);
  const venv = join(d.path, "venv");

  assert.equal(
    await chosenPython({ ...base, CONDA_PREFIX: conda, VIRTUAL_ENV: venv }),
    join(conda, "bin", "python"),
  );
  assert.equal(await chosenPython({ ...base, VIRTUAL_ENV: venv }), venvPython);
  assert.equal(
    await chosenPython({ ...base, CONDA_PREFIX: join(d.path, "no-such-env"), VIRTUAL_ENV: venv }),
    venvPython,
    "a CONDA_PREFIX without bin/python is skipped",
  );
  assert.equal(await chosenPython(base), SYS_PYTHON);
  assert.equal(
    await chosenPython({ ...base, VIRTUAL_ENV: venv }, undefined, ["--python", SYS_PYTHON]),
    SYS_PYTHON,
    "--python wins",
  );
});

Deno.test("install stores an absolute python path for a relative PATH entry or --python", async () => {
  await using d = await tempDir();
  await Deno.mkdir(join(d.path, "relbin"));
  await Deno.symlink(SYS_PYTHON, join(d.path, "relbin", "python3"));
  const env = isolatedEnv(d.path, { PATH: "relbin:/usr/bin:/bin" });
  assert.equal(await chosenPython(env, d.path), join(d.path, "relbin", "python3"));
  assert.equal(
    await chosenPython(isolatedEnv(d.path), d.path, ["--python", "relbin/python3"]),
    join(d.path, "relbin", "python3"),
  );
});

Deno.test("install with a Python lacking ipykernel (fake venv) warns on stderr and still writes the kernel", async () => {
  await using d = await tempDir();
  const { python } = await fakeVenv(join(d.path, "bare"));
  const r = await runCli(["--python", python], { env: isolatedEnv(d.path) });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /warning: ipykernel is not installed for .*bare\/bin\/python/);
  assert.match(r.stdout, /^Jupyter kernel spec Legate_SM_GPU \(Legate_SM_GPU\) has been installed/);
  assert.ok(await exists(join(kernelsOf(d.path), "legate_sm_gpu", "kernel.json")));
});

Deno.test("install --dry-run prints kernel.json and the launch script and writes nothing", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const args = ["--name", "Dry", "--cpus", "3", "--module", "cuda/12", "--env", "X=y z"];
  const dry = await runCli([...args, "--dry-run"], { env });
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(await exists(join(d.path, "data")), false, "nothing written, not even the data dir");

  const real = await runCli(args, { env });
  assert.equal(real.code, 0, real.stderr);
  const dir = join(kernelsOf(d.path), "dry");
  const json = await Deno.readTextFile(join(dir, "kernel.json"));
  const script = await Deno.readTextFile(join(dir, "launch.sh"));
  // The dry run's kernel.json differs only in metadata.legate.argv, which holds --dry-run.
  const shown = /^--- kernel\.json[^\n]*\n([\s\S]*?)\n--- /m.exec(dry.stdout)?.[1];
  assert.ok(shown, `a kernel.json section in:\n${dry.stdout}`);
  const expected = JSON.parse(json);
  expected.metadata.legate.argv.push("--dry-run");
  assert.deepEqual(JSON.parse(shown), expected, "dry run shows the kernel.json it would write");
  assert.ok(dry.stdout.includes(script.trimEnd()), "dry run shows the launch script");
  assert.match(dry.stdout, /Nothing was written/);
});

Deno.test("install --json prints a parseable result; with --dry-run it writes nothing", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const dry = await runCli(["--json", "--dry-run", "--name", "J"], { env });
  assert.equal(dry.code, 0, dry.stderr);
  const planned = JSON.parse(dry.stdout);
  assert.equal(planned.installed, false);
  assert.equal(await exists(join(d.path, "data")), false);

  const r = await runCli(["--json", "--name", "J"], { env });
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  const dir = join(kernelsOf(d.path), "j");
  assert.equal(result.installed, true);
  assert.equal(result.resource_dir, dir);
  assert.deepEqual(result.kernel_json, await readSpec(dir));
  assert.deepEqual(planned.kernel_json.metadata.legate.argv, [
    "--json",
    "--dry-run",
    "--name",
    "J",
  ]);
  planned.kernel_json.metadata.legate.argv = result.kernel_json.metadata.legate.argv;
  assert.deepEqual(planned.kernel_json, result.kernel_json, "the dry run plans what is written");
});
