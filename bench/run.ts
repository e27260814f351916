/**
 * `deno task bench`: runs every `bench/*_bench.ts`, one after another so that they do not
 * disturb each other's timings, each as its own process with its default rounds. Each
 * benchmark skips itself (exit 0, with the reason) when what it compares against is missing.
 *
 * Run: deno task bench [NAME...]   (NAME: kernel, detect, notebook, submit, startup, ...)
 * @module
 */

import { fileURLToPath } from "node:url";

async function main(): Promise<number> {
  const dir = fileURLToPath(new URL(".", import.meta.url));
  const wanted = new Set(Deno.args);
  const benches: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const m = /^(.+)_bench\.ts$/.exec(e.name);
    if (e.isFile && m && (wanted.size === 0 || wanted.has(m[1]))) benches.push(e.name);
  }
  benches.sort();
  let failed = 0;
  for (const name of benches) {
    console.log(`\n== bench/${name}`);
    const status = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${dir}${name}`],
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (!status.success) {
      failed++;
      console.log(`bench/${name} failed with exit status ${status.code}`);
    }
  }
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
