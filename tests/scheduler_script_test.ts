// Batch scripts rendered from kernels/batch/: syntax, quoting of hostile values, validation.
import assert from "node:assert/strict";
import { join } from "node:path";
import { run, tempDir } from "./helpers.ts";
import { type BatchOptions, fillTemplate, renderBatchScript } from "../src/scheduler/script.ts";
import { parseSlurmDuration } from "../src/scheduler/time.ts";
import { type SchedulerName, SCHEDULERS } from "../src/scheduler/types.ts";
import { UsageError } from "../src/util/errors.ts";

const ENV = { PATH: "/usr/local/bin:/usr/bin:/bin", LANG: "C.UTF-8" };
const SELF = ["/opt/legate jupyter/bin/legate-jupyter"];

/** Values a careless script would execute or split. */
const HOSTILE = [
  "$(touch pwned1)",
  "`touch pwned2`",
  "; touch pwned3",
  "a'b",
  'a"b',
  "x\ny",
  "$HOME",
  "*",
  "--flag=1 2",
  "",
  "&& touch pwned4 #",
];
/** The same, minus what a directive line cannot hold (newline, empty). */
const HOSTILE_DIRECTIVE = 'a\'b $(touch pwned1) `touch pwned2`; touch pwned3 "q" #hash *';

const MIXES: Omit<BatchOptions, "scheduler">[] = [
  { command: [...SELF, "notebook"] },
  {
    command: [...SELF, "notebook", "--port", "0"],
    partition: "gpu",
    account: "proj1",
    time: "1-02:00:00",
    nodes: 2,
    ntasksPerNode: 4,
    cpusPerTask: 8,
    mem: "64G",
    gpus: 4,
    jobName: "my notebook",
    extraArgs: ["--begin=now+1hour", "--comment=two words"],
    output: "/tmp/lj logs/%j.log",
    workdir: "/tmp/a dir",
    preStep: [...SELF, "install", "--auto", "--replace", "--name", "legate-job"],
    warnMinutes: 5,
  },
  { command: ["/usr/bin/deno", "run", "-A", "/x/mod.ts", "notebook", ...HOSTILE], time: "30" },
];

async function bashN(script: string): Promise<{ code: number; stderr: string }> {
  return await run(["bash", "-n"], { env: ENV, stdin: script });
}

Deno.test("renderBatchScript output passes bash -n for every scheduler and option mix", async () => {
  for (const scheduler of SCHEDULERS) {
    for (const [i, mix] of MIXES.entries()) {
      const opts = scheduler === "slurm" ? { ...mix, qos: "high", constraint: "a100" } : mix;
      const script = renderBatchScript({ scheduler, ...opts });
      assert.ok(script.startsWith("#!/bin/bash\n"), `${scheduler} mix ${i} has a shebang`);
      assert.doesNotMatch(script, /\{\{|\}\}/, "no placeholder left");
      const r = await bashN(script);
      assert.equal(r.code, 0, `${scheduler} mix ${i}: ${r.stderr}`);
    }
  }
});

Deno.test("hostile values in the command and pre-step reach the program verbatim and run nothing", async () => {
  await using dir = await tempDir();
  const script = renderBatchScript({
    scheduler: "slurm",
    command: ["printf", "<%s>\\n", ...HOSTILE],
    preStep: ["printf", "pre<%s>\\n", ...HOSTILE],
  });
  const r = await run(["bash", "-c", script], {
    env: { ...ENV, HOME: "/nonexistent" },
    cwd: dir.path,
  });
  assert.equal(r.code, 0, r.stderr);
  const expected = HOSTILE.map((v) => `<${v}>`).join("\n");
  assert.ok(r.stdout.includes(expected), r.stdout);
  assert.ok(r.stdout.includes(HOSTILE.map((v) => `pre<${v}>`).join("\n")), r.stdout);
  assert.deepEqual(Array.from(Deno.readDirSync(dir.path)), [], "no file was created");
});

Deno.test("hostile directive values read back exactly through shell quoting, for every scheduler", async () => {
  await using dir = await tempDir();
  for (const scheduler of SCHEDULERS) {
    const script = renderBatchScript({
      scheduler,
      command: ["true"],
      jobName: HOSTILE_DIRECTIVE,
      extraArgs: [HOSTILE_DIRECTIVE],
      output: HOSTILE_DIRECTIVE,
    });
    const prefix = { slurm: "#SBATCH ", pbs: "#PBS ", lsf: "#BSUB " }[scheduler];
    const lines = script.split("\n").filter((l) => l.startsWith(prefix));
    // Each directive's words, as a shell reads them: printf shows every word in brackets.
    const probe = lines.map((l) => `printf '[%s]\\n' ${l.slice(prefix.length)}`).join("\n");
    const r = await run(["bash", "-c", probe], { env: ENV, cwd: dir.path });
    assert.equal(r.code, 0, r.stderr);
    const words = r.stdout.trimEnd().split("\n");
    const name = { slurm: `[--job-name=${HOSTILE_DIRECTIVE}]`, pbs: `[${HOSTILE_DIRECTIVE}]` }[
      scheduler as "slurm" | "pbs"
    ] ?? `[${HOSTILE_DIRECTIVE}]`;
    assert.ok(words.includes(name), `${scheduler}: ${r.stdout}`);
    assert.equal(words.filter((w) => w === `[${HOSTILE_DIRECTIVE}]`).length >= 1, true);
    assert.deepEqual(Array.from(Deno.readDirSync(dir.path)), [], `${scheduler}: nothing ran`);
  }
});

Deno.test("directive values with a newline, control character or backslash are refused naming the flag", () => {
  const cases: [Partial<BatchOptions>, RegExp][] = [
    [{ jobName: "a\n#SBATCH --wrap=x" }, /--job-name/],
    [{ partition: "debug\ntouch x" }, /--partition/],
    [{ extraArgs: ["--comment=a\\nb"] }, /--sbatch-arg/],
    [{ account: "a\x07" }, /--account/],
    [{ output: "/tmp/x\ry" }, /--output/],
    [{ partition: "two words" }, /--partition takes one word/],
    [{ jobName: "" }, /--job-name needs a non-empty value/],
  ];
  for (const [opts, pattern] of cases) {
    assert.throws(
      () => renderBatchScript({ scheduler: "slurm", command: ["true"], ...opts }),
      (e: unknown) => e instanceof UsageError && pattern.test(e.message),
      JSON.stringify(opts),
    );
  }
});

Deno.test("--time, --mem and counts are checked before anything is written", () => {
  const bad: [Partial<BatchOptions>, RegExp][] = [
    [{ time: "bogus" }, /--time takes minutes/],
    [{ time: "-1" }, /--time takes/],
    [{ mem: "lots" }, /--mem takes a size/],
    [{ nodes: 0 }, /--nodes must be at least 1/],
    [{ cpusPerTask: -1 }, /--cpus-per-task must be at least 1/],
  ];
  for (const [opts, pattern] of bad) {
    assert.throws(
      () => renderBatchScript({ scheduler: "slurm", command: ["true"], ...opts }),
      (e: unknown) => e instanceof UsageError && pattern.test(e.message),
      JSON.stringify(opts),
    );
  }
});

Deno.test("Slurm-only options are refused for PBS and LSF with a pointer to --sbatch-arg", () => {
  for (const scheduler of ["pbs", "lsf"] as const) {
    for (const opts of [{ qos: "high" }, { constraint: "a100" }, { reservation: "r1" }]) {
      assert.throws(
        () => renderBatchScript({ scheduler, command: ["true"], ...opts }),
        (e: unknown) =>
          e instanceof UsageError && /Slurm-only/.test(e.message) &&
          /--sbatch-arg/.test(e.message),
      );
    }
  }
});

Deno.test("Slurm GPU requests are written as --gpus, --gpus-per-node on several nodes, or --gres=gpu:N", () => {
  const base = { scheduler: "slurm" as const, command: ["true"], gpus: 2 };
  assert.match(renderBatchScript(base), /^#SBATCH --gpus=2$/m);
  // A job-wide --gpus=6 could land as 4+1+1; the flag means GPUs on each node.
  const three = renderBatchScript({ ...base, nodes: 3 });
  assert.match(three, /^#SBATCH --gpus-per-node=2$/m);
  assert.doesNotMatch(three, /--gpus=/);
  const gres = renderBatchScript({ ...base, nodes: 3, gpuFlag: "gres" });
  assert.match(gres, /^#SBATCH --gres=gpu:2$/m);
  assert.doesNotMatch(gres, /--gpus=/);
  assert.doesNotMatch(renderBatchScript({ ...base, gpus: 0 }), /gpu/i);
});

Deno.test("Slurm directives carry every option, in sbatch's own syntax", () => {
  const s = renderBatchScript({ scheduler: "slurm", ...MIXES[1], qos: "high", constraint: "a100" });
  for (
    const line of [
      "#SBATCH --job-name='my notebook'",
      "#SBATCH --partition=gpu",
      "#SBATCH --account=proj1",
      "#SBATCH --qos=high",
      "#SBATCH --time=1-02:00:00",
      "#SBATCH --nodes=2",
      "#SBATCH --ntasks-per-node=4",
      "#SBATCH --cpus-per-task=8",
      "#SBATCH --mem=64G",
      "#SBATCH --gpus-per-node=4",
      "#SBATCH --constraint=a100",
      "#SBATCH --output='/tmp/lj logs/%j.log'",
      "#SBATCH --chdir='/tmp/a dir'",
      "#SBATCH --begin=now+1hour",
      "#SBATCH '--comment=two words'",
    ]
  ) assert.ok(s.split("\n").includes(line), `missing ${line}\n${s}`);
  // sbatch stops reading directives at the first command: they must all come first.
  const firstCommand = s.split("\n").findIndex((l, i) => i > 0 && l !== "" && !l.startsWith("#"));
  assert.ok(s.split("\n").slice(firstCommand).every((l) => !l.startsWith("#SBATCH")));
});

Deno.test("PBS and LSF scripts carry resources in their own syntax (text only, fake schedulers)", () => {
  const pbs = renderBatchScript({ scheduler: "pbs", ...MIXES[1] });
  for (
    const line of [
      "#PBS -N 'my notebook'",
      "#PBS -q gpu",
      "#PBS -A proj1",
      "#PBS -l walltime=26:00:00",
      "#PBS -l select=2:ncpus=32:mpiprocs=4:ngpus=4:mem=64gb",
      "#PBS -l place=scatter",
      "#PBS -j oe",
    ]
  ) assert.ok(pbs.split("\n").includes(line), `missing ${line}\n${pbs}`);
  assert.match(pbs, /^lj_limit=93600$/m);
  const lsf = renderBatchScript({ scheduler: "lsf", ...MIXES[1] });
  for (
    const line of [
      "#BSUB -J 'my notebook'",
      "#BSUB -q gpu",
      "#BSUB -P proj1",
      "#BSUB -W 26:00",
      "#BSUB -n 64",
      "#BSUB -R 'span[ptile=32]'",
      "#BSUB -R 'rusage[mem=2048MB]'",
      "#BSUB -gpu num=4",
      "#BSUB -cwd '/tmp/a dir'",
    ]
  ) assert.ok(lsf.split("\n").includes(line), `missing ${line}\n${lsf}`);
  assert.match(
    renderBatchScript({ scheduler: "lsf", command: ["true"] }),
    /^#BSUB -o legate-jupyter-%J\.log$/m,
  );
});

Deno.test("the script's lj_duration agrees with parseSlurmDuration on every form", async () => {
  const script = renderBatchScript({ scheduler: "slurm", command: ["true"] });
  const fn = /^lj_duration\(\) \{[\s\S]*?^\}$/m.exec(script)?.[0];
  assert.ok(fn, "lj_duration is in the script");
  const forms = [
    "90",
    "29:59",
    "1:02:03",
    "2-00",
    "1-02:30",
    "1-02:03:04",
    "08:09",
    "UNLIMITED",
    "N/A",
    "",
  ];
  const probe = `${fn}\nfor t in "$@"; do echo "[$(lj_duration "$t")]"; done`;
  const r = await run(["bash", "-c", probe, "probe", ...forms], { env: ENV });
  assert.equal(r.code, 0, r.stderr);
  const expected = forms.map((f) => {
    const s = parseSlurmDuration(f);
    return `[${s === undefined || s === Infinity ? "" : s}]`;
  });
  assert.deepEqual(r.stdout.trimEnd().split("\n"), expected);
});

Deno.test("the time-limit watcher announces the end in the job's log when little time is left (fake squeue)", async () => {
  await using dir = await tempDir();
  const bin = join(dir.path, "bin");
  await Deno.mkdir(bin);
  // A squeue that reports 4 minutes left for the job.
  await Deno.writeTextFile(join(bin, "squeue"), "#!/bin/sh\necho 4:00\n", { mode: 0o755 });
  const log = join(dir.path, "job.log");
  const script = renderBatchScript({
    scheduler: "slurm",
    warnMinutes: 10,
    // The job's work: wait (bounded) until the watcher has written its line.
    command: [
      "bash",
      "-c",
      'for i in $(seq 400); do grep -q "time limit" "$0" && exit 0; sleep 0.05; done; exit 7',
      log,
    ],
  });
  const r = await run(["bash", "-c", 'bash -c "$0" >"$1" 2>&1', script, log], {
    env: { ...ENV, PATH: `${bin}:${ENV.PATH}`, SLURM_JOB_ID: "42" },
  });
  const text = await Deno.readTextFile(log);
  assert.equal(r.code, 0, text);
  assert.match(text, /this job reaches its time limit in about 4 min/);
  assert.match(text, /job 42 ended .* with status 0/);
});

Deno.test("a failing pre-step stops the job before the command runs, with a message", async () => {
  const script = renderBatchScript({
    scheduler: "slurm",
    preStep: ["false"],
    command: ["echo", "SHOULD-NOT-RUN"],
  });
  const r = await run(["bash", "-c", script], { env: ENV });
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stdout, /SHOULD-NOT-RUN/);
  assert.match(r.stderr, /preparing the kernel failed/);
});

Deno.test("fillTemplate fills placeholders once and refuses a missing one", () => {
  assert.equal(fillTemplate("a {{X}} b", { X: "{{Y}}" }), "a {{Y}} b");
  assert.throws(() => fillTemplate("{{MISSING}}", {}), /MISSING/);
});

Deno.test("--time 0 and --mem 0 mean Slurm's no limit and all of a node's memory", () => {
  const s = renderBatchScript({ scheduler: "slurm", command: ["true"], time: "0", mem: "0" });
  assert.match(s, /^#SBATCH --time=0$/m);
  assert.match(s, /^#SBATCH --mem=0$/m);
  // No limit: PBS writes no walltime.
  assert.doesNotMatch(
    renderBatchScript({ scheduler: "pbs", command: ["true"], time: "0" }),
    /^#PBS -l walltime/m,
  );
  assert.throws(
    () => renderBatchScript({ scheduler: "pbs", command: ["true"], mem: "0" }),
    (e: unknown) =>
      e instanceof UsageError && /--mem 0 .* is Slurm's; give a size for PBS/.test(e.message),
  );
});

Deno.test("--sbatch-arg may not override the log, name or directory submit follows", () => {
  const cases: [SchedulerName, string, RegExp][] = [
    ["slurm", "--output=/tmp/x.log", /--output is set by submit itself.*use submit's --output/],
    ["slurm", "-J other", /-J is set by submit itself.*use submit's --job-name/],
    ["slurm", "--chdir=/tmp", /use submit's --notebook-dir/],
    ["slurm", "--error=/tmp/e", /use submit's --output/],
    ["pbs", "-N other", /use submit's --job-name/],
    ["lsf", "-cwd /tmp", /use submit's --notebook-dir/],
  ];
  for (const [scheduler, arg, pattern] of cases) {
    assert.throws(
      () => renderBatchScript({ scheduler, command: ["true"], extraArgs: [arg] }),
      (e: unknown) => e instanceof UsageError && pattern.test(e.message),
      `${scheduler} ${arg}`,
    );
  }
});

Deno.test("A pass-through '-x value' becomes two directive words; '--x=v w' stays one", () => {
  const pbs = renderBatchScript({
    scheduler: "pbs",
    command: ["true"],
    extraArgs: ["-l place=excl", "-V"],
  });
  assert.match(pbs, /^#PBS -l place=excl$/m);
  assert.match(pbs, /^#PBS -V$/m);
  const lsf = renderBatchScript({
    scheduler: "lsf",
    command: ["true"],
    extraArgs: ["-R select[a100]"],
  });
  assert.match(lsf, /^#BSUB -R 'select\[a100\]'$/m);
  const slurm = renderBatchScript({
    scheduler: "slurm",
    command: ["true"],
    extraArgs: ["--comment=two words"],
  });
  assert.match(slurm, /^#SBATCH '--comment=two words'$/m);
});

Deno.test("The end of a job is announced 10 minutes before its limit, or halfway through a shorter one", () => {
  const warnAt = (time: string) =>
    /if \[ "\$left" -le (\d+) \]/.exec(
      renderBatchScript({ scheduler: "slurm", command: ["true"], time }),
    )?.[1];
  assert.equal(warnAt("2:00:00"), "600");
  assert.equal(warnAt("10"), "300");
  assert.equal(warnAt("1"), "60");
});
