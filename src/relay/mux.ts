/**
 * A multiplexed session over one byte pipe (an SSH connection's stdin/stdout, a Slurm step's
 * stdio): many streams, each with its own credit-based flow control, plus JSON control
 * messages and keepalive pings. The same class runs on the laptop, the login node and the
 * compute node.
 *
 * Flow control: each side may have at most {@link WINDOW} bytes of a stream in flight that
 * the other side has not yet handed to its consumer; the receiver grants more with CREDIT
 * frames as its consumer reads. A browser connection that reads slowly therefore stalls only
 * its own stream, and no side buffers more than a window per stream.
 * @module
 */

import {
  controlOf,
  creditOf,
  encodeCredit,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
  type FrameTypeValue,
  HEADER_SIZE,
  MAX_DATA,
  ProtocolError,
} from "./frame.ts";

/** The receive window of every stream, in bytes (what a stream may have in flight). */
export const WINDOW = 2 << 20;

/** How a session writes bytes to its pipe; it must resolve once the bytes are taken. */
export type WriteFn = (bytes: Uint8Array) => Promise<void>;

/** Liveness checking: a PING every `intervalMs`; the session fails after `deadMs` of silence. */
export interface Keepalive {
  readonly intervalMs: number;
  readonly deadMs: number;
}

/** Options for {@link MuxSession}. */
export interface MuxOptions {
  /** Which ids this side gives the streams it opens: odd for "client", even for "server". */
  readonly role: "client" | "server";
  /** Called for each stream the other side opens, with the target it asked for ("" for none). */
  readonly onOpen?: (stream: MuxStream, target: string) => void;
  /** Called for each control message. */
  readonly onControl?: (message: Record<string, unknown>) => void;
  readonly keepalive?: Keepalive;
  /** Bytes already read from the pipe (after the marker): decoded before anything else. */
  readonly initial?: Uint8Array;
  /** Receive window per stream (default {@link WINDOW}; tests use small ones). */
  readonly window?: number;
}

/** Why a session ended. */
export interface SessionEnd {
  /** `eof`: the pipe closed; `closed`: this side closed it; `dead`: keepalive; `error`. */
  readonly kind: "eof" | "closed" | "dead" | "error";
  readonly message: string;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The other side reset the stream, or the session ended under it. */
export class StreamResetError extends Error {
  override name = "StreamResetError";
}

/** One stream of a session: an ordered, flow-controlled byte channel in each direction. */
export class MuxStream {
  readonly id: number;
  readonly #session: MuxSession;
  // Receiving.
  #chunks: Uint8Array[] = [];
  #recvWindow: number;
  #toCredit = 0;
  #finReceived = false;
  #reader: { resolve: (c: Uint8Array | null) => void; reject: (e: Error) => void } | undefined;
  // Sending.
  #sendWindow: number;
  #creditWaiter: (() => void) | undefined;
  #writeChain: Promise<void> = Promise.resolve();
  #finSent = false;
  #resetReason: string | undefined;
  #closedResolve!: () => void;
  /** Resolves once the stream is fully closed (both FINs) or reset. */
  readonly closed: Promise<void>;

  /** @internal Streams are made by {@link MuxSession.open} and the session's `onOpen`. */
  constructor(session: MuxSession, id: number, window: number) {
    this.#session = session;
    this.id = id;
    this.#recvWindow = window;
    this.#sendWindow = window;
    this.closed = new Promise((r) => (this.#closedResolve = r));
  }

  /** Whether the stream was reset (by either side, or by the session ending). */
  get isReset(): boolean {
    return this.#resetReason !== undefined;
  }

  /** The reset reason, once reset. */
  get resetReason(): string | undefined {
    return this.#resetReason;
  }

  /**
   * Sends `data`, in order after earlier writes; resolves once it is all queued on the pipe,
   * waiting for window as needed. Rejects with {@link StreamResetError} once reset.
   */
  write(data: Uint8Array): Promise<void> {
    const run = this.#writeChain.then(() => this.#writeNow(data));
    this.#writeChain = run.catch(() => {});
    return run;
  }

  async #writeNow(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      if (this.#resetReason !== undefined) throw new StreamResetError(this.#resetReason);
      if (this.#finSent) throw new StreamResetError("write after end");
      if (this.#sendWindow === 0) {
        await new Promise<void>((r) => (this.#creditWaiter = r));
        continue;
      }
      const n = Math.min(data.length - off, this.#sendWindow, MAX_DATA);
      this.#sendWindow -= n;
      this.#session._frame(FrameType.DATA, this.id, data.subarray(off, off + n));
      off += n;
    }
    if (this.#resetReason !== undefined) throw new StreamResetError(this.#resetReason);
  }

  /** Half-closes: after the writes already made, the other side reads end-of-stream. */
  end(): Promise<void> {
    const run = this.#writeChain.then(() => {
      if (this.#finSent || this.#resetReason !== undefined) return;
      this.#finSent = true;
      this.#session._frame(FrameType.FIN, this.id);
      this.#maybeClosed();
    });
    this.#writeChain = run.catch(() => {});
    return run;
  }

  /** Aborts the stream in both directions and tells the other side why. */
  reset(reason = "reset"): void {
    if (this.#resetReason !== undefined || (this.#finSent && this.#finReceived)) return;
    this.#session._frame(FrameType.RESET, this.id, encoder.encode(reason.slice(0, 200)));
    this._resetLocal(reason);
  }

  /**
   * The next chunk the other side sent, or null at its end (FIN). Rejects with
   * {@link StreamResetError} once reset. Reading is what grants the other side more window.
   */
  read(): Promise<Uint8Array | null> {
    if (this.#reader) return Promise.reject(new Error("concurrent read on a stream"));
    const chunk = this.#chunks.shift();
    if (chunk) {
      this.#consumed(chunk.length);
      return Promise.resolve(chunk);
    }
    if (this.#resetReason !== undefined) {
      return Promise.reject(new StreamResetError(this.#resetReason));
    }
    if (this.#finReceived) return Promise.resolve(null);
    return new Promise((resolve, reject) => (this.#reader = { resolve, reject }));
  }

  #consumed(n: number): void {
    this.#toCredit += n;
    // Batches of a quarter window: few CREDIT frames, and the sender, which still has three
    // quarters of a window, never runs dry while one is on its way.
    if (this.#toCredit >= this.#session.window / 4) {
      if (this.#resetReason === undefined && !this.#finReceived) {
        this.#recvWindow += this.#toCredit;
        this.#session._send(encodeCredit(this.id, this.#toCredit));
      }
      this.#toCredit = 0;
    }
  }

  /** @internal */
  _data(payload: Uint8Array): void {
    if (this.#resetReason !== undefined) return;
    if (this.#finReceived) throw new ProtocolError(`DATA after FIN on stream ${this.id}`);
    if (payload.length > this.#recvWindow) {
      throw new ProtocolError(
        `stream ${this.id} got ${payload.length} bytes with ${this.#recvWindow} of window left`,
      );
    }
    this.#recvWindow -= payload.length;
    if (payload.length === 0) return;
    if (this.#reader) {
      const r = this.#reader;
      this.#reader = undefined;
      this.#consumed(payload.length);
      r.resolve(payload);
    } else this.#chunks.push(payload);
  }

  /** @internal */
  _credit(bytes: number): void {
    this.#sendWindow += bytes;
    const w = this.#creditWaiter;
    this.#creditWaiter = undefined;
    w?.();
  }

  /** @internal */
  _fin(): void {
    if (this.#finReceived) return;
    this.#finReceived = true;
    if (this.#reader && this.#chunks.length === 0) {
      const r = this.#reader;
      this.#reader = undefined;
      r.resolve(null);
    }
    this.#maybeClosed();
  }

  /** @internal Marks the stream reset without telling the other side. */
  _resetLocal(reason: string): void {
    if (this.#resetReason !== undefined) return;
    this.#resetReason = reason;
    this.#chunks = [];
    const r = this.#reader;
    this.#reader = undefined;
    r?.reject(new StreamResetError(reason));
    const w = this.#creditWaiter;
    this.#creditWaiter = undefined;
    w?.();
    this.#session._forget(this.id);
    this.#closedResolve();
  }

  #maybeClosed(): void {
    if (this.#finSent && this.#finReceived) {
      this.#session._forget(this.id);
      this.#closedResolve();
    }
  }
}

/** A multiplexed session on one pipe; see the module documentation. */
export class MuxSession {
  readonly window: number;
  readonly #write: WriteFn;
  readonly #options: MuxOptions;
  readonly #streams = new Map<number, MuxStream>();
  #nextId: number;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #pumping = false;
  #drained: (() => void)[] = [];
  #end: SessionEnd | undefined;
  #endResolve!: (e: SessionEnd) => void;
  #lastHeard = Date.now();
  #timer: ReturnType<typeof setInterval> | undefined;
  #pings = 0;
  /** Resolves when the session has ended, saying why. */
  readonly ended: Promise<SessionEnd>;

  /**
   * Starts a session reading frames from `input` (whose chunks must not be reused once
   * yielded: stream payloads point into them) and writing them with `write`. It runs until
   * `input` ends, {@link close} is called, the keepalive gives up, or the other side breaks
   * the protocol.
   */
  constructor(input: AsyncIterable<Uint8Array>, write: WriteFn, options: MuxOptions) {
    this.#write = write;
    this.#options = options;
    this.window = options.window ?? WINDOW;
    this.#nextId = options.role === "client" ? 1 : 2;
    this.ended = new Promise((r) => (this.#endResolve = r));
    if (options.keepalive) {
      const { intervalMs, deadMs } = options.keepalive;
      this.#timer = setInterval(() => {
        const silent = Date.now() - this.#lastHeard;
        if (silent > deadMs) {
          this.#finish({
            kind: "dead",
            message: `no word from the other side for ${Math.round(silent / 1000)} s`,
          });
          return;
        }
        this._frame(FrameType.PING, 0, encoder.encode(String(++this.#pings)));
      }, intervalMs);
    }
    this.#readLoop(input);
  }

  /** Whether the session has ended. */
  get isEnded(): boolean {
    return this.#end !== undefined;
  }

  /** The number of open streams. */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Bytes queued for the pipe and not yet written (bounded by the windows). */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Opens a stream to `target` (meaningful to the other side; "" for its default). */
  open(target = ""): MuxStream {
    if (this.#end) throw new StreamResetError(`session ended: ${this.#end.message}`);
    const id = this.#nextId;
    this.#nextId += 2;
    const s = new MuxStream(this, id, this.window);
    this.#streams.set(id, s);
    this._frame(FrameType.OPEN, id, encoder.encode(target));
    return s;
  }

  /** Sends a control message (a JSON object). */
  control(message: Record<string, unknown>): void {
    this._frame(FrameType.CONTROL, 0, encoder.encode(JSON.stringify(message)));
  }

  /** Resolves once everything queued so far has been written to the pipe. */
  flush(): Promise<void> {
    if (!this.#pumping && this.#queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.#drained.push(r));
  }

  /** Ends the session: every stream is reset; nothing more is read or written. */
  close(message = "closed"): void {
    this.#finish({ kind: "closed", message });
  }

  /** @internal Queues one frame; the payload is copied into the batch, not kept. */
  _frame(type: FrameTypeValue, stream: number, payload?: Uint8Array): void {
    if (this.#end) return;
    if (payload === undefined || payload.length === 0) {
      this._send(encodeFrame(type, stream));
      return;
    }
    const header = new Uint8Array(HEADER_SIZE);
    const view = new DataView(header.buffer);
    header[0] = type;
    view.setUint32(1, stream);
    view.setUint32(5, payload.length);
    this._send(header);
    this._send(payload);
  }

  /** @internal Queues encoded bytes. */
  _send(bytes: Uint8Array): void {
    if (this.#end) return;
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
    if (!this.#pumping) this.#pump();
  }

  /** @internal */
  _forget(id: number): void {
    this.#streams.delete(id);
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      while (this.#queue.length && !this.#end) {
        // One write for everything queued (up to 1 MiB): few system calls for many small
        // frames, one copy per byte.
        let size = 0;
        let count = 0;
        while (count < this.#queue.length && (count === 0 || size < 1 << 20)) {
          size += this.#queue[count++].length;
        }
        const parts = this.#queue.splice(0, count);
        let batch: Uint8Array;
        if (parts.length === 1) batch = parts[0];
        else {
          batch = new Uint8Array(size);
          let off = 0;
          for (const p of parts) {
            batch.set(p, off);
            off += p.length;
          }
        }
        this.#queuedBytes -= size;
        await this.#write(batch);
      }
    } catch (e) {
      this.#finish({ kind: "error", message: `cannot write: ${(e as Error).message}` });
    } finally {
      this.#pumping = false;
      const waiting = this.#drained.splice(0);
      for (const w of waiting) w();
    }
  }

  async #readLoop(input: AsyncIterable<Uint8Array>): Promise<void> {
    const dec = new FrameDecoder();
    try {
      if (this.#options.initial?.length) this.#dispatchAll(dec.push(this.#options.initial));
      for await (const chunk of input) {
        if (this.#end) return;
        this.#lastHeard = Date.now();
        this.#dispatchAll(dec.push(chunk));
      }
      this.#finish({ kind: "eof", message: "the other side closed the connection" });
    } catch (e) {
      const what = e instanceof ProtocolError ? "protocol error" : "cannot read";
      this.#finish({ kind: "error", message: `${what}: ${(e as Error).message}` });
    }
  }

  #dispatchAll(frames: Frame[]): void {
    for (const f of frames) {
      if (this.#end) return;
      this.#dispatch(f);
    }
  }

  #dispatch(f: Frame): void {
    switch (f.type) {
      case FrameType.DATA:
        this.#streams.get(f.stream)?._data(f.payload);
        return;
      case FrameType.CREDIT:
        this.#streams.get(f.stream)?._credit(creditOf(f));
        return;
      case FrameType.FIN:
        this.#streams.get(f.stream)?._fin();
        return;
      case FrameType.RESET:
        this.#streams.get(f.stream)?._resetLocal(decoder.decode(f.payload) || "reset");
        return;
      case FrameType.OPEN: {
        const own = this.#options.role === "client" ? 1 : 0;
        if (f.stream === 0 || f.stream % 2 === own || this.#streams.has(f.stream)) {
          throw new ProtocolError(`OPEN of stream ${f.stream}, which is not the other side's`);
        }
        const s = new MuxStream(this, f.stream, this.window);
        this.#streams.set(f.stream, s);
        if (this.#options.onOpen) this.#options.onOpen(s, decoder.decode(f.payload));
        else s.reset("this side accepts no streams");
        return;
      }
      case FrameType.CONTROL: {
        const msg = controlOf(f);
        if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
          throw new ProtocolError("a control message that is not a JSON object");
        }
        this.#options.onControl?.(msg as Record<string, unknown>);
        return;
      }
      case FrameType.PING:
        this._frame(FrameType.PONG, 0, f.payload.slice(0, 64));
        return;
      case FrameType.PONG:
        return;
    }
  }

  #finish(end: SessionEnd): void {
    if (this.#end) return;
    this.#end = end;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const s of [...this.#streams.values()]) s._resetLocal(`session ended: ${end.message}`);
    this.#streams.clear();
    const waiting = this.#drained.splice(0);
    for (const w of waiting) w();
    this.#endResolve(end);
  }
}
