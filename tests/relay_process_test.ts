/**
 * The hidden `relay` command as a real process, spoken to over its stdin/stdout the way the
 * login node's agent does through srun, in front of a real Jupyter Notebook on loopback.
 */

import assert from "node:assert/strict";
import { cliCommand, spawnCli, tempDir } from "./helpers.ts";
import { setupHome } from "./notebook_support.ts";
import { dialPipes, streamWriter } from "../src/relay/pipes.ts";
import { dialDirect } from "../src/relay/direct.ts";
import { httpOver } from "./support/connect.ts";
import { VERSION } from "../src/version.ts";

const HAVE_NOTEBOOK = await Deno.stat("/usr/bin/jupyter-notebook").then(() => true, () => false);
const ROOT_ARGS = Deno.uid() === 0 ? ["--", "--allow-root"] : [];

function startRelay(env: Record<string, string>, args: string[] = []) {
  return cliCommand(["relay", ...args], { env }, "piped").spawn();
}

Deno.test({
  name: "the relay process carries concurrent HTTP requests to a real Jupyter on loopback, " +
    "over its stdio and over a direct connection that must present the key" +
    (HAVE_NOTEBOOK ? "" : " (skipped: no /usr/bin/jupyter-notebook)"),
  ignore: !HAVE_NOTEBOOK,
  async fn() {
    await using tmp = await tempDir("ljd-relay-");
    const { env, nbDir } = await setupHome(tmp.path);
    await using nb = spawnCli(["notebook", "--json", "--notebook-dir", nbDir, ...ROOT_ARGS], {
      env,
    });
    const ready = JSON.parse(await nb.waitForLine(/^\{"event":"ready"/, 90_000));
    const relay = startRelay(env, ["--to", `127.0.0.1:${ready.port}`]);
    const stderr = new Response(relay.stderr).text();
    const write = streamWriter(relay.stdin);
    try {
      const dialled = await dialPipes(relay.stdout, write, {
        role: "client",
        hello: "agent",
        version: VERSION,
      });
      assert.equal(dialled.kind, "up", JSON.stringify(dialled));
      if (dialled.kind !== "up") return;
      assert.equal(dialled.hello.role, "relay");
      const { session } = dialled.peer;
      // Twenty at once, half to the default target and half naming it.
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          httpOver(
            session.open(i % 2 ? "" : `127.0.0.1:${ready.port}`),
            `/api/status?token=${ready.token}`,
          )),
      );
      for (const a of answers) {
        assert.equal(a.status, 200);
        assert.match(a.body, /"started"/);
      }
      // Off loopback: refused before any connection is made.
      const off = session.open("10.1.2.3:80");
      await assert.rejects(off.read(), /only dials this node's loopback/);
      // A loopback port with nothing behind it: the stream is reset with the reason.
      const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (free.addr as Deno.NetAddr).port;
      free.close();
      await assert.rejects(session.open(`127.0.0.1:${port}`).read(), /cannot connect/);
      // The fast path: one TCP connection that must present the key sent over the pipe.
      const key = "ab".repeat(32);
      session.control({ type: "listen", key });
      const listening = await dialled.peer.inbox.next(["listening"]);
      const port2 = listening.port as number;
      const greet = async (line: string) => {
        const c = await Deno.connect({ hostname: "127.0.0.1", port: port2 });
        await c.write(new TextEncoder().encode(line));
        const buf = new Uint8Array(64);
        const n = await c.read(buf).catch(() => null);
        return { c, said: n === null ? "" : new TextDecoder().decode(buf.subarray(0, n)) };
      };
      const wrong = await greet(`LJ-DIRECT ${"cd".repeat(32)}\n`);
      assert.equal(wrong.said, "", "a wrong key gets nothing but the connection closed");
      wrong.c.close();
      const right = await greet(`LJ-DIRECT ${key}\n`);
      // The relay's first frames may follow the answer in the same read.
      assert.ok(right.said.startsWith("LJ-DIRECT-OK\n"), JSON.stringify(right.said));
      right.c.close();
      // dialDirect does all of that: streams over the direct session reach Jupyter too.
      const direct = await dialDirect(dialled.peer, "127.0.0.1", VERSION);
      assert.ok(direct, "the direct connection came up");
      const viaDirect = await httpOver(
        direct.session.open(`127.0.0.1:${ready.port}`),
        `/api/status?token=${ready.token}`,
      );
      assert.equal(viaDirect.status, 200);
      direct.session.close();
      // Closing its stdin ends the relay, with status 0.
      write.close();
      const status = await relay.status;
      assert.equal(status.code, 0, await stderr);
      assert.equal((await session.ended).kind, "eof");
    } finally {
      try {
        relay.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await relay.status;
      await stderr;
    }
  },
});

Deno.test("the relay refuses a --to that is not on loopback, as a usage error", async () => {
  const relay = startRelay({ PATH: "/usr/bin:/bin", NO_COLOR: "1" }, ["--to", "example.org:80"]);
  relay.stdin.close();
  const out = await relay.output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /--to example\.org:80: give a loopback/);
});
