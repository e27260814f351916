// Parsers of what sbatch/squeue (recorded on the test Slurm), qsub/qstat and bsub/bjobs print.
import assert from "node:assert/strict";
import {
  formatHms,
  formatSlurmDuration,
  humanDuration,
  parseSlurmDuration,
  parseSlurmTimestamp,
} from "../src/scheduler/time.ts";
import {
  isUnknownJobError,
  parseSbatchParsable,
  parseSbatchResult,
  parseSqueue,
  slurmPhase,
} from "../src/scheduler/slurm_parse.ts";
import { parsePbsDate, parseQstatFull, parseQsub, pbsPhase } from "../src/scheduler/pbs.ts";
import { parseBjobs, parseBsub, parseLsfDate, parseLsfTimeLeft } from "../src/scheduler/lsf.ts";
import { detectScheduler, schedulerFor } from "../src/scheduler/scheduler.ts";
import { SchedulerError } from "../src/scheduler/types.ts";

Deno.test("parseSlurmDuration reads every form Slurm writes for --time and %L", () => {
  assert.equal(parseSlurmDuration("90"), 90 * 60);
  assert.equal(parseSlurmDuration("29:59"), 29 * 60 + 59);
  assert.equal(parseSlurmDuration("1:02:03"), 3723);
  assert.equal(parseSlurmDuration("2-00"), 2 * 86400);
  assert.equal(parseSlurmDuration("1-02:30"), 86400 + 2 * 3600 + 30 * 60);
  assert.equal(parseSlurmDuration("1-02:03:04"), 86400 + 7384);
  assert.equal(parseSlurmDuration("08:09"), 8 * 60 + 9);
  assert.equal(parseSlurmDuration("UNLIMITED"), Infinity);
  assert.equal(parseSlurmDuration("INFINITE"), Infinity);
  for (const word of ["N/A", "NOT_SET", "INVALID", "", "1:2:3:4", "abc", "-5"]) {
    assert.equal(parseSlurmDuration(word), undefined, word);
  }
});

Deno.test("formatSlurmDuration writes what parseSlurmDuration reads back", () => {
  for (const s of [0, 59, 61, 3600, 3723, 86400, 90061]) {
    assert.equal(parseSlurmDuration(formatSlurmDuration(s)), s);
  }
  assert.equal(formatSlurmDuration(90061), "1-01:01:01");
  assert.equal(formatSlurmDuration(Infinity), "UNLIMITED");
  assert.equal(formatHms(90061), "25:01:01");
  assert.equal(humanDuration(45), "45s");
  assert.equal(humanDuration(3723), "1 h 02 min");
  assert.equal(humanDuration(Infinity), "no limit");
});

Deno.test("parseSlurmTimestamp reads local ISO times and refuses N/A and Unknown", () => {
  const d = parseSlurmTimestamp("2026-11-25T23:12:41");
  assert.ok(d);
  assert.deepEqual(
    [d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes()],
    [2026, 10, 25, 23, 12],
  );
  assert.equal(parseSlurmTimestamp("N/A"), undefined);
  assert.equal(parseSlurmTimestamp("Unknown"), undefined);
});

Deno.test("parseSbatchParsable reads JOBID and JOBID;CLUSTER and refuses other text", () => {
  assert.deepEqual(parseSbatchParsable("17\n"), { id: "17" });
  assert.deepEqual(parseSbatchParsable("17;ljtest\n"), { id: "17", cluster: "ljtest" });
  assert.equal(parseSbatchParsable("Submitted batch job 17\n"), undefined);
  assert.equal(parseSbatchParsable(""), undefined);
  assert.deepEqual(parseSbatchResult("5\n", "sbatch: warning: x\n"), {
    id: "5",
    warnings: ["sbatch: warning: x"],
  });
});

// Recorded on the test Slurm with `squeue -h -t all -j 2,3,4 -o SQUEUE_FORMAT`.
const SQUEUE = [
  "4|COMPLETED|None|vm|30:00|30:00|2026-11-25T22:12:42|debug|rec-done",
  "3|PENDING|BeginTime||30:00|30:00|2026-11-25T23:12:41|debug|rec-pend",
  "2|RUNNING|None|vm|29:59|30:00|2026-11-25T22:12:42|debug|rec|run",
  "",
].join("\n");

Deno.test("parseSqueue reads pending, running and completed jobs from recorded output", () => {
  const jobs = parseSqueue(SQUEUE);
  assert.equal(jobs.size, 3);
  const pending = jobs.get("3")!;
  assert.equal(pending.phase, "queued");
  assert.equal(pending.reason, "BeginTime");
  assert.equal(pending.nodeList, undefined);
  assert.equal(pending.startTime?.getHours(), 23);
  const running = jobs.get("2")!;
  assert.deepEqual(
    [running.state, running.phase, running.nodeList, running.timeLeft, running.timeLimit],
    ["RUNNING", "running", "vm", 29 * 60 + 59, 1800],
  );
  assert.equal(running.reason, undefined);
  assert.equal(running.name, "rec|run", "a name holding the separator survives");
  const done = jobs.get("4")!;
  assert.equal(done.phase, "ended");
  assert.equal(done.timeLeft, undefined, "time left means nothing once the job has ended");
});

Deno.test("parseSqueue skips malformed lines instead of inventing jobs", () => {
  assert.equal(parseSqueue("slurm_load_jobs error: Invalid job id specified\n").size, 0);
  assert.equal(parseSqueue("x|RUNNING|None|vm|1:00|1:00|N/A|debug|n\n").size, 0);
  assert.ok(isUnknownJobError("slurm_load_jobs error: Invalid job id specified"));
});

Deno.test("slurmPhase maps every Slurm state word to queued, running or ended", () => {
  for (const s of ["PENDING", "CONFIGURING", "REQUEUED"]) assert.equal(slurmPhase(s), "queued");
  for (const s of ["RUNNING", "COMPLETING", "SUSPENDED"]) assert.equal(slurmPhase(s), "running");
  for (const s of ["COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"]) {
    assert.equal(slurmPhase(s), "ended");
  }
  assert.equal(slurmPhase("CANCELLED by 0"), "ended");
});

Deno.test("SchedulerError keeps the scheduler's stderr verbatim and unprefixed", () => {
  const text = "sbatch: error: invalid partition specified: nope\n" +
    "sbatch: error: Batch job submission failed: Invalid partition name specified\n";
  const e = new SchedulerError("sbatch", 1, text);
  assert.equal(e.message, text.trim());
  assert.equal(e.raw, true);
  assert.equal(e.exitCode, 1);
  const silent = new SchedulerError("sbatch", 255, "");
  assert.match(silent.message, /sbatch failed with exit status 255/);
  assert.equal(silent.raw, false);
});

// Fake PBS output (PBS cannot run here), shaped after PBS Pro's `qstat -x -f`.
const QSTAT = `Job Id: 1234.pbs01
    Job_Name = legate-jupyter
    Job_Owner = alice@login01
    job_state = R
    queue = workq
    exec_host = node01/0*8+node02/0*8
    Resource_List.walltime = 01:00:00
    resources_used.walltime = 00:10:05
    stime = Wed Nov 25 23:00:00 2026
    comment = Job run at Wed Nov 25 at 23:00 on (node01:ncpus=8)+(node02:n
\tcpus=8)

Job Id: 1235.pbs01
    Job_Name = lj queued
    job_state = Q
    queue = workq
    Resource_List.walltime = 00:30:00
    estimated.start_time = Thu Nov 26 01:30:00 2026
    comment = Not Running: Insufficient amount of resource: ngpus
`;

Deno.test("parseQstatFull reads running and queued jobs from fake qstat -f text", () => {
  const jobs = parseQstatFull(QSTAT);
  const r = jobs.get("1234.pbs01")!;
  assert.deepEqual([r.phase, r.nodeList, r.timeLimit, r.timeLeft], [
    "running",
    "node01,node02",
    3600,
    3600 - 605,
  ]);
  assert.equal(r.reason, "Job run at Wed Nov 25 at 23:00 on (node01:ncpus=8)+(node02:ncpus=8)");
  const q = jobs.get("1235.pbs01")!;
  assert.equal(q.phase, "queued");
  assert.equal(q.name, "lj queued");
  assert.equal(q.reason, "Not Running: Insufficient amount of resource: ngpus");
  assert.equal(q.startTime?.getHours(), 1);
  assert.equal(pbsPhase("H"), "queued");
  assert.equal(pbsPhase("F"), "ended");
  assert.equal(parsePbsDate("nonsense"), undefined);
});

Deno.test("parseQsub reads the job id from fake qsub output and refuses errors", () => {
  assert.equal(parseQsub("1234.pbs01\n"), "1234.pbs01");
  assert.equal(parseQsub("1234[].pbs01\n"), "1234[].pbs01");
  assert.equal(parseQsub("qsub: Unknown queue\n"), undefined);
});

Deno.test("parseBsub and parseBjobs read fake LSF output", () => {
  assert.deepEqual(parseBsub("Job <5678> is submitted to default queue <normal>.\n"), {
    id: "5678",
    queue: "normal",
  });
  assert.equal(parseBsub("Queue does not exist. Job not submitted.\n"), undefined);
  const jobs = parseBjobs(
    "5678|RUN|4*hostA:4*hostB|-|Nov 25 23:00|1:58 L|normal|lj|x\n" +
      "5679|PEND|-|Job's resource requirements not satisfied|-|-|gpu|legate-jupyter\n",
  );
  const run = jobs.get("5678")!;
  assert.deepEqual([run.phase, run.nodeList, run.timeLeft, run.name], [
    "running",
    "hostA,hostB",
    118 * 60,
    "lj|x",
  ]);
  assert.equal(run.startTime?.getMonth(), 10);
  const pend = jobs.get("5679")!;
  assert.equal(pend.phase, "queued");
  assert.equal(pend.reason, "Job's resource requirements not satisfied");
  assert.equal(pend.nodeList, undefined);
  assert.equal(parseLsfTimeLeft("-"), undefined);
  assert.equal(parseLsfDate("Nov 25 23:00:05 2026")?.getSeconds(), 5);
});

Deno.test("detectScheduler picks Slurm first, then PBS, then LSF, from what is on PATH", () => {
  assert.equal(detectScheduler((c) => c === "bsub" || c === "qsub"), "pbs");
  assert.equal(detectScheduler((c) => c === "bsub"), "lsf");
  assert.equal(detectScheduler(() => true), "slurm");
  assert.equal(detectScheduler(() => false), undefined);
  assert.equal(schedulerFor("lsf").name, "lsf");
});
