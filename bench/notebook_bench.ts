/**
 * How much `legate-jupyter notebook` adds to Jupyter's own start-up: time from invoking the
 * tool to its printed URL, against `jupyter notebook --no-browser` (the seed document's
 * command) and `jupyter-notebook --no-browser` (the program the tool runs) to their "is
 * running at" line. Rounds alternate so that drift in the machine's load hits all three.
 *
 *   deno run -A bench/notebook_bench.ts [--rounds N] [--compiled PATH]
 *
 * `--compiled` times a compiled `legate-jupyter` binary as well as `deno run mod.ts`.
 * @module
 */

import { join } from "node:path";
import { benchEnv, freePort, median } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MOD = join(ROOT, "mod.ts");

interface Contender {
  readonly name: string;
  readonly argv: (port: number, nbDir: string) => string[];
  /** Which stream carries the line, and the line that means "URL known". */
  readonly stream: "stdout" | "stderr";
  readonly ready: RegExp;
}

async function timeOne(c: Contender, env: Record<string, string>, nbDir: string): Promise<number> {
  const argv = c.argv(freePort(), nbDir);
  const t0 = performance.now();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    cwd: nbDir,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const dec = new TextDecoder();
  let killer: ReturnType<typeof setTimeout> | undefined;
  const watch = async (
    s: ReadableStream<Uint8Array>,
    mine: boolean,
  ): Promise<number | undefined> => {
    let seen = "";
    let at: number | undefined;
    for await (const chunk of s) {
      if (at !== undefined || !mine) continue;
      seen += dec.decode(chunk, { stream: true });
      if (c.ready.test(seen)) {
        at = performance.now() - t0;
        // The URL is known: stop the server (SIGTERM is the clean path for both), and kill it
        // if a SIGTERM that lands mid-start-up is lost.
        child.kill("SIGTERM");
        killer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // Already gone.
          }
        }, 10_000);
      }
    }
    return at;
  };
  const [a, b] = await Promise.all([
    watch(child.stdout, c.stream === "stdout"),
    watch(child.stderr, c.stream === "stderr"),
  ]);
  await child.status;
  clearTimeout(killer);
  if (Deno.env.get("BENCH_DEBUG")) console.error(c.name, a ?? b);
  const ms = a ?? b;
  if (ms === undefined) throw new Error(`${c.name} never printed its URL`);
  return ms;
}

async function main() {
  const args = Deno.args;
  const rounds = Number(args[args.indexOf("--rounds") + 1]) || 7;
  const compiled = args.includes("--compiled") ? args[args.indexOf("--compiled") + 1] : undefined;
  const tmp = await Deno.makeTempDir({ prefix: "lj-bench-" });
  try {
    const env = benchEnv(tmp);
    const nbDir = join(tmp, "nb");
    await Deno.mkdir(nbDir, { recursive: true });
    await Deno.mkdir(env.HOME, { recursive: true });
    const root = Deno.uid() === 0 ? ["--allow-root"] : [];
    const running = /is running at:?\s*\n[^\n]*http/;
    const contenders: Contender[] = [
      {
        name: "jupyter notebook (seed's command)",
        argv: (p) => ["/usr/bin/jupyter", "notebook", "--no-browser", `--port=${p}`, ...root],
        stream: "stderr",
        ready: running,
      },
      {
        name: "jupyter-notebook (what the tool runs)",
        argv: (p) => ["/usr/bin/jupyter-notebook", "--no-browser", `--port=${p}`, ...root],
        stream: "stderr",
        ready: running,
      },
      {
        name: "legate-jupyter notebook (deno run)",
        argv: (
          _p,
          nb,
        ) => [
          Deno.execPath(),
          "run",
          "-A",
          "--quiet",
          MOD,
          "notebook",
          "--json",
          "--notebook-dir",
          nb,
          "--",
          ...root,
        ],
        stream: "stdout",
        ready: /"event":"ready"/,
      },
    ];
    if (compiled) {
      contenders.push({
        name: "legate-jupyter notebook (compiled)",
        argv: (_p, nb) => [compiled, "notebook", "--json", "--notebook-dir", nb, "--", ...root],
        stream: "stdout",
        ready: /"event":"ready"/,
      });
    }
    // One warm-up round: Python's bytecode cache, Deno's module cache, the page cache.
    for (const c of contenders) await timeOne(c, env, nbDir);
    const times = new Map(contenders.map((c) => [c.name, [] as number[]]));
    for (let r = 0; r < rounds; r++) {
      for (const c of contenders) times.get(c.name)!.push(await timeOne(c, env, nbDir));
    }
    const base = median(times.get(contenders[1].name)!);
    const seed = median(times.get(contenders[0].name)!);
    console.log(`notebook start-up, ${rounds} rounds, median ms (min-max):`);
    for (const c of contenders) {
      const t = times.get(c.name)!;
      const m = median(t);
      console.log(
        `  ${c.name.padEnd(40)} ${m.toFixed(0).padStart(6)}  (${Math.min(...t).toFixed(0)}-${
          Math.max(...t).toFixed(0)
        })  vs jupyter-notebook: ${m - base >= 0 ? "+" : ""}${(m - base).toFixed(0)} ms ` +
          `(${((m / base - 1) * 100).toFixed(1)}%), vs seed: ${((m / seed - 1) * 100).toFixed(1)}%`,
      );
    }
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
