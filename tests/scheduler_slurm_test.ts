// Against the real single-node Slurm that tests/slurm/start.sh starts. Every test skips, with
// the reason in its name, unless a controller answers and its node takes jobs (slurm_probe.ts).
import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";
import { jobStatus, sbatch, scancel, SLURM, squeue } from "../src/scheduler/slurm.ts";
import { slurmReady } from "./support/slurm_probe.ts";
import { renderBatchScript } from "../src/scheduler/script.ts";
import { waitForJob, watchJob } from "../src/scheduler/watch.ts";
import { type JobStatus, SchedulerError } from "../src/scheduler/types.ts";

// Registration needs the answer, so this one probe runs at load time.
const probe = await slurmReady();
const skip = probe.ok
  ? ""
  : ` (skipped: no Slurm here: ${probe.reason}; run tests/slurm/start.sh as root)`;

function test(name: string, fn: () => Promise<void>) {
  Deno.test({ name: name + skip, ignore: !probe.ok, fn });
}

/** A job name no other test file uses. */
function uniqueName(what: string): string {
  return `lj-test-${what}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Bounds a wait so that a broken scheduler fails the test instead of hanging it. */
const BOUND_MS = 90_000;

/** Cancels `ids` and waits until none of them is queued or running. */
async function cleanUp(ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await scancel(ids);
  for (const id of ids) {
    await waitForJob(SLURM, id, (s) => s.phase === "ended", {
      signal: AbortSignal.timeout(BOUND_MS),
    });
  }
}

/** Waits (bounded) until `check` holds. */
async function waitFor(check: () => boolean | Promise<boolean>): Promise<void> {
  const signal = AbortSignal.timeout(BOUND_MS);
  while (!signal.aborted) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting after ${BOUND_MS} ms`);
}

async function waitForFile(path: string): Promise<void> {
  await waitFor(() => Deno.lstat(path).then(() => true, () => false));
}

/** `PID: cmdline` of every process whose command line mentions `text`. */
function processesNamed(text: string): string[] {
  const found: string[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || e.name === String(Deno.pid)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      if (cmd.includes(text)) found.push(`${e.name}: ${cmd}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

test("a script rendered here runs on Slurm: squeue shows it RUNNING, then COMPLETED", async () => {
  await using dir = await tempDir();
  const started = join(dir.path, "started");
  const go = join(dir.path, "go");
  const log = join(dir.path, "job-%j.log");
  const name = uniqueName("run");
  const ids: string[] = [];
  try {
    const script = renderBatchScript({
      scheduler: "slurm",
      jobName: name,
      time: "5",
      output: log,
      workdir: dir.path,
      // Runs until the test says go, so that RUNNING is seen for certain.
      command: [
        "bash",
        "-c",
        'touch "$0"; while [ ! -e "$1" ]; do sleep 0.05; done; echo done-$2',
        started,
        go,
        name,
      ],
    });
    const sub = await sbatch(script);
    ids.push(sub.id);
    assert.match(sub.id, /^\d+$/);
    const running = await waitForJob(SLURM, sub.id, (s) => s.phase === "running", {
      signal: AbortSignal.timeout(BOUND_MS),
    });
    assert.equal(running?.state, "RUNNING");
    assert.equal(running?.name, name);
    assert.equal(running?.partition, "debug");
    assert.ok(running?.nodeList, "a running job has a node");
    assert.ok(running?.timeLeft !== undefined && running.timeLeft <= 300);
    await waitForFile(started);
    await Deno.writeTextFile(go, "");
    const done = await waitForJob(SLURM, sub.id, (s) => s.phase === "ended", {
      signal: AbortSignal.timeout(BOUND_MS),
    });
    assert.equal(done?.state, "COMPLETED");
    const text = await Deno.readTextFile(join(dir.path, `job-${sub.id}.log`));
    assert.match(text, new RegExp(`legate-jupyter: job ${sub.id} on \\S+ started`));
    assert.match(text, new RegExp(`done-${name}`));
    assert.match(text, new RegExp(`job ${sub.id} ended .* with status 0`));
  } finally {
    await cleanUp(ids);
  }
});

test("a bad partition fails at once with Slurm's own error text, verbatim", async () => {
  const partition = `nope${crypto.randomUUID().slice(0, 6)}`;
  const script = renderBatchScript({
    scheduler: "slurm",
    partition,
    command: ["true"],
    jobName: uniqueName("badpart"),
  });
  const error = await sbatch(script).then(() => undefined, (e) => e);
  assert.ok(error instanceof SchedulerError, String(error));
  assert.equal(
    error.message,
    `sbatch: error: invalid partition specified: ${partition}\n` +
      "sbatch: error: Batch job submission failed: Invalid partition name specified",
  );
  assert.equal(error.raw, true);
  assert.equal(error.status, 1);
});

test("an impossible GPU request fails with Slurm's own error, in both GPU flag forms", async () => {
  for (const gpuFlag of ["gpus", "gres"] as const) {
    const script = renderBatchScript({
      scheduler: "slurm",
      gpus: 1,
      gpuFlag,
      command: ["true"],
      jobName: uniqueName("gpu"),
    });
    const error = await sbatch(script).then(() => undefined, (e) => e);
    assert.ok(error instanceof SchedulerError, `${gpuFlag}: ${error}`);
    assert.equal(error.message, "sbatch: error: Invalid generic resource (gres) specification");
  }
});

test("a job held with --begin=now+1hour is PENDING with its reason and a start estimate; scancel ends it", async () => {
  const name = uniqueName("held");
  const ids: string[] = [];
  try {
    const script = renderBatchScript({
      scheduler: "slurm",
      jobName: name,
      extraArgs: ["--begin=now+1hour"],
      command: ["true"],
    });
    const before = Date.now();
    const sub = await sbatch(script);
    ids.push(sub.id);
    const seen: (JobStatus | undefined)[] = [];
    for await (const s of watchJob(SLURM, sub.id, { signal: AbortSignal.timeout(BOUND_MS) })) {
      seen.push(s);
      if (s?.startTime) break;
    }
    const held = seen.at(-1);
    assert.equal(held?.state, "PENDING");
    assert.equal(held?.phase, "queued");
    assert.equal(held?.reason, "BeginTime");
    assert.equal(held?.nodeList, undefined);
    assert.ok(held?.startTime, "squeue gives a start estimate");
    assert.ok(held.startTime.getTime() >= before + 55 * 60_000, held.startTime.toISOString());
    await scancel([sub.id]);
    const after = await waitForJob(SLURM, sub.id, (s) => s.phase === "ended", {
      signal: AbortSignal.timeout(BOUND_MS),
    });
    assert.equal(after?.state, "CANCELLED");
  } finally {
    await cleanUp(ids);
  }
});

test("scancel leaves nothing of the job running, and cancelling again is not an error", async () => {
  await using dir = await tempDir();
  const started = join(dir.path, "started");
  const name = uniqueName("cancel");
  const ids: string[] = [];
  try {
    const script = renderBatchScript({
      scheduler: "slurm",
      jobName: name,
      output: join(dir.path, "job.log"),
      // The sleeper carries the unique name as its argv[0], so it can be found in /proc.
      command: ["bash", "-c", 'touch "$0"; exec -a "$1" sleep 600', started, name],
    });
    const sub = await sbatch(script);
    ids.push(sub.id);
    await waitForFile(started);
    await waitFor(() => processesNamed(name).length > 0);
    assert.equal(processesNamed(name).length, 1, "the job's sleeper is running");
    await scancel([sub.id]);
    const ended = await waitForJob(SLURM, sub.id, (s) => s.phase === "ended", {
      signal: AbortSignal.timeout(BOUND_MS),
    });
    assert.equal(ended?.state, "CANCELLED");
    await scancel([sub.id]);
    assert.deepEqual(processesNamed(name), [], "nothing of the job is left");
  } finally {
    await cleanUp(ids);
  }
});

test("a hostile job name goes through sbatch's directive parser and squeue unchanged", async () => {
  const name = `lj-test a'b "c" $(touch x) ; #${crypto.randomUUID().slice(0, 6)}`;
  const ids: string[] = [];
  try {
    const script = renderBatchScript({
      scheduler: "slurm",
      jobName: name,
      extraArgs: ["--begin=now+1hour"],
      command: ["true"],
    });
    const sub = await sbatch(script);
    ids.push(sub.id);
    assert.equal((await jobStatus(sub.id))?.name, name);
  } finally {
    await cleanUp(ids);
  }
});

test("the job's log announces the time limit when the job is near its end", async () => {
  await using dir = await tempDir();
  const log = join(dir.path, "job.log");
  const ids: string[] = [];
  try {
    const script = renderBatchScript({
      scheduler: "slurm",
      jobName: uniqueName("limit"),
      time: "1",
      warnMinutes: 2,
      output: log,
      command: [
        "bash",
        "-c",
        'for i in $(seq 600); do grep -q "time limit" "$0" && exit 0; sleep 0.1; done; exit 7',
        log,
      ],
    });
    const sub = await sbatch(script);
    ids.push(sub.id);
    const done = await waitForJob(SLURM, sub.id, (s) => s.phase === "ended", {
      signal: AbortSignal.timeout(BOUND_MS),
    });
    const text = await Deno.readTextFile(log);
    assert.equal(done?.state, "COMPLETED", text);
    assert.match(text, /this job reaches its time limit in about 1 min: save your notebooks/);
  } finally {
    await cleanUp(ids);
  }
});

test("squeue reports several jobs at once and leaves out ids Slurm does not know", async () => {
  const ids: string[] = [];
  try {
    for (const what of ["multi-a", "multi-b"]) {
      const script = renderBatchScript({
        scheduler: "slurm",
        jobName: uniqueName(what),
        extraArgs: ["--begin=now+1hour"],
        command: ["true"],
      });
      ids.push((await sbatch(script)).id);
    }
    const jobs = await squeue([...ids, "99999999"]);
    assert.deepEqual([...jobs.keys()].sort(), [...ids].sort());
    assert.equal(await jobStatus("99999999"), undefined);
  } finally {
    await cleanUp(ids);
  }
});
