/**
 * The multiplexed session of connect (src/relay/mux.ts), two ends joined by in-memory pipes:
 * many streams, flow control and backpressure, half-close, reset, control messages,
 * keepalive and protocol errors.
 */

import assert from "node:assert/strict";
import { MuxSession, type MuxStream, StreamResetError } from "../src/relay/mux.ts";
import { encodeFrame, FrameType } from "../src/relay/frame.ts";

/** A one-way in-memory pipe: what `write` puts in, the iterable yields (copied, in order). */
function pipe() {
  const chunks: Uint8Array[] = [];
  let waiter: (() => void) | undefined;
  let closed = false;
  let written = 0;
  return {
    get written() {
      return written;
    },
    write(bytes: Uint8Array): Promise<void> {
      if (closed) return Promise.reject(new Error("pipe closed"));
      written += bytes.length;
      chunks.push(bytes.slice());
      waiter?.();
      return Promise.resolve();
    },
    close() {
      closed = true;
      waiter?.();
    },
    async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
      while (true) {
        const c = chunks.shift();
        if (c) {
          yield c;
          continue;
        }
        if (closed) return;
        await new Promise<void>((r) => (waiter = r));
        waiter = undefined;
      }
    },
  };
}

type Opts = ConstructorParameters<typeof MuxSession>[2];

function pair(a: Partial<Opts> = {}, b: Partial<Opts> = {}) {
  const ab = pipe();
  const ba = pipe();
  const left = new MuxSession(ba, (x) => ab.write(x), { role: "client", ...a });
  const right = new MuxSession(ab, (x) => ba.write(x), { role: "server", ...b });
  return {
    left,
    right,
    ab,
    ba,
    async [Symbol.asyncDispose]() {
      left.close();
      right.close();
      ab.close();
      ba.close();
      await Promise.all([left.ended, right.ended]);
    },
  };
}

async function readAll(s: MuxStream): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (let c = await s.read(); c !== null; c = await s.read()) parts.push(c);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Echoes every stream back, with a prefix naming the target it was opened for. */
function echo(s: MuxStream, target: string) {
  (async () => {
    await s.write(new TextEncoder().encode(`[${target}]`));
    for (let c = await s.read(); c !== null; c = await s.read()) await s.write(c);
    await s.end();
  })().catch(() => {});
}

Deno.test("two hundred streams opened at once each get their own bytes back, in order", async () => {
  await using p = pair({}, { onOpen: echo });
  const results = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
    const s = p.left.open(`t${i}`);
    const body = new Uint8Array(1000 + i * 37).fill(i % 251);
    const reading = readAll(s);
    for (let off = 0; off < body.length; off += 333) await s.write(body.subarray(off, off + 333));
    await s.end();
    const got = await reading;
    const prefix = new TextEncoder().encode(`[t${i}]`);
    assert.deepEqual(got.subarray(0, prefix.length), prefix);
    assert.deepEqual(got.subarray(prefix.length), body);
    await s.closed;
    return got.length;
  }));
  assert.equal(results.length, 200);
  assert.equal(p.left.streamCount, 0, "closed streams are forgotten");
});

Deno.test("a stream nobody reads stops its writer at one window while another stream keeps flowing", async () => {
  const window = 64 * 1024;
  const accepted: MuxStream[] = [];
  await using p = pair({ window }, {
    window,
    onOpen: (s, target) => (target === "slow" ? accepted.push(s) : echo(s, target)),
  });
  const slow = p.left.open("slow");
  let sent = 0;
  let writerDone = false;
  const writer = (async () => {
    const chunk = new Uint8Array(8192);
    while (sent < 4 * window) {
      await slow.write(chunk);
      sent += chunk.length;
    }
    writerDone = true;
  })();
  // Let the writer run as far as the window allows.
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(writerDone, false, "the writer must wait for credit");
  assert.ok(sent <= window + 8192, `sent ${sent} bytes without credit; window is ${window}`);
  const beforeFast = p.ab.written;

  // The other stream is not held up by the stalled one.
  const fast = p.left.open("fast");
  const reading = readAll(fast);
  await fast.write(new TextEncoder().encode("hello"));
  await fast.end();
  assert.equal(new TextDecoder().decode(await reading), "[fast]hello");
  assert.ok(p.ab.written - beforeFast < 1024, "only the fast stream's frames crossed meanwhile");

  // Reading the slow stream grants credit; the writer finishes; every byte arrives.
  let got = 0;
  const slowIn = accepted[0];
  while (got < 4 * window) {
    const c = await slowIn.read();
    assert.ok(c);
    got += c.length;
  }
  await writer;
  assert.equal(got, 4 * window);
});

Deno.test("after FIN the reader gets null while the other direction still carries data", async () => {
  const server: MuxStream[] = [];
  await using p = pair({}, { onOpen: (s) => server.push(s) });
  const s = p.left.open();
  await s.write(new TextEncoder().encode("request"));
  await s.end();
  while (!server.length) await new Promise((r) => setTimeout(r, 1));
  const req = await readAll(server[0]);
  assert.equal(new TextDecoder().decode(req), "request");
  // Half-closed: the server can still answer.
  await server[0].write(new TextEncoder().encode("response"));
  await server[0].end();
  assert.equal(new TextDecoder().decode(await readAll(s)), "response");
  await Promise.all([s.closed, server[0].closed]);
});

Deno.test("a reset reaches the other side's reader and writer with its reason", async () => {
  const server: MuxStream[] = [];
  await using p = pair({}, { onOpen: (s) => server.push(s) });
  const s = p.left.open();
  await s.write(new Uint8Array(10));
  while (!server.length) await new Promise((r) => setTimeout(r, 1));
  const reading = server[0].read().then(() => server[0].read());
  s.reset("browser went away");
  await assert.rejects(
    reading,
    (e) => e instanceof StreamResetError && /browser went away/.test(e.message),
  );
  await assert.rejects(server[0].write(new Uint8Array(1)), StreamResetError);
  await assert.rejects(s.write(new Uint8Array(1)), StreamResetError);
});

Deno.test("control messages arrive in order, between stream data", async () => {
  const seen: unknown[] = [];
  await using p = pair({}, { onControl: (m) => seen.push(m), onOpen: echo });
  p.left.control({ type: "hello", n: 1 });
  const s = p.left.open("x");
  await s.write(new Uint8Array(100_000));
  p.left.control({ type: "progress", n: 2, text: "job 12 PENDING (Resources)" });
  await s.end();
  await readAll(s);
  assert.deepEqual(seen, [
    { type: "hello", n: 1 },
    { type: "progress", n: 2, text: "job 12 PENDING (Resources)" },
  ]);
});

Deno.test("a session whose peer answers nothing ends as dead after the keepalive's limit", async () => {
  const silent = pipe();
  const out = pipe();
  const s = new MuxSession(silent, (x) => out.write(x), {
    role: "client",
    keepalive: { intervalMs: 20, deadMs: 100 },
  });
  const stream = s.open();
  const end = await s.ended;
  assert.equal(end.kind, "dead");
  assert.match(end.message, /no word from the other side/);
  await assert.rejects(stream.read(), StreamResetError);
  silent.close();
  out.close();
});

Deno.test("keepalive pings are answered, so a quiet but healthy session stays up", async () => {
  await using p = pair(
    { keepalive: { intervalMs: 20, deadMs: 100 } },
    { keepalive: { intervalMs: 20, deadMs: 100 } },
  );
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(p.left.isEnded, false);
  assert.equal(p.right.isEnded, false);
});

Deno.test("the end of the pipe ends the session and resets its streams", async () => {
  const input = pipe();
  const out = pipe();
  const s = new MuxSession(input, (x) => out.write(x), { role: "client" });
  const stream = s.open();
  input.close();
  const end = await s.ended;
  assert.equal(end.kind, "eof");
  await assert.rejects(stream.read(), /session ended/);
  out.close();
});

Deno.test("DATA beyond the window is a protocol error that ends the session", async () => {
  const input = pipe();
  const out = pipe();
  const s = new MuxSession(input, (x) => out.write(x), {
    role: "server",
    window: 10,
    onOpen: () => {},
  });
  await input.write(encodeFrame(FrameType.OPEN, 1));
  await input.write(encodeFrame(FrameType.DATA, 1, new Uint8Array(11)));
  const end = await s.ended;
  assert.equal(end.kind, "error");
  assert.match(end.message, /protocol error: stream 1 got 11 bytes with 10 of window left/);
  input.close();
  out.close();
});

Deno.test("an OPEN with the opener's own parity is refused as a protocol error", async () => {
  const input = pipe();
  const out = pipe();
  const s = new MuxSession(input, (x) => out.write(x), { role: "client", onOpen: () => {} });
  await input.write(encodeFrame(FrameType.OPEN, 3));
  assert.equal((await s.ended).kind, "error");
  input.close();
  out.close();
});
