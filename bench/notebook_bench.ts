/**
 * How much `legate-jupyter notebook` and `lab` add to Jupyter's own start-up: time from
 * invoking the tool to its printed URL, against `jupyter notebook --no-browser` (the seed
 * document's command) and `jupyter-notebook --no-browser` (the program the tool runs), and
 * against `jupyter-lab --no-browser` where the system has JupyterLab, to their "is running at"
 * line; and for each, to the URL answering (GET /api 200), which with jupyter_server 2 comes
 * after the line. Rounds alternate so that drift in the machine's load hits every contender
 * alike.
 *
 *   deno run -A bench/notebook_bench.ts [--rounds N] [--compiled PATH]
 *
 * `--compiled` times a compiled `legate-jupyter` binary as well as `deno run mod.ts`.
 * @module
 */

import { join } from "node:path";
import { benchEnv, freePort, median } from "./support.ts";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MOD = join(ROOT, "mod.ts");

interface Contender {
  readonly name: string;
  readonly argv: (port: number, nbDir: string) => string[];
  /** Which stream carries the line, and the line that means "URL known". */
  readonly stream: "stdout" | "stderr";
  readonly ready: RegExp;
  /** The port the URL names, from what the stream said (default: the port given). */
  readonly portOf?: (said: string) => number | undefined;
}

/** Milliseconds from spawn to the URL printed, and to the URL answering. */
interface Timing {
  printed: number;
  answers: number;
}

/**
 * Whether GET /api (which needs no token) answers 200 on `port`. Jupyter prints its URL, and
 * jupyter_server 2 writes its runtime file, before its event loop binds the port: the user's
 * first request can only succeed from here on, so this is the fair finish line for both sides.
 */
async function answers(port: number): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/api`, { signal: AbortSignal.timeout(2_000) });
    await r.body?.cancel();
    return r.status === 200;
  } catch {
    return false;
  }
}

async function timeOne(c: Contender, env: Record<string, string>, nbDir: string): Promise<Timing> {
  const port = freePort();
  const argv = c.argv(port, nbDir);
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
  let timing: Timing | undefined;
  const stop = () => {
    // SIGTERM is the clean path for both; kill it if a SIGTERM that lands mid-start-up is lost.
    child.kill("SIGTERM");
    killer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, 10_000);
  };
  const watch = async (s: ReadableStream<Uint8Array>, mine: boolean) => {
    let seen = "";
    let done = false;
    for await (const chunk of s) {
      if (done || !mine) continue;
      seen += dec.decode(chunk, { stream: true });
      if (!c.ready.test(seen)) continue;
      done = true;
      const printed = performance.now() - t0;
      const on = c.portOf?.(seen) ?? port;
      // Reading goes on meanwhile (this loop is left for the poll below), so Jupyter never
      // blocks on a full pipe.
      (async () => {
        while (!(await answers(on))) {
          if (performance.now() - t0 > printed + 60_000) break;
          await new Promise((r) => setTimeout(r, 5));
        }
        timing = { printed, answers: performance.now() - t0 };
        stop();
      })();
    }
  };
  await Promise.all([
    watch(child.stdout, c.stream === "stdout"),
    watch(child.stderr, c.stream === "stderr"),
  ]);
  await child.status;
  clearTimeout(killer);
  if (Deno.env.get("BENCH_DEBUG")) console.error(c.name, timing);
  if (timing === undefined) {
    throw new Error(`${c.name} never printed its URL, or it never answered`);
  }
  return timing;
}

/** Runs `contenders` in alternating rounds and prints each against `contenders[base]`. */
async function group(
  title: string,
  contenders: Contender[],
  base: number,
  rounds: number,
  env: Record<string, string>,
  nbDir: string,
): Promise<void> {
  // One warm-up round: Python's bytecode cache, Deno's module cache, the page cache.
  for (const c of contenders) await timeOne(c, env, nbDir);
  const times = new Map(contenders.map((c) => [c.name, [] as Timing[]]));
  for (let r = 0; r < rounds; r++) {
    for (const c of contenders) times.get(c.name)!.push(await timeOne(c, env, nbDir));
  }
  const ref = contenders[base];
  for (const what of ["answers", "printed"] as const) {
    const baseMs = median(times.get(ref.name)!.map((t) => t[what]));
    console.log(
      `${title} to the URL ${what === "answers" ? "answering" : "printed"}, ${rounds} rounds, ` +
        `median ms (min-max), against ${ref.name}:`,
    );
    for (const c of contenders) {
      const t = times.get(c.name)!.map((x) => x[what]);
      const m = median(t);
      console.log(
        `  ${c.name.padEnd(40)} ${m.toFixed(0).padStart(6)}  (${Math.min(...t).toFixed(0)}-${
          Math.max(...t).toFixed(0)
        })  ${m - baseMs >= 0 ? "+" : ""}${(m - baseMs).toFixed(0)} ms ` +
          `(${((m / baseMs - 1) * 100).toFixed(1)}%)`,
      );
    }
  }
}

/** The versions of the system's Jupyter packages (from their dist-info names). */
function stack(): string {
  const found: string[] = [];
  try {
    for (const e of Deno.readDirSync("/usr/lib/python3/dist-packages")) {
      const m = /^(notebook|jupyter_server|jupyterlab|jupyter_client)-(\d[^-]*?)\.(dist|egg)-info$/
        .exec(e.name);
      if (m) found.push(`${m[1]} ${m[2]}`);
    }
  } catch {
    // No system packages: nothing to name.
  }
  let debian = "";
  try {
    debian = `Debian ${Deno.readTextFileSync("/etc/debian_version").trim()}: `;
  } catch {
    // Not Debian.
  }
  return debian + found.sort().join(", ");
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
    const ours = (app: string, how: string, program: string[]): Contender => ({
      name: `legate-jupyter ${app} (${how})`,
      argv: (_p, nb) => [...program, app, "--json", "--notebook-dir", nb, "--", ...root],
      stream: "stdout",
      ready: /"event":"ready"/,
      portOf: (said) => Number(/"port":(\d+)/.exec(said)?.[1]) || undefined,
    });
    const deno = [Deno.execPath(), "run", "-A", "--quiet", MOD];
    console.log(`Jupyter: ${stack()}`);
    const notebook: Contender[] = [
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
      ours("notebook", "deno run", deno),
    ];
    if (compiled) notebook.push(ours("notebook", "compiled", [compiled]));
    await group("notebook start-up", notebook, 1, rounds, env, nbDir);
    // JupyterLab where the system has it (Debian 13; Debian 12 packages none).
    try {
      await Deno.stat("/usr/bin/jupyter-lab");
    } catch {
      console.log("lab start-up: skipped (no /usr/bin/jupyter-lab: this system has no JupyterLab)");
      return;
    }
    const lab: Contender[] = [
      {
        name: "jupyter-lab (what the tool runs)",
        argv: (p) => ["/usr/bin/jupyter-lab", "--no-browser", `--port=${p}`, ...root],
        stream: "stderr",
        ready: running,
      },
      ours("lab", "deno run", deno),
    ];
    if (compiled) lab.push(ours("lab", "compiled", [compiled]));
    await group("lab start-up", lab, 0, rounds, env, nbDir);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main();
