/**
 * The trust model's pieces on their own: which PIDs may be signalled, which files and
 * directories may be believed, field checks of server and job records, kernel names, `--`,
 * and file-system errors by cause. (The same rules end to end, as an ordinary user:
 * fault_injection_test.ts.)
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";
import { sampleRecord } from "./support/records.ts";
import { isJupyterArgv, isSupervisorArgv, verifyProcess } from "../src/state/trust.ts";
import { checkPrivateDir, entryProblem } from "../src/os/private.ts";
import { checkFields, integer, optional, text } from "../src/util/validate.ts";
import {
  parseServerRecord,
  readServers,
  type ServerRecord,
  writeServer,
} from "../src/state/servers.ts";
import { isJobId, parseJobRecord } from "../src/scheduler/jobs_state.ts";
import { kernelDirPath, kernelNameProblem } from "../src/kernelspec/store.ts";
import { parseFlags } from "../src/util/flags.ts";
import { Failure, UsageError } from "../src/util/errors.ts";
import { explainFsError, fsCause } from "../src/util/fs_errors.ts";
import { reportOf } from "../src/util/report.ts";
import { printable } from "../src/util/printable.ts";
import { currentSelf, procInfo } from "../src/os/proc.ts";

const anything = () => true;

function errorOf(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}

Deno.test("verifyProcess refuses PID 1, 0, negative and non-numbers, this process and its parent", () => {
  for (const pid of [1, 0, -1, -4242, 1.5, "42", null, undefined]) {
    const v = verifyProcess({ pid, start: 1, what: "x", matches: anything });
    assert.equal(v.kind, "refused", String(pid));
  }
  for (const pid of [Deno.pid, Deno.ppid]) {
    const start = procInfo(pid)?.start;
    const v = verifyProcess({ pid, start, what: "x", matches: anything });
    assert.deepEqual(v.kind, "refused");
    assert.match((v as { reason: string }).reason, /is this command or its parent/);
  }
});

Deno.test("verifyProcess: a live process needs its recorded start time and a matching command line; a reused PID is gone", async () => {
  await using tmp = await tempDir();
  const script = join(tmp.path, "fake-server");
  await Deno.writeTextFile(script, "#!/bin/sh\nwhile :; do sleep 1; done\n", { mode: 0o755 });
  const args = ["--port=4321", "--port-retries=0", `--notebook-dir=${tmp.path}`];
  const child = new Deno.Command(script, { args, stdout: "null", stderr: "null" }).spawn();
  try {
    // Until the child has exec'd, its command line is this process's (seen on a loaded machine).
    for (let i = 0; i < 500; i++) {
      if (Deno.readTextFileSync(`/proc/${child.pid}/cmdline`).includes(script)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const start = procInfo(child.pid)!.start;
    const entry = { port: 4321, notebookDir: tmp.path };
    const claim = (over: object) => ({
      pid: child.pid,
      start,
      what: "the Jupyter",
      matches: (argv: readonly string[]) => isJupyterArgv(argv, entry),
      ...over,
    });
    assert.equal(verifyProcess(claim({})).kind, "verified");
    const noStart = verifyProcess(claim({ start: undefined }));
    assert.equal(noStart.kind, "refused");
    assert.match((noStart as { reason: string }).reason, /records no start time/);
    assert.equal(verifyProcess(claim({ start: start + 1 })).kind, "gone", "a reused PID");
    const other = verifyProcess(claim({
      matches: (argv: readonly string[]) => isJupyterArgv(argv, { ...entry, port: 4322 }),
    }));
    assert.equal(other.kind, "refused");
    assert.match((other as { reason: string }).reason, /runs '.*fake-server --port=4321/);
    const notUs = verifyProcess(claim({}), { ...currentSelf(), uid: currentSelf().uid + 1 });
    assert.match((notUs as { reason: string }).reason, /runs as uid \d+, not as you/);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
  const gone = verifyProcess({ pid: child.pid, start: 5, what: "x", matches: anything });
  assert.equal(gone.kind, "gone");
});

Deno.test("isSupervisorArgv knows a notebook or lab command, compiled or from source", () => {
  assert.ok(isSupervisorArgv(["/usr/bin/deno", "run", "-A", "/x/mod.ts", "notebook", "--json"]));
  assert.ok(isSupervisorArgv(["/home/me/bin/legate-jupyter", "lab"]));
  assert.ok(!isSupervisorArgv(["sleep", "600"]));
});

Deno.test("entryProblem believes only the user's own regular 0600 files", () => {
  const self = { uid: 1000, pid: 1, ppid: 1 };
  const file = { isFile: true, isSymlink: false, uid: 1000, mode: 0o100600 } as Deno.FileInfo;
  assert.equal(entryProblem(file, self), undefined);
  assert.match(entryProblem({ ...file, uid: 0 }, self)!, /owned by uid 0, not by you/);
  assert.match(entryProblem({ ...file, mode: 0o100644 }, self)!, /mode 0644, not 0600/);
  assert.match(entryProblem({ ...file, isSymlink: true, isFile: false }, self)!, /link/);
  assert.match(entryProblem({ ...file, isFile: false }, self)!, /not a regular file/);
});

Deno.test("checkPrivateDir tightens the user's own readable dir and refuses one others may write in", async () => {
  await using tmp = await tempDir();
  const dir = join(tmp.path, "s");
  await Deno.mkdir(dir);
  await Deno.chmod(dir, 0o755);
  await checkPrivateDir(dir);
  assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
  await Deno.chmod(dir, 0o777);
  await assert.rejects(checkPrivateDir(dir), /others may write in it \(mode 0777\).*chmod 700/);
  await assert.rejects(
    checkPrivateDir(dir, { ...currentSelf(), uid: currentSelf().uid + 1 }),
    /belongs to uid \d+, not to you/,
  );
});

Deno.test("checkFields names the first field that is missing or of the wrong type; null means absent", () => {
  const rules = { a: text(true), n: integer(1, 9), o: optional(text()) };
  assert.equal(checkFields({ a: "x", n: 3, o: null }, rules), undefined);
  assert.equal(checkFields({ n: 3 }, rules), 'field "a" is missing');
  assert.equal(checkFields({ a: "", n: 3 }, rules), 'field "a" is "", not a non-empty string');
  assert.equal(
    checkFields({ a: "x", n: "3" }, rules),
    'field "n" is "3", not a whole number from 1 to 9',
  );
  assert.equal(checkFields({ a: "x", n: 3, o: 5 }, rules), 'field "o" is 5, not a string');
  assert.equal(checkFields([1], rules), "not a JSON object");
  assert.equal(checkFields(null, rules), "not a JSON object");
});

const GOOD: ServerRecord = sampleRecord({ pidStart: 99 });

Deno.test("parseServerRecord checks every field a reader uses, and the id against the file's", () => {
  assert.deepEqual(parseServerRecord(GOOD, GOOD.id), GOOD);
  assert.deepEqual(parseServerRecord({ ...GOOD, kernel: null, extra: 1 }, GOOD.id), {
    ...GOOD,
    extra: 1,
  });
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ startedAt: undefined }, /"startedAt" is missing/],
    [{ startedAt: 5 }, /"startedAt" is 5, not an ISO 8601 time/],
    [{ baseUrl: undefined }, /"baseUrl" is missing/],
    [{ baseUrl: "javascript:x" }, /"baseUrl" .* not an http URL/],
    [{ port: "8888" }, /"port" is "8888"/],
    [{ port: 70000 }, /"port" is 70000/],
    [{ pid: -1 }, /"pid" is -1/],
    [{ pidStart: "99" }, /"pidStart"/],
    [{ app: "bash" }, /"app" is "bash"/],
    [{ state: "done" }, /"state" is "done"/],
    [{ id: "../x" }, /"id" is "..\/x"/],
  ];
  for (const [over, why] of bad) {
    assert.match(parseServerRecord({ ...GOOD, ...over }, GOOD.id) as string, why);
  }
  assert.match(parseServerRecord(GOOD, "0000beef") as string, /not its file's/);
});

Deno.test("readServers drops what does not hold, reports each file once with its path, and keeps the rest", async () => {
  await using tmp = await tempDir();
  await writeServer(tmp.path, GOOD);
  const servers = join(tmp.path, "servers");
  await Deno.writeTextFile(join(servers, "0000bad1.json"), "{", { mode: 0o600 });
  await Deno.writeTextFile(
    join(servers, "0000bad2.json"),
    JSON.stringify({ ...GOOD, id: "0000bad2", port: "x" }),
    {
      mode: 0o600,
    },
  );
  await Deno.writeTextFile(
    join(servers, "0000bad3.json"),
    JSON.stringify({ ...GOOD, id: "0000bad3" }),
  );
  await Deno.chmod(join(servers, "0000bad3.json"), 0o644);
  await Deno.writeTextFile(join(servers, "x.json.tmp-1-abcd"), "{");
  const problems: string[] = [];
  const read = await readServers(tmp.path, {
    onProblem: (p) => problems.push(`${p.path}: ${p.problem}`),
  });
  assert.deepEqual(read.map((s) => s.record.id), [GOOD.id]);
  assert.deepEqual(problems.sort().map((p) => p.replace(/ \(.*\)$/, "")), [
    `${servers}/0000bad1.json: not JSON`,
    `${servers}/0000bad2.json: field "port" is "x", not a whole number from 1 to 65535`,
    `${servers}/0000bad3.json: mode 0644, not 0600: this tool did not write it as it is`,
  ]);
});

Deno.test("job ids have their scheduler's form, and parseJobRecord holds records to it", () => {
  for (const id of ["4242", "4242_7"]) assert.ok(isJobId("slurm", id), id);
  for (const id of ["1234.pbs01", "1234[].pbs01", "1234"]) assert.ok(isJobId("pbs", id), id);
  for (const id of ["5678", "5678[3]"]) assert.ok(isJobId("lsf", id), id);
  for (const id of ["", "--help", "1;rm", "1 2", "1,2", "-1", "1.x"]) {
    assert.ok(!isJobId("slurm", id), id);
    assert.ok(!isJobId("lsf", id), id);
  }
  assert.ok(!isJobId("pbs", "1234.-x"));
  const job = {
    id: "4242",
    scheduler: "slurm",
    name: "n",
    submittedAt: "2026-01-01T00:00:00Z",
    submitHost: "login1",
  };
  assert.deepEqual(parseJobRecord(job, "slurm-4242.json"), job);
  assert.match(parseJobRecord({ ...job, id: "--help" }) as string, /not a slurm job id/);
  assert.match(parseJobRecord({ ...job, scheduler: "cron" }) as string, /"scheduler"/);
  assert.match(parseJobRecord({ ...job, submittedAt: 5 }) as string, /"submittedAt"/);
  assert.match(parseJobRecord(job, "slurm-4243.json") as string, /not its file's name/);
});

Deno.test("kernel names never resolve onto or outside the kernels dir; install also keeps Jupyter's rule", () => {
  for (const name of [".", "..", "", "a/b", "../x", "/abs", "x\0y", "a".repeat(256)]) {
    assert.ok(kernelNameProblem(name, false), JSON.stringify(name.slice(0, 10)));
    assert.ok(kernelNameProblem(name, true), JSON.stringify(name.slice(0, 10)));
  }
  for (const name of ["-x", "has space", "ünï"]) {
    assert.equal(kernelNameProblem(name, false), undefined, name);
    assert.ok(kernelNameProblem(name, true), name);
  }
  assert.equal(kernelNameProblem("Legate_SM-GPU.2", true), undefined);
  assert.equal(kernelNameProblem("a".repeat(255), true), undefined);
  assert.equal(kernelDirPath("/k/kernels", "x"), "/k/kernels/x");
  for (const bad of [".", "..", "a/../.."]) assert.throws(() => kernelDirPath("/k/kernels", bad));
});

Deno.test("'--' ends the options of every command: after it, words are positionals (or the rest)", () => {
  const flags = [{ name: "yes", short: "y", type: "boolean" as const, help: "" }];
  const p = parseFlags(["-y", "--", "-x", "--yes"], flags, { maxPositionals: Infinity });
  assert.deepEqual([p.values.yes, p.positionals, p.rest], [true, ["-x", "--yes"], []]);
  const r = parseFlags(["--", "--ip=1"], flags, { allowRest: true });
  assert.deepEqual([r.positionals, r.rest], [[], ["--ip=1"]]);
  const e = errorOf(() => parseFlags(["--", "a", "b"], flags, { maxPositionals: 1 }));
  assert.ok(e instanceof UsageError);
  assert.match(e.message, /unexpected argument 'b'/);
});

Deno.test("reportOf gives stderr and connect's agent one report: exit codes, raw scheduler words, causes, bugs", () => {
  assert.deepEqual(reportOf(new UsageError("bad --port")), {
    message: "bad --port",
    exitCode: 2,
    raw: false,
    bug: false,
  });
  const raw = reportOf(new Failure("sbatch: error: invalid partition", { raw: true }));
  assert.deepEqual([raw.message, raw.exitCode, raw.raw, raw.bug], [
    "sbatch: error: invalid partition",
    1,
    true,
    false,
  ]);
  const full = Object.assign(
    new Error(
      "No space left on device (os error 28): writefile '/h/.local/state/legate-jupyter/a.json'",
    ),
    { code: "ENOSPC" },
  );
  const disk = reportOf(full);
  assert.equal(disk.bug, false);
  assert.equal(disk.exitCode, 1);
  assert.match(disk.message, /^cannot write .*: no space left .*, or set XDG_STATE_HOME/);
  const bug = reportOf(new TypeError("x is undefined"));
  assert.deepEqual([bug.message, bug.exitCode, bug.bug], ["x is undefined", 1, true]);
});

Deno.test("file-system errors are explained by cause, with the path and a fix", () => {
  const full = errorOf(() => Deno.writeTextFileSync("/dev/full", "x"));
  assert.equal(fsCause(full)?.code, "ENOSPC");
  assert.equal(
    explainFsError(full, "or set XDG_STATE_HOME to another directory of yours"),
    "cannot write /dev/full: no space left on its file system; free some space there (df -h /dev), or set XDG_STATE_HOME to another directory of yours",
  );
  const long = errorOf(() => Deno.mkdirSync(`/tmp/${"x".repeat(300)}`));
  assert.match(
    explainFsError(long)!,
    /^cannot create \/tmp\/x+: the name is too long for the file system; choose a shorter name or path$/,
  );
  const tmp = new Error(
    "No space left on device (os error 28): writefile '/s/servers/ab.json.tmp-12-0a1b2c3d'",
  );
  Object.assign(tmp, { code: "ENOSPC" });
  assert.equal(
    fsCause(tmp)?.path,
    "/s/servers/ab.json",
    "a temp file is named as the file it was for",
  );
  assert.equal(fsCause(new Error("boom")), undefined);
  assert.equal(fsCause(Object.assign(new Error("x"), { code: "ENOENT" })), undefined);
});

Deno.test("printable escapes control characters and cuts long text with its length", () => {
  assert.equal(printable("plain", 10), "plain");
  assert.equal(printable("a\x1b[2Jb", 20), "a\\x1b[2Jb");
  assert.equal(printable("x".repeat(50), 10), "xxxxxxxxx… (50 characters)");
});
