/**
 * `legate-jupyter relay` (hidden): the compute-node end of `connect`. The login node's agent
 * starts it inside the user's job (`srun --jobid=J --overlap ...`, or over SSH where the
 * scheduler has no such step) with its stdin/stdout as the pipe; for each stream the agent
 * opens, it dials the target on this node's loopback (Jupyter) and carries the bytes. It
 * listens on nothing and ends when its stdin ends.
 * @module
 */

import type { Command } from "./command.ts";
import { UsageError } from "../util/errors.ts";

/** `legate-jupyter relay`. */
export const command: Command = {
  name: "relay",
  summary: "(internal) The compute-node side of 'connect'",
  usage: "relay [--to HOST:PORT]",
  description: "Started by 'connect' through the scheduler inside the job; speaks connect's " +
    "framed protocol on stdin/stdout and dials the node's loopback for each stream.",
  flags: [{
    name: "to",
    type: "string",
    metavar: "HOST:PORT",
    help: "Where streams that name no target go (loopback only)",
  }],
  examples: [],
  async run(parsed) {
    const { parseTarget, isLoopbackTarget, bridgeConn } = await import("../relay/bridge.ts");
    const given = parsed.values.to as string | undefined;
    if (given !== undefined) {
      const t = parseTarget(given);
      if (!t || !isLoopbackTarget(t.hostname)) {
        throw new UsageError(`--to ${given}: give a loopback HOST:PORT such as 127.0.0.1:8888`);
      }
    }
    const { VERSION } = await import("../version.ts");
    const { serveStdio } = await import("../relay/pipes.ts");
    const onOpen = (stream: import("../relay/mux.ts").MuxStream, target: string) => {
      const t = parseTarget(target || given || "");
      if (!t) return stream.reset(`no target for the stream ('${target}')`);
      if (!isLoopbackTarget(t.hostname)) {
        return stream.reset(`${target}: the relay only dials this node's loopback`);
      }
      Deno.connect({ hostname: t.hostname, port: t.port }).then(
        (conn) => {
          conn.setNoDelay(true);
          return bridgeConn(conn, stream);
        },
        (e) => stream.reset(`cannot connect to ${target || given}: ${(e as Error).message}`),
      );
    };
    const peer = await serveStdio({
      role: "server",
      hello: "relay",
      version: VERSION,
      // The agent pings every 10 s; a minute of silence means it is gone for good.
      keepalive: { intervalMs: 10_000, deadMs: 60_000 },
      onOpen,
    });
    // The agent may ask for the fast path (src/relay/direct.ts): one authenticated TCP
    // connection from the login node, for the streams.
    let direct: import("../relay/pipes.ts").Peer | undefined;
    peer.inbox.listener = (m) => {
      if (m.type !== "listen" || typeof m.key !== "string" || !/^[0-9a-f]{64}$/.test(m.key)) {
        return false;
      }
      import("../relay/direct.ts").then(({ acceptDirect }) => {
        try {
          const port = acceptDirect(m.key as string, {
            version: VERSION,
            onOpen,
            onPeer: (p) => (direct = p),
          });
          peer.session.control({ type: "listening", port });
        } catch (e) {
          peer.session.control({ type: "no-listen", reason: (e as Error).message });
        }
      });
      return true;
    };
    await peer.session.ended;
    direct?.session.close("the relay's step ended");
    return 0;
  },
};
