import assert from "node:assert/strict";
import {
  infoRows,
  LEGATE_OPTIONS,
  legateConfigString,
  legateFlagSpecs,
  metadataSection,
  parseLegateConfig,
} from "../src/legate/options.ts";
import {
  bindLauncherArg,
  forwardedVars,
  isLauncherVar,
  LAUNCHER_VAR_PREFIXES,
  launcherCommand,
  mpiFlavorFromVersion,
  type MultiNode,
  validateMultiNode,
} from "../src/legate/launcher.ts";
import { NOT_SET, renderInfo, summarize } from "../src/legate/info.ts";
import { UsageError } from "../src/util/errors.ts";

const ALL_REVERSED =
  "--experimental-copy-path --io-use-vfd-gds --single-controller-execution --inline-task-launch " +
  "--disable-mpi --warmup-nccl --window-size 7 --show-progress --show-memory-usage --show-config " +
  "--auto-config --consensus --field-reuse-frequency 5 --field-reuse-fraction 4 --min-omp-chunk 3 " +
  "--min-gpu-chunk 2 --min-cpu-chunk 1 --max-exception-size 10 --regmem 5 --zcmem 4 --fbmem 3 " +
  "--numamem 2 --sysmem 1 --utility 9 --ompthreads 8 --omps 7 --gpus 6 --cpus 5";

Deno.test("LEGATE_CONFIG is only '--logdir .' when no option is set", () => {
  assert.equal(legateConfigString({}), "--logdir .");
});

Deno.test("LEGATE_CONFIG keeps upstream's fixed order whatever order the flags came in", () => {
  const values = parseLegateConfig(ALL_REVERSED);
  assert.equal(
    legateConfigString(values),
    "--cpus 5 --gpus 6 --omps 7 --ompthreads 8 --utility 9 --sysmem 1 --numamem 2 --fbmem 3 " +
      "--zcmem 4 --regmem 5 --max-exception-size 10 --min-cpu-chunk 1 --min-gpu-chunk 2 " +
      "--min-omp-chunk 3 --field-reuse-fraction 4 --field-reuse-frequency 5 --consensus --logdir . " +
      "--auto-config --show-config --show-memory-usage --show-progress --window-size 7 " +
      "--warmup-nccl --disable-mpi --inline-task-launch --single-controller-execution " +
      "--io-use-vfd-gds --experimental-copy-path",
  );
});

Deno.test("LEGATE_CONFIG writes zero values, which only unset values omit", () => {
  assert.equal(
    legateConfigString({ cpus: 4, gpus: 0, numamem: 0, consensus: false }),
    "--cpus 4 --gpus 0 --numamem 0 --logdir .",
  );
});

Deno.test("metadata sections carry every upstream key with null for unset values", () => {
  assert.deepEqual(metadataSection({ cpus: 4 }, "core"), {
    cpus: 4,
    gpus: null,
    omps: null,
    ompthreads: null,
    utility: null,
  });
  const memory = metadataSection({ fbmem: 4000 }, "memory");
  assert.deepEqual(Object.keys(memory).sort(), [
    "consensus",
    "fbmem",
    "field_reuse_fraction",
    "field_reuse_frequency",
    "max_exception_size",
    "min_cpu_chunk",
    "min_gpu_chunk",
    "min_omp_chunk",
    "numamem",
    "regmem",
    "sysmem",
    "zcmem",
  ]);
  assert.equal(memory.fbmem, 4000);
  assert.equal(memory.consensus, false);
});

Deno.test("the option table yields one flag per Legate option and no fixed entries", () => {
  const flags = legateFlagSpecs();
  assert.equal(flags.length, LEGATE_OPTIONS.length - 1);
  assert.ok(!flags.some((f) => f.name === "logdir"));
  assert.ok(flags.every((f) => f.type === "int" || f.type === "boolean"));
});

Deno.test("%legate_info rows are upstream's five core and five memory rows in order", () => {
  const [[coreTitle, , core], [memTitle, , memory]] = infoRows();
  assert.equal(coreTitle, "Cores");
  assert.equal(memTitle, "Memory");
  assert.deepEqual(core.map(([k]) => k), ["cpus", "gpus", "omps", "ompthreads", "utility"]);
  assert.deepEqual(memory.map(([k]) => k), ["sysmem", "numamem", "fbmem", "zcmem", "regmem"]);
});

const SEED_INFO = `Kernel 'Legate_SM_GPU' configured for 1 node(s)

Cores:
CPUs to use per rank : 4
GPUs to use per rank : 0
OpenMP groups to use per rank : 0
Threads per OpenMP group : 4
Utility processors per rank : 2

Memory:
DRAM memory per rank (in MBs) : 4000
DRAM memory per NUMA domain per rank (in MBs) : 0
Framebuffer memory per GPU (in MBs) : 4000
Zero-copy memory per rank (in MBs) : 32
Registered CPU-side pinned memory per rank (in MBs) : 0
`;

Deno.test("renderInfo prints the seed document's block for the seed's configuration", () => {
  const values = {
    cpus: 4,
    gpus: 0,
    omps: 0,
    ompthreads: 4,
    utility: 2,
    sysmem: 4000,
    numamem: 0,
    fbmem: 4000,
    zcmem: 32,
    regmem: 0,
  };
  const text = renderInfo("Legate_SM_GPU", {
    core: metadataSection(values, "core"),
    memory: metadataSection(values, "memory"),
    multi_node: { nodes: 1 },
  });
  assert.equal(text, SEED_INFO);
});

Deno.test("renderInfo says a value is Legate's default when it was not set", () => {
  const text = renderInfo("k", { core: metadataSection({}, "core"), multi_node: { nodes: 2 } });
  assert.match(text, /configured for 2 node\(s\)/);
  assert.match(text, new RegExp(`CPUs to use per rank : ${NOT_SET.replace(/[()]/g, "\\$&")}`));
});

Deno.test("summarize lists nodes, launcher and set options only", () => {
  assert.equal(
    summarize({
      core: { cpus: 4, gpus: null },
      memory: { fbmem: 4000, consensus: true },
      multi_node: { nodes: 2, ranks_per_node: 2, launcher: "srun" },
    }),
    "2 nodes x 2 ranks, via srun, cpus 4, fbmem 4000, consensus",
  );
});

const mn = (over: Partial<MultiNode>): MultiNode => ({
  nodes: 1,
  ranks_per_node: 1,
  launcher: "none",
  launcher_extra: [],
  ...over,
});

Deno.test("launcher none adds nothing and ignores launcher-extra", () => {
  assert.deepEqual(launcherCommand(mn({ launcher_extra: ["--x"] })), []);
  assert.equal(bindLauncherArg(mn({})), "local");
});

Deno.test("launchers compose as upstream's driver does for 100 nodes of 2 ranks", () => {
  const x = { nodes: 100, ranks_per_node: 2, launcher_extra: ["foo", "bar"] };
  assert.deepEqual(launcherCommand(mn({ ...x, launcher: "jsrun" })), [
    "jsrun",
    "-n",
    "100",
    "-r",
    "1",
    "-a",
    "2",
    "-c",
    "ALL_CPUS",
    "-g",
    "ALL_GPUS",
    "-b",
    "none",
    "foo",
    "bar",
  ]);
  assert.deepEqual(launcherCommand(mn({ ...x, launcher: "aprun" })), [
    "aprun",
    "-n",
    "200",
    "-N",
    "2",
    "foo",
    "bar",
  ]);
  assert.deepEqual(launcherCommand(mn({ ...x, launcher: "srun" })), [
    "srun",
    "-n",
    "200",
    "--ntasks-per-node",
    "2",
    "foo",
    "bar",
  ]);
  assert.deepEqual(launcherCommand(mn({ ...x, launcher: "mpirun" })).slice(0, 10), [
    "mpirun",
    "-n",
    "200",
    "--npernode",
    "2",
    "--bind-to",
    "none",
    "--mca",
    "mpi_warn_on_fork",
    "0",
  ]);
  assert.equal(bindLauncherArg(mn({ ...x, launcher: "srun" })), "srun");
});

Deno.test("mpirun forwards variables with -x for Open MPI and -envlist for MPICH", () => {
  const m = mn({
    nodes: 2,
    ranks_per_node: 2,
    launcher: "mpirun",
    launcher_extra: ["-hosts", "a,b"],
  });
  const forward = ["LEGATE_CONFIG", "PATH"];
  assert.deepEqual(launcherCommand(m, { mpi: "openmpi", forward }), [
    "mpirun",
    "-n",
    "4",
    "--npernode",
    "2",
    "--bind-to",
    "none",
    "--mca",
    "mpi_warn_on_fork",
    "0",
    "-x",
    "LEGATE_CONFIG",
    "-x",
    "PATH",
    "-hosts",
    "a,b",
  ]);
  assert.deepEqual(launcherCommand(m, { mpi: "mpich", forward }), [
    "mpirun",
    "-n",
    "4",
    "-ppn",
    "2",
    "--bind-to",
    "none",
    "-envlist",
    "LEGATE_CONFIG,PATH",
    "-hosts",
    "a,b",
  ]);
});

Deno.test("dask uses daskrun with workers per node", () => {
  assert.deepEqual(launcherCommand(mn({ launcher: "dask", ranks_per_node: 2 })), [
    "daskrun",
    "--workers-per-node",
    "2",
  ]);
});

Deno.test("isLauncherVar matches upstream's predicate cases", () => {
  for (const p of LAUNCHER_VAR_PREFIXES) {
    assert.ok(isLauncherVar(p + "abcxyz"), p);
    assert.ok(!isLauncherVar("qq" + p + "abcxyz"), p);
  }
  assert.ok(isLauncherVar("abcxyzPATH"));
  for (const no of ["abcxyzPATHqq", "PATHqq", "a123", "_ABC", "ABC_"]) {
    assert.ok(!isLauncherVar(no), no);
  }
});

Deno.test("forwardedVars is sorted and deterministic, unlike upstream's set order", () => {
  assert.deepEqual(
    forwardedVars(["PATH", "HOME", "NCCL_DEBUG", "LD_LIBRARY_PATH"], ["LEGATE_CONFIG"]),
    ["LD_LIBRARY_PATH", "LEGATE_CONFIG", "NCCL_DEBUG", "PATH"],
  );
});

Deno.test("mpiFlavorFromVersion recognises Open MPI and MPICH and nothing else", () => {
  assert.equal(mpiFlavorFromVersion("mpirun (Open MPI) 4.1.4"), "openmpi");
  assert.equal(mpiFlavorFromVersion("HYDRA build details:\n Version: 4.0"), "mpich");
  assert.equal(mpiFlavorFromVersion("Intel(R) MPI Library"), undefined);
});

Deno.test("validateMultiNode refuses several ranks without a launcher and multi-node dask", () => {
  assert.throws(() => validateMultiNode(mn({ nodes: 2 })), UsageError);
  assert.throws(() => validateMultiNode(mn({ launcher: "dask", nodes: 2 })), UsageError);
  validateMultiNode(mn({ launcher: "srun", nodes: 2 }));
});
