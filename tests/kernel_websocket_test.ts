/**
 * A kernel started on a server that `notebook` or `lab` started connects at once: a websocket
 * client (what a browser tab is) opens the kernel's channels and gets its kernel_info_reply.
 *
 * Why: Notebook 6 on jupyter_client 8 (Debian 13: notebook 6.4.13, jupyter_client 8.6.3) holds
 * every kernel websocket until `kernel_info_timeout` (60 s) fires, because the kernel's reply
 * reaches the server's event loop from another thread and nothing wakes the loop to see it
 * (kernels/jupyter_notebook_config.py). Users then watch "Connecting to kernel" for a minute.
 * The bound below is not a speed measure: a server whose kernel connects replies in well under
 * a second on any machine, and one that waits for that timeout replies after 29 to 60 s (the
 * 60 s timer runs from the first request for the kernel). 30 s tells the two apart.
 */

import assert from "node:assert/strict";
import { spawnCli, type SpawnedCli, tempDir } from "./helpers.ts";
import { KERNEL, LAB_WHAT, labEnv, setupHome } from "./notebook_support.ts";
import { startKernel, timeKernelInfo } from "./support/kernel_client.ts";
import { HAVE_LAB, HAVE_NOTEBOOK, onStack, STACK } from "./support/stack.ts";

const ROOT_ARGS = Deno.uid() === 0 ? ["--", "--allow-root"] : [];
/** Half of Notebook's kernel_info_timeout (see the module doc). */
const BOUND_MS = 30_000;

interface Ready {
  url: string;
  token: string;
}

async function ready(cli: SpawnedCli): Promise<Ready> {
  return JSON.parse(await cli.waitForLine(/^\{"event":"ready"/, 90_000));
}

async function assertConnects(app: "notebook" | "lab"): Promise<void> {
  await using tmp = await tempDir();
  const { env, nbDir } = await setupHome(tmp.path);
  const appEnv = app === "lab" ? await labEnv(tmp.path, env) : env;
  await using cli = spawnCli([app, "--json", "--notebook-dir", nbDir, ...ROOT_ARGS], {
    env: appEnv,
  });
  const r = await ready(cli);
  const server = { base: r.url.replace(/\?.*$/, ""), token: r.token };
  const id = await startKernel(server, KERNEL);
  const t = await timeKernelInfo(server, id, BOUND_MS);
  assert.ok(
    t.replyMs !== undefined,
    `no kernel_info_reply within ${BOUND_MS / 1000} s of opening the websocket ` +
      `(handshake ${t.openMs === undefined ? "not done" : `after ${t.openMs.toFixed(0)} ms`}): ` +
      `the server holds the kernel's connection until kernel_info_timeout`,
  );
  assert.match(String(t.reply?.protocol_version), /^5\./);
  assert.equal((t.reply?.language_info as { name?: string })?.name, "python");
}

Deno.test({
  name: "notebook: a kernel's websocket gets its kernel_info_reply, not held until " +
    "kernel_info_timeout" + onStack("notebook", "jupyter_client"),
  ignore: !HAVE_NOTEBOOK,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => assertConnects("notebook"),
});

Deno.test({
  name: `${LAB_WHAT}: a kernel's websocket gets its kernel_info_reply, not held until ` +
    "kernel_info_timeout" + onStack("jupyterlab", "jupyter_server", "jupyter_client"),
  ignore: !HAVE_LAB && !STACK.jupyter_server,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => assertConnects("lab"),
});
