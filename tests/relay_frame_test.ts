/**
 * The frame codec of connect's multiplexing protocol (src/relay/frame.ts): pure encoding and
 * incremental decoding, fed the ways a pipe really delivers bytes.
 */

import assert from "node:assert/strict";
import {
  creditOf,
  encodeControl,
  encodeCredit,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
  HEADER_SIZE,
  MARKER,
  MarkerScanner,
  MAX_PAYLOAD,
  ProtocolError,
} from "../src/relay/frame.ts";

const enc = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function simple(f: Frame) {
  return { type: f.type, stream: f.stream, payload: Array.from(f.payload) };
}

function sample(): Uint8Array[] {
  return [
    encodeFrame(FrameType.OPEN, 1, enc.encode("127.0.0.1:8888")),
    encodeFrame(FrameType.DATA, 1, enc.encode("GET / HTTP/1.1\r\n\r\n")),
    encodeCredit(3, 65536),
    encodeFrame(FrameType.FIN, 1),
    encodeFrame(FrameType.RESET, 5, enc.encode("gone")),
    encodeControl({ type: "hello", version: "1.2.3" }),
    encodeFrame(FrameType.PING, 0, enc.encode("7")),
    encodeFrame(FrameType.PONG, 0, enc.encode("7")),
    encodeFrame(FrameType.DATA, 4_000_000_000, new Uint8Array(0)),
  ];
}

Deno.test("frames fed whole, one byte at a time, or in random splits decode to the same frames", () => {
  const frames = sample();
  const wire = concat(frames);
  const whole = new FrameDecoder().push(wire).map(simple);
  assert.equal(whole.length, frames.length);
  assert.deepEqual(whole[2], { type: FrameType.CREDIT, stream: 3, payload: [0, 1, 0, 0] });
  assert.equal(whole[8].stream, 4_000_000_000);

  const byByte = new FrameDecoder();
  const got: ReturnType<typeof simple>[] = [];
  for (let i = 0; i < wire.length; i++) {
    got.push(...byByte.push(wire.subarray(i, i + 1)).map(simple));
  }
  assert.deepEqual(got, whole);
  assert.equal(byByte.pending, 0);

  for (let seed = 1; seed <= 50; seed++) {
    const d = new FrameDecoder();
    const out: ReturnType<typeof simple>[] = [];
    let pos = 0;
    let x = seed;
    while (pos < wire.length) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const n = 1 + (x % 40);
      out.push(...d.push(wire.slice(pos, pos + n)).map(simple));
      pos += n;
    }
    assert.deepEqual(out, whole, `split seed ${seed}`);
  }
});

Deno.test("a payload of MAX_PAYLOAD bytes split over many chunks decodes intact", () => {
  const payload = new Uint8Array(MAX_PAYLOAD);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
  const wire = encodeFrame(FrameType.DATA, 9, payload);
  const d = new FrameDecoder();
  const frames: Frame[] = [];
  for (let off = 0; off < wire.length; off += 65536) {
    frames.push(...d.push(wire.slice(off, off + 65536)));
  }
  assert.equal(frames.length, 1);
  assert.equal(frames[0].payload.length, MAX_PAYLOAD);
  assert.deepEqual(frames[0].payload, payload);
});

Deno.test("payloads handed out earlier stay intact while the decoder takes more input", () => {
  const d = new FrameDecoder();
  const a = encodeFrame(FrameType.DATA, 1, enc.encode("first payload"));
  const b = encodeFrame(FrameType.DATA, 1, enc.encode("second payload"));
  const wire = concat([a, b, a]);
  // Split so that the decoder has to buffer a partial frame between pushes.
  const kept: Frame[] = [];
  kept.push(...d.push(wire.slice(0, a.length + 5)));
  kept.push(...d.push(wire.slice(a.length + 5, a.length + b.length + 3)));
  kept.push(...d.push(wire.slice(a.length + b.length + 3)));
  assert.deepEqual(
    kept.map((f) => new TextDecoder().decode(f.payload)),
    ["first payload", "second payload", "first payload"],
  );
});

Deno.test("an unknown frame type or an oversized length is a protocol error", () => {
  const bad = encodeFrame(FrameType.DATA, 1, new Uint8Array(1));
  bad[0] = 42;
  assert.throws(() => new FrameDecoder().push(bad), ProtocolError);
  const huge = new Uint8Array(HEADER_SIZE);
  huge[0] = FrameType.DATA;
  new DataView(huge.buffer).setUint32(5, MAX_PAYLOAD + 1);
  assert.throws(() => new FrameDecoder().push(huge), /exceeds/);
  assert.throws(() => encodeFrame(FrameType.DATA, 1, new Uint8Array(MAX_PAYLOAD + 1)), RangeError);
});

Deno.test("a CREDIT frame with a payload of the wrong size is a protocol error", () => {
  const [f] = new FrameDecoder().push(encodeFrame(FrameType.CREDIT, 1, new Uint8Array(3)));
  assert.throws(() => creditOf(f), ProtocolError);
});

Deno.test("the marker scanner skips a login shell's banner and returns the bytes after the marker", () => {
  const frame = encodeControl({ type: "hello" });
  const wire = concat([enc.encode("Welcome to login1\nquota: 3 GB\n"), enc.encode(MARKER), frame]);
  for (const step of [1, 3, 7, wire.length]) {
    const s = new MarkerScanner();
    let after: Uint8Array | undefined;
    const rest: Uint8Array[] = [];
    for (let off = 0; off < wire.length; off += step) {
      const chunk = wire.slice(off, off + step);
      if (after === undefined) {
        after = s.push(chunk);
        if (after) rest.push(after);
      } else rest.push(chunk);
    }
    assert.ok(after !== undefined, `marker found with step ${step}`);
    assert.deepEqual(concat(rest), frame, `bytes after the marker with step ${step}`);
    assert.equal(s.text, "Welcome to login1\nquota: 3 GB");
  }
});

Deno.test("the marker scanner keeps what it saw when the marker never comes", () => {
  const s = new MarkerScanner();
  assert.equal(s.push(enc.encode("bash: legate-jupyter: command not found\n")), undefined);
  assert.equal(s.text, "bash: legate-jupyter: command not found");
});
