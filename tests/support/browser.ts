/**
 * Headless Chromium for the browser tests, on the DevTools client of ./cdp.ts: a browser that
 * opens tabs, evaluates expressions in them and types as a user does, killed when disposed.
 * @module
 */

import { Cdp, CHROMIUM, launchChromium, until } from "./cdp.ts";

export { CHROMIUM, until };

/** Whether `path` is a file. */
export const HAVE = (path: string): boolean => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
};

/** A running headless Chromium with a DevTools connection; disposing it kills it. */
export interface Browser extends AsyncDisposable {
  readonly cdp: Cdp;
  /** Opens `url` in a new tab and returns the tab's DevTools session. */
  open(url: string): Promise<string>;
  /** Evaluates `expr` in the tab (awaiting a promise it returns) and returns its value. */
  eval<T>(session: string, expr: string): Promise<T>;
  /** Types `text` into whatever has the focus, as a keyboard would. */
  type(session: string, text: string): Promise<void>;
  /** Presses a key (`Enter`...) with modifiers (1 Alt, 2 Ctrl, 4 Meta, 8 Shift). */
  press(session: string, key: string, modifiers?: number): Promise<void>;
}

const KEY_CODES: Record<string, number> = { Enter: 13, Escape: 27 };

/** Starts headless Chromium with a fresh profile under `profile`. */
export async function startBrowser(profile: string): Promise<Browser> {
  const browser = await launchChromium(profile);
  let cdp: Cdp;
  try {
    cdp = await Cdp.open(browser.ws);
  } catch (e) {
    kill(browser.child);
    await browser.child.status;
    throw e;
  }
  return {
    cdp,
    async open(url) {
      const { targetId } = await cdp.send<{ targetId: string }>("Target.createTarget", { url });
      const { sessionId } = await cdp.send<{ sessionId: string }>("Target.attachToTarget", {
        targetId,
        flatten: true,
      });
      return sessionId;
    },
    async eval<T>(session: string, expression: string) {
      const r = await cdp.send<{ result: { value: T }; exceptionDetails?: unknown }>(
        "Runtime.evaluate",
        { expression, returnByValue: true, awaitPromise: true },
        session,
      );
      if (r.exceptionDetails) {
        throw new Error(`${expression}: ${JSON.stringify(r.exceptionDetails)}`);
      }
      return r.result.value;
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
