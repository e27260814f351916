/**
 * Benchmarks leave the machine as they found it: bench/connect_bench.ts brings up the test
 * cluster and laptop2 when they are not up, and takes down what it brought up when it ends;
 * a cluster that was already up (scripts/test.sh's, a person's) stays up. Run on an instance
 * of the cluster of its own ("ljcbench", its own namespaces, directory and uids), so that the
 * cluster the other tests use is never touched.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { clusterSkipReason } from "./cluster/cluster.ts";
import { ROOT } from "./helpers.ts";

const skip = clusterSkipReason();
const NAME = "ljcbench";
const UID = 61093;
const ENV = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  LJC: NAME,
  LJC_UID: String(UID),
  NO_COLOR: "1",
  LANG: "C.UTF-8",
};

async function run(argv: string[], timeoutMs = 600_000) {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: ENV,
    clearEnv: true,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** What of the instance is on the machine: its namespaces, its directory, its users' processes. */
async function remains(): Promise<string[]> {
  const left: string[] = [];
  const ns = (await run(["ip", "netns", "list"])).stdout.split("\n")
    .filter((l) => l.startsWith(`${NAME}-`));
  left.push(...ns.map((n) => `namespace ${n}`));
  if (await Deno.stat(`/tmp/${NAME}`).then(() => true, () => false)) left.push(`/tmp/${NAME}`);
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const status = await Deno.readTextFile(`/proc/${e.name}/status`).catch(() => "");
    const cmd = await Deno.readTextFile(`/proc/${e.name}/cmdline`).catch(() => "");
    if (/^State:\s+Z/m.test(status)) continue;
    if (
      new RegExp(`^Uid:\\s+(${UID}|${UID + 1})\\b`, "m").test(status) ||
      cmd.includes(`/tmp/${NAME}/`)
    ) {
      left.push(`process ${e.name}: ${cmd.replaceAll("\0", " ").trim()}`);
    }
  }
  return left;
}

const script = (path: string) => join(ROOT, path);

Deno.test({
  name:
    "bench/connect_bench.ts takes down the cluster and laptop2 it brought up: no namespace, process or directory of them is left" +
    (skip ? ` (skipped: ${skip})` : ""),
  ignore: skip !== undefined,
  sanitizeResources: false,
  async fn() {
    await run(["/bin/sh", script("tests/cluster/down.sh")]);
    assert.deepEqual(await remains(), [], "nothing of the instance before the bench");
    try {
      const bench = await run([
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        script("bench/connect_bench.ts"),
        "--rounds",
        "1",
      ]);
      assert.equal(bench.code, 0, bench.stderr);
      assert.match(bench.stdout, /start-up rounds: connect /, "the bench ran");
      assert.deepEqual(await remains(), []);
    } finally {
      await run(["/bin/sh", script("tests/cluster-connect/laptop2.sh"), "down"]);
      await run(["/bin/sh", script("tests/cluster/down.sh")]);
    }
  },
});

Deno.test({
  name:
    "a bench or test that finds the cluster up leaves it up as it found it, and takes down only the laptop2 it brought up" +
    (skip ? ` (skipped: ${skip})` : ""),
  ignore: skip !== undefined,
  sanitizeResources: false,
  async fn() {
    try {
      const up = await run(["/bin/sh", script("tests/cluster/up.sh")]);
      assert.equal(up.code, 0, up.stderr);
      // What connect_bench.ts and the connect tests do first, in a process that then ends.
      const user = await run([
        Deno.execPath(),
        "eval",
        `import { connectClusterUp } from ${
          JSON.stringify(script("tests/cluster-connect/session.ts"))
        };
         await connectClusterUp();
         console.log(Deno.statSync("/run/netns/${NAME}-laptop2") !== undefined);`,
      ]);
      assert.equal(user.code, 0, user.stderr);
      assert.equal(user.stdout.trim(), "true", "laptop2 was up while the process ran");
      const ns = (await run(["ip", "netns", "list"])).stdout;
      assert.doesNotMatch(ns, new RegExp(`^${NAME}-laptop2\\b`, "m"), "laptop2 is down again");
      for (const h of ["laptop", "login1", "node1", "node2", "sw"]) {
        assert.match(ns, new RegExp(`^${NAME}-${h}\\b`, "m"), `${h} is still up`);
      }
      const sinfo = await run([
        "/bin/sh",
        script("tests/cluster/on.sh"),
        "login1",
        "sinfo -h -o %T",
      ]);
      assert.equal(sinfo.code, 0, sinfo.stderr);
    } finally {
      await run(["/bin/sh", script("tests/cluster-connect/laptop2.sh"), "down"]);
      await run(["/bin/sh", script("tests/cluster/down.sh")]);
    }
    assert.deepEqual(await remains(), []);
  },
});
