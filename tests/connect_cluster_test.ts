/**
 * `legate-jupyter connect` for real on the four-host test cluster (tests/cluster/), from a
 * laptop of its own (laptop2: tests/cluster-connect/): real ssh and sshd, a real two-node
 * Slurm, real Jupyter on the compute node, real Chromium on the laptop. Each session runs on a
 * pseudo-terminal, as typed by a person, and Ctrl-C is a ^C typed into it. Logins are counted
 * in login1's sshd log by laptop2's address. Skipped, with the reason, where the cluster
 * cannot be built.
 */

import assert from "node:assert/strict";
import { CLUSTER, onHost, spawnOnHost, userProcesses, withNodeSsh } from "./cluster/cluster.ts";
import {
  BROWSER,
  cancelByName,
  connectOnLaptop,
  connectPid,
  connectTest,
  ctrlC,
  jobName,
  jobOf,
  KERNEL,
  kernelClient,
  LAPTOP2,
  LAPTOP2_HOME,
  laptop2Logins,
  loginFromLogin1,
  setLink,
  sshdLog,
  statusOn,
  urlOf,
  waitClean,
} from "./cluster-connect/session.ts";

/** The server's port on the node, from the job's server entry in the shared home. */
function serverPort(job: string): number | undefined {
  const dir = `${CLUSTER.home}/.local/state/legate-jupyter/servers`;
  try {
    for (const e of Deno.readDirSync(dir)) {
      const r = JSON.parse(Deno.readTextFileSync(`${dir}/${e.name}`));
      if (r.jobId === job) return r.port;
    }
  } catch {
    // None yet.
  }
  return undefined;
}

/**
 * One whole session: connect prints a URL that answers on the laptop; Ctrl-C cancels the job,
 * waits for it, and nothing is left on any host; one login for all of it.
 */
async function wholeSession(via = ""): Promise<void> {
  const name = jobName();
  const from = sshdLog().length;
  try {
    await using p = connectOnLaptop(
      `login1 --partition debug --no-browser --job-name ${name}${via ? ` --via ${via}` : ""}`,
    );
    const job = await jobOf(p);
    const url = await urlOf(p);
    assert.equal(await statusOn(url), 200);
    assert.equal(await statusOn(url.replace("127.0.0.1", "localhost")), 200, "as localhost too");
    const stdio = /the bytes through the step's stdio/.test(p.stdout());
    assert.equal(stdio, via === "srun-stdio", "the bytes go straight to the relay unless asked");
    const port = serverPort(job);
    await ctrlC(p);
    const end = await p.finished();
    assert.equal(end.code, 130, end.stdout);
    assert.match(end.stdout, new RegExp(`Cancelled job ${job} \\(was RUNNING on node\\d\\)`));
    assert.deepEqual(await waitClean(job, port), []);
    assert.equal(laptop2Logins(sshdLog(), from), 1, "one login for the session");
  } finally {
    await cancelByName(name);
  }
}

connectTest(
  "connect login1 --partition debug --no-browser prints a URL that answers 200 on the laptop, " +
    "with one login; Ctrl-C cancels the job and leaves nothing on any host (SSH into nodes allowed)",
  () => withNodeSsh("allow", () => wholeSession()),
);

connectTest(
  "connect works the same with SSH into the compute nodes refused: the relay is a Slurm step",
  () => withNodeSsh("refuse", () => wholeSession()),
);

connectTest(
  "where the node refuses SSH, the 'connect --attach' that submit prints instead of a tunnel " +
    "works on the laptop exactly as printed",
  () =>
    withNodeSsh("refuse", async () => {
      const name = jobName();
      try {
        const sub = await onHost(
          "login1",
          `legate-jupyter submit --job-name ${name} --time 10 --timeout 150`,
          { timeoutMs: 200_000 },
        );
        assert.equal(sub.code, 0, sub.stderr);
        const printed = /^ {2}(legate-jupyter connect \S+ --attach \S+)$/m.exec(sub.stdout);
        assert.ok(printed, `no connect command in:\n${sub.stdout}`);
        await using p = spawnOnHost(LAPTOP2, printed[1], { tty: true, timeoutMs: 600_000 });
        const url = await urlOf(p);
        assert.equal(await statusOn(url), 200);
        await ctrlC(p);
        await p.finished();
      } finally {
        await cancelByName(name);
      }
    }),
);

connectTest(
  "--via srun-stdio carries everything through the relay step's own stdio",
  () => wholeSession("srun-stdio"),
);

connectTest(
  "the browser connect opens (Chromium, on the laptop) lands on Jupyter, starts the Legate " +
    "kernel and runs %legate_info",
  async () => {
    const name = jobName();
    const result = `${CLUSTER.home}/browser-${name}.json`;
    const resultOnMachine = `${LAPTOP2_HOME}/browser-${name}.json`;
    try {
      await using p = connectOnLaptop(
        `login1 --job-name ${name}`,
        `BROWSER=${BROWSER} LJD_KERNEL=${KERNEL} LJD_RESULT=${result} `,
      );
      await urlOf(p);
      await p.waitFor(/Opened it in your browser/);
      let text = "";
      for (let i = 0; i < 1200 && !text; i++) {
        text = await Deno.readTextFile(resultOnMachine).catch(() => "");
        if (!text) await new Promise((r) => setTimeout(r, 200));
      }
      const r = JSON.parse(text);
      assert.equal(r.error, undefined, text);
      assert.equal(r.page.login, false, "not the login page: the one-time link logged in");
      assert.doesNotMatch(r.page.href, /legate-jupyter\/open/);
      assert.equal(r.status, "ok");
      assert.match(r.stdout, new RegExp(`^Kernel '${KERNEL}' configured for 1 node\\(s\\)`));
      assert.match(r.stdout, /DRAM memory per rank \(in MBs\) : 256/);
      await ctrlC(p);
      assert.equal((await p.finished()).code, 130);
    } finally {
      await Deno.remove(resultOnMachine).catch(() => {});
      await cancelByName(name);
    }
  },
);

/**
 * Cuts laptop2's link for 20 s under a running kernel; the same URL answers again and the
 * kernel still holds `x`. Returns the number of logins the session took.
 */
async function linkCut(destination: string): Promise<number> {
  const name = jobName();
  const from = sshdLog().length;
  try {
    await using p = connectOnLaptop(`${destination} --no-browser --job-name ${name}`);
    const job = await jobOf(p);
    const url = await urlOf(p);
    const kernel = await kernelClient("start", url, KERNEL);
    assert.equal(JSON.parse(await kernelClient("exec", url, kernel, "x = 6 * 7")).status, "ok");
    await setLink(false);
    try {
      await new Promise((r) => setTimeout(r, 20_000));
    } finally {
      await setLink(true);
    }
    await p.waitFor(/Reconnected to \S+: the same URL works again/, 120_000);
    assert.equal(await statusOn(url), 200);
    const after = JSON.parse(await kernelClient("exec", url, kernel, "print(x)"));
    assert.deepEqual(after, { status: "ok", stdout: "42\n" });
    assert.match(p.stdout(), /lost the connection to \S+ \(no word from the other side/);
    await ctrlC(p);
    const end = await p.finished();
    assert.equal(end.code, 130, end.stdout);
    assert.deepEqual(await waitClean(job, serverPort(job)), []);
    return laptop2Logins(sshdLog(), from);
  } finally {
    await cancelByName(name);
  }
}

connectTest(
  "with the laptop's link down for 20 s, connect dials again by itself: the same URL answers, " +
    "the kernel keeps its state, and the session took two logins (nothing to share)",
  async () => {
    assert.equal(await linkCut("login1"), 2);
  },
);

connectTest(
  "with the user's ControlMaster, the re-dial after a 20-s cut goes through the shared " +
    "connection: one login for the whole session",
  async () => {
    try {
      assert.equal(await linkCut("hpc-shared"), 1);
    } finally {
      await onHost("laptop2" as never, "ssh -O exit hpc-shared 2>/dev/null; true");
    }
    assert.deepEqual((await userProcesses("laptop2" as never)).map((p) => p.args), []);
  },
);

connectTest(
  "after connect was killed -9 the job runs on; --jobs lists it and --attach comes back to the " +
    "same URL, and keeps the job on Ctrl-C",
  async () => {
    const name = jobName();
    try {
      let job: string;
      let url: string;
      {
        await using p = connectOnLaptop(`login1 --no-browser --job-name ${name}`);
        job = await jobOf(p);
        url = await urlOf(p);
        Deno.kill(connectPid(p)!, "SIGKILL");
        await p.finished();
      }
      const jobs = await onHost("laptop2" as never, "legate-jupyter connect login1 --jobs");
      assert.equal(jobs.code, 0, jobs.stderr);
      assert.match(
        jobs.stdout,
        new RegExp(`^${job}\\s+job ${name}\\s+RUNNING\\s+node\\d.*\\bup$`, "m"),
      );
      await using a = connectOnLaptop(`login1 --attach ${job} --no-browser`);
      assert.equal(await urlOf(a), url, "the same port is free again, so the same URL");
      assert.equal(await statusOn(url), 200);
      // A session that came back to a job keeps it on Ctrl-C, and says how to end it.
      await ctrlC(a);
      const end = await a.finished();
      assert.equal(end.code, 130);
      assert.match(
        end.stdout,
        new RegExp(`Kept job ${job}[\\s\\S]*End it with: .*--cancel ${job}`),
      );
      const c = await onHost("laptop2" as never, `legate-jupyter connect login1 --cancel ${job}`);
      assert.equal(c.code, 0, c.stderr);
      assert.deepEqual(await waitClean(job, serverPort(job)), []);
    } finally {
      await cancelByName(name);
    }
  },
);

connectTest(
  "--keep: Ctrl-C leaves the job running and says how to come back; --cancel JOBID ends it",
  async () => {
    const name = jobName();
    try {
      await using p = connectOnLaptop(`login1 --keep --no-browser --job-name ${name}`);
      const job = await jobOf(p);
      await urlOf(p);
      await ctrlC(p);
      const end = await p.finished();
      assert.equal(end.code, 130);
      assert.match(end.stdout, new RegExp(`connect login1 --attach ${job}`));
      assert.match(end.stdout, new RegExp(`connect login1 --cancel ${job}`));
      const q = await onHost("login1", `squeue -h -j ${job} -o %T`);
      assert.equal(q.stdout.trim(), "RUNNING");
      const c = await onHost("laptop2" as never, `legate-jupyter connect login1 --cancel ${job}`);
      assert.equal(c.code, 0, c.stderr);
      assert.match(c.stdout, new RegExp(`Cancelled job ${job}`));
      assert.deepEqual(await waitClean(job, serverPort(job)), []);
    } finally {
      await cancelByName(name);
    }
  },
);

connectTest(
  "a wrong partition gives Slurm's own error and exit 1, without waiting",
  async () => {
    const r = await onHost(
      "laptop2" as never,
      "legate-jupyter connect login1 --partition nosuch --no-browser",
      { timeoutMs: 60_000 },
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    // Slurm's own words, as sbatch wrote them (22.05 and 24.11 word them alike).
    assert.match(r.stderr, /^sbatch: error: .*invalid partition.*$/im);
    assert.doesNotMatch(r.stderr, /legate-jupyter: error: sbatch/);
  },
);

connectTest(
  "the user's ssh config is honoured: an alias whose ProxyJump goes through login1",
  async () => {
    const from = sshdLog().length;
    const name = jobName();
    try {
      await using p = connectOnLaptop(`hpc-jump --no-browser --job-name ${name}`);
      const job = await jobOf(p);
      assert.equal(await statusOn(await urlOf(p)), 200);
      await ctrlC(p);
      assert.equal((await p.finished()).code, 130);
      assert.deepEqual(await waitClean(job, serverPort(job)), []);
      const log = sshdLog();
      assert.equal(laptop2Logins(log, from), 1, "the jump's own login, from the laptop");
      assert.equal(loginFromLogin1(log, from) >= 1, true, "the hop through the jump host");
    } finally {
      await cancelByName(name);
    }
  },
);

connectTest(
  "--here runs Jupyter on login1 detached: it outlives the connection (kill -9), --attach finds " +
    "it, Ctrl-C stops it",
  async () => {
    let id = "";
    try {
      let url: string;
      {
        await using p = connectOnLaptop("login1 --here --no-browser");
        url = await urlOf(p);
        id = (await p.waitFor(/as server ([0-9a-f]{8})/))[1];
        assert.equal(await statusOn(url), 200);
        Deno.kill(connectPid(p)!, "SIGKILL");
        await p.finished();
      }
      await using a = connectOnLaptop(`login1 --attach ${id} --no-browser`);
      assert.equal(await urlOf(a), url);
      assert.equal(await statusOn(url), 200);
      await ctrlC(a);
      const end = await a.finished();
      assert.equal(end.code, 130, end.stdout);
      assert.match(end.stdout, new RegExp(`Stopped ${id}`));
      const left = (await userProcesses("login1")).filter((p) =>
        /jupyter|legate-jupyter (agent|notebook)/.test(p.args) && p.args.includes(id)
      );
      assert.deepEqual(left, []);
    } finally {
      if (id) await onHost("login1", `legate-jupyter stop ${id} 2>/dev/null; true`);
    }
  },
);

connectTest(
  "--via ssh (the route for PBS and LSF) reaches the node over SSH from login1, and says why " +
    "it cannot when SSH into nodes is refused",
  async () => {
    const name = jobName();
    try {
      await withNodeSsh("allow", async () => {
        await using p = connectOnLaptop(`login1 --via ssh --no-browser --job-name ${name}`);
        const job = await jobOf(p);
        const url = await urlOf(p);
        assert.match(p.stdout(), /through login1 and SSH from there to node\d/);
        assert.equal(await statusOn(url), 200);
        await ctrlC(p);
        assert.equal((await p.finished()).code, 130);
        assert.deepEqual(await waitClean(job, serverPort(job)), []);
      });
      await withNodeSsh("refuse", async () => {
        const r = await onHost(
          "laptop2" as never,
          `legate-jupyter connect login1 --via ssh --no-browser --job-name ${name}`,
        );
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stderr, /cannot reach node\d from login1: .*Permission denied/);
        assert.match(r.stderr, /cancelled job \d+ \(keep it with --keep\)/);
      });
    } finally {
      await cancelByName(name);
    }
  },
);

connectTest(
  "a missing remote program, or one of another protocol, is one line saying what to install where",
  async () => {
    const missing = await onHost(
      "laptop2" as never,
      "legate-jupyter connect login1 --remote-command /nowhere/legate-jupyter --jobs",
    );
    assert.equal(missing.code, 1);
    const ours = missing.stderr.trim().split("\n").filter((l) => l.startsWith("legate-jupyter"));
    assert.equal(ours.length, 1, missing.stderr);
    assert.match(
      ours[0],
      /'\/nowhere\/legate-jupyter' was not found on login1 .*install legate-jupyter \d+\.\d+\.\d+ there \(curl .*install\.sh \| LEGATE_JUPYTER_VERSION=/,
    );
    const fake = `${Deno.execPath()} run -A --quiet ` +
      `${CLUSTER.app}/tests/support/fake_remote.ts`;
    const other = await onHost(
      "laptop2" as never,
      `legate-jupyter connect login1 --remote-command '${fake}' --jobs`,
    );
    assert.equal(other.code, 1);
    const line = other.stderr.trim().split("\n").filter((l) => l.startsWith("legate-jupyter"));
    assert.equal(line.length, 1, other.stderr);
    assert.match(
      line[0],
      /^legate-jupyter: error: login1: it is legate-jupyter 9\.9\.9 \(protocol 99\) and this is .*install legate-jupyter/,
    );
  },
);
