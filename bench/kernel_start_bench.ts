/**
 * What a kernel this tool installs adds to a kernel's start-up: time from jupyter_client's
 * start_kernel() to the first kernel_info_reply (what a notebook waits for before its kernel
 * shows as idle), against the stock `python3` kernel of the same Python, in alternating rounds
 * of one process (bench/kernel_start.py):
 *
 * - a Legate kernel installed with the seed's flags (the launch script's `sh` and the helper
 *   that registers `%legate_info`); target: at most 5% over the stock kernel;
 * - kernels in a hand-made conda-like prefix (tests/support/environments.ts: six activate.d
 *   scripts modelled on Legate's and conda-forge's, env_vars.d, state), activated live and
 *   captured. Targets: live adds at most the scripts' own run time plus 10 ms; captured at
 *   most 5 ms.
 *
 * A kernel's start varies by tens of ms on a loaded machine, more than the targets: the
 * activation's own cost is also timed alone, many times, as the launch script up to its exec
 * (the same script with the Python replaced by `true`), against the environment's kernel with
 * activation off, and the scripts' own time as bash sourcing them.
 *
 *   deno run -A bench/kernel_start_bench.ts [ROUNDS] [LAUNCHES]   (default 31, 201)
 * @module
 */

import { join } from "node:path";
import { condaLike } from "../tests/support/environments.ts";
import { benchEnv, median } from "./support.ts";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
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

async function install(args: string[], env: Record<string, string>): Promise<void> {
  await run([Deno.execPath(), "run", "-A", join(ROOT, "mod.ts"), "install", "-q", ...args], env);
}

/**
 * The kernels: the seed's Legate kernel, the environment's live and captured ones, and (for
 * the launch-script timings) the same with `true` as their Python, and activation off.
 */
async function installAll(prefix: string, env: Record<string, string>): Promise<void> {
  await install(["--python", PYTHON, "--name", "Legate_SM_GPU", ...SEED_FLAGS], env);
  await install(["--conda-env", prefix, "--name", "env_live"], env);
  await install(["--conda-env", prefix, "--name", "env_captured", "--activate", "captured"], env);
  await Deno.symlink("/bin/true", join(prefix, "bin", "true"));
  for (const mode of ["off", "live", "captured"]) {
    const py = ["--python", join(prefix, "bin", "true"), "--activate", mode];
    await install(["--conda-env", prefix, "--name", `launch_${mode}`, ...py], env);
  }
}

/** Paired comparison of `ours` against `peer` (same rounds): medians and the rounds' differences. */
function compare(label: string, ours: number[], peer: number[], peerLabel: string): string[] {
  const a = median(ours);
  const b = median(peer);
  const diffs = ours.map((t, i) => t - peer[i]).sort((x, y) => x - y);
  const q = (f: number) => diffs[Math.round((diffs.length - 1) * f)];
  const range = (t: number[]) => `${Math.min(...t).toFixed(0)}-${Math.max(...t).toFixed(0)}`;
  return [
    `  ${label.padEnd(40)} ${a.toFixed(0).padStart(5)}  (${range(ours)})`,
    `    vs ${peerLabel} ${b.toFixed(0)}: ${sign(a - b)} ms (${sign((a / b - 1) * 100, 1)}%); ` +
    `median of the rounds' differences ${sign(median(diffs))} ms (middle half ${sign(q(0.25))} ` +
    `to ${sign(q(0.75))} ms)`,
  ];
}

async function kernelRounds(rounds: number, env: Record<string, string>): Promise<void> {
  const names = ["legate_sm_gpu", "python3", "env_live", "env_captured"];
  const times: Record<string, number[]> = JSON.parse(
    await run([PYTHON, join(ROOT, "bench", "kernel_start.py"), String(rounds), ...names], env),
  );
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
  const stock = times.python3;
  for (
    const [name, label] of [
      ["legate_sm_gpu", "Legate kernel (seed's flags)"],
      ["env_live", "kernel in the conda prefix, live"],
      ["env_captured", "kernel in the conda prefix, captured"],
    ]
  ) {
    for (const line of compare(label, times[name], stock, "stock python3")) console.log(line);
  }
}

/** Wall time of one run of `argv`, in ms. */
async function timed(argv: string[], env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  }).output();
  if (!out.success) throw new Error(`${argv.join(" ")} failed`);
  return performance.now() - t0;
}

/** The activation alone: each launch script up to its exec, and bash sourcing the scripts. */
async function launchTimes(n: number, prefix: string, env: Record<string, string>) {
  const kernels = join(env.JUPYTER_DATA_DIR, "kernels");
  const script = (mode: string) => ["/bin/sh", join(kernels, `launch_${mode}`, "launch.sh"), "c"];
  const dir = join(prefix, "etc", "conda", "activate.d");
  const sourceAll = `for s in ${JSON.stringify(dir)}/*.sh; do . "$s" >/dev/null 2>&1 || :; done; :`;
  const bashEnv = { ...env, CONDA_PREFIX: prefix };
  const runs: Record<string, [string[], Record<string, string>]> = {
    off: [script("off"), env],
    live: [script("live"), env],
    captured: [script("captured"), env],
    bash: [["/bin/bash", "--noprofile", "--norc", "-c", ":"], bashEnv],
    scripts: [["/bin/bash", "--noprofile", "--norc", "-c", sourceAll], bashEnv],
  };
  const t: Record<string, number[]> = Object.fromEntries(Object.keys(runs).map((k) => [k, []]));
  for (let i = 0; i < n + 5; i++) {
    for (const [k, [argv, e]] of Object.entries(runs)) {
      const ms = await timed(argv, e);
      if (i >= 5) t[k].push(ms);
    }
  }
  const d = (a: string, b: string) => median(t[a].map((x, i) => x - t[b][i]));
  const own = d("scripts", "bash");
  console.log(
    `launch script up to its exec, ${n} runs each, median of paired differences (ms): ` +
      `activation off ${median(t.off).toFixed(1)} ms in all`,
  );
  console.log(
    `  live:     +${d("live", "off").toFixed(1)} ms over off; the scripts' own time ` +
      `${own.toFixed(1)} ms (bash sourcing them, less bash's start ${
        median(t.bash).toFixed(1)
      } ms); ` +
      `live adds ${sign(d("live", "off") - own, 1)} ms beyond them (target: at most +10)`,
  );
  console.log(
    `  captured: ${sign(d("captured", "off"), 1)} ms over off (target: at most +5)`,
  );
}

async function main(): Promise<number> {
  const rounds = Number(Deno.args[0] ?? 31);
  const launches = Number(Deno.args[1] ?? 201);
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
    const { prefix } = await condaLike(join(tmp, "envs", "legate"));
    await installAll(prefix, env);
    await kernelRounds(rounds, env);
    await launchTimes(launches, prefix, env);
    return 0;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());
