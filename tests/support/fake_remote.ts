/**
 * A fake of another release's remote side, for the version-handshake test (no other release
 * exists here to run): it writes the marker and a hello of protocol 99, then waits for its
 * stdin to end. Run as `--remote-command 'deno run -A fake_remote.ts'` (connect appends
 * `agent`, which it ignores).
 * @module
 */

import { encodeControl, MARKER } from "../../src/relay/frame.ts";

const out = new Uint8Array([
  ...new TextEncoder().encode(MARKER),
  ...encodeControl({
    type: "hello",
    program: "legate-jupyter",
    version: "9.9.9",
    protocol: 99,
    role: "agent",
    host: Deno.hostname(),
  }),
]);
await Deno.stdout.write(out);
for await (const _ of Deno.stdin.readable) { /* until the laptop hangs up */ }
