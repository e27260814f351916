/**
 * Unit tests of how the laptop's route to a server is decided: the scheduler's answer about
 * the login node behind a compute node, the ready block when no tunnel can work, and the rule
 * that a server on another node whose batch job has ended is dead at once.
 */

import assert from "node:assert/strict";
import {
  answerWithControllers,
  parseAllocations,
  parseControllers,
} from "../src/scheduler/login_host.ts";
import { isLoopbackName } from "../src/os/hosts.ts";
import { readyEvent, renderReadyBlock } from "../src/server/ready.ts";
import { liveness } from "../src/state/liveness.ts";
import { hasAuthorizedKey } from "../src/jupyter/route.ts";
import { sampleRecord } from "./support/records.ts";

Deno.test("parseAllocations reads squeue's JobID and AllocNodes columns and skips unknown hosts", () => {
  assert.deepEqual(
    parseAllocations(
      "5                   login1              \n7 (null)\n\n9 login2.cluster.org\n",
    ),
    [{ jobId: "5", loginHost: "login1" }, { jobId: "9", loginHost: "login2.cluster.org" }],
  );
  assert.deepEqual(parseAllocations(""), []);
});

Deno.test("the ready block says why no tunnel can reach a server on a node that refuses SSH, and prints no command", () => {
  const r = sampleRecord({ sshRefused: "me@node01: Permission denied (publickey)." });
  const text = renderReadyBlock(r);
  assert.doesNotMatch(text, /^ {2}ssh /m);
  assert.match(text, /From your laptop: no SSH tunnel can reach this server/);
  assert.match(text, /--ip 0\.0\.0\.0/);
  assert.ok(text.split("\n").every((l) => l.length <= 100), text);
  const e = readyEvent(r);
  assert.deepEqual(e.tunnel, []);
  assert.match(e.tunnel_problem ?? "", /refuses SSH logins/);
  assert.equal(e.ssh_config, null);
});

Deno.test("the ready block names --login-host when nothing says which login node the laptop reaches", () => {
  const text = renderReadyBlock(sampleRecord({ loginHost: undefined }), { loginUnknown: true });
  assert.doesNotMatch(text, /^ {2}ssh /m);
  assert.match(text, /node01 is a compute node/);
  assert.match(text, /--login-host HOST/);
});

Deno.test("a server on another node whose batch job has ended is dead at once, whatever its heartbeat", async () => {
  const stored = { record: sampleRecord({ jobId: "77" }), path: "/x", heartbeat: new Date() };
  assert.deepEqual(await liveness(stored, "login1", Date.now(), new Map([["77", true]])), {
    state: "dead",
    how: "scheduler",
  });
  // A running job leaves the decision to the heartbeat, as does a scheduler that cannot say.
  assert.equal(
    (await liveness(stored, "login1", Date.now(), new Map([["77", false]]))).state,
    "running",
  );
  assert.equal((await liveness(stored, "login1", Date.now())).how, "heartbeat");
  const old = { ...stored, heartbeat: new Date(Date.now() - 3_600_000) };
  assert.equal((await liveness(old, "login1", Date.now(), new Map([["77", false]]))).state, "dead");
});

Deno.test("hasAuthorizedKey is true only when one of the user's own keys is in their authorized_keys", async () => {
  const home = await Deno.makeTempDir({ prefix: "lj-route-" });
  try {
    await Deno.mkdir(`${home}/.ssh`);
    const key = "AAAAC3NzaC1lZDI1NTE5AAAAIGx1Z2dhZ2UtbHVnZ2FnZS1sdWdnYWdlLWx1Z2dhZ2U";
    assert.equal(await hasAuthorizedKey(home), false, "no key at all");
    await Deno.writeTextFile(`${home}/.ssh/id_ed25519.pub`, `ssh-ed25519 ${key} me@login1\n`);
    assert.equal(await hasAuthorizedKey(home), false, "a key, but not authorized here");
    await Deno.writeTextFile(
      `${home}/.ssh/authorized_keys`,
      `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG90aGVyLW90aGVyLW90aGVyLW90aGVyLW90aGVy laptop\n` +
        `from="10.0.0.0/8" ssh-ed25519 ${key} me@login1\n`,
    );
    assert.equal(await hasAuthorizedKey(home), true);
    assert.equal(await hasAuthorizedKey(undefined), false);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("isLoopbackName knows localhost, its aliases, loopback addresses and names the hosts file maps to loopback", () => {
  const hosts = "127.0.0.1 localhost\n127.0.1.1 myhost.example myhost # Debian's own name\n" +
    "::1 ip6-localhost ip6-loopback\n10.0.0.2 login1\n";
  for (
    const name of [
      "localhost",
      "LOCALHOST",
      "localhost.localdomain",
      "ip6-loopback",
      "127.0.0.1",
      "127.1.2.3",
      "::1",
      "foo.localhost",
      "myhost",
      "myhost.example",
    ]
  ) {
    assert.equal(isLoopbackName(name, hosts), true, name);
  }
  for (const name of ["login1", "localhostile", "node127", "10.0.0.2"]) {
    assert.equal(isLoopbackName(name, hosts), false, name);
  }
});

Deno.test("an allocation Slurm recorded from localhost is given the controller's host as its login node, else none", () => {
  const loop = { jobId: "7", loginHost: "localhost" };
  assert.deepEqual(answerWithControllers("node1", loop, ["login1"]), {
    kind: "allocation",
    loginHost: "login1",
    jobId: "7",
  });
  assert.deepEqual(answerWithControllers("node1", loop, ["localhost", "login1"]), {
    kind: "allocation",
    loginHost: "login1",
    jobId: "7",
  });
  // The controller is this node: the allocation was made here.
  assert.deepEqual(answerWithControllers("ws1", loop, ["ws1"]), { kind: "head-node" });
  assert.deepEqual(answerWithControllers("node1", loop, []), {
    kind: "loopback",
    jobId: "7",
    allocNode: "localhost",
  });
  assert.deepEqual(answerWithControllers("node1", undefined, ["login1"]), {
    kind: "compute-node",
  });
  assert.deepEqual(parseControllers("Slurmctld(primary) at login1 is UP\n"), ["login1"]);
});

Deno.test("the ready block for a loopback allocation says why and names --login-host, never localhost", () => {
  const why = "Slurm recorded your allocation 7 as made from 'localhost', a loopback name, " +
    "and names no controller host";
  const text = renderReadyBlock(sampleRecord({ loginHost: undefined }), { loginUnknown: why });
  assert.doesNotMatch(text, /^ {2}ssh /m);
  assert.match(text.replace(/\s+/g, " "), /as made from 'localhost', a loopback name/);
  assert.match(text, /--login-host HOST/);
  assert.doesNotMatch(text, /-J \S*localhost/);
});
