/**
 * Shared pieces of the connect tests: HTTP over a multiplexed stream.
 * @module
 */

import type { MuxStream } from "../../src/relay/mux.ts";

/** Sends one HTTP/1.1 request on `s` and returns the status code and body. */
export async function httpOver(
  s: MuxStream,
  path: string,
): Promise<{ status: number; body: string }> {
  await s.write(
    new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    ),
  );
  let text = "";
  const dec = new TextDecoder();
  for (let c = await s.read(); c !== null; c = await s.read()) text += dec.decode(c);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, body: text.slice(text.indexOf("\r\n\r\n") + 4) };
}
