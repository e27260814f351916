/**
 * Unit tests of how the laptop's route to a server is decided: the scheduler's answer about
 * the login node behind a compute node, the ready block when no tunnel can work, and the rule
 * that a server on another node whose batch job has ended is dead at once.
 */

import assert from "node:assert/strict";
import { parseAllocations } from "../src/scheduler/login_host.ts";
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
