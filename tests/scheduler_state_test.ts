// The per-user record of submitted jobs: private permissions, atomic writes, tolerant reads.
import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";
import {
  jobFile,
  type JobRecord,
  jobsDir,
  readJob,
  readJobs,
  removeJob,
  writeJob,
} from "../src/scheduler/jobs_state.ts";

function record(id: string, submittedAt: string): JobRecord {
  return {
    id,
    scheduler: "slurm",
    name: "legate-jupyter",
    submittedAt,
    submitHost: "login01",
    logPath: "/home/u/lj-%j.log",
  };
}

Deno.test("writeJob creates the state dirs 0700 and the record 0600, and readJob reads it back", async () => {
  await using dir = await tempDir();
  const state = join(dir.path, "state", "legate-jupyter");
  const path = await writeJob(state, record("42", "2026-01-01T00:00:00Z"));
  assert.equal(path, join(state, "jobs", "slurm-42.json"));
  assert.equal((await Deno.stat(state)).mode! & 0o777, 0o700);
  assert.equal((await Deno.stat(jobsDir(state))).mode! & 0o777, 0o700);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  const { recordedAt, ...read } = (await readJob(state, "slurm", "42"))!;
  assert.deepEqual(read, record("42", "2026-01-01T00:00:00Z"));
  // When it was written, on the file system's clock (its mtime), for matching server entries.
  assert.equal(recordedAt, (await Deno.stat(path)).mtime!.getTime());
  assert.deepEqual(
    Array.from(Deno.readDirSync(jobsDir(state))).map((e) => e.name),
    ["slurm-42.json"],
    "no temp file is left behind",
  );
});

Deno.test("writeJob tightens a state dir that an old umask left open", async () => {
  await using dir = await tempDir();
  const state = join(dir.path, "lj");
  await Deno.mkdir(join(state, "jobs"), { recursive: true, mode: 0o755 });
  await Deno.chmod(join(state, "jobs"), 0o755);
  await writeJob(state, record("7", "2026-01-01T00:00:00Z"));
  assert.equal((await Deno.stat(join(state, "jobs"))).mode! & 0o777, 0o700);
});

Deno.test("readJobs lists records oldest first and skips unreadable and foreign files", async () => {
  await using dir = await tempDir();
  const state = dir.path;
  await writeJob(state, record("2", "2026-01-02T00:00:00Z"));
  await writeJob(state, record("1", "2026-01-01T00:00:00Z"));
  await Deno.writeTextFile(join(jobsDir(state), "slurm-3.json"), "{ half");
  await Deno.writeTextFile(join(jobsDir(state), "notes.txt"), "x");
  await Deno.writeTextFile(join(jobsDir(state), "slurm-4.json.tmp-1-abcd"), "{}");
  assert.deepEqual((await readJobs(state)).map((j) => j.id), ["1", "2"]);
  assert.deepEqual(await readJobs(join(state, "missing")), []);
});

Deno.test("removeJob forgets a job, and forgetting it twice is fine", async () => {
  await using dir = await tempDir();
  await writeJob(dir.path, record("9", "2026-01-01T00:00:00Z"));
  await removeJob(dir.path, "slurm", "9");
  await removeJob(dir.path, "slurm", "9");
  assert.equal(await readJob(dir.path, "slurm", "9"), undefined);
});

Deno.test("jobFile refuses a job id that could escape the jobs directory", () => {
  for (const bad of ["../x", "a/b", "", ".hidden", "1 2"]) {
    assert.throws(() => jobFile("/s", "slurm", bad), /unexpected job id/, bad);
  }
  assert.equal(jobFile("/s", "pbs", "1234.pbs01"), "/s/jobs/pbs-1234.pbs01.json");
});
