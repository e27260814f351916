/**
 * Benchmark: `legate-jupyter install` and `list` against `jupyter kernelspec install` and
 * `jupyter kernelspec list` on the same data, in one process, and the ratios.
 *
 * Run: deno run -A bench/kernel_bench.ts [ROUNDS]
 * @module
 */

import { join } from "node:path";
import { median } from "./support.ts";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const rounds = Number(Deno.args[0] ?? 15);

async function time(argv: string[], env: Record<string, string>): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  if (!out.success) {
    throw new Error(`${argv.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return ms;
}

const dir = await Deno.makeTempDir({ prefix: "lj-bench-" });
try {
  const env = {
    HOME: join(dir, "home"),
    JUPYTER_DATA_DIR: join(dir, "data"),
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    PYDEVD_DISABLE_FILE_VALIDATION: "1",
  };
  const ours = [Deno.execPath(), "run", "-A", join(ROOT, "mod.ts")];
  // The same kernel for Jupyter to copy: what our install writes.
  await time([
    ...ours,
    "install",
    "--name",
    "source",
    "--python",
    "/usr/bin/python3",
    "--cpus",
    "4",
    "-q",
  ], env);
  const source = join(dir, "data", "kernels", "source");
  const results = {
    ourInstall: [] as number[],
    jupInstall: [] as number[],
    ourList: [] as number[],
    jupList: [] as number[],
  };
  // Warm both: Deno's transpile cache, Python's bytecode cache.
  await time([...ours, "list"], env);
  await time(["jupyter", "kernelspec", "list"], env);
  for (let i = 0; i < rounds; i++) {
    results.ourInstall.push(
      await time([
        ...ours,
        "install",
        "--name",
        `ours-${i}`,
        "--python",
        "/usr/bin/python3",
        "--cpus",
        "4",
        "-q",
      ], env),
    );
    results.jupInstall.push(
      await time(["jupyter", "kernelspec", "install", source, "--user", "--name", `jup-${i}`], env),
    );
    results.ourList.push(await time([...ours, "list"], env));
    results.jupList.push(await time(["jupyter", "kernelspec", "list"], env));
  }
  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
  const row = (label: string, a: number, b: number) =>
    `${label.padEnd(10)} legate-jupyter ${a.toFixed(1).padStart(6)} ms   jupyter kernelspec ${
      b.toFixed(1).padStart(6)
    } ms   ${(b / a).toFixed(1)}x faster`;
  console.log(`kernel lifecycle, median of ${rounds} rounds, ${rounds * 2 + 2} kernels installed:`);
  console.log(row("install", m.ourInstall, m.jupInstall));
  console.log(row("list", m.ourList, m.jupList));
} finally {
  await Deno.remove(dir, { recursive: true });
}
