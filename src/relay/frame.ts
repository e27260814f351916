/**
 * The wire format `connect` speaks over its one SSH connection (laptop ↔ login node) and over
 * the relay step inside the job (login node ↔ compute node): length-prefixed frames that carry
 * many TCP connections ("streams") and JSON control messages on one byte pipe. Pure: encoding
 * and incremental decoding only, no I/O.
 *
 * A frame is a 9-byte header and a payload:
 *
 * ```text
 * type   u8    OPEN | DATA | CREDIT | FIN | RESET | CONTROL | PING | PONG
 * stream u32   big-endian; 0 for CONTROL, PING and PONG
 * length u32   big-endian payload length, at most MAX_PAYLOAD
 * ```
 *
 * Before the first frame, the side that was started remotely writes {@link MARKER} on its
 * standard output, so that whatever a login shell printed first (a banner, a quota notice) is
 * skipped by the reader instead of being mistaken for a frame.
 * @module
 */

/** Frame types. */
export const FrameType = {
  /** Opens a stream; the payload is an optional UTF-8 target (`127.0.0.1:8888`). */
  OPEN: 1,
  /** Bytes of a stream; counts against the receiver's window. */
  DATA: 2,
  /** Grants the sender of DATA more window: the payload is a u32 byte count. */
  CREDIT: 3,
  /** The sender will send no more DATA on this stream (a half-close, like TCP's FIN). */
  FIN: 4,
  /** Aborts a stream in both directions; the payload is an optional UTF-8 reason. */
  RESET: 5,
  /** A JSON control message on stream 0. */
  CONTROL: 6,
  /** Liveness probe on stream 0; the payload (at most 64 bytes) comes back in a PONG. */
  PING: 7,
  PONG: 8,
} as const;

/** One of {@link FrameType}'s values. */
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

/** A decoded frame. The payload is a view into the decoder's input: copy it to keep it. */
export interface Frame {
  readonly type: FrameTypeValue;
  readonly stream: number;
  readonly payload: Uint8Array;
}

/** Header size in bytes. */
export const HEADER_SIZE = 9;
/** The largest payload a decoder accepts (a larger length means a corrupt stream). */
export const MAX_PAYLOAD = 1 << 20;
/** The largest DATA payload a sender writes: big enough for throughput, small enough to interleave. */
export const MAX_DATA = 1 << 16;
/** The protocol version; both ends must speak the same one. */
export const PROTOCOL_VERSION = 1;
/**
 * Written once before the first frame by a side started through a shell (see the module
 * doc). It carries no version, and the first frame is always a CONTROL hello in this format,
 * so that two versions can always tell each other theirs.
 */
export const MARKER = "\nlegate-jupyter-mux\n";

const encoder = new TextEncoder();
const MARKER_BYTES = encoder.encode(MARKER);

/** A protocol violation by the other side: the session cannot continue. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}

/** Encodes one frame. */
export function encodeFrame(
  type: FrameTypeValue,
  stream: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  if (payload.length > MAX_PAYLOAD) {
    throw new RangeError(`frame payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  }
  const out = new Uint8Array(HEADER_SIZE + payload.length);
  const view = new DataView(out.buffer);
  out[0] = type;
  view.setUint32(1, stream >>> 0);
  view.setUint32(5, payload.length);
  out.set(payload, HEADER_SIZE);
  return out;
}

/** Encodes a CONTROL frame carrying `message` as JSON. */
export function encodeControl(message: unknown): Uint8Array {
  return encodeFrame(FrameType.CONTROL, 0, encoder.encode(JSON.stringify(message)));
}

/** Encodes a CREDIT frame granting `bytes` more window on `stream`. */
export function encodeCredit(stream: number, bytes: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, bytes >>> 0);
  return encodeFrame(FrameType.CREDIT, stream, payload);
}

/** Reads the u32 of a CREDIT frame. */
export function creditOf(frame: Frame): number {
  if (frame.payload.length !== 4) {
    throw new ProtocolError(`CREDIT frame with a ${frame.payload.length}-byte payload`);
  }
  return new DataView(frame.payload.buffer, frame.payload.byteOffset, 4).getUint32(0);
}

/** Decodes the JSON of a CONTROL frame. */
export function controlOf(frame: Frame): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(frame.payload));
  } catch {
    throw new ProtocolError("CONTROL frame that is not JSON");
  }
}

const KNOWN = new Set<number>(Object.values(FrameType));

/**
 * An incremental decoder: feed it chunks as they arrive (split anywhere, several frames in one
 * chunk, one frame across many) and it yields whole frames.
 */
export class FrameDecoder {
  #buf: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;

  /** Bytes received but not yet part of a whole frame. */
  get pending(): number {
    return this.#end - this.#start;
  }

  /**
   * Adds `chunk` and returns the frames now complete. Payloads may be views into `chunk` or
   * an internal buffer, valid until the next call. Throws {@link ProtocolError} on an unknown
   * type or an oversized length.
   */
  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    let data: Uint8Array;
    let pos: number;
    let end: number;
    if (this.pending === 0) {
      // The common case: decode straight from the chunk, without copying.
      data = chunk;
      pos = 0;
      end = chunk.length;
    } else {
      this.#append(chunk);
      data = this.#buf;
      pos = this.#start;
      end = this.#end;
    }
    while (end - pos >= HEADER_SIZE) {
      const type = data[pos];
      if (!KNOWN.has(type)) throw new ProtocolError(`unknown frame type ${type}`);
      const view = new DataView(data.buffer, data.byteOffset + pos, HEADER_SIZE);
      const stream = view.getUint32(1);
      const length = view.getUint32(5);
      if (length > MAX_PAYLOAD) {
        throw new ProtocolError(`frame length ${length} exceeds ${MAX_PAYLOAD}`);
      }
      if (end - pos < HEADER_SIZE + length) break;
      const payload = data.subarray(pos + HEADER_SIZE, pos + HEADER_SIZE + length);
      frames.push({ type: type as FrameTypeValue, stream, payload });
      pos += HEADER_SIZE + length;
    }
    if (data === chunk) {
      // Keep the tail (a partial frame) for the next call; frames already returned still
      // point into `chunk`, which is not ours to reuse, so the tail is copied.
      if (pos < end) {
        this.#buf = chunk.slice(pos, end);
        this.#start = 0;
        this.#end = this.#buf.length;
      }
    } else {
      this.#start = pos;
      if (this.#start === this.#end) {
        // Everything consumed: drop the buffer so that returned payloads stay valid and a
        // large frame's memory is released.
        this.#buf = new Uint8Array(0);
        this.#start = this.#end = 0;
      }
    }
    return frames;
  }

  #append(chunk: Uint8Array): void {
    const need = this.pending + chunk.length;
    if (this.#buf.length - this.#end >= chunk.length) {
      this.#buf.set(chunk, this.#end);
      this.#end += chunk.length;
      return;
    }
    // A fresh buffer each time it grows: payloads handed out earlier keep pointing at the old
    // one, which stays intact.
    const next = new Uint8Array(Math.max(need, Math.min(2 * need, MAX_PAYLOAD + HEADER_SIZE)));
    next.set(this.#buf.subarray(this.#start, this.#end));
    next.set(chunk, this.pending);
    this.#buf = next;
    this.#start = 0;
    this.#end = need;
  }
}

/**
 * Finds {@link MARKER} in a byte stream that may start with anything a login shell printed.
 * Feed chunks until it returns the bytes after the marker (the first frames); `skipped`
 * holds what came before it, for an error message when the marker never comes.
 */
export class MarkerScanner {
  #seen: Uint8Array = new Uint8Array(0);
  /** Bytes before the marker, capped (for diagnostics). */
  skipped = "";
  /** The last bytes before the marker, capped (for endless output before it). */
  #tail = "";

  /** Returns the bytes after the marker once it has been seen, else undefined. */
  push(chunk: Uint8Array): Uint8Array | undefined {
    const all = new Uint8Array(this.#seen.length + chunk.length);
    all.set(this.#seen);
    all.set(chunk, this.#seen.length);
    const at = indexOf(all, MARKER_BYTES);
    if (at >= 0) {
      this.#note(all.subarray(0, at));
      this.#seen = new Uint8Array(0);
      return all.subarray(at + MARKER_BYTES.length);
    }
    // Keep only what could be the start of a marker split across chunks.
    const keep = Math.min(all.length, MARKER_BYTES.length - 1);
    this.#note(all.subarray(0, all.length - keep));
    this.#seen = all.slice(all.length - keep);
    return undefined;
  }

  /** Everything that was not a marker, including a partial one at the end. */
  get text(): string {
    return (this.skipped + new TextDecoder().decode(this.#seen)).trim();
  }

  /** The end of what came before the marker (the last 1 KB or so). */
  get tail(): string {
    return (this.#tail + new TextDecoder().decode(this.#seen)).slice(-1024).trim();
  }

  #note(bytes: Uint8Array): void {
    if (!bytes.length) return;
    const text = new TextDecoder().decode(bytes.length > 4096 ? bytes.subarray(-4096) : bytes);
    this.#tail = (this.#tail + text).slice(-2048);
    if (this.skipped.length < 4096) {
      this.skipped += new TextDecoder().decode(bytes.subarray(0, 4096)).slice(
        0,
        4096 - this.skipped.length,
      );
    }
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
