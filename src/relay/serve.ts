/**
 * The compute-node end of `connect` (the hidden `relay` command): started inside the user's
 * job by the login node's agent (`srun --jobid=J --overlap ...`, or over SSH where the
 * scheduler has no such step) with its stdin/stdout as the pipe; for each stream the agent
 * opens, it dials the target on this node's loopback (Jupyter) and carries the bytes. It
 * listens on nothing (unless the agent asks for the direct connection, `direct.ts`) and ends
 * when its stdin ends.
 * @module
 */

import { bridgeConn, isLoopbackTarget, parseTarget } from "./bridge.ts";
import type { MuxStream } from "./mux.ts";
import type { Peer } from "./pipes.ts";

/**
 * Serves the agent on stdin/stdout until it goes; `to` is where streams that name no target
 * go (a loopback `HOST:PORT`, checked by the caller). Returns the exit code.
 */
export async function serveRelay(to: string | undefined): Promise<number> {
  const given = to;
  const { VERSION } = await import("../version.ts");
  const { serveStdio } = await import("./pipes.ts");
  const onOpen = (stream: MuxStream, target: string) => {
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
  let direct: Peer | undefined;
  peer.inbox.listener = (m) => {
    if (m.type !== "listen" || typeof m.key !== "string" || !/^[0-9a-f]{64}$/.test(m.key)) {
      return false;
    }
    import("./direct.ts").then(({ acceptDirect }) => {
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
}
