/**
 * The printed URL in a real browser: headless Chromium, driven over the DevTools protocol
 * directly (no npm dependency), opens the URL `notebook` printed, lands on the authenticated
 * file tree of notebook 6, and finds the Legate kernel in the "New" menu.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { spawnCli, tempDir } from "./helpers.ts";
import { DISPLAY, KERNEL, setupHome } from "./notebook_support.ts";
import { Cdp, CHROMIUM, launchChromium, until } from "./support/cdp.ts";

const HAVE = (path: string) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
};
const ROOT_ARGS = Deno.uid() === 0 ? ["--", "--allow-root"] : [];

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
