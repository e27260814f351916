/**
 * Run on the test cluster's laptop by bench/connect_bench.ts: the time for a cell's reply
 * through two URLs of the same Jupyter server (connect's, and a plain SSH tunnel's), on one
 * kernel, alternating the two so that the kernel's own time weighs on both alike.
 *
 *   deno run -A bench/cell_rtt.ts URL_A URL_B KERNEL_NAME ROUNDS
 *
 * Prints {"a": [ms...], "b": [ms...]}: send of `execute_request` to the kernel's idle status
 * and reply, each over its own WebSocket.
 * @module
 */

import {
  KernelSocket,
  serverOf,
  shutdownKernel,
  startKernel,
} from "../tests/support/kernel_client.ts";

/** Milliseconds from sending `1 + 1` to its reply and the kernel's idle status. */
async function rtt(socket: KernelSocket): Promise<number> {
  return (await socket.execute("1 + 1")).ms;
}

if (import.meta.main) {
  const [urlA, urlB, name, roundsText] = Deno.args;
  const rounds = Number(roundsText ?? 50);
  const server = serverOf(urlA);
  const kernel = await startKernel(server, name);
  const a = await KernelSocket.open(server, kernel);
  const b = await KernelSocket.open(serverOf(urlB), kernel);
  for (let i = 0; i < 5; i++) {
    await rtt(a);
    await rtt(b);
  }
  const times = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so that neither always follows the other.
    if (i % 2) {
      times.b.push(await rtt(b));
      times.a.push(await rtt(a));
    } else {
      times.a.push(await rtt(a));
      times.b.push(await rtt(b));
    }
  }
  a.close();
  b.close();
  await shutdownKernel(server, kernel);
  console.log(JSON.stringify(times));
}
