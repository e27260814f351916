/**
 * Start-up of every short command against Deno's own start-up: `deno run` of an empty file,
 * measured in the same run, pairs alternated (the empty file, then the command, then the empty
 * file again...), the commands in a rotating order so that none always follows another. Each
 * command is shown with its median, the median of the empty file's runs paired with it, and
 * their ratio. Goal: every short command at or under 1.5×.
 *
 * Every run is `deno run -A FILE ARGS` from source, in an isolated HOME (which holds Deno's
 * cache, warmed by one round first, as a user's would be), Jupyter dirs and state dir. `info`
 * reads a Legate kernel the bench installs first; `jobs` runs with no scheduler on PATH.
 *
 * Run: deno run -A bench/startup_bench.ts [ROUNDS]   (default 21, at least 21)
 * @module
 */

import { join } from "node:path";
import { benchEnv, median } from "./support.ts";
import { fileURLToPath } from "node:url";

const MOD = fileURLToPath(new URL("../mod.ts", import.meta.url));

/** One short command: its arguments, the exit status it must end with, and its environment. */
interface Case {
  readonly label: string;
  readonly args: readonly string[];
  readonly code: number;
  readonly env?: "no-scheduler";
}

/** The short commands: each starts, does its small job and exits. */
const CASES: readonly Case[] = [
  { label: "--version", args: ["--version"], code: 0 },
  { label: "help", args: ["help"], code: 0 },
  { label: "list", args: ["list"], code: 0 },
  { label: "info NAME", args: ["info", "bench"], code: 0 },
  { label: "detect --json", args: ["detect", "--json"], code: 0 },
  { label: "servers", args: ["servers"], code: 0 },
  { label: "jobs (no scheduler)", args: ["jobs"], code: 0, env: "no-scheduler" },
  { label: "completions bash", args: ["completions", "bash"], code: 0 },
  { label: "usage error (--cpu 4)", args: ["--cpu", "4"], code: 2 },
];

/** Wall time of `deno run -A ARGS`, in ms; throws when it does not exit with `code`. */
async function time(
  args: readonly string[],
  env: Record<string, string>,
  cwd: string,
  code = 0,
): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    env,
    clearEnv: true,
    cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  if (out.code !== code) {
    throw new Error(
      `deno run -A ${args.join(" ")} exited ${out.code}, not ${code}: ` +
        new TextDecoder().decode(out.stderr),
    );
  }
  return ms;
}

/** The quartiles of `xs` (for the spread of the pairs' ratios). */
function quartiles(xs: readonly number[]): [number, number] {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))];
  return [at(0.25), at(0.75)];
}

async function main(): Promise<number> {
  const rounds = Math.max(21, Number(Deno.args[0] ?? 21));
  const dir = await Deno.makeTempDir({ prefix: "lj-startup-" });
  try {
    const env = benchEnv(dir);
    const bin = join(dir, "bin");
    await Deno.mkdir(bin);
    // No sbatch, qsub or bsub: `jobs` as on a machine without a scheduler.
    const noScheduler = { ...env, PATH: bin };
    const empty = join(dir, "empty.ts");
    await Deno.writeTextFile(empty, "");
    const envOf = (c: Case) => c.env === "no-scheduler" ? noScheduler : env;
    // The kernel `info` shows, and a first run of everything to warm Deno's cache.
    await time(
      [MOD, "install", "--name", "bench", "--python", "/usr/bin/python3", "--cpus", "2", "-q"],
      env,
      dir,
    );
    await time([empty], env, dir);
    for (const c of CASES) await time([MOD, ...c.args], envOf(c), dir, c.code);

    const own = new Map<Case, number[]>(CASES.map((c) => [c, []]));
    const peer = new Map<Case, number[]>(CASES.map((c) => [c, []]));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < CASES.length; k++) {
        const c = CASES[(round + k) % CASES.length];
        peer.get(c)!.push(await time([empty], envOf(c), dir));
        own.get(c)!.push(await time([MOD, ...c.args], envOf(c), dir, c.code));
      }
    }

    console.log(
      `${rounds} rounds, each command paired with a 'deno run' of an empty file, alternated ` +
        `(deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} CPUs, load ${
          Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
        })`,
    );
    console.log(
      `${"command".padEnd(24)}${"median".padStart(9)}${"empty".padStart(9)}${"ratio".padStart(8)}` +
        `  pairs' ratios (quartiles)`,
    );
    let over = 0;
    for (const c of CASES) {
      const a = median(own.get(c)!);
      const b = median(peer.get(c)!);
      const ratios = own.get(c)!.map((x, i) => x / peer.get(c)![i]);
      const [q1, q3] = quartiles(ratios);
      const ratio = a / b;
      if (ratio > 1.5) over++;
      console.log(
        `${c.label.padEnd(24)}${a.toFixed(1).padStart(7)}ms${b.toFixed(1).padStart(7)}ms${
          ratio.toFixed(2).padStart(7)
        }×  ${q1.toFixed(2)}–${q3.toFixed(2)}${ratio > 1.5 ? "  (over 1.5×)" : ""}`,
      );
    }
    console.log(
      over ? `${over} command(s) over the 1.5× goal` : "every short command at or under 1.5×",
    );
    return 0;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await main());
