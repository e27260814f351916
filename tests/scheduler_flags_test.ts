// submit's scheduler flags: parsed by the project's parser, turned into a script; status lines.
import assert from "node:assert/strict";
import { parseFlags } from "../src/util/flags.ts";
import { UsageError } from "../src/util/errors.ts";
import { batchOptionsFromFlags, SCHEDULER_FLAGS } from "../src/scheduler/flags.ts";
import { renderBatchScript } from "../src/scheduler/script.ts";
import { describeJob } from "../src/scheduler/describe.ts";

const JOB = { scheduler: "slurm" as const, command: ["/bin/lj", "notebook"] };

Deno.test("scheduler flags parse into a script carrying each of them", () => {
  const parsed = parseFlags([
    "--partition=gpu",
    "--time",
    "2:00:00",
    "--nodes=2",
    "--gpus=4",
    "--gpu-flag=gres",
    "--sbatch-arg=--begin=now+1hour",
    "--sbatch-arg",
    "--comment=x y",
  ], SCHEDULER_FLAGS);
  const script = renderBatchScript(batchOptionsFromFlags(parsed.values, JOB));
  for (
    const line of [
      "#SBATCH --job-name=legate-jupyter",
      "#SBATCH --partition=gpu",
      "#SBATCH --time=2:00:00",
      "#SBATCH --nodes=2",
      "#SBATCH --gres=gpu:4",
      "#SBATCH --begin=now+1hour",
      "#SBATCH '--comment=x y'",
    ]
  ) assert.ok(script.split("\n").includes(line), `missing ${line}`);
});

Deno.test("no scheduler flags give a script with the job name only", () => {
  const parsed = parseFlags([], SCHEDULER_FLAGS);
  const script = renderBatchScript(batchOptionsFromFlags(parsed.values, JOB));
  assert.deepEqual(script.split("\n").filter((l) => l.startsWith("#SBATCH")), [
    "#SBATCH --job-name=legate-jupyter",
  ]);
});

Deno.test("a bad --gpu-flag or --nodes value is a usage error from the parser", () => {
  assert.throws(() => parseFlags(["--gpu-flag=cuda"], SCHEDULER_FLAGS), UsageError);
  assert.throws(() => parseFlags(["--nodes=0"], SCHEDULER_FLAGS), /at least 1/);
  assert.throws(() => parseFlags(["--scheduler=sge"], SCHEDULER_FLAGS), /slurm, pbs, lsf/);
});

Deno.test("describeJob says what a queued, running and ended job is doing", () => {
  const now = new Date(2026, 0, 1, 12, 0, 0);
  assert.equal(
    describeJob({
      id: "7",
      state: "PENDING",
      phase: "queued",
      reason: "Resources",
      startTime: new Date(2026, 0, 1, 12, 45, 0),
    }, now),
    "job 7 PENDING (Resources), expected to start at 12:45 (in 45 min)",
  );
  assert.equal(
    describeJob({ id: "7", state: "PENDING", phase: "queued", reason: "Priority" }, now),
    "job 7 PENDING (Priority), no start estimate yet",
  );
  assert.equal(
    describeJob(
      { id: "7", state: "RUNNING", phase: "running", nodeList: "gpu017", timeLeft: 7080 },
      now,
    ),
    "job 7 RUNNING on gpu017, 1 h 58 min left",
  );
  assert.equal(
    describeJob({ id: "7", state: "PENDING", phase: "queued", reason: "JobHeldUser" }, now),
    "job 7 PENDING (JobHeldUser), held: release it with 'scontrol release 7'",
  );
  assert.equal(
    describeJob({ id: "7", state: "CANCELLED", phase: "ended" }, now),
    "job 7 CANCELLED",
  );
  assert.match(
    describeJob({
      id: "7",
      state: "PENDING",
      phase: "queued",
      startTime: new Date(2026, 0, 3, 8, 0),
    }, now),
    /at 2026-01-03 08:00 \(in 1 d 20 h\)/,
  );
});
