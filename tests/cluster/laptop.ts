/**
 * What the test cluster's laptop does with a Jupyter URL once a tunnel is up, run there as the
 * test user (`deno run -A laptop.ts ...`, from the checkout every host sees) and answering one
 * line of JSON on stdout for the test to judge:
 *
 * - `browse URL`: headless Chromium opens URL, as a person pastes it into a browser: the page
 *   it lands on, whether that is the login page, the files listed, and the kernels the "New"
 *   menu offers (notebook 6's tree).
 * - `cell URL KERNEL CODE`: starts KERNEL through the server's REST API, runs CODE over the
 *   kernel's websocket, and reports its output; the kernel is shut down after.
 * @module
 */

import { notebookTree, startBrowser } from "../support/browser.ts";
import { KernelSocket, serverOf, shutdownKernel, startKernel } from "../support/kernel_client.ts";

async function browse(url: string): Promise<unknown> {
  await using browser = await startBrowser();
  const tab = await browser.open(url);
  return await notebookTree(browser, tab);
}

async function cell(url: string, kernel: string, code: string): Promise<unknown> {
  const server = serverOf(url);
  const id = await startKernel(server, kernel);
  try {
    const socket = await KernelSocket.open(server, id);
    const e = await socket.execute(code);
    socket.close();
    return { stdout: e.streams, error: e.error };
  } finally {
    await shutdownKernel(server, id);
  }
}

if (import.meta.main) {
  const [what, ...args] = Deno.args;
  const result = what === "browse"
    ? await browse(args[0])
    : what === "cell"
    ? await cell(args[0], args[1], args[2])
    : undefined;
  if (result === undefined) {
    console.error("usage: laptop.ts browse URL | cell URL KERNEL CODE");
    Deno.exit(2);
  }
  console.log(JSON.stringify(result));
}
