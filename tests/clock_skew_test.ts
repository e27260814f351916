/**
 * A compute node whose clock is ten minutes behind, or ahead, on the four-host test cluster:
 * `faketime` (Debian's libfaketime) moves the clock of everything the job runs on the node
 * (the batch script, `notebook`, Jupyter), and of the commands run there by hand. `connect`
 * must find its job's server, `servers` must neither drop a live server nor keep a dead one,
 * `stop` must reach every server that runs (by id: `--all` would stop the servers of tests that
 * run beside these), `jobs` must show the URL; and nothing may be left running. No clock of one host is compared with another's: heartbeats are aged on the
 * shared file system's clock. Skipped, with the reason, where the cluster cannot be built or
 * libfaketime is missing (apt-get install faketime).
 */

import assert from "node:assert/strict";
import { CLUSTER, type Host, onHost, spawnOnHost, userProcesses } from "./cluster/cluster.ts";
import {
  cancelByName,
  connectOnLaptop,
  connectTest,
  jobName,
  jobOf,
  statusOn,
  urlOf,
  waitClean,
} from "./cluster-connect/session.ts";

const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
const haveFaketime = await Deno.stat(LIBFAKETIME).then(() => true, () => false);
const noFaketime = haveFaketime ? undefined : `no ${LIBFAKETIME} (apt-get install faketime)`;

/** A test; `laptop`: it runs connect on laptop2, which it then needs to itself. */
function skewTest(name: string, fn: () => Promise<void>, laptop = true) {
  connectTest(name, fn, { skip: noFaketime, laptop });
}

/** The environment that moves a process's clock by `offset` (`-10m`, `+10m`). */
function skewVars(offset: string): string {
  return `LD_PRELOAD=${LIBFAKETIME},FAKETIME=${offset},FAKETIME_DONT_FAKE_MONOTONIC=1`;
}

/** `cmd` on `host` with its clock moved by `offset`. */
function skewed(offset: string, cmd: string): string {
  return `${skewVars(offset).replaceAll(",", " ")} ${cmd}`;
}

const STATE = `${CLUSTER.home}/.local/state/legate-jupyter`;

function entries(): Record<string, unknown>[] {
  try {
    return [...Deno.readDirSync(`${STATE}/servers`)].filter((e) => e.name.endsWith(".json"))
      .map((e) => JSON.parse(Deno.readTextFileSync(`${STATE}/servers/${e.name}`)));
  } catch {
    return [];
  }
}

/**
 * connect with the job's node `offset` off: ready, and `servers` and `jobs` on login1 and on
 * the node right about it; then `stop ID` on `stopOn` ends it and the session with it.
 */
async function sessionOnSkewedNode(offset: string, stopOn: "login1" | "node"): Promise<void> {
  const name = jobName();
  try {
    await using p = connectOnLaptop(
      `login1 --no-browser --job-name ${name} --time 10 --sbatch-arg=--export=ALL,${
        skewVars(offset)
      }`,
    );
    const job = await jobOf(p);
    const url = await urlOf(p, 150_000);
    assert.equal(await statusOn(url), 200);
    const entry = entries().find((e) => e.jobId === job)!;
    const skewMs = Date.parse(entry.startedAt as string) - Date.now();
    assert.ok(Math.abs(skewMs) > 5 * 60_000, `the node's clock is off (${skewMs} ms)`);
    const node = entry.host as Host;
    const servers = await onHost("login1", "legate-jupyter servers");
    assert.equal(servers.code, 0, servers.stderr);
    assert.doesNotMatch(servers.stderr, new RegExp(`Removed .*${entry.id}`));
    assert.match(
      servers.stdout,
      new RegExp(`^${entry.id}\\s+notebook\\s+${node}\\s.*\\brunning\\b`, "m"),
    );
    const onNode = await onHost(node, skewed(offset, "legate-jupyter servers"));
    assert.match(onNode.stdout, new RegExp(`^${entry.id}\\s.*\\brunning\\b`, "m"), onNode.stderr);
    const jobs = await onHost("login1", "legate-jupyter jobs");
    assert.match(
      jobs.stdout,
      new RegExp(`^${job}\\s+${name}\\s+RUNNING\\s+${node}\\s.*http://`, "m"),
    );
    const stop = await onHost(
      stopOn === "login1" ? "login1" : node,
      stopOn === "login1"
        ? `legate-jupyter stop ${entry.id}`
        : skewed(offset, `legate-jupyter stop ${entry.id}`),
      { timeoutMs: 60_000 },
    );
    assert.equal(stop.code, 0, stop.stdout + stop.stderr);
    assert.match(stop.stdout, new RegExp(`^Stopped ${entry.id} `, "m"));
    const end = await p.finished();
    assert.equal(end.code, 1, end.stdout);
    assert.match(
      end.stdout,
      /was shut down \(from its page, or with 'stop'\), and job \d+ ended COMPLETED; the session is over/,
    );
    assert.deepEqual(await waitClean(job, entry.port as number), []);
  } finally {
    await cancelByName(name);
  }
}

skewTest(
  "with the node's clock 10 minutes behind: connect gets ready, servers and jobs keep and show the server, stop on login1 ends it",
  () => sessionOnSkewedNode("-10m", "login1"),
);

skewTest(
  "with the node's clock 10 minutes ahead: connect gets ready, servers and jobs show the server, stop on the node ends it",
  () => sessionOnSkewedNode("+10m", "node"),
);

skewTest(
  "a crashed server on a node 10 minutes ahead is found dead by login1 once its heartbeat is stale: stop does not wait on it, servers no longer lists it",
  async () => {
    await using p = spawnOnHost("node1", skewed("+10m", "legate-jupyter notebook"), {
      timeoutMs: 300_000,
    });
    const url = await p.waitFor(/http:\/\/127\.0\.0\.1:(\d+)\/\?token=/, 60_000);
    // Its own entry, by the port it printed: other files' tests run servers on node1 beside
    // this one, and killing one of theirs would fail them, not this.
    const entry = entries().find((e) => e.host === "node1" && e.port === Number(url[1]));
    assert.ok(entry, `no entry for port ${url[1]} on node1`);
    try {
      // Past one heartbeat (written with the node's clock, it would be ten minutes ahead).
      await new Promise((r) => setTimeout(r, 35_000));
      const listed = await onHost("login1", "legate-jupyter servers");
      assert.match(
        listed.stdout,
        new RegExp(`^${entry.id}\\s.*\\brunning\\b`, "m"),
        "alive while it beats",
      );
      const kill = await onHost("node1", `kill -9 ${entry.supervisorPid} ${entry.pid}`);
      assert.equal(kill.code, 0, kill.stderr);
      await p.finished();
      await new Promise((r) => setTimeout(r, 50_000));
      const t0 = Date.now();
      const stop = await onHost("login1", `legate-jupyter stop ${entry.id}`);
      assert.equal(stop.code, 0, stop.stdout + stop.stderr);
      assert.match(
        stop.stdout,
        new RegExp(
          `^Stopped ${entry.id} .*it had already stopped: its entry had no heartbeat`,
          "m",
        ),
      );
      assert.ok(Date.now() - t0 < 10_000, "stop did not wait on a dead server");
      const servers = await onHost("login1", "legate-jupyter servers --json");
      assert.equal(servers.code, 0, servers.stderr);
      assert.ok(!JSON.parse(servers.stdout).some((s: { id: string }) => s.id === entry.id));
      const left = (await userProcesses("node1")).filter((q) =>
        q.args.includes(`--port=${entry.port}`)
      );
      assert.deepEqual(left, []);
    } finally {
      await onHost("node1", `kill -9 ${entry.supervisorPid} ${entry.pid} 2>/dev/null; true`);
      await Deno.remove(`${STATE}/servers/${entry.id}.json`).catch(() => {});
    }
  },
  false,
);
