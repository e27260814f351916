/**
 * Joining a multiplexed stream to something else that carries bytes both ways: a TCP
 * connection (the browser's, on the laptop; Jupyter's, on the compute node) or another
 * stream (on the login node, between the laptop's session and the relay step's). Each
 * direction waits for the other end to take its bytes before reading more, so the stream's
 * window bounds what is held in memory.
 * @module
 */

import type { MuxStream } from "./mux.ts";

const READ_SIZE = 64 * 1024;

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/**
 * Carries bytes between `conn` and `stream` until both directions have ended; a reset of
 * the stream or an error on the connection ends both. `first` is sent before anything read
 * from `conn` (bytes already read from it). Closes `conn`.
 */
export async function bridgeConn(
  conn: Deno.Conn,
  stream: MuxStream,
  first?: Uint8Array,
): Promise<void> {
  let failed = false;
  const fail = (why: string) => {
    if (failed) return;
    failed = true;
    stream.reset(why);
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  };
  const up = (async () => {
    try {
      if (first?.length) await stream.write(first);
      while (true) {
        // A fresh buffer each time: the stream keeps the bytes until they are on the pipe.
        const buf = new Uint8Array(READ_SIZE);
        const n = await conn.read(buf);
        if (n === null) break;
        await stream.write(buf.subarray(0, n));
      }
      await stream.end();
    } catch (e) {
      fail(`connection error: ${(e as Error).message}`);
    }
  })();
  const down = (async () => {
    try {
      for (let c = await stream.read(); c !== null; c = await stream.read()) {
        await writeAll(conn, c);
      }
      await conn.closeWrite();
    } catch (e) {
      fail(stream.isReset ? stream.resetReason ?? "reset" : `write error: ${(e as Error).message}`);
    }
  })();
  await Promise.all([up, down]);
  if (!failed) {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** Carries bytes between two streams (of two sessions) until both directions end. */
export async function bridgeStreams(a: MuxStream, b: MuxStream): Promise<void> {
  const pump = async (from: MuxStream, to: MuxStream) => {
    try {
      for (let c = await from.read(); c !== null; c = await from.read()) await to.write(c);
      await to.end();
    } catch {
      const why = from.resetReason ?? to.resetReason ?? "reset";
      from.reset(why);
      to.reset(why);
    }
  };
  await Promise.all([pump(a, b), pump(b, a)]);
}

/** Parses a relay target, `HOST:PORT` or `[V6]:PORT`; undefined when malformed. */
export function parseTarget(target: string): { hostname: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(target.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { hostname: m[1] ?? m[2], port };
}

/**
 * Whether a relay may connect to `hostname`: loopback only. Jupyter listens there, and a
 * relay that reached further would turn the user's job into a proxy into the cluster network.
 */
export function isLoopbackTarget(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}
