/**
 * The relay's fast path for bytes. A Slurm step's stdio moves data in 1 KiB messages through
 * slurmstepd and srun (SLURM_IO_MAX_MSG_LEN), which caps a download at tens of MB/s. So once
 * the relay step is up, the login node's agent asks it, over that step, to accept one TCP
 * connection: the relay listens on an ephemeral port of its node, the agent connects to the
 * node and proves it holds the one-time key it sent through the step, and the session's
 * streams then go over that connection. It is the shape of srun's own I/O (a listening port
 * and a key, across the cluster network), turned around so that nothing listens on the login
 * node; Jupyter itself stays on loopback. The listener accepts for a few seconds and closes
 * after the first good key. Where the cluster's network does not let the login node reach
 * the node's ports, the step's stdio carries everything, as before.
 * @module
 */

import type { MuxStream } from "./mux.ts";
import { type Peer, peerOnConn } from "./pipes.ts";
import { randomHex } from "../util/random.ts";

const GREETING = "LJ-DIRECT ";
const ACCEPTED = "LJ-DIRECT-OK\n";
/** How long the relay's listener waits for the agent. */
const LISTEN_MS = 10_000;
/** How long the agent gives the connection before it keeps to the step's stdio. */
const CONNECT_MS = 5_000;

function equal(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

async function readLine(conn: Deno.Conn, max: number, ms: number): Promise<string | undefined> {
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch {
      // Closed.
    }
  }, ms);
  try {
    let text = "";
    const one = new Uint8Array(1);
    // One byte at a time: the frames that follow the line must stay unread.
    while (text.length < max) {
      const n = await conn.read(one);
      if (n === null) return undefined;
      const c = String.fromCharCode(one[0]);
      if (c === "\n") return text;
      text += c;
    }
    return undefined;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

async function writeText(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/**
 * The relay's side: listens on every interface of this node on a port the system picks, and
 * serves a session on the first connection that presents `key`. Returns the port; `onPeer`
 * gets the session.
 */
export function acceptDirect(
  key: string,
  options: {
    version: string;
    onOpen: (stream: MuxStream, target: string) => void;
    onPeer: (peer: Peer) => void;
  },
): number {
  const listener = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const timer = setTimeout(() => listener.close(), LISTEN_MS);
  let done = false;
  // Each connection is heard on its own, so that one that says nothing holds up no other.
  const hear = async (conn: Deno.TcpConn) => {
    const line = await readLine(conn, 200, 3000);
    if (done || line === undefined || !equal(line, GREETING + key)) {
      try {
        conn.close();
      } catch {
        // Closed.
      }
      return;
    }
    done = true;
    clearTimeout(timer);
    try {
      listener.close();
    } catch {
      // Closed.
    }
    conn.setNoDelay(true);
    await writeText(conn, ACCEPTED);
    options.onPeer(peerOnConn(conn, {
      role: "server",
      hello: "relay",
      version: options.version,
      onOpen: options.onOpen,
      keepalive: { intervalMs: 10_000, deadMs: 60_000 },
    }));
  };
  (async () => {
    try {
      for await (const conn of listener) hear(conn).catch(() => {});
    } catch {
      // Closed.
    }
  })();
  return port;
}

/**
 * The agent's side: asks the relay (over `control`, the step's stdio) to listen, connects to
 * `node`, presents the key, and returns the session; undefined when any of it fails (the
 * step's stdio then carries the streams).
 */
export async function dialDirect(
  control: Peer,
  node: string,
  version: string,
): Promise<Peer | undefined> {
  const key = randomHex(32);
  control.session.control({ type: "listen", key });
  const deadline = AbortSignal.timeout(CONNECT_MS);
  const answer = await Promise.race([
    control.inbox.next(["listening", "no-listen"]).catch(() => undefined),
    new Promise<undefined>((r) => deadline.addEventListener("abort", () => r(undefined))),
  ]);
  if (!answer || answer.type !== "listening" || typeof answer.port !== "number") return undefined;
  const connecting = Deno.connect({ hostname: node, port: answer.port });
  const conn = await Promise.race([
    connecting.catch(() => undefined),
    new Promise<undefined>((r) => deadline.addEventListener("abort", () => r(undefined))),
  ]);
  if (!conn) {
    // A connection that comes after the deadline is closed, not leaked.
    connecting.then((c) => c.close(), () => {});
    return undefined;
  }
  conn.setNoDelay(true);
  try {
    await writeText(conn, `${GREETING}${key}\n`);
  } catch {
    return undefined;
  }
  const reply = await readLine(conn, 100, CONNECT_MS);
  if (reply + "\n" !== ACCEPTED) {
    try {
      conn.close();
    } catch {
      // Closed.
    }
    return undefined;
  }
  return peerOnConn(conn, {
    role: "client",
    hello: "agent",
    version,
    keepalive: { intervalMs: 10_000, deadMs: 60_000 },
  });
}
