/**
 * The printed URL in a real browser: headless Chromium, driven over the DevTools protocol
 * directly (no npm dependency), opens the URL `notebook` printed, lands on the authenticated
 * file tree of notebook 6, and finds the Legate kernel in the "New" menu.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { spawnCli, tempDir } from "./helpers.ts";
import { DISPLAY, KERNEL, setupHome } from "./notebook_support.ts";

const CHROMIUM = "/usr/bin/chromium";
const HAVE = (path: string) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
};
const ROOT_ARGS = Deno.uid() === 0 ? ["--", "--allow-root"] : [];

/** A minimal DevTools-protocol client over the browser's WebSocket (flattened sessions). */
class Cdp {
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
async function launchChromium(profile: string): Promise<{ ws: string; child: Deno.ChildProcess }> {
  const child = new Deno.Command(CHROMIUM, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
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
async function until<T>(
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

Deno.test({
  name: HAVE(CHROMIUM)
    ? "the printed URL opens the authenticated notebook tree in headless Chromium, whose New menu offers the Legate kernel"
    : "browser test skipped: /usr/bin/chromium is not installed (apt-get install chromium)",
  ignore: !HAVE(CHROMIUM) || !HAVE("/usr/bin/jupyter-notebook"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    await Deno.writeTextFile(
      join(nbDir, "hello.ipynb"),
      '{"cells":[],"metadata":{},"nbformat":4,"nbformat_minor":5}',
    );
    await using cli = spawnCli(["notebook", "--json", "--notebook-dir", nbDir, ...ROOT_ARGS], {
      env,
    });
    const ready = JSON.parse(await cli.waitForLine(/^\{"event":"ready"/, 90_000));
    const browser = await launchChromium(join(tmp.path, "chromium-profile"));
    let cdp: Cdp | undefined;
    try {
      cdp = await Cdp.open(browser.ws);
      const { targetId } = await cdp.send<{ targetId: string }>("Target.createTarget", {
        url: ready.url,
      });
      const { sessionId } = await cdp.send<{ sessionId: string }>("Target.attachToTarget", {
        targetId,
        flatten: true,
      });
      const page = await until<{ path: string; login: boolean; files: string[] }>(
        cdp,
        sessionId,
        `({ path: location.pathname,
            login: !!document.querySelector('#password_input, form[action*="login"]'),
            files: Array.from(document.querySelectorAll('#notebook_list .item_link'))
              .map((a) => a.textContent.trim()) })`,
        (v) => v.path !== "/" && (v.login || v.files.length > 0),
      );
      assert.equal(page.login, false, "landed on the login page");
      assert.equal(page.path, "/tree");
      assert.ok(page.files.includes("hello.ipynb"), `file tree shows ${page.files}`);
      // Open the "New" menu as a user would, then read the kernels it offers.
      await cdp.send("Runtime.evaluate", {
        expression: "document.querySelector('#new-dropdown-button').click()",
      }, sessionId);
      const kernels = await until<{ id: string; text: string }[]>(
        cdp,
        sessionId,
        `Array.from(document.querySelectorAll('#new-menu li[id^="kernel-"] a'))
           .map((a) => ({ id: a.parentElement.id, text: a.textContent.trim() }))`,
        (v) => v.some((k) => k.text === DISPLAY),
      );
      assert.ok(kernels.some((k) => k.id === `kernel-${KERNEL}` && k.text === DISPLAY));
    } finally {
      cdp?.close();
      try {
        Deno.kill(-browser.child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
      await browser.child.status;
    }
  },
});
