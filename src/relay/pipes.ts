/**
 * Sessions on real pipes: this process's stdin/stdout (the agent under SSH, the relay under
 * srun) and a child's stdin/stdout (ssh on the laptop, srun or ssh on the login node).
 * @module
 */

import { MARKER, MarkerScanner } from "./frame.ts";
import { type Keepalive, MuxSession, type MuxStream, type WriteFn } from "./mux.ts";
import { type Hello, hello, helloProblem, Inbox } from "./protocol.ts";

const encoder = new TextEncoder();

/** A {@link WriteFn} for a writable stream (a child's stdin). */
export function streamWriter(w: WritableStream<Uint8Array>): WriteFn & { close(): void } {
  const writer = w.getWriter();
  const fn = (bytes: Uint8Array) => writer.write(bytes);
  return Object.assign(fn, {
    close() {
      writer.close().catch(() => {});
    },
  });
}

/** A {@link WriteFn} for this process's standard output. */
export function stdoutWriter(): WriteFn {
  return async (bytes) => {
    let off = 0;
    while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
  };
}

/** An async iterable over a readable stream that starts after what was already read. */
async function* rest(reader: ReadableStreamDefaultReader<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) return;
      if (value.length) yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Options for a session on pipes. */
export interface PipeSessionOptions {
  readonly role: "client" | "server";
  readonly hello: Hello["role"];
  readonly version: string;
  readonly onOpen?: (stream: MuxStream, target: string) => void;
  readonly keepalive?: Keepalive;
}

/** A session and the inbox of its control messages. */
export interface Peer {
  readonly session: MuxSession;
  readonly inbox: Inbox;
}

function peerOn(
  input: AsyncIterable<Uint8Array>,
  write: WriteFn,
  options: PipeSessionOptions,
  initial?: Uint8Array,
): Peer {
  const inbox = new Inbox();
  const session = new MuxSession(input, write, {
    role: options.role,
    onOpen: options.onOpen,
    onControl: inbox.push,
    keepalive: options.keepalive,
    initial,
  });
  session.ended.then((end) => inbox.close(end));
  session.control({ ...hello(options.hello, options.version) });
  return { session, inbox };
}

/**
 * A session on a TCP connection (the relay's fast path, see `direct.ts`); the connection is
 * closed when the session ends.
 */
export function peerOnConn(conn: Deno.Conn, options: PipeSessionOptions): Peer {
  const write: WriteFn = async (bytes) => {
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  };
  const peer = peerOn(conn.readable, write, options);
  peer.session.ended.then(() => {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  });
  return peer;
}

/**
 * Serves a session on this process's stdin/stdout: writes the marker and this side's hello,
 * then frames. Nothing else may write to stdout from now on.
 */
export async function serveStdio(options: PipeSessionOptions): Promise<Peer> {
  await stdoutWriter()(encoder.encode(MARKER));
  return peerOn(Deno.stdin.readable, stdoutWriter(), options);
}

/** What came of waiting for the other side's marker and hello. */
export type Dialled =
  | { kind: "up"; peer: Peer; hello: Record<string, unknown> }
  | { kind: "eof"; skipped: string }
  | { kind: "mismatch"; problem: string; hello: Record<string, unknown> }
  /** After the marker, the other side sent what the protocol does not allow. */
  | { kind: "protocol"; problem: string }
  /** `deadline` aborted first; `tail` is the end of what came before any marker. */
  | { kind: "timeout"; skipped: string; tail: string };

/** Options of {@link dialPipes} beyond the session's. */
export interface DialPipesOptions extends PipeSessionOptions {
  /** Gives up waiting for the marker and hello when it aborts. */
  readonly deadline?: AbortSignal;
  /** Called once, when the first bytes arrive (the other side is there). */
  readonly onFirstBytes?: () => void;
}

/**
 * Reads `stdout` (a child's) until the marker, skipping what a shell printed before it, then
 * runs a session on it and waits for the other side's hello. `eof` when the child's output
 * ends first (it failed to start: its stderr says why); `mismatch` for another version;
 * `protocol` for bad frames after the marker; `timeout` when `deadline` aborts first.
 */
export async function dialPipes(
  stdout: ReadableStream<Uint8Array>,
  write: WriteFn,
  options: DialPipesOptions,
): Promise<Dialled> {
  const reader = stdout.getReader();
  const scanner = new MarkerScanner();
  const timedOut = () => ({ kind: "timeout" as const, skipped: scanner.text, tail: scanner.tail });
  const deadline = new Promise<"deadline">((resolve) => {
    if (options.deadline?.aborted) resolve("deadline");
    options.deadline?.addEventListener("abort", () => resolve("deadline"), { once: true });
  });
  let after: Uint8Array | undefined;
  let first = true;
  while (after === undefined) {
    const next = await Promise.race([reader.read(), deadline]);
    if (next === "deadline") {
      reader.cancel().catch(() => {});
      return timedOut();
    }
    const { value, done } = next;
    if (done) {
      reader.releaseLock();
      return { kind: "eof", skipped: scanner.text };
    }
    if (first && value.length) {
      first = false;
      options.onFirstBytes?.();
    }
    after = scanner.push(value);
  }
  const peer = peerOn(rest(reader), write, options, after);
  const theirs = await Promise.race([
    peer.inbox.next(["hello"]).catch(() => undefined),
    deadline,
  ]);
  if (theirs === "deadline") {
    peer.session.close("no hello in time");
    return timedOut();
  }
  if (theirs === undefined) {
    const end = await peer.session.ended;
    if (end.kind === "error") return { kind: "protocol", problem: end.message };
    return { kind: "eof", skipped: scanner.text };
  }
  const problem = helloProblem(theirs, options.version);
  if (problem) {
    peer.session.close("version mismatch");
    return { kind: "mismatch", problem, hello: theirs };
  }
  return { kind: "up", peer, hello: theirs };
}
