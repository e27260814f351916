/**
 * The four-host test cluster itself (tests/cluster/): each host is what it claims to be, the
 * homes are shared where they should be and not where they should not, SSH and Slurm work
 * between the hosts, the node-SSH switch refuses and allows, and a cluster taken down leaves
 * nothing behind. Skipped, with the reason, where the cluster cannot be built (not root, a
 * missing program).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CLUSTER,
  clusterSkipReason,
  clusterUp,
  HOSTS,
  onHost,
  withNodeSsh,
} from "./cluster/cluster.ts";
import { fileURLToPath } from "node:url";

const skip = clusterSkipReason();

function clusterTest(name: string, fn: () => Promise<void>) {
  Deno.test({
    name: skip ? `${name} (skipped: ${skip})` : name,
    ignore: skip !== undefined,
    async fn() {
      await clusterUp();
      await fn();
    },
  });
}

async function ok(host: (typeof HOSTS)[number], command: string): Promise<string> {
  const r = await onHost(host, command);
  assert.equal(r.code, 0, `on ${host}: ${command}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

clusterTest(
  "each cluster host has its own name and address, and only the laptop lacks the compute nodes' names",
  async () => {
    for (const h of HOSTS) {
      const out = await ok(h, "hostname; id -un; ip -4 -br addr show eth0");
      const [name, user, addr] = out.trim().split("\n");
      assert.equal(name, h);
      assert.equal(user, CLUSTER.user);
      assert.match(addr, new RegExp(`\\b${CLUSTER.address[h].replaceAll(".", "\\.")}/24\\b`));
    }
    assert.equal(
      (await onHost("laptop", "getent hosts node1")).code,
      2,
      "the laptop cannot resolve node1",
    );
    assert.match(await ok("laptop", "getent hosts login1"), /login1/);
    assert.match(await ok("login1", "getent hosts node2"), /node2/);
    // Nothing routes out of the cluster network.
    assert.doesNotMatch(await ok("login1", "ip route"), /default/);
  },
);

clusterTest(
  "the cluster hosts share the user's home; the laptop has a home of its own",
  async () => {
    const stamp = crypto.randomUUID();
    await ok("node1", `echo ${stamp} > ~/shared-${stamp}`);
    try {
      assert.equal((await ok("login1", `cat ~/shared-${stamp}`)).trim(), stamp);
      assert.equal((await ok("node2", `cat ~/shared-${stamp}`)).trim(), stamp);
      assert.notEqual((await onHost("laptop", `cat ~/shared-${stamp}`)).code, 0);
      // The tool is on the cluster's PATH as a released binary would be, not on the laptop's.
      assert.equal(
        (await ok("login1", "command -v legate-jupyter")).trim(),
        `${CLUSTER.home}/.local/bin/legate-jupyter`,
      );
      assert.match(await ok("node1", "legate-jupyter --version"), /^legate-jupyter \d/);
      assert.notEqual((await onHost("laptop", "command -v legate-jupyter")).code, 0);
    } finally {
      await Deno.remove(join(CLUSTER.home, `shared-${stamp}`)).catch(() => {});
    }
  },
);

clusterTest(
  "the laptop reaches login1 by SSH, the nodes through it, and the node-SSH switch refuses and allows",
  async () => {
    await withNodeSsh("allow", async () => {
      assert.equal((await ok("laptop", "ssh -o BatchMode=yes login1 hostname")).trim(), "login1");
      assert.equal(
        (await ok("laptop", "ssh -o BatchMode=yes -J login1 node1 hostname")).trim(),
        "node1",
      );
      assert.equal((await ok("login1", "ssh -o BatchMode=yes node2 hostname")).trim(), "node2");
    });
    await withNodeSsh("refuse", async () => {
      const r = await onHost("laptop", "ssh -o BatchMode=yes -J login1 node1 hostname");
      assert.equal(r.code, 255);
      assert.match(r.stderr, /Permission denied/);
      const fromLogin = await onHost("login1", "ssh -o BatchMode=yes node2 hostname");
      assert.match(fromLogin.stderr, /Permission denied/);
      assert.equal((await ok("laptop", "ssh -o BatchMode=yes login1 hostname")).trim(), "login1");
    });
    // Allowed again once the refusal ends (held, so that no other test refuses meanwhile).
    await withNodeSsh("allow", async () => {
      assert.equal(
        (await ok("laptop", "ssh -o BatchMode=yes -J login1 node1 hostname")).trim(),
        "node1",
      );
    });
  },
);

clusterTest("Slurm on login1 runs one task on each of node1 and node2", async () => {
  const out = await ok("login1", "sinfo -h -N -o '%N %T'; srun -N2 -l hostname | sort");
  // Up, whatever other tests' jobs do with them meanwhile (idle, mixed, allocated, completing).
  assert.match(out, /^node1 (?!down|drain|fail|unk|not_resp)[a-z]+\*?$/m);
  assert.match(out, /^node2 (?!down|drain|fail|unk|not_resp)[a-z]+\*?$/m);
  assert.match(out, /^0: node1\n1: node2$/m);
});

Deno.test({
  name: "a second cluster instance comes up beside the first and goes down leaving nothing behind" +
    (skip ? ` (skipped: ${skip})` : ""),
  ignore: skip !== undefined,
  async fn() {
    const env = {
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      LJC: "ljctwo",
      LJC_UID: "61090",
    };
    const script = (name: string) =>
      join(fileURLToPath(new URL(".", import.meta.url)), "cluster", name);
    const run = async (argv: string[]) => {
      const out = await new Deno.Command(argv[0], { args: argv.slice(1), env, clearEnv: true })
        .output();
      const dec = new TextDecoder();
      return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
    };
    // What the instance could leave in the machine's own namespace (other helpers' mounts and
    // users come and go on a shared machine, so only ours are compared).
    const machine = async () => ({
      links: (await run(["ip", "-br", "link"])).stdout.split("\n").filter((l) =>
        /^(v-|eth0)/.test(l)
      ),
      mounts: (await Deno.readTextFile("/proc/self/mountinfo")).split("\n")
        .filter((l) =>
          (l.includes("ljctwo") && !l.includes("/run/netns/")) ||
          / \/etc\/(hosts|passwd|group|shadow|slurm) /.test(l)
        ),
      users: (await Deno.readTextFile("/etc/passwd")).split("\n").filter((l) =>
        /^ljuser:|:61090:/.test(l)
      ),
      hosts: await Deno.readTextFile("/etc/hosts"),
    });
    const before = await machine();
    try {
      const up = await run(["/bin/sh", script("up.sh")]);
      assert.equal(up.code, 0, up.stderr);
      const again = await run(["/bin/sh", script("up.sh")]);
      assert.match(again.stderr, /already up/);
      const on = await run([
        script("on.sh"),
        "node2",
        "sleep 300 </dev/null >/dev/null 2>&1 & hostname",
      ]);
      assert.equal(on.stdout.trim(), "node2");
      // Nothing of it shows in the machine's own namespace.
      assert.deepEqual(await machine(), before);
    } finally {
      const down = await run(["/bin/sh", script("down.sh")]);
      assert.equal(down.code, 0, down.stderr);
    }
    assert.deepEqual(await machine(), before);
    assert.doesNotMatch((await run(["ip", "netns", "list"])).stdout, /^ljctwo-/m);
    await assert.rejects(Deno.stat("/tmp/ljctwo"));
    const left = [];
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      const status = await Deno.readTextFile(`/proc/${e.name}/status`).catch(() => "");
      if (/^Uid:\s+61090\b/m.test(status) && !/^State:\s+Z/m.test(status)) left.push(e.name);
    }
    assert.deepEqual(left, [], "no process of the second instance's user is left");
  },
});
