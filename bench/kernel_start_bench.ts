/**
 * What a kernel this tool installs adds to a kernel's start-up: time from jupyter_client's
 * start_kernel() to the first kernel_info_reply (what a notebook waits for before its kernel
 * shows as idle), for a Legate kernel installed with the seed's flags against the stock
 * `python3` kernel of the same Python, in alternating rounds of one process
 * (bench/kernel_start.py). The difference is the launch script (one `sh`) and the helper that
 * registers `%legate_info`. Target: at most 5% over the stock kernel.
 *
 *   deno run -A bench/kernel_start_bench.ts [ROUNDS]   (default 31)
 * @module
 */

import { join } from "node:path";
import { benchEnv, median } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PYTHON = "/usr/bin/python3";
const SEED_FLAGS = ("--cpus 4 --gpus 0 --omps 0 --ompthreads 4 --utility 2 --sysmem 4000 " +
  "--numamem 0 --fbmem 4000 --zcmem 32 --regmem 0").split(" ");

async function run(argv: string[], env: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`${argv.join(" ")} failed: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

function sign(x: number, digits = 0): string {
  return `${x >= 0 ? "+" : ""}${x.toFixed(digits)}`;
}

async function main(): Promise<number> {
  // Kernel start-ups vary by tens of ms on a loaded machine: many rounds.
  const rounds = Number(Deno.args[0] ?? 31);
  const probe = await new Deno.Command(PYTHON, {
    args: ["-c", "import jupyter_client, ipykernel"],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => undefined);
  if (!probe?.success) {
    console.log(`kernel start-up: skipped (${PYTHON} lacks jupyter_client or ipykernel)`);
    return 0;
  }
  const tmp = await Deno.makeTempDir({ prefix: "lj-bench-" });
  try {
    const env: Record<string, string> = { ...benchEnv(tmp), PYDEVD_DISABLE_FILE_VALIDATION: "1" };
    await Deno.mkdir(env.HOME, { recursive: true });
    await run([
      Deno.execPath(),
      "run",
      "-A",
      join(ROOT, "mod.ts"),
      "install",
      "-q",
      "--python",
      PYTHON,
      "--name",
      "Legate_SM_GPU",
      ...SEED_FLAGS,
    ], env);
    const times: Record<string, number[]> = JSON.parse(
      await run([
        PYTHON,
        join(ROOT, "bench", "kernel_start.py"),
        String(rounds),
        "legate_sm_gpu",
        "python3",
      ], env),
    );
    const ours = median(times.legate_sm_gpu);
    const stock = median(times.python3);
    const range = (t: number[]) => `${Math.min(...t).toFixed(0)}-${Math.max(...t).toFixed(0)}`;
    const versions = await run([
      PYTHON,
      "-c",
      "import jupyter_client, ipykernel; print(jupyter_client.__version__, ipykernel.__version__)",
    ], env);
    const [client, kernel] = versions.trim().split(" ");
    console.log(
      `kernel start-up to the first kernel_info_reply (jupyter_client ${client}, ipykernel ` +
        `${kernel}), ${rounds} rounds, median ms (min-max):`,
    );
    console.log(
      `  Legate kernel (legate-jupyter install)  ${ours.toFixed(0).padStart(5)}  (${
        range(times.legate_sm_gpu)
      })`,
    );
    console.log(
      `  stock python3 kernel                    ${stock.toFixed(0).padStart(5)}  (${
        range(times.python3)
      })`,
    );
    // Each round started both kernels back to back: the median of the rounds' differences
    // is less sensitive to the machine's drift than the difference of the medians.
    const diffs = times.legate_sm_gpu.map((t, i) => t - times.python3[i]).sort((a, b) => a - b);
    const paired = median(diffs);
    const q = (f: number) => diffs[Math.round((diffs.length - 1) * f)];
    console.log(
      `  difference: ${sign(ours - stock)} ms (${sign((ours / stock - 1) * 100, 1)}%); ` +
        `median of the rounds' differences ${sign(paired)} ms ` +
        `(${sign((paired / stock) * 100, 1)}%, middle half ${sign(q(0.25))} to ${
          sign(q(0.75))
        } ms); target: at most 5%`,
    );
    return 0;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());
