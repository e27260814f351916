/**
 * The laptop side of `connect` without a cluster: the ssh command line and configuration
 * reading (pure), the login-shell bootstrap in every shell a cluster account may have (real
 * shells, the real agent, no ssh), the local listener (connections wait while the session is
 * down; the one-time browser link), why a dial failed (pure), and bad command lines, which
 * never dial.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, MOD, runCli, tempDir } from "./helpers.ts";
import {
  agentLine,
  LOGIN_SIGNAL,
  parseSshConfig,
  REMOTE_SHELL,
  sharesConnections,
  sshArgv,
} from "../src/relay/ssh.ts";
import { LocalListener, OPEN_PREFIX, probe } from "../src/relay/laptop.ts";
import { dialPipes, streamWriter } from "../src/relay/pipes.ts";
import { MuxSession, type MuxStream } from "../src/relay/mux.ts";
import { VERSION } from "../src/version.ts";
import { shQuote } from "../src/util/shell.ts";
import { dialProblem } from "../src/connect/dial.ts";

Deno.test("ssh's command line puts connect's own options first, the user's next, then the remote shell", () => {
  const argv = sshArgv({
    destination: "me@login1",
    userOptions: ["Port=2222", "ConnectTimeout=5"],
    config: parseSshConfig("connecttimeout none\n"),
  });
  assert.deepEqual(argv.slice(0, 12), [
    "ssh",
    "-T",
    "-o",
    "RemoteCommand=none",
    "-o",
    "ClearAllForwardings=yes",
    "-o",
    "EscapeChar=none",
    "-o",
    "PermitLocalCommand=yes",
    "-o",
    `LocalCommand=echo ${LOGIN_SIGNAL}`,
  ]);
  assert.deepEqual(argv.slice(12, 16), ["-o", "Port=2222", "-o", "ConnectTimeout=5"]);
  // The user set ConnectTimeout, so connect adds none of its own.
  assert.equal(argv.filter((a) => a.startsWith("ConnectTimeout")).length, 1);
  assert.deepEqual(argv.slice(-3), ["--", "me@login1", REMOTE_SHELL]);
  const plain = sshArgv({ destination: "login1", config: parseSshConfig("connecttimeout none") });
  assert.ok(plain.includes("ConnectTimeout=20"));
  const configured = sshArgv({ destination: "login1", config: parseSshConfig("connecttimeout 7") });
  assert.ok(!configured.some((a) => a.startsWith("ConnectTimeout")));
});

Deno.test("ssh -G output tells whether the user's config shares connections", () => {
  const text = "user me\nhostname 10.0.0.2\ncontrolmaster auto\ncontrolpath /home/me/.ssh/cm-%C\n";
  const cfg = parseSshConfig(text);
  assert.equal(cfg.get("hostname"), "10.0.0.2");
  assert.equal(sharesConnections(cfg), true);
  assert.equal(sharesConnections(parseSshConfig("controlmaster false\ncontrolpath none")), false);
  assert.equal(sharesConnections(parseSshConfig("controlmaster auto\ncontrolpath none")), false);
  assert.equal(sharesConnections(parseSshConfig("")), false);
});

Deno.test("the agent line runs the program, then exits with its status in every shell", () => {
  assert.equal(agentLine(), "legate-jupyter agent; exit $status\n");
  assert.equal(
    agentLine("module load legate && legate-jupyter"),
    "module load legate && legate-jupyter agent; exit $status\n",
  );
});

const SHELLS = ["/usr/bin/bash", "/usr/bin/dash", "/usr/bin/zsh", "/usr/bin/fish", "/usr/bin/tcsh"];

/** A home whose login files (one per shell family) put `bin` on PATH, as a site's would. */
async function loginHome(dir: string): Promise<{ home: string; bin: string }> {
  const home = join(dir, "home");
  const bin = join(home, "lj-bin");
  await Deno.mkdir(bin, { recursive: true });
  await Deno.mkdir(join(home, ".config", "fish"), { recursive: true });
  const launcher = join(bin, "legate-jupyter");
  await Deno.writeTextFile(
    launcher,
    `#!/bin/sh\nexec ${shQuote(Deno.execPath())} run -A --quiet ${shQuote(MOD)} "$@"\n`,
  );
  await Deno.chmod(launcher, 0o755);
  // A banner on stdout before the agent starts, as some sites print: the marker skips it.
  const sh = `echo "Welcome to the test cluster"\nPATH="${bin}:$PATH"; export PATH\n`;
  await Deno.writeTextFile(join(home, ".profile"), sh);
  await Deno.writeTextFile(join(home, ".zprofile"), sh);
  await Deno.writeTextFile(join(home, ".login"), `setenv PATH "${bin}:$PATH"\n`);
  await Deno.writeTextFile(
    join(home, ".config", "fish", "config.fish"),
    `if status --is-login\n  set -gx PATH ${bin} $PATH\nend\n`,
  );
  return { home, bin };
}

for (const shell of SHELLS) {
  const name = shell.split("/").pop();
  const have = await Deno.stat(shell).then(() => true, () => false);
  Deno.test({
    name:
      `the remote command starts the agent from a ${name} login shell's PATH and speaks the protocol` +
      (have ? "" : ` (skipped: no ${shell}; apt-get install ${name})`),
    ignore: !have,
    async fn() {
      await using tmp = await tempDir("ljd-shell-");
      const { home } = await loginHome(tmp.path);
      const child = new Deno.Command(shell, {
        args: ["-c", REMOTE_SHELL],
        env: {
          HOME: home,
          SHELL: shell,
          USER: "tester",
          PATH: "/usr/bin:/bin",
          XDG_STATE_HOME: join(tmp.path, "state"),
          NO_COLOR: "1",
        },
        clearEnv: true,
        cwd: home,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(child.stderr).text();
      const write = streamWriter(child.stdin);
      await write(new TextEncoder().encode(agentLine()));
      const d = await dialPipes(child.stdout, write, {
        role: "client",
        hello: "client",
        version: VERSION,
      });
      try {
        if (d.kind !== "up") {
          assert.fail(`${JSON.stringify(d)}\n${await stderr}`);
        }
        assert.equal(d.hello.role, "agent");
        d.peer.session.control({ type: "jobs" });
        const jobs = await d.peer.inbox.next(["jobs", "error"]);
        assert.deepEqual(jobs, { type: "jobs", jobs: [] });
        assert.equal((await child.status).code, 0, await stderr);
        assert.equal((await d.peer.session.ended).kind, "eof");
      } finally {
        try {
          child.kill("SIGKILL");
        } catch {
          // Already gone.
        }
        await child.status;
        await stderr;
      }
    },
  });
}

Deno.test("a login shell without the program exits 127 before any marker, and says so on stderr", async () => {
  await using tmp = await tempDir("ljd-shell-");
  const child = new Deno.Command("/usr/bin/bash", {
    args: ["-c", REMOTE_SHELL],
    env: { HOME: tmp.path, SHELL: "/usr/bin/bash", PATH: "/usr/bin:/bin" },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const write = streamWriter(child.stdin);
  await write(new TextEncoder().encode(agentLine()));
  const errText = new Response(child.stderr).text();
  const d = await dialPipes(child.stdout, write, {
    role: "client",
    hello: "client",
    version: VERSION,
  });
  assert.equal(d.kind, "eof");
  assert.equal((await child.status).code, 127);
  assert.match(await errText, /legate-jupyter: command not found/);
});

/** A session pair whose far side answers every stream with a fixed HTTP response. */
function fakeJupyter() {
  const queues = [[], []] as Uint8Array[][];
  const waiters: ((() => void) | undefined)[] = [undefined, undefined];
  const pipeOf = (i: number) => ({
    async *[Symbol.asyncIterator]() {
      while (true) {
        const c = queues[i].shift();
        if (c) yield c;
        else await new Promise<void>((r) => (waiters[i] = r));
      }
    },
  });
  const write = (i: number) => (b: Uint8Array) => {
    queues[i].push(b.slice());
    waiters[i]?.();
    return Promise.resolve();
  };
  const served: string[] = [];
  const far = new MuxSession(pipeOf(0), write(1), {
    role: "server",
    onOpen: (s: MuxStream) => {
      (async () => {
        const c = await s.read();
        served.push(new TextDecoder().decode(c!).split("\r\n")[0]);
        const body = "ok";
        await s.write(new TextEncoder().encode(
          `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        ));
        await s.end();
      })().catch(() => {});
    },
  });
  const near = new MuxSession(pipeOf(1), write(0), { role: "client" });
  return { far, near, served };
}

Deno.test("a browser connection made while the session is down waits, then goes through when it is back", async () => {
  const { far, near, served } = fakeJupyter();
  let release!: (s: MuxSession) => void;
  const back = new Promise<MuxSession>((r) => (release = r));
  const listener = LocalListener.listen(undefined, false, () => back);
  try {
    const answer = probe(listener.port, "/api/status?token=x");
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(served, [], "nothing reaches the far side while the session is down");
    release(near);
    assert.equal(await answer, 200);
    assert.deepEqual(served, ["GET /api/status?token=x HTTP/1.1"]);
  } finally {
    listener.close();
    near.close();
    far.close();
  }
});

Deno.test("the one-time browser link redirects once to the URL with the token, then is gone", async () => {
  const { far, near, served } = fakeJupyter();
  const listener = LocalListener.listen(undefined, false, () => Promise.resolve(near));
  try {
    const link = listener.oneTimeLink("n0nce", "/?token=secret");
    assert.equal(link, `http://127.0.0.1:${listener.port}${OPEN_PREFIX}n0nce`);
    const first = await fetch(link, { redirect: "manual" });
    await first.body?.cancel();
    assert.equal(first.status, 302);
    // Absolute, on the listener's own origin: it never leaves 127.0.0.1.
    assert.equal(first.headers.get("location"), `http://127.0.0.1:${listener.port}/?token=secret`);
    const again = await fetch(link, { redirect: "manual" });
    assert.equal(again.status, 410);
    await again.body?.cancel();
    assert.deepEqual(served, [], "the link is answered on the laptop, never forwarded");
  } finally {
    listener.close();
    near.close();
    far.close();
  }
});

Deno.test("the listener takes the server's port when it is free here, and another when not", () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const none = () => Promise.resolve(undefined);
  try {
    const other = LocalListener.listen(port, false, none);
    assert.notEqual(other.port, port);
    other.close();
    assert.throws(() => LocalListener.listen(port, true, none), Deno.errors.AddrInUse);
  } finally {
    taken.close();
  }
  const same = LocalListener.listen(port, true, none);
  assert.equal(same.port, port);
  same.close();
});

for (
  const [args, re] of [
    [["connect"], /give the login node: connect \[USER@\]LOGIN/],
    [["connect", "login1", "1234"], /a job id goes with --attach or --cancel/],
    [["connect", "login1", "--attach", "--jobs"], /do not go together/],
    [["connect", "login1", "--cancel"], /connect LOGIN --cancel JOBID/],
    [["connect", "login1", "--jobs", "--partition", "debug"], /--partition starts a new server/],
    [["connect", "login1", "--via", "telnet"], /--via must be one of srun, srun-stdio, ssh/],
    [["connect", "login1", "--script-only"], /unknown option '--script-only'/],
    [["connect", "-x"], /unknown option '-x'/],
  ] as const
) {
  Deno.test(`connect ${args.slice(1).join(" ") || "(no login node)"} is a usage error (exit 2) before any dial`, async () => {
    await using tmp = await tempDir("ljd-connect-");
    // No ssh on PATH: a dial would fail differently.
    const env = isolatedEnv(tmp.path, { PATH: tmp.path });
    const r = await runCli([...args], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  });
}

Deno.test("a failed dial names its fix, and only a network failure is dialled again", () => {
  const base = { login: "login1", version: "1.2.3", stderr: "" };
  const eof = { kind: "eof" as const, skipped: "" };
  const network = dialProblem({
    ...base,
    result: eof,
    code: 255,
    stderr: "ssh: connect to host login1 port 22: Connection timed out\n",
  });
  assert.equal(network.transient, true);
  assert.match(network.message, /^ssh could not connect to login1 \(exit 255: .*timed out\)$/);
  const refused = dialProblem({
    ...base,
    result: eof,
    code: 255,
    stderr: "me@login1: Permission denied (publickey).\n",
  });
  assert.equal(refused.transient, false);
  const missing = dialProblem({ ...base, result: eof, code: 127, remote: "~/bin/lj" });
  assert.equal(missing.transient, false);
  assert.match(missing.message, /'~\/bin\/lj' was not found on login1 .*--remote-command/);
  assert.match(missing.message, /LEGATE_JUPYTER_VERSION=1\.2\.3 sh/);
  const old = dialProblem({
    ...base,
    result: eof,
    code: 2,
    stderr: "legate-jupyter: error: unknown command 'agent'\n",
  });
  assert.match(old.message, /is older than 'connect'/);
  const mismatch = dialProblem({
    ...base,
    result: { kind: "mismatch", problem: "it is legate-jupyter 1.0", hello: {} },
  });
  assert.match(
    mismatch.message,
    /^login1: it is legate-jupyter 1\.0; install legate-jupyter 1\.2\.3/,
  );
  const other = dialProblem({ ...base, result: { kind: "eof", skipped: "a\nb\nc\nd" }, code: 3 });
  assert.match(
    other.message,
    /exit status 3; it printed: b \| c \| d\); check that 'legate-jupyter agent'/,
  );
});

// A fake ssh would not do: the check is ssh's own (`ssh -G`), which makes no connection.
const HAVE_SSH = await Deno.stat("/usr/bin/ssh").then(() => true, () => false);

Deno.test({
  name: "connect checks ssh's configuration and $BROWSER before it dials or submits anything" +
    (HAVE_SSH ? "" : " (skipped: no /usr/bin/ssh; apt-get install openssh-client)"),
  ignore: !HAVE_SSH,
  fn: checksFirst,
});

async function checksFirst() {
  await using tmp = await tempDir("ljd-connect-");
  const env = isolatedEnv(tmp.path);
  await Deno.mkdir(join(tmp.path, "home"), { recursive: true });
  const bad = await runCli(["connect", "login1", "-o", "NoSuchOption=1", "--no-browser"], { env });
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(
    bad.stderr,
    /ssh cannot use its configuration for login1 \(.*Bad configuration option: nosuchoption\): fix ~\/\.ssh\/config or the -o options/,
  );
  assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  const browser = await runCli(["connect", "login1"], {
    env: { ...env, BROWSER: "no-such-browser-here" },
  });
  assert.equal(browser.code, 1, browser.stderr);
  assert.match(
    browser.stderr,
    /\$BROWSER names 'no-such-browser-here', which is not a program on this machine: fix \$BROWSER, or add --no-browser/,
  );
  assert.doesNotMatch(browser.stderr, /Connecting/);
}
