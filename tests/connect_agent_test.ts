/**
 * The hidden `agent` command (the login-node side of `connect`) as a real process, spoken to
 * over its stdin/stdout as the laptop does through SSH, starting a real Jupyter on this
 * machine with `--here`: the server is detached from the agent (it outlives it), streams reach
 * it, `attach` finds it again, `cancel` stops it and its entry, and bad input comes back as an
 * error message with exit code 2. The Slurm route is tested on the multi-host cluster
 * (tests/connect_cluster_test.ts).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { cliCommand, isolatedEnv, tempDir } from "./helpers.ts";
import { setupHome } from "./notebook_support.ts";
import { dialPipes, type Peer, streamWriter } from "../src/relay/pipes.ts";
import { VERSION } from "../src/version.ts";
import { httpOver } from "./support/connect.ts";
import { pidAlive } from "../src/os/proc.ts";

const HAVE_NOTEBOOK = await Deno.stat("/usr/bin/jupyter-notebook").then(() => true, () => false);
const ROOT_ARGS = Deno.uid() === 0 ? ["--", "--allow-root"] : [];
const skip = HAVE_NOTEBOOK ? "" : " (skipped: no /usr/bin/jupyter-notebook)";

interface Agent extends AsyncDisposable {
  peer: Peer;
  child: Deno.ChildProcess;
  stderr: Promise<string>;
  /** Messages other than the ones awaited, in order. */
  seen: Record<string, unknown>[];
}

async function startAgent(env: Record<string, string>, cwd?: string): Promise<Agent> {
  const child = cliCommand(["agent"], { env, cwd }, "piped").spawn();
  const stderr = new Response(child.stderr).text();
  const d = await dialPipes(child.stdout, streamWriter(child.stdin), {
    role: "client",
    hello: "client",
    version: VERSION,
  });
  if (d.kind !== "up") throw new Error(`agent did not start: ${JSON.stringify(d)}`);
  const seen: Record<string, unknown>[] = [];
  d.peer.inbox.listener = (m) => {
    if (["note", "warning", "status", "status-text", "submitted"].includes(m.type as string)) {
      seen.push(m);
      return true;
    }
    return false;
  };
  return {
    peer: d.peer,
    child,
    stderr,
    seen,
    async [Symbol.asyncDispose]() {
      d.peer.session.close();
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await child.status;
      await stderr;
    },
  };
}

Deno.test({
  name: "the agent starts Jupyter on this host (--here), detached: it outlives the agent, " +
    "attach finds it again and cancel stops it" + skip,
  ignore: !HAVE_NOTEBOOK,
  async fn() {
    await using tmp = await tempDir("ljd-agent-");
    const { env, nbDir } = await setupHome(tmp.path);
    const stateDir = join(tmp.path, "state", "legate-jupyter");
    let serverPid = 0;
    try {
      {
        await using a = await startAgent(env);
        a.peer.session.control({
          type: "start",
          here: true,
          args: ["--notebook-dir", nbDir, ...ROOT_ARGS],
        });
        const ready = await a.peer.inbox.next(["ready", "error"]);
        assert.equal(ready.type, "ready", JSON.stringify(ready));
        assert.equal(ready.route, "here");
        assert.equal(ready.job, undefined);
        const token = ready.token as string;
        const r = await httpOver(a.peer.session.open(), `/api/status?token=${token}`);
        assert.equal(r.status, 200);
        const entries = [...Deno.readDirSync(join(stateDir, "servers"))].map((e) => e.name);
        assert.deepEqual(entries, [`${ready.server}.json`]);
        serverPid = JSON.parse(
          Deno.readTextFileSync(join(stateDir, "servers", `${ready.server}.json`)),
        ).pid;
        // The laptop vanishes (SSH connection gone): the agent is killed outright.
        a.child.kill("SIGKILL");
        await a.child.status;
      }
      assert.ok(await pidAlive(serverPid), "the server outlives the agent");

      await using b = await startAgent(env);
      b.peer.session.control({ type: "jobs" });
      const jobs = await b.peer.inbox.next(["jobs"]);
      const lines = jobs.jobs as { id: string; kind: string }[];
      assert.equal(lines.length, 1);
      assert.equal(lines[0].kind, "server");

      // A second agent, as after a re-dial: attach (the only one), reach it, then cancel.
      await using c = await startAgent(env);
      c.peer.session.control({ type: "attach" });
      const again = await c.peer.inbox.next(["ready", "error"]);
      assert.equal(again.type, "ready", JSON.stringify(again));
      assert.equal(again.server, lines[0].id);
      const r2 = await httpOver(c.peer.session.open(), `/api/status?token=${again.token}`);
      assert.equal(r2.status, 200);
      c.peer.session.control({ type: "cancel" });
      const cancelled = await c.peer.inbox.next(["cancelled", "error"]);
      assert.equal(cancelled.type, "cancelled", JSON.stringify(cancelled));
      assert.match(cancelled.text as string, /Stopped/);
      assert.equal((await c.child.status).code, 130);
      assert.equal(await pidAlive(serverPid), false, "the server was stopped");
      assert.deepEqual([...Deno.readDirSync(join(stateDir, "servers"))], []);
    } finally {
      if (serverPid && await pidAlive(serverPid)) Deno.kill(serverPid, "SIGKILL");
    }
  },
});

Deno.test({
  name: "on a login node without a batch scheduler, start runs Jupyter there and says so" + skip,
  ignore: !HAVE_NOTEBOOK,
  async fn() {
    await using tmp = await tempDir("ljd-agent-");
    const { env, nbDir } = await setupHome(tmp.path);
    // A PATH with Jupyter and Python but none of sbatch, qsub, bsub.
    const bin = join(tmp.path, "bin");
    await Deno.mkdir(bin);
    for (const tool of ["jupyter", "jupyter-notebook", "python3"]) {
      await Deno.symlink(`/usr/bin/${tool}`, join(bin, tool));
    }
    let pid = 0;
    try {
      await using a = await startAgent({ ...env, PATH: bin });
      a.peer.session.control({ type: "start", args: ["--notebook-dir", nbDir, ...ROOT_ARGS] });
      const ready = await a.peer.inbox.next(["ready", "error"]);
      assert.equal(ready.type, "ready", JSON.stringify(ready));
      assert.equal(ready.route, "here");
      assert.ok(
        a.seen.some((m) =>
          m.type === "note" && /No batch scheduler on .* itself/.test(String(m.text))
        ),
        JSON.stringify(a.seen),
      );
      const stateDir = join(tmp.path, "state", "legate-jupyter");
      pid = JSON.parse(
        Deno.readTextFileSync(join(stateDir, "servers", `${ready.server}.json`)),
      ).pid;
      a.peer.session.control({ type: "cancel" });
      assert.equal((await a.peer.inbox.next(["cancelled", "error"])).type, "cancelled");
      assert.equal(await pidAlive(pid), false);
    } finally {
      if (pid && await pidAlive(pid)) Deno.kill(pid, "SIGKILL");
    }
  },
});

Deno.test("the agent answers bad submit options with a usage error (exit 2) over the protocol", async () => {
  await using tmp = await tempDir("ljd-agent-");
  const env = isolatedEnv(tmp.path, { XDG_STATE_HOME: join(tmp.path, "state") });
  await using a = await startAgent(env);
  a.peer.session.control({ type: "start", args: ["--scheduler", "slurm", "--nodes", "0"] });
  const err = await a.peer.inbox.next(["error"]);
  assert.equal(err.exitCode, 2);
  assert.match(err.message as string, /--nodes must be at least 1/);
  assert.equal((await a.child.status).code, 2);
});

Deno.test("the agent refuses attach when nothing of the user's runs, naming the fix", async () => {
  await using tmp = await tempDir("ljd-agent-");
  const env = isolatedEnv(tmp.path, { XDG_STATE_HOME: join(tmp.path, "state") });
  await using a = await startAgent(env);
  a.peer.session.control({ type: "attach" });
  const err = await a.peer.inbox.next(["error"]);
  assert.equal(err.exitCode, 1);
  assert.match(err.message as string, /no Jupyter job or server of yours runs on/);
});
