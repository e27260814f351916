/**
 * `connect` under real faults on the four-host test cluster (tests/cluster/), from the connect
 * tests' laptop (laptop2): a job requeued under a session, a job ended by its time limit or by
 * `scancel` from elsewhere, Jupyter killed on the node, several sessions on one job, and a
 * `--local-port` that is taken. Real Slurm, real sshd, real Jupyter; each session on a
 * pseudo-terminal with Ctrl-C typed into it. The rule checked throughout: the scheduler
 * decides, and nothing logs into a compute node (the nodes' sshd logs say so). Skipped, with
 * the reason, where the cluster cannot be built.
 */

import assert from "node:assert/strict";
import { CLUSTER, type Host, onHost, spawnOnHost, userProcesses } from "./cluster/cluster.ts";
import {
  cancelByName,
  connectOnLaptop,
  connectTest,
  ctrlC,
  jobName,
  jobOf,
  LAPTOP2,
  statusOn,
  urlOf,
  waitClean,
} from "./cluster-connect/session.ts";

const NODES: Host[] = ["node1", "node2"];

/** The nodes' sshd logs so far (their lengths mark a point in time). */
function nodeLogs(): number[] {
  return NODES.map((n) => Deno.readTextFileSync(`${CLUSTER.dir}/log/sshd-${n}.log`).length);
}

/**
 * Logins from login1 into a compute node since `from` (see {@link nodeLogs}). (A job's own
 * check that its node lets SSH in logs in from the node itself: that one is not connect's.)
 */
function nodeLogins(from: number[]): string[] {
  const login1 = CLUSTER.address.login1.replaceAll(".", "\\.");
  return NODES.flatMap((n, i) =>
    Deno.readTextFileSync(`${CLUSTER.dir}/log/sshd-${n}.log`).slice(from[i]).split("\n")
      .filter((l) => new RegExp(`^Accepted .* from ${login1} `).test(l)).map((l) => `${n}: ${l}`)
  );
}

/** The lines connect printed as errors or warnings (its own prefix). */
function complaints(text: string): string[] {
  return text.split(/\r?\n/).filter((l) => /legate-jupyter: (error|warning):/.test(l));
}

/** The server entry of `job` in the shared home: its port and node. */
function serverOf(job: string): { port: number; host: string; id: string } | undefined {
  const dir = `${CLUSTER.home}/.local/state/legate-jupyter/servers`;
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (!e.name.endsWith(".json")) continue;
      const r = JSON.parse(Deno.readTextFileSync(`${dir}/${e.name}`));
      if (r.jobId === job && r.state === "ready") return { port: r.port, host: r.host, id: r.id };
    }
  } catch {
    // None yet.
  }
  return undefined;
}

async function squeueState(job: string): Promise<string> {
  return (await onHost("login1", `squeue -h -t all -j ${job} -o %T`)).stdout.trim();
}

connectTest(
  "--local-port on a taken port fails before anything is submitted: one line, exit 1, no job",
  async () => {
    const name = jobName();
    const port = 20000 + Math.floor(Math.random() * 20000);
    await using holder = spawnOnHost(
      LAPTOP2,
      `python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1", ${port})); ` +
        `s.listen(); print("listening", flush=True); time.sleep(300)'`,
      { timeoutMs: 300_000 },
    );
    await holder.waitFor(/listening/);
    try {
      const r = await onHost(
        LAPTOP2,
        `legate-jupyter connect login1 --local-port ${port} --no-browser --job-name ${name}`,
        { timeoutMs: 60_000 },
      );
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.deepEqual(complaints(r.stderr), [
        `legate-jupyter: error: port ${port} on this machine: Address already in use (os error ` +
        "98); choose another with --local-port, or leave it out",
      ]);
      assert.doesNotMatch(r.stdout + r.stderr, /Submitted job/);
      const q = await onHost("login1", `squeue -h -t all -n ${name} -o %i`);
      assert.equal(q.stdout.trim(), "", "no job was submitted");
    } finally {
      await cancelByName(name);
    }
  },
);

/**
 * A session whose job ends under it for `cause` (run with the job id once the URL works):
 * connect ends with one true line and exit 1, logs into no node, and leaves nothing.
 */
async function endsUnder(
  args: string,
  cause: (job: string) => Promise<void>,
  said: (job: string) => RegExp,
  ms = 60_000,
): Promise<string> {
  const name = jobName();
  const logs = nodeLogs();
  try {
    await using p = connectOnLaptop(`login1 --no-browser --job-name ${name} ${args}`);
    const job = await jobOf(p);
    const url = await urlOf(p);
    assert.equal(await statusOn(url), 200);
    const port = serverOf(job)?.port;
    await cause(job);
    const end = await Promise.race([
      p.finished(),
      new Promise<never>((_, no) => setTimeout(() => no(new Error(p.stdout())), ms)),
    ]);
    assert.equal(end.code, 1, end.stdout);
    // The one warning that belongs: a job near its limit is announced once.
    const lines = complaints(end.stdout).filter((l) => !/reaches its time limit in /.test(l));
    assert.equal(lines.length, 1, `one line, no warnings before it:\n${end.stdout}`);
    assert.match(lines[0], said(job));
    assert.match(lines[0], /; the session is over$/);
    assert.doesNotMatch(end.stdout, /trying SSH|starting it again/);
    assert.deepEqual(nodeLogins(logs), [], "no login into a compute node");
    assert.deepEqual(await waitClean(job, port), []);
    return end.stdout;
  } finally {
    await cancelByName(name);
  }
}

connectTest(
  "a job that reaches its time limit ends the session with that cause in one line, exit 1, and no login into its node",
  async () => {
    await endsUnder(
      "--time 1",
      async () => {},
      (job) => new RegExp(`error: job ${job} reached its time limit of 1 min \\(TIMEOUT\\)`),
      180_000,
    );
  },
);

connectTest(
  "a job cancelled from elsewhere (scancel on login1) ends the session in one line, exit 1, with no login into its node",
  async () => {
    await endsUnder(
      "--time 10",
      async (job) => {
        const r = await onHost("login1", `scancel ${job}`);
        assert.equal(r.code, 0, r.stderr);
      },
      (job) => new RegExp(`error: job ${job} was cancelled outside this session \\(scancel`),
    );
  },
);

connectTest(
  "Jupyter killed on the node ends the session naming its exit status and the job's log",
  async () => {
    let log = "";
    const out = await endsUnder(
      "--time 10",
      async (job) => {
        const s = serverOf(job)!;
        const jupyter = (await userProcesses(s.host as Host)).find((p) =>
          p.args.includes(`--port=${s.port}`) && /jupyter/.test(p.args) &&
          !/legate-jupyter/.test(p.args)
        );
        assert.ok(jupyter, `no Jupyter on ${s.host} with --port=${s.port}`);
        const k = await onHost(s.host as Host, `kill -9 ${jupyter.pid}`);
        assert.equal(k.code, 0, k.stderr);
      },
      (job) =>
        new RegExp(
          `error: Jupyter Notebook on node\\d exited with status 137, killed by SIGKILL.*, and job ` +
            `${job} ended FAILED \\(NonZeroExitCode\\); the job's log: (\\S+);`,
        ),
    );
    log = /its log there: (\S+)/.exec(out)![1];
    assert.ok(out.includes(`the job's log: ${log};`), out);
  },
);

connectTest(
  "a job requeued under a session: the laptop is told, keeps its port, and prints the new server's URL, which answers; no login into a node",
  async () => {
    const name = jobName();
    const logs = nodeLogs();
    try {
      await using p = connectOnLaptop(`login1 --no-browser --job-name ${name} --time 10`);
      const job = await jobOf(p);
      const first = await urlOf(p);
      const before = serverOf(job)!;
      const r = await onHost("login1", `scontrol requeue ${job}`);
      assert.equal(r.code, 0, r.stderr);
      await p.waitFor(new RegExp(`job ${job} was requeued`), 60_000);
      // Slurm holds a requeued job back (BeginTime) for about two minutes; the administrator
      // lets it go at once, so that the test takes no longer than it must.
      await onHost("login1", `scontrol update jobid=${job} starttime=now`, { root: true });
      let runningAt = 0;
      for (let i = 0; i < 600 && !runningAt; i++) {
        if (await squeueState(job) === "RUNNING") runningAt = Date.now();
        else await new Promise((res) => setTimeout(res, 500));
      }
      assert.ok(runningAt, "the job runs again");
      const again = await p.waitFor(
        /runs again on node\d, with a new Jupyter[\s\S]*?(http:\/\/127\.0\.0\.1:\d+\/\S*\?token=[0-9a-f]+)/,
        60_000,
      );
      const printedAt = Date.now();
      assert.ok(printedAt - runningAt < 30_000, `${printedAt - runningAt} ms after it ran again`);
      const url = again[1];
      assert.equal(new URL(url).port, new URL(first).port, "the same local port");
      assert.notEqual(url, first, "a new token");
      assert.equal(await statusOn(url), 200);
      assert.notEqual(serverOf(job)?.id, before.id, "a new server");
      assert.deepEqual(nodeLogins(logs), [], "no login into a compute node");
      assert.doesNotMatch(p.stdout(), /trying SSH/);
      await ctrlC(p);
      assert.equal((await p.finished()).code, 130);
      assert.deepEqual(await waitClean(job, serverOf(job)?.port), []);
    } finally {
      await cancelByName(name);
    }
  },
);

connectTest(
  "several sessions on one job: Ctrl-C in one, attached or the one that started it, leaves the others working",
  async () => {
    const name = jobName();
    try {
      await using starter = connectOnLaptop(`login1 --no-browser --job-name ${name} --time 10`);
      const job = await jobOf(starter);
      const url = await urlOf(starter);
      assert.match(starter.stdout(), /cancels job \d+, unless another connect session is attached/);
      await using a = connectOnLaptop(`login1 --attach ${job} --no-browser`);
      const urlA = await urlOf(a);
      assert.match(a.stdout(), /keeps job \d+ \(this session came back to it\)/);
      await using b = connectOnLaptop(`login1 --attach ${job} --no-browser`);
      const urlB = await urlOf(b);
      // An attached session's Ctrl-C keeps the job, and says so.
      await ctrlC(a);
      const endA = await a.finished();
      assert.equal(endA.code, 130, endA.stdout);
      assert.match(endA.stdout, new RegExp(`Kept job ${job}`));
      assert.equal(await statusOn(url), 200);
      assert.equal(await statusOn(urlB), 200);
      // The starter's Ctrl-C keeps it too while another session is attached.
      await ctrlC(starter);
      const endS = await starter.finished();
      assert.equal(endS.code, 130, endS.stdout);
      assert.match(
        endS.stdout,
        /another connect session is attached to it .*so it was not cancelled/,
      );
      assert.equal(await squeueState(job), "RUNNING");
      assert.equal(await statusOn(urlB), 200, "the other session works on");
      await ctrlC(b);
      assert.equal((await b.finished()).code, 130);
      void urlA;
      const c = await onHost(LAPTOP2, `legate-jupyter connect login1 --cancel ${job}`);
      assert.equal(c.code, 0, c.stderr);
      assert.deepEqual(await waitClean(job), []);
      const sessions = `${CLUSTER.home}/.local/state/legate-jupyter/sessions`;
      const left = [...Deno.readDirSync(sessions)].filter((e) => e.name.includes(`-${job}-`));
      assert.deepEqual(left, [], "every session's record is gone");
    } finally {
      await cancelByName(name);
    }
  },
);
