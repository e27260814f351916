/**
 * How long `detect --json` takes beyond starting a process.
 *
 * Runs `deno run -A mod.ts detect --json` and `deno run -A <empty script>` alternately in the
 * same session, so the difference of their medians is the work detect does beyond process
 * start; then times `detect()` in-process (first call, and warm). Target: under 20 ms
 * beyond process start. Usage: `deno run -A bench/detect_bench.ts [RUNS]`.
 * @module
 */

import { median } from "./support.ts";
import { fileURLToPath } from "node:url";

const MOD = fileURLToPath(new URL("../mod.ts", import.meta.url));

async function timeRun(args: string[]): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), { args, stdout: "null", stderr: "piped" })
    .output();
  const ms = performance.now() - start;
  if (!out.success) {
    throw new Error(`deno ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return ms;
}

async function main() {
  const runs = Number(Deno.args[0] ?? "20");
  const dir = await Deno.makeTempDir({ prefix: "lj-bench-" });
  try {
    const empty = `${dir}/empty.ts`;
    await Deno.writeTextFile(empty, "");
    const bare = ["run", "-A", "--quiet", empty];
    const detectArgs = ["run", "-A", "--quiet", MOD, "detect", "--json"];
    // Warm the module cache so neither side pays for transpiling.
    await timeRun(bare);
    await timeRun(detectArgs);
    const bareMs: number[] = [];
    const detectMs: number[] = [];
    for (let i = 0; i < runs; i++) {
      bareMs.push(await timeRun(bare));
      detectMs.push(await timeRun(detectArgs));
    }
    const { detect } = await import("../src/detect/detect.ts");
    const { systemProbe } = await import("../src/detect/probe.ts");
    let t = performance.now();
    await detect(systemProbe());
    const first = performance.now() - t;
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) {
      t = performance.now();
      await detect(systemProbe());
      warm.push(performance.now() - t);
    }
    const b = median(bareMs);
    const d = median(detectMs);
    console.log(
      `runs: ${runs} each, alternating (deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs)`,
    );
    console.log(`bare 'deno run' of an empty script  median ${b.toFixed(1)} ms`);
    console.log(`'detect --json' process              median ${d.toFixed(1)} ms`);
    console.log(`work beyond process start            ${(d - b).toFixed(1)} ms  (target < 20 ms)`);
    console.log(
      `detect() in-process                  first ${first.toFixed(1)} ms, warm median ${
        median(warm).toFixed(1)
      } ms`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
