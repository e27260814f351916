/**
 * `submit`, `jobs` and `cancel` against the real single-node Slurm that tests/slurm/start.sh
 * starts, running the real `notebook` (Debian's Jupyter Notebook 6.4) on the node, and `lab`
 * (real JupyterLab where Debian packages it). Each test
 * has its own HOME, Jupyter dirs, state dir and PATH; every job it submits carries a unique
 * name and is cancelled by that name when the test ends, whatever happened.
 * Tests that need Slurm skip, with the reason in their names, unless its node takes jobs.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, MOD, PROGRAM, reEscape, run, runCli, spawnCli, tempDir } from "./helpers.ts";
import { shQuote } from "../src/util/shell.ts";
import { slurmReady } from "./support/slurm_probe.ts";
import { pidAlive } from "../src/os/proc.ts";
import { batchJobId, batchSubmitHost, type JobStatus } from "../src/scheduler/types.ts";
import { endingSoon } from "../src/scheduler/describe.ts";
import { expandOutput } from "../src/job/plan.ts";
import { LAB_WHAT, serverBin } from "./notebook_support.ts";
import { HAVE_LAB, onStack, STACK } from "./support/stack.ts";

const probe = await slurmReady();
const HAVE_NOTEBOOK = await Deno.stat("/usr/bin/jupyter-notebook").then(() => true, () => false);
const skip = !probe.ok
  ? ` (skipped: no Slurm here: ${probe.reason}; run tests/slurm/start.sh as root)`
  : !HAVE_NOTEBOOK
  ? " (skipped: no /usr/bin/jupyter-notebook; install Debian's jupyter-notebook)"
  : "";
/** Jupyter refuses to run as root unless told; the tests run as root in CI. */
const ROOT_ARGS = Deno.uid() === 0 ? ["--", "--allow-root"] : [];

function slurmTest(name: string, fn: (t: Ctx) => Promise<void>) {
  Deno.test({
    name: name + skip,
    ignore: skip !== "",
    async fn() {
      await using tmp = await tempDir("lj-submit-");
      const jobName = `lj-e2e-${crypto.randomUUID().slice(0, 8)}`;
      const env = isolatedEnv(tmp.path, { XDG_STATE_HOME: join(tmp.path, "state") });
      await Deno.mkdir(env.HOME, { recursive: true });
      try {
        await fn({
          dir: tmp.path,
          env,
          jobName,
          stateDir: join(tmp.path, "state", "legate-jupyter"),
        });
      } finally {
        await cancelByName(jobName);
      }
    },
  });
}

interface Ctx {
  dir: string;
  env: Record<string, string>;
  jobName: string;
  stateDir: string;
}

/** Cancels every job called `name` and waits (bounded) until Slurm lists none of them. */
async function cancelByName(name: string): Promise<void> {
  const env = { PATH: "/usr/bin:/bin" };
  await run(["scancel", "--name", name], { env });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const r = await run(["squeue", "-h", "--name", name, "-o", "%i"], { env });
    if (r.code === 0 && r.stdout.trim() === "") return;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`jobs named ${name} still listed by squeue after 60 s`);
}

/** Slurm's state word for job `id`, or "" once it has forgotten the job. */
async function slurmState(id: string): Promise<string> {
  const r = await run(["squeue", "-h", "-t", "all", "-j", id, "-o", "%T"], {
    env: { PATH: "/usr/bin:/bin" },
  });
  return r.code === 0 ? r.stdout.trim() : "";
}

async function listDir(path: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) names.push(e.name);
  } catch {
    // Absent is empty.
  }
  return names.sort();
}

interface ReadyJob {
  job_id: string;
  version?: string;
  job_log: string;
  url: string;
  laptop_url: string;
  token: string;
  host: string;
  port: number;
  pid: number;
  kernel: string | null;
  tunnel: { label: string; command: string }[];
}

slurmTest(
  "submit runs notebook in a Slurm job and prints a URL whose token opens it; jobs lists it; cancel ends it and leaves nothing",
  async ({ env, jobName, stateDir, dir }) => {
    const sub = await runCli(
      ["submit", "--job-name", jobName, "--time", "10", "--timeout", "90", "--json", ...ROOT_ARGS],
      { env, cwd: dir },
    );
    assert.equal(sub.code, 0, sub.stderr);
    const r: ReadyJob = JSON.parse(sub.stdout);
    assert.match(sub.stderr, new RegExp(`Submitted job ${r.job_id}; its log: `));
    assert.match(sub.stderr, new RegExp(`job ${r.job_id} (PENDING|RUNNING)`));
    assert.equal(r.host, Deno.hostname(), "the server runs on the Slurm node");
    assert.match(r.version ?? "", /^\d+\.\d+/, "the server's version is known");

    // The URL's token opens the server; no token, no entry.
    const base = r.url.replace(/\?.*$/, "");
    const ok = await fetch(`${base}api/status?token=${r.token}`);
    assert.equal(ok.status, 200, await ok.text());
    const denied = await fetch(`${base}api/contents`);
    await denied.body?.cancel();
    assert.equal(denied.status, 403);

    // The job's log holds the token: it must not be readable by others.
    const logInfo = await Deno.stat(r.job_log);
    assert.equal(
      logInfo.mode! & 0o777,
      0o600,
      `job log mode ${(logInfo.mode! & 0o777).toString(8)}`,
    );
    assert.match(await Deno.readTextFile(r.job_log), /is ready on /);
    assert.ok(r.tunnel.length >= 1 && r.tunnel.every((t) => t.command.includes(String(r.port))));

    const listed = await runCli(["jobs", "--json"], { env });
    assert.equal(listed.code, 0, listed.stderr);
    const jobs = JSON.parse(listed.stdout);
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0].id, r.job_id);
    assert.equal(jobs[0].state, "RUNNING");
    assert.equal(jobs[0].name, jobName);
    assert.equal(jobs[0].node, Deno.hostname());
    assert.ok(jobs[0].time_left_s > 0 && jobs[0].time_left_s <= 600, `${jobs[0].time_left_s}`);
    assert.equal(jobs[0].server.url, r.url);
    const text = await runCli(["jobs"], { env });
    const row = new RegExp(
      `^${r.job_id} +${jobName} +RUNNING +\\S+ +(\\d+):(\\d\\d):(\\d\\d) +${
        base.replace(/[/.?]/g, "\\$&")
      }`,
      "m",
    ).exec(text.stdout);
    assert.ok(row, text.stdout);
    // TIME LEFT of a 10-minute job: 0:10:00 in its first second (what squeue shows then), less
    // after; never more, never nothing. How much less depends on the machine's speed.
    const [h, m, sec] = row.slice(1).map(Number);
    const left = h * 3600 + m * 60 + sec;
    assert.ok(left > 0 && left <= 600 && sec < 60, `TIME LEFT ${row.slice(1).join(":")}`);
    assert.match(
      text.stdout,
      /Tunnels: run one of a job's commands on your laptop, then browse to its URL\.\n {2}job \d+ on \S+:\n {4}# one hop .*\n {4}ssh -N -L /,
    );
    // A fresh ten-minute job is not near its end yet (it is warned halfway, at 5 minutes left).
    assert.equal(jobs[0].ending_soon, false);
    assert.doesNotMatch(text.stderr, /reaches its time limit/);

    const cancel = await runCli(["cancel", r.job_id], { env });
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.equal(cancel.stdout, `Cancelled job ${r.job_id} (was RUNNING on ${Deno.hostname()})\n`);
    assert.ok(!["PENDING", "RUNNING", "COMPLETING"].includes(await slurmState(r.job_id)));
    assert.ok(!(await pidAlive(r.pid)), "Jupyter's process has ended");
    // The job waited for the server's clean shutdown before it ended.
    const log = await Deno.readTextFile(r.job_log);
    assert.match(log, /Stopping Jupyter Notebook and its kernels\.\.\.\n/);
    assert.match(log, new RegExp(`legate-jupyter: job ${r.job_id} ended .* with status \\d+\\n$`));
    await assert.rejects(fetch(`${base}api/status`), "nothing listens on the port any more");
    assert.deepEqual(await listDir(join(stateDir, "jobs")), []);
    assert.deepEqual(
      (await listDir(join(stateDir, "servers"))).filter((n) => n.endsWith(".json")),
      [],
    );
    const after = await runCli(["jobs"], { env });
    assert.match(after.stdout, /^No Jupyter jobs/);
  },
);

slurmTest(
  "submit --auto-kernel installs a Legate kernel sized inside the allocation and makes it the server's default",
  async ({ env, jobName, dir }) => {
    const sub = await runCli(
      [
        "submit",
        "--job-name",
        jobName,
        "--cpus-per-task",
        "1",
        "--auto-kernel",
        "--kernel",
        "legate-job",
        "--install-arg=--python=/usr/bin/python3",
        "--timeout",
        "90",
        "--json",
        ...ROOT_ARGS,
      ],
      { env, cwd: dir },
    );
    assert.equal(sub.code, 0, sub.stderr);
    const r: ReadyJob = JSON.parse(sub.stdout);
    assert.equal(r.kernel, "legate-job");
    const spec = JSON.parse(
      await Deno.readTextFile(join(env.JUPYTER_DATA_DIR, "kernels", "legate-job", "kernel.json")),
    );
    // The job was given one CPU: detect inside it sees one, so the kernel asks for one.
    assert.match(spec.env.LEGATE_CONFIG, /--cpus 1\b/, spec.env.LEGATE_CONFIG);
    const log = await Deno.readTextFile(r.job_log);
    const installed = log.indexOf("kernel spec legate-job (legate-job) has been installed");
    assert.ok(installed > 0 && installed < log.indexOf("Starting Jupyter"), log);
    const specs = await fetch(r.url.replace(/\?.*$/, `api/kernelspecs?token=${r.token}`));
    assert.equal((await specs.json()).default, "legate-job");
  },
);

slurmTest(
  "submit prints sbatch's own error for a partition that does not exist, exits 1 and records nothing",
  async ({ env, jobName, stateDir, dir }) => {
    const r = await runCli(["submit", "--job-name", jobName, "--partition", "nosuch"], {
      env,
      cwd: dir,
    });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^sbatch: error: invalid partition specified: nosuch$/m);
    assert.doesNotMatch(r.stderr, /legate-jupyter: error:|at .*\.ts:/);
    assert.deepEqual(await listDir(join(stateDir, "jobs")), []);
  },
);

slurmTest(
  "submit prints Slurm's own error for a GPU request the cluster cannot meet instead of waiting",
  async ({ env, jobName, dir }) => {
    const r = await runCli(["submit", "--job-name", jobName, "--gpus", "4", "--timeout", "30"], {
      env,
      cwd: dir,
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^sbatch: error: .*(gres|GPU|gpu)/im);
    assert.doesNotMatch(r.stderr, /Submitted job/);
  },
);

/**
 * A time zone (`Etc/GMT±N`) in which it is now `hour` o'clock, so that a test can place a
 * start estimate on the same day or the next whatever the hour the suite runs at: Slurm's
 * clients and the tool both read local time from `TZ`.
 */
function zoneWhereItIs(hour: number): string {
  let offset = hour - new Date().getUTCHours(); // local = UTC + offset
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  // POSIX signs are inverted: Etc/GMT-9 is nine hours ahead of UTC.
  return offset >= 0 ? `Etc/GMT-${offset}` : `Etc/GMT+${-offset}`;
}

/**
 * How the tool shows `at` in `zone` (`HH:MM`, or `YYYY-MM-DD HH:MM` on another day), as a
 * pattern that also takes the next minute: Slurm's clock and this one may straddle a minute.
 */
function shownStart(at: number, zone: string, nextDay: boolean): string {
  const format = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  const shown = (t: number) => {
    const p = Object.fromEntries(format.formatToParts(t).map((x) => [x.type, x.value]));
    const hm = `${p.hour}:${p.minute}`;
    return nextDay ? `${p.year}-${p.month}-${p.day} ${hm}` : hm;
  };
  return `(${shown(at)}|${shown(at + 60_000)})`;
}

for (
  const form of [
    {
      day: "the same day",
      hour: 10,
      begin: "now+1hour",
      wait: 3600_000,
      inWords: "59 min|1 h 00 min",
      nextDay: false,
    },
    {
      day: "the next day",
      hour: 22,
      begin: "now+2hours",
      wait: 7200_000,
      inWords: "1 h 59 min|2 h 00 min",
      nextDay: true,
    },
  ]
) {
  slurmTest(
    `submit of a job held by --begin shows PENDING (BeginTime) with Slurm's start estimate on ${form.day} (TZ set so that it is ${form.hour}:xx there), and --timeout cancels it`,
    async ({ env, jobName, stateDir, dir }) => {
      const zone = zoneWhereItIs(form.hour);
      const submitted = Date.now();
      const r = await runCli(
        ["submit", "--job-name", jobName, `--sbatch-arg=--begin=${form.begin}`, "--timeout", "4"],
        { env: { ...env, TZ: zone }, cwd: dir },
      );
      assert.equal(r.code, 1, r.stderr);
      const id = /Submitted job (\d+)/.exec(r.stderr)?.[1];
      assert.ok(id, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `job ${id} PENDING \\(BeginTime\\), expected to start at ${
            shownStart(submitted + form.wait, zone, form.nextDay)
          } \\(in (${form.inWords})\\)`,
        ),
      );
      assert.match(
        r.stderr,
        new RegExp(
          `^legate-jupyter: error: gave up waiting after 4s; job ${id} PENDING \\(BeginTime\\).*; cancelled it \\(keep it with --keep\\)$`,
          "m",
        ),
      );
      assert.ok(!["PENDING", "RUNNING"].includes(await slurmState(id)), "the job was cancelled");
      assert.deepEqual(await listDir(join(stateDir, "jobs")), []);
    },
  );
}

slurmTest(
  "submit --no-wait returns at once; jobs shows the reason and estimate; cancel --all removes it",
  async ({ env, jobName, dir }) => {
    const r = await runCli(
      ["submit", "--job-name", jobName, "--sbatch-arg=--begin=now+1hour", "--no-wait"],
      { env, cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const id = /^Submitted job (\d+) \(log: /.exec(r.stdout)?.[1];
    assert.ok(id, r.stdout);
    assert.equal(await slurmState(id), "PENDING");
    const jobs = await runCli(["jobs"], { env });
    assert.match(
      jobs.stdout,
      new RegExp(`^${id} +${jobName} +PENDING \\(BeginTime\\) +- +- +expected to start at `, "m"),
    );
    const json = JSON.parse((await runCli(["jobs", "--json"], { env })).stdout);
    assert.equal(json[0].reason, "BeginTime");
    assert.ok(Date.parse(json[0].start_time) > Date.now() + 50 * 60_000, json[0].start_time);
    const c = await runCli(["cancel", "--all"], { env });
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout, `Cancelled job ${id} (was PENDING)\n`);
    assert.ok(!["PENDING", "RUNNING"].includes(await slurmState(id)));
  },
);

slurmTest(
  "Ctrl-C while submit waits in the queue cancels the job, unless --keep",
  async ({ env, jobName, dir }) => {
    for (const keep of [false, true]) {
      await using cli = spawnCli(
        [
          "submit",
          "--job-name",
          jobName,
          "--sbatch-arg=--begin=now+1hour",
          ...(keep ? ["--keep"] : []),
        ],
        { env, cwd: dir },
      );
      await waitUntil(() => /PENDING/.test(cli.stderr()));
      const id = /Submitted job (\d+)/.exec(cli.stderr())![1];
      cli.child.kill("SIGINT");
      const done = await cli.finished();
      assert.equal(done.code, 130, done.stderr);
      if (keep) {
        assert.match(done.stderr, /interrupted; .*it was left queued \(--keep\)/);
        assert.equal(await slurmState(id), "PENDING");
      } else {
        assert.match(done.stderr, new RegExp(`Interrupted; job ${id} PENDING.*; cancelled it`));
        assert.ok(!["PENDING", "RUNNING"].includes(await slurmState(id)));
      }
    }
  },
);

slurmTest(
  "submit reports a job that ends before Jupyter is ready, with the end of the job's log, instead of hanging",
  async ({ env, jobName, dir }) => {
    const r = await runCli(
      ["submit", "--job-name", jobName, "--jupyter", "/nonexistent/jupyter", "--timeout", "60"],
      { env, cwd: dir },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^legate-jupyter: error: job \d+ ended \S+.* before Jupyter was ready\. The end of its log:$/m,
    );
    assert.match(r.stderr, /^ {2}\| legate-jupyter: error: .*\/nonexistent\/jupyter/m);
    assert.match(r.stderr, /^Full log: \/.*job-\d+\.log$/m);
  },
);

slurmTest(
  "submit keeps following the job when squeue fails now and then (fault injected by a wrapper squeue on PATH)",
  async ({ env, jobName, dir }) => {
    const bin = join(dir, "bin");
    await Deno.mkdir(bin);
    const count = join(dir, "squeue-calls");
    // Calls 2 and 3 fail as a busy controller does; the others run the real squeue.
    await Deno.writeTextFile(
      join(bin, "squeue"),
      `#!/bin/sh\nn=$(($(cat '${count}' 2>/dev/null || echo 0) + 1))\necho $n > '${count}'\n` +
        `if [ $n -eq 2 ] || [ $n -eq 3 ]; then\n` +
        `  echo 'squeue: error: slurm_load_jobs error: Socket timed out on send/recv operation' >&2\n` +
        `  exit 1\nfi\nexec /usr/bin/squeue "$@"\n`,
      { mode: 0o755 },
    );
    const r = await runCli(
      ["submit", "--job-name", jobName, "--sbatch-arg=--begin=now+1hour", "--timeout", "12"],
      { env: { ...env, PATH: `${bin}:${env.PATH}` }, cwd: dir },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /warning: squeue: error: slurm_load_jobs error: Socket timed out on send\/recv operation \(asking again in 2 s\)/,
    );
    assert.match(
      r.stderr,
      /gave up waiting after 12s; job \d+ PENDING \(BeginTime\).*; cancelled it/,
    );
    assert.ok(Number(await Deno.readTextFile(count)) >= 4);
  },
);

slurmTest(
  "submit warns when the job runs but its server never appears in this home (the job's state dir is elsewhere, as on a home the nodes do not share)",
  async ({ env, jobName, dir }) => {
    const elsewhere = join(dir, "node-home-state");
    const r = await runCli(
      [
        "submit",
        "--job-name",
        jobName,
        `--sbatch-arg=--export=ALL,XDG_STATE_HOME=${elsewhere}`,
        // Long enough for Jupyter to start on a loaded machine: the warning must come while the
        // job still runs, not after its Jupyter gave up.
        "--server-timeout",
        "15",
        "--timeout",
        "45",
        ...ROOT_ARGS,
      ],
      { env, cwd: dir },
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /warning: job \d+ has run for \d+s and its server has not appeared in \/.*\/state\/legate-jupyter\/servers; is this home directory shared with the compute nodes\? The job's log: \/.*job-\d+\.log/,
    );
    assert.match(r.stderr, /gave up waiting after 45s; job \d+ RUNNING/);
  },
);

slurmTest(
  "submit reads a relative --output where Slurm writes it, in the job's directory",
  async ({ env, jobName, dir }) => {
    const nbd = join(dir, "nbd");
    await Deno.mkdir(nbd);
    const r = await runCli(
      [
        "submit",
        "--job-name",
        jobName,
        "--notebook-dir",
        "nbd",
        "--output",
        "rel-%x-%j.log",
        "--jupyter",
        "/nonexistent/jupyter",
        "--timeout",
        "60",
      ],
      { env, cwd: dir },
    );
    assert.equal(r.code, 1, r.stderr);
    const id = /Submitted job (\d+)/.exec(r.stderr)?.[1];
    assert.match(r.stderr, new RegExp(`Full log: ${nbd}/rel-${jobName}-${id}\\.log$`, "m"));
    assert.match(r.stderr, /^ {2}\| legate-jupyter: error: .*\/nonexistent\/jupyter/m);
  },
);

slurmTest(
  "cancel still cancels when squeue cannot answer, and says it could not confirm (fault injected by a failing squeue on PATH)",
  async ({ env, jobName, dir, stateDir }) => {
    const r = await runCli(
      ["submit", "--job-name", jobName, "--sbatch-arg=--begin=now+1hour", "--no-wait"],
      { env, cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const id = /^Submitted job (\d+)/.exec(r.stdout)![1];
    const bin = join(dir, "bin");
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      join(bin, "squeue"),
      "#!/bin/sh\necho 'squeue: error: slurm_load_jobs error: Unable to contact slurm controller (connect failure)' >&2\nexit 1\n",
      { mode: 0o755 },
    );
    const c = await runCli(["cancel", id], { env: { ...env, PATH: `${bin}:${env.PATH}` } });
    assert.equal(c.code, 1);
    assert.match(
      c.stderr,
      new RegExp(
        `^legate-jupyter: error: asked the scheduler to cancel, but could not confirm that ${id} \\(squeue: error: .*Unable to contact slurm controller.*\\) ended; check with '${
          reEscape(PROGRAM)
        } jobs' in a while\n$`,
      ),
    );
    assert.ok(!["PENDING", "RUNNING"].includes(await slurmState(id)), "scancel ran");
    assert.deepEqual(await listDir(join(stateDir, "jobs")), [`slurm-${id}.json`], "kept for jobs");
    const jobs = await runCli(["jobs"], { env });
    assert.match(jobs.stderr, new RegExp(`Forgot 1 ended job: ${id}`));
  },
);

slurmTest(
  "submit of a held job says how to release it, and --timeout cancels it",
  async ({ env, jobName, dir }) => {
    const r = await runCli(
      ["submit", "--job-name", jobName, "--sbatch-arg=--hold", "--timeout", "3"],
      { env, cwd: dir },
    );
    assert.equal(r.code, 1, r.stderr);
    const id = /Submitted job (\d+)/.exec(r.stderr)![1];
    assert.match(
      r.stderr,
      new RegExp(
        `job ${id} PENDING \\(JobHeldUser\\), held: release it with 'scontrol release ${id}'`,
      ),
    );
    assert.ok(!["PENDING", "RUNNING"].includes(await slurmState(id)));
  },
);

slurmTest(
  `submit --lab runs ${LAB_WHAT} in the job` + onStack("jupyterlab", "jupyter_server"),
  async ({ env, jobName, dir }) => {
    // Real JupyterLab where Debian packages it; else a stand-in that runs jupyter_server.
    const lab = HAVE_LAB ? "/usr/bin/jupyter-lab" : join(await serverBin(dir), "jupyter-lab");
    const r = await runCli(
      [
        "submit",
        "--job-name",
        jobName,
        "--lab",
        "--jupyter",
        lab,
        "--timeout",
        "90",
        "--json",
        ...ROOT_ARGS,
      ],
      { env, cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    const ready = JSON.parse(r.stdout);
    assert.equal(ready.app, "lab");
    assert.equal(ready.version, HAVE_LAB ? STACK.jupyterlab : undefined);
    assert.equal(ready.server_version, STACK.jupyter_server);
    const res = await fetch(ready.url.replace(/\?.*$/, `api/status?token=${ready.token}`));
    assert.equal(res.status, 200, await res.text());
    assert.match(
      await Deno.readTextFile(ready.job_log),
      / lab --notebook-dir=| lab '--notebook-dir=|JupyterLab/,
    );
  },
);

async function waitUntil(check: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// These need no scheduler: they run everywhere.

Deno.test("submit --script-only prints a script that bash -n accepts, for slurm, pbs and lsf, with hostile values quoted", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path);
  const odd = join(tmp.path, "it's a $(dir) `x`");
  await Deno.mkdir(odd);
  for (const scheduler of ["slurm", "pbs", "lsf"]) {
    const r = await runCli(
      [
        "submit",
        "--scheduler",
        scheduler,
        "--script-only",
        "--job-name",
        "a 'b' $c",
        "--notebook-dir",
        odd,
        "--gpus",
        "2",
        "--nodes",
        "2",
        "--time",
        "1:30:00",
        "--auto-kernel",
        "--install-arg=--module=cuda/12; rm -rf ~",
        "--",
        "--NotebookApp.iopub_data_rate_limit=1e10",
      ],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    const check = await run(["bash", "-n"], { env, stdin: r.stdout });
    assert.equal(check.code, 0, `${scheduler}: ${check.stderr}\n${r.stdout}`);
    assert.match(r.stdout, /^#!\/bin\/bash\n/);
    assert.match(r.stdout, { slurm: /^#SBATCH /m, pbs: /^#PBS /m, lsf: /^#BSUB /m }[scheduler]!);
    // The log is created private where the scheduler allows it, and the user's umask restored.
    if (scheduler === "pbs") assert.match(r.stdout, /^#PBS -W umask=077$/m);
    if (scheduler !== "lsf") assert.match(r.stdout, /^umask 0?[0-7]{3}$/m);
    // The job runs this same program: install first, then notebook, with every word quoted.
    // The program as the script names it: this checkout's mod.ts, quoted where its path needs it.
    const self = reEscape(shQuote(MOD));
    assert.match(
      r.stdout,
      new RegExp(
        `${self} install --auto --replace --name legate-auto --nodes=2 --ranks-per-node=1 ` +
          `--launcher=(srun|mpirun) '--module=cuda/12; rm -rf ~'`,
      ),
    );
    assert.match(
      r.stdout,
      new RegExp(
        `${self} notebook '--notebook-dir=.*it'"'"'s a \\$\\(dir\\) \`x\`' --kernel=legate-auto .*` +
          `-- --NotebookApp\\.iopub_data_rate_limit=1e10 &$`,
        "m",
      ),
    );
  }
});

Deno.test("submit --auto-kernel for several nodes has the job install a kernel that launches across them", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path);
  const script = async (...args: string[]) => {
    const r = await runCli(["submit", "--script-only", "--auto-kernel", ...args], { env });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split("\n").find((l) => / install --auto /.test(l)) ?? "";
  };
  assert.match(
    await script("--scheduler", "slurm", "--nodes", "2", "--ntasks-per-node", "2"),
    / --name legate-auto --nodes=2 --ranks-per-node=2 --launcher=srun;/,
  );
  assert.match(
    await script("--scheduler", "pbs", "--nodes", "3", "--install-arg=--launcher=none"),
    / --nodes=3 --ranks-per-node=1 --launcher=none;/,
  );
  assert.doesNotMatch(await script("--scheduler", "slurm"), /--nodes|--launcher/);
});

Deno.test("submit checks server flags on the login node, before any queue wait (exit 2)", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path);
  const cases: [string[], RegExp][] = [
    [
      ["--port", "99999"],
      /^legate-jupyter: error: --port must be between 1 and 65535, not 99999\n$/,
    ],
    [
      ["--ip", "1.2.3.4 x"],
      /^legate-jupyter: error: --ip '1\.2\.3\.4 x' is not an address or host name; /,
    ],
    [
      ["--no-wait", "--timeout", "60"],
      /--timeout bounds the wait, and --no-wait does not wait; drop one/,
    ],
    [
      ["--output", "/tmp/%N.log"],
      /--output \/tmp\/%N\.log: only %j, %x, %u, %A or %% can stand in a log name/,
    ],
    [["--sbatch-arg=--output=/tmp/x"], /--output is set by submit itself.*use submit's --output/],
  ];
  for (const [args, pattern] of cases) {
    const r = await runCli(["submit", "--scheduler", "slurm", "--script-only", ...args], { env });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stdout, "");
  }
});

Deno.test("submit --scheduler pbs refuses Slurm-only --qos with a usage error (exit 2)", async () => {
  await using tmp = await tempDir();
  const r = await runCli(["submit", "--scheduler", "pbs", "--qos", "high", "--script-only"], {
    env: isolatedEnv(tmp.path),
  });
  assert.equal(r.code, 2);
  assert.equal(r.stdout, "");
  assert.match(
    r.stderr,
    /^legate-jupyter: error: --qos is Slurm-only and has no PBS equivalent here; pass the site's own option with --sbatch-arg\n$/,
  );
});

Deno.test("submit without a scheduler on PATH says which commands it looked for (exit 1)", async () => {
  await using tmp = await tempDir();
  const r = await runCli(["submit"], { env: isolatedEnv(tmp.path, { PATH: tmp.path }) });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^legate-jupyter: error: no batch scheduler here: none of sbatch, qsub or bsub is on PATH; .*\n$/,
  );
});

Deno.test("cancel refuses a job id this tool did not submit, and wants an id or --all", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path);
  const r = await runCli(["cancel", "999999"], { env });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      `^legate-jupyter: error: job 999999 is not a job this tool submitted \\(see '${
        reEscape(PROGRAM)
      } jobs'\\); cancel other jobs with the scheduler's own command\n$`,
    ),
  );
  const none = await runCli(["cancel"], { env });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^legate-jupyter: error: which job\? /);
});

Deno.test("batchJobId and batchSubmitHost read what Slurm, PBS and LSF export in a job (fakes: env only)", () => {
  assert.equal(batchJobId({ SLURM_JOB_ID: "42", SLURM_SUBMIT_HOST: "login1" }), "42");
  assert.equal(batchJobId({ PBS_JOBID: "1234.pbs01" }), "1234.pbs01");
  assert.equal(batchJobId({ LSB_JOBID: "777" }), "777");
  assert.equal(batchJobId({ SLURM_JOB_ID: "" }), undefined);
  assert.equal(batchSubmitHost({ SLURM_SUBMIT_HOST: "login1" }), "login1");
  assert.equal(batchSubmitHost({ PBS_O_HOST: "login2.site" }), "login2.site");
  assert.equal(batchSubmitHost({ LSB_SUB_HOST: "login3" }), "login3");
  assert.equal(batchSubmitHost({}), undefined);
});

Deno.test("endingSoon flags a running job 10 minutes before its limit, or halfway through a shorter one", () => {
  const job = (timeLeft: number, timeLimit: number, state = "RUNNING"): JobStatus => ({
    id: "1",
    state,
    phase: state === "PENDING" ? "queued" : "running",
    timeLeft,
    timeLimit,
  });
  assert.equal(endingSoon(job(601, 7200)), false);
  assert.equal(endingSoon(job(600, 7200)), true);
  assert.equal(endingSoon(job(599, 600)), false, "a fresh 10-minute job");
  assert.equal(endingSoon(job(300, 600)), true);
  assert.equal(endingSoon(job(Infinity, Infinity)), false);
  assert.equal(endingSoon(job(10, 7200, "PENDING")), false);
  assert.equal(endingSoon(undefined), false);
});

Deno.test("expandOutput fills the log-name patterns submit allows", () => {
  const job = { id: "42", name: "nb", user: "alice" };
  assert.equal(expandOutput("/l/%x-%j-%u-%A-100%%.log", job), "/l/nb-42-alice-42-100%.log");
  assert.equal(expandOutput("/l/job-%J.log", job), "/l/job-42.log");
});
