/**
 * The tests' one headless Chromium, driven over the DevTools protocol with no npm dependency:
 * a browser that opens tabs, evaluates expressions in them (once, or until they satisfy a
 * check) and types as a user does, killed when disposed. Used by the browser test on this
 * machine and, on the test cluster's laptops, by tests/cluster/laptop.ts and
 * tests/support/browser_connect.ts.
 * @module
 */

/** Where Debian's chromium package puts the browser. */
export const CHROMIUM = "/usr/bin/chromium";

/** Whether `path` is a file. */
export const HAVE = (path: string): boolean => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
};

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

/** A running headless Chromium with a DevTools connection; disposing it kills it. */
export interface Browser extends AsyncDisposable {
  /** Opens `url` in a new tab and returns the tab's DevTools session. */
  open(url: string): Promise<string>;
  /** Evaluates `expr` in the tab (awaiting a promise it returns) and returns its value. */
  eval<T>(session: string, expr: string): Promise<T>;
  /** Evaluates `expr` in the tab until `ok` accepts its value; throws after `ms`. */
  until<T>(session: string, expr: string, ok: (v: T) => boolean, ms?: number): Promise<T>;
  /** Types `text` into whatever has the focus, as a keyboard would. */
  type(session: string, text: string): Promise<void>;
  /** Presses a key (`Enter`...) with modifiers (1 Alt, 2 Ctrl, 4 Meta, 8 Shift). */
  press(session: string, key: string, modifiers?: number): Promise<void>;
}

const KEY_CODES: Record<string, number> = { Enter: 13, Escape: 27 };

/**
 * Starts headless Chromium with a fresh profile under `profile`, or in a temporary directory
 * removed when the browser is disposed.
 */
export async function startBrowser(profile?: string): Promise<Browser> {
  const dir = profile ?? await Deno.makeTempDir({ prefix: "ljd-chromium-" });
  const removeProfile = async () => {
    if (profile === undefined) await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  let browser: { ws: string; child: Deno.ChildProcess };
  let cdp: Cdp;
  try {
    browser = await launchChromium(dir);
  } catch (e) {
    await removeProfile();
    throw e;
  }
  try {
    cdp = await Cdp.open(browser.ws);
  } catch (e) {
    kill(browser.child);
    await browser.child.status;
    await removeProfile();
    throw e;
  }
  const evaluate = async <T>(session: string, expression: string): Promise<T> => {
    const r = await cdp.send<{ result: { value: T }; exceptionDetails?: unknown }>(
      "Runtime.evaluate",
      { expression, returnByValue: true, awaitPromise: true },
      session,
    );
    if (r.exceptionDetails) {
      throw new Error(`${expression}: ${JSON.stringify(r.exceptionDetails)}`);
    }
    return r.result.value;
  };
  return {
    async open(url) {
      const { targetId } = await cdp.send<{ targetId: string }>("Target.createTarget", { url });
      const { sessionId } = await cdp.send<{ sessionId: string }>("Target.attachToTarget", {
        targetId,
        flatten: true,
      });
      return sessionId;
    },
    eval: evaluate,
    async until<T>(session: string, expr: string, ok: (v: T) => boolean, ms = 30_000) {
      const deadline = Date.now() + ms;
      let last: T | undefined;
      while (Date.now() < deadline) {
        last = await evaluate<T>(session, expr);
        if (ok(last)) return last;
        await new Promise((res) => setTimeout(res, 100));
      }
      throw new Error(`page never satisfied the check; last value: ${JSON.stringify(last)}`);
    },
    async type(session, text) {
      await cdp.send("Input.insertText", { text }, session);
    },
    async press(session, key, modifiers = 0) {
      const code = KEY_CODES[key] ?? key.toUpperCase().charCodeAt(0);
      const common = { key, code: key, windowsVirtualKeyCode: code, modifiers };
      await cdp.send("Input.dispatchKeyEvent", { type: "rawKeyDown", ...common }, session);
      await cdp.send("Input.dispatchKeyEvent", { type: "keyUp", ...common }, session);
    },
    async [Symbol.asyncDispose]() {
      cdp.close();
      kill(browser.child);
      await browser.child.status;
      await removeProfile();
    },
  };
}

function kill(child: Deno.ChildProcess): void {
  try {
    Deno.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** A kernel the classic notebook's "New" menu offers. */
export interface MenuKernel {
  id: string;
  text: string;
}

/**
 * What the classic notebook's tree page at `tab` shows a user: where the token URL landed,
 * whether on the login page, the files listed, and (unless on the login page) the kernels its
 * "New" menu offers once opened, read until `kernelsOk` accepts them.
 */
export async function notebookTree(
  browser: Browser,
  tab: string,
  kernelsOk: (kernels: MenuKernel[]) => boolean = (k) => k.length > 0,
): Promise<{ path: string; login: boolean; files: string[]; kernels: MenuKernel[] }> {
  const page = await browser.until<{ path: string; login: boolean; files: string[] }>(
    tab,
    `({ path: location.pathname,
        login: !!document.querySelector('#password_input, form[action*="login"]'),
        files: Array.from(document.querySelectorAll('#notebook_list .item_link'))
          .map((a) => a.textContent.trim()) })`,
    (v) => v.path !== "/" && (v.login || v.files.length > 0),
  );
  if (page.login) return { ...page, kernels: [] };
  // Open the "New" menu as a user would, then read the kernels it offers.
  await browser.eval(tab, "document.querySelector('#new-dropdown-button').click()");
  const kernels = await browser.until<MenuKernel[]>(
    tab,
    `Array.from(document.querySelectorAll('#new-menu li[id^="kernel-"] a'))
       .map((a) => ({ id: a.parentElement.id, text: a.textContent.trim() }))`,
    kernelsOk,
  );
  return { ...page, kernels };
}
