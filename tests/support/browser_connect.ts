/**
 * A browser for the connect tests, run on the test cluster's laptop as the `$BROWSER` that
 * `connect` opens: headless Chromium, driven over the DevTools protocol, opens the link it is
 * given (connect's one-time link), lands on the authenticated Jupyter page, and from the
 * page, as its own scripts would (cookie and XSRF token, the kernel's WebSocket), starts the
 * kernel `$LJD_KERNEL` and runs `%legate_info` in it. The outcome goes as JSON to the file
 * `$LJD_RESULT` (connect starts its browser with no stdout to read).
 *
 *   LJD_KERNEL=name LJD_RESULT=/path/result.json deno run -A browser_connect.ts URL
 * @module
 */

import { startBrowser } from "./browser.ts";

/** Runs in the page: starts a kernel and runs `%legate_info` over its WebSocket. */
const IN_PAGE = (kernel: string) =>
  `(async () => {
  const xsrf = decodeURIComponent((document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || "");
  const base = location.pathname.replace(/(tree|lab|notebooks)(\\/.*)?$/, "");
  const r = await fetch(base + "api/kernels", {
    method: "POST",
    headers: { "X-XSRFToken": xsrf, "Content-Type": "application/json" },
    body: JSON.stringify({ name: ${JSON.stringify(kernel)} }),
  });
  if (!r.ok) return { error: "POST api/kernels: HTTP " + r.status + " " + await r.text() };
  const k = await r.json();
  const ws = new WebSocket("ws://" + location.host + base + "api/kernels/" + k.id + "/channels");
  const msgId = crypto.randomUUID();
  return await new Promise((resolve) => {
    let stdout = "", status = "", idle = false;
    // Debian 13's classic notebook (6.4.13 with jupyter_client 8) holds a kernel's first
    // WebSocket for its 60-s kernel_info timeout: give it three minutes.
    const timer = setTimeout(() => resolve({ error: "no reply in 180 s", stdout }), 180000);
    ws.onerror = () => resolve({ error: "websocket error" });
    ws.onopen = () => ws.send(JSON.stringify({
      header: { msg_id: msgId, username: "browser", session: crypto.randomUUID(),
                msg_type: "execute_request", version: "5.3", date: new Date().toISOString() },
      parent_header: {}, metadata: {}, channel: "shell", buffers: [],
      content: { code: "%legate_info", silent: false, store_history: true,
                 user_expressions: {}, allow_stdin: false, stop_on_error: true },
    }));
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data);
      if (!m.parent_header || m.parent_header.msg_id !== msgId) return;
      const type = m.header.msg_type;
      if (type === "stream") stdout += m.content.text;
      if (type === "error") stdout += m.content.ename + ": " + m.content.evalue;
      if (type === "execute_reply") status = m.content.status;
      if (type === "status" && m.content.execution_state === "idle") idle = true;
      if (idle && status) { clearTimeout(timer); ws.close(); resolve({ kernel: k.id, status, stdout }); }
    };
  });
})()`;

if (import.meta.main) {
  const url = Deno.args[0];
  const out = Deno.env.get("LJD_RESULT") ?? "/dev/stdout";
  const kernel = Deno.env.get("LJD_KERNEL") ?? "python3";
  let result: Record<string, unknown>;
  try {
    await using browser = await startBrowser();
    const tab = await browser.open(url);
    // Wait until the page has left the link and loaded Jupyter's own page.
    let page = { href: "", path: "", login: false, ready: "" };
    for (let i = 0; i < 300; i++) {
      page = await browser.eval(
        tab,
        `({ href: location.href, path: location.pathname, ready: document.readyState,
            login: !!document.querySelector('#password_input, form[action*="login"]') })`,
      );
      const left = page.href.startsWith("http") && !page.path.startsWith("/legate-jupyter/open/");
      if (left && page.ready === "complete") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const run = page.login
      ? { error: "landed on the login page" }
      : await browser.eval<Record<string, unknown>>(tab, IN_PAGE(kernel));
    result = { page, ...run };
  } catch (e) {
    result = { error: String(e) };
  }
  await Deno.writeTextFile(out, JSON.stringify(result) + "\n");
}
