/**
 * Real Jupyter against kernels this tool installs: `jupyter kernelspec list --json` sees them
 * with upstream's env and metadata, and jupyter_client starts them, runs code and answers
 * `%legate_info` with the seed's text.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, MOD, runCli, tempDir } from "./helpers.ts";
import { jupyterKernels, runKernel, SEED_FLAGS, SEED_INFO } from "./support/e2e.ts";
import { onStack } from "./support/stack.ts";

const SPEC_KEY = "__LEGATE_JUPYTER_KERNEL_SPEC__";

/** Upstream's `metadata.legate` for a bare `legate-jupyter` (reference 2.3). */
const DEFAULT_LEGATE = {
  argv: [],
  core: { cpus: null, gpus: null, omps: null, ompthreads: null, utility: null },
  memory: {
    consensus: false,
    fbmem: null,
    field_reuse_fraction: null,
    field_reuse_frequency: null,
    max_exception_size: null,
    min_cpu_chunk: null,
    min_gpu_chunk: null,
    min_omp_chunk: null,
    numamem: null,
    regmem: null,
    sysmem: null,
    zcmem: null,
  },
  multi_node: { launcher: "none", launcher_extra: [], nodes: 1, ranks_per_node: 1 },
};

/** Upstream's "every option, given in reverse order" case (reference 2.2). */
const EVERY_OPTION_REVERSED = (
  "--experimental-copy-path --io-use-vfd-gds --single-controller-execution " +
  "--inline-task-launch --disable-mpi --warmup-nccl --window-size 7 --show-progress " +
  "--show-memory-usage --show-config --auto-config --consensus --field-reuse-frequency 5 " +
  "--field-reuse-fraction 4 --min-omp-chunk 3 --min-gpu-chunk 2 --min-cpu-chunk 1 " +
  "--max-exception-size 10 --regmem 5 --zcmem 4 --fbmem 3 --numamem 2 --sysmem 1 " +
  "--utility 9 --ompthreads 8 --omps 7 --gpus 6 --cpus 5"
).split(" ");
const EVERY_OPTION_CONFIG = "--cpus 5 --gpus 6 --omps 7 --ompthreads 8 --utility 9 --sysmem 1 " +
  "--numamem 2 --fbmem 3 --zcmem 4 --regmem 5 --max-exception-size 10 --min-cpu-chunk 1 " +
  "--min-gpu-chunk 2 --min-omp-chunk 3 --field-reuse-fraction 4 --field-reuse-frequency 5 " +
  "--consensus --logdir . --auto-config --show-config --show-memory-usage --show-progress " +
  "--window-size 7 --warmup-nccl --disable-mpi --inline-task-launch " +
  "--single-controller-execution --io-use-vfd-gds --experimental-copy-path";

const V24_FLAGS = ("--name foo --cpus 4 --gpus 1 --omps 1 --ompthreads 4 --utility 2 " +
  "--sysmem 4000 --numamem 0 --fbmem 4000 --zcmem 32 --regmem 0").split(" ");
const V25_FLAGS = [
  "--name",
  "Legate_DM_GPU",
  "--display-name",
  "Legate 2x2 (srun)",
  "--launcher",
  "srun",
  "--nodes",
  "2",
  "--ranks-per-node",
  "2",
  "--cpus",
  "4",
  "--gpus",
  "1",
  "--sysmem",
  "4000",
  "--fbmem",
  "4000",
];

async function install(args: string[], env: Record<string, string>) {
  const r = await runCli(args, { env });
  assert.equal(r.code, 0, `install ${args.join(" ")} failed: ${r.stderr}`);
  return r;
}

Deno.test(`jupyter kernelspec list sees every installed kernel with upstream's env and metadata${onStack("jupyter_client")}`, async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  await install([], env); // bare `legate-jupyter`: the default kernel
  await install(V24_FLAGS, env);
  await install(V25_FLAGS, env);
  await install(["install", "--name", "Every.Option-1", ...EVERY_OPTION_REVERSED], env);

  const specs = await jupyterKernels(env);
  const kernels = join(d.path, "data", "kernels");
  for (const name of ["legate_sm_gpu", "foo", "legate_dm_gpu", "every.option-1"]) {
    assert.ok(specs[name], `jupyter lists ${name}: ${Object.keys(specs)}`);
    assert.equal(specs[name].resource_dir, join(kernels, name), "directory name is lowercased");
    const spec = specs[name].spec;
    assert.equal(spec.language, "python");
    assert.equal(spec.interrupt_mode, "signal");
    assert.deepEqual(spec.argv, ["/bin/sh", join(kernels, name, "launch.sh"), "{connection_file}"]);
  }

  const def = specs.legate_sm_gpu.spec;
  assert.equal(def.display_name, "Legate_SM_GPU");
  assert.deepEqual(def.env, {
    LEGATE_CONFIG: "--logdir .",
    PYTHONDONTWRITEBYTECODE: "1",
    [SPEC_KEY]: "Legate_SM_GPU",
  });
  assert.deepEqual(def.metadata.legate, DEFAULT_LEGATE);

  const v24 = specs.foo.spec;
  assert.equal(v24.display_name, "foo");
  assert.deepEqual(v24.env, {
    LEGATE_CONFIG: "--cpus 4 --gpus 1 --omps 1 --ompthreads 4 --utility 2 --sysmem 4000 " +
      "--numamem 0 --fbmem 4000 --zcmem 32 --regmem 0 --logdir .",
    PYTHONDONTWRITEBYTECODE: "1",
    [SPEC_KEY]: "foo",
  });
  assert.deepEqual(v24.metadata.legate, {
    argv: V24_FLAGS,
    core: { cpus: 4, gpus: 1, omps: 1, ompthreads: 4, utility: 2 },
    memory: {
      ...DEFAULT_LEGATE.memory,
      fbmem: 4000,
      numamem: 0,
      regmem: 0,
      sysmem: 4000,
      zcmem: 32,
    },
    multi_node: DEFAULT_LEGATE.multi_node,
  });

  const v25 = specs.legate_dm_gpu.spec;
  assert.equal(v25.display_name, "Legate 2x2 (srun)");
  assert.deepEqual(v25.env, {
    LEGATE_CONFIG: "--cpus 4 --gpus 1 --sysmem 4000 --fbmem 4000 --logdir .",
    PYTHONDONTWRITEBYTECODE: "1",
    [SPEC_KEY]: "Legate_DM_GPU",
  });
  assert.deepEqual(v25.metadata.legate?.multi_node, {
    launcher: "srun",
    launcher_extra: [],
    nodes: 2,
    ranks_per_node: 2,
  });
  assert.deepEqual(v25.metadata.legate?.argv, V25_FLAGS);

  const every = specs["every.option-1"].spec;
  assert.deepEqual(every.env, {
    LEGATE_CONFIG: EVERY_OPTION_CONFIG,
    PYTHONDONTWRITEBYTECODE: "1",
    [SPEC_KEY]: "Every.Option-1",
  });
  assert.deepEqual(every.metadata.legate, {
    argv: ["--name", "Every.Option-1", ...EVERY_OPTION_REVERSED],
    core: { cpus: 5, gpus: 6, omps: 7, ompthreads: 8, utility: 9 },
    memory: {
      consensus: true,
      fbmem: 3,
      field_reuse_fraction: 4,
      field_reuse_frequency: 5,
      max_exception_size: 10,
      min_cpu_chunk: 1,
      min_gpu_chunk: 2,
      min_omp_chunk: 3,
      numamem: 2,
      regmem: 5,
      sysmem: 1,
      zcmem: 4,
    },
    multi_node: DEFAULT_LEGATE.multi_node,
  });
});

Deno.test("bare legate-jupyter FLAGS writes the same kernel as legate-jupyter install FLAGS", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const flags = ["--name", "Same", "--cpus", "2", "--env", "A=b", "-v"];
  const bare = await install(flags, env);
  const dir = join(d.path, "data", "kernels", "same");
  const first = {
    json: await Deno.readTextFile(join(dir, "kernel.json")),
    script: await Deno.readTextFile(join(dir, "launch.sh")),
  };
  await Deno.remove(dir, { recursive: true });
  const sub = await install(["install", ...flags], env);
  assert.equal(sub.stdout, bare.stdout);
  assert.equal(await Deno.readTextFile(join(dir, "kernel.json")), first.json);
  assert.equal(await Deno.readTextFile(join(dir, "launch.sh")), first.script);
  assert.deepEqual(JSON.parse(first.json).metadata.legate.argv, flags);
});

Deno.test(`a kernel installed with the seed's flags starts under jupyter_client and answers %legate_info with the seed's text${onStack("jupyter_client", "ipykernel")}`, async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const greeting = `hello $(touch PWNED) \`id\` 'single' "double"; $HOME`;
  await install([...SEED_FLAGS, "--env", `GREETING=${greeting}`, "--env", "EMPTY="], env);

  const cells = await runKernel("legate_sm_gpu", [
    "%legate_info",
    "import os, json\nprint(json.dumps({k: os.environ.get(k) for k in " +
    `["LEGATE_CONFIG", "GREETING", "EMPTY", "${SPEC_KEY}", "PYTHONDONTWRITEBYTECODE"]}))`,
    // `legate-jupyter info` run from inside the kernel finds it through the spec key.
    "import subprocess, sys\n" +
    `r = subprocess.run(${
      JSON.stringify([Deno.execPath(), "run", "-A", "--quiet", MOD, "info"])
    }, capture_output=True, text=True)\n` +
    "sys.stdout.write(r.stdout); sys.stderr.write('rc=%d %s' % (r.returncode, r.stderr))",
  ], env);

  assert.equal(cells[0].error, null);
  assert.equal(cells[0].stdout, SEED_INFO);
  assert.equal(cells[1].error, null);
  assert.deepEqual(JSON.parse(cells[1].stdout), {
    LEGATE_CONFIG: "--cpus 4 --gpus 0 --omps 0 --ompthreads 4 --utility 2 --sysmem 4000 " +
      "--numamem 0 --fbmem 4000 --zcmem 32 --regmem 0 --logdir .",
    GREETING: greeting,
    EMPTY: "",
    [SPEC_KEY]: "Legate_SM_GPU",
    PYTHONDONTWRITEBYTECODE: "1",
  });
  assert.equal(cells[2].stdout, SEED_INFO, `info inside the kernel: ${cells[2].stderr}`);
  assert.equal(cells[2].stderr, "rc=0 ");
  assert.equal(await Deno.stat(join(d.path, "PWNED")).catch(() => null), null);
});

Deno.test(`a kernel installed with --prefix is found and started by Jupyter through JUPYTER_PATH${onStack("jupyter_client", "ipykernel")}`, async () => {
  await using d = await tempDir();
  const prefix = join(d.path, "pfx");
  const env = isolatedEnv(d.path, { JUPYTER_PATH: join(prefix, "share", "jupyter") });
  await install(["--prefix", prefix, "--name", "Legate.Prefix-1"], env);
  const dir = join(prefix, "share", "jupyter", "kernels", "legate.prefix-1");
  assert.equal((await jupyterKernels(env))["legate.prefix-1"]?.resource_dir, dir);

  const [cell] = await runKernel("legate.prefix-1", ["%legate_info"], env);
  assert.equal(cell.error, null);
  const lines = cell.stdout.split("\n");
  assert.equal(lines[0], "Kernel 'Legate.Prefix-1' configured for 1 node(s)");
  assert.equal(lines[3], "CPUs to use per rank : (Legate default)");
  assert.equal(lines.length, SEED_INFO.split("\n").length);
});

Deno.test("legate-jupyter info prints the seed's %legate_info text, by name or from the kernel's environment", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  await install(SEED_FLAGS, env);

  const byName = await runCli(["info", "Legate_SM_GPU"], { env });
  assert.equal(byName.code, 0, byName.stderr);
  assert.equal(byName.stdout, SEED_INFO);

  const lower = await runCli(["info", "legate_sm_gpu"], { env });
  assert.equal(lower.stdout, SEED_INFO, "the header shows the name as typed at install");

  const fromEnv = await runCli(["info"], { env: { ...env, [SPEC_KEY]: "Legate_SM_GPU" } });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.equal(fromEnv.stdout, SEED_INFO);

  const json = await runCli(["info", "legate_sm_gpu", "--json"], { env });
  assert.equal(json.code, 0);
  const parsed = JSON.parse(json.stdout);
  assert.equal(parsed.legate.core.cpus, 4);
  assert.equal(parsed.legate_config.startsWith("--cpus 4 --gpus 0"), true);
});

Deno.test("legate-jupyter info without NAME outside a kernel, or for a missing kernel, fails with one line", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const none = await runCli(["info"], { env });
  assert.equal(none.code, 2);
  assert.equal(none.stderr.trim().split("\n").length, 1);
  assert.match(none.stderr, /__LEGATE_JUPYTER_KERNEL_SPEC__/);
  const missing = await runCli(["info", "nope"], { env });
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim().split("\n").length, 1);
  assert.match(missing.stderr, /'nope'/);
  assert.equal(missing.stdout, "");
});

Deno.test("legate-jupyter info refuses a non-Legate kernel with one line", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const dir = join(d.path, "data", "kernels", "plain");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "kernel.json"),
    JSON.stringify({ argv: ["/usr/bin/python3"], display_name: "Plain", language: "python" }),
  );
  const r = await runCli(["info", "plain"], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not a Legate kernel/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
});
