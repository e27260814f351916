/**
 * A minimal DevTools-protocol client for headless Chromium, with no npm dependency: launch the
 * browser, open a page, evaluate expressions until they satisfy a check. Used by the browser
 * test on this machine and, on the test cluster's laptop, by tests/cluster/laptop.ts.
 * @module
 */

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** A minimal DevTools-protocol client over the browser's WebSocket (flattened sessions). */
export class Cdp {
  #ws: WebSocket;
  #next = 1;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data as string);
      const p = msg.id !== undefined ? this.#pending.get(msg.id) : undefined;
      if (!p) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new Error(JSON.stringify(msg.error)));
      else p.resolve(msg.result);
    };
  }

  static open(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(new Cdp(ws));
      ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
  }

  send<T = Record<string, unknown>>(method: string, params = {}, sessionId?: string): Promise<T> {
    const id = this.#next++;
    this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) =>
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
    );
  }

  close(): void {
    this.#ws.close();
  }
}

/** Starts headless Chromium in its own session and returns its DevTools WebSocket URL. */
export async function launchChromium(
  profile: string,
): Promise<{ ws: string; child: Deno.ChildProcess }> {
  const child = new Deno.Command(CHROMIUM, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    detached: true,
  }).spawn();
  const dec = new TextDecoder();
  let seen = "";
  const reader = child.stderr.getReader();
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`chromium exited before DevTools was listening:\n${seen}`);
    seen += dec.decode(value, { stream: true });
    const m = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
    if (m) {
      // Keep draining stderr so that Chromium never blocks on a full pipe.
      (async () => {
        try {
          while (!(await reader.read()).done) { /* discard */ }
        } catch { /* closed */ }
      })();
      return { ws: m[1], child };
    }
  }
}

/** Evaluates `expr` in the page until `ok` accepts the value, or throws after `ms`. */
export async function until<T>(
  cdp: Cdp,
  session: string,
  expr: string,
  ok: (v: T) => boolean,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < deadline) {
    const r = await cdp.send<{ result: { value: T } }>(
      "Runtime.evaluate",
      { expression: expr, returnByValue: true },
      session,
    );
    last = r.result.value;
    if (ok(last)) return last;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`page never satisfied the check; last value: ${JSON.stringify(last)}`);
}
