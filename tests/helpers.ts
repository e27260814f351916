/**
 * Test helpers: temporary directories, an isolated environment, and one way to run the CLI
 * as a subprocess for end-to-end tests.
 * @module
 */

import { join } from "node:path";

/** The repository root. */
export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** The program's entry point. */
export const MOD = join(ROOT, "mod.ts");

/** A temporary directory removed when the `await using` scope ends. */
export async function tempDir(prefix = "lj-test-"): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * An isolated environment rooted at `dir`: its own HOME, Jupyter data and runtime dirs, and a
 * PATH of the system directories only (so no developer tool leaks in). Extra entries win.
 */
export function isolatedEnv(
  dir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    HOME: join(dir, "home"),
    JUPYTER_DATA_DIR: join(dir, "data"),
    JUPYTER_RUNTIME_DIR: join(dir, "runtime"),
    JUPYTER_CONFIG_DIR: join(dir, "config"),
    IPYTHONDIR: join(dir, "ipython"),
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    NO_COLOR: "1",
    ...extra,
  };
}

/** What a finished subprocess left behind. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@link runCli}. */
export interface RunOptions {
  /** The full environment (nothing is inherited). */
  env: Record<string, string>;
  cwd?: string;
  stdin?: string;
}

/** Runs `legate-jupyter ARGS` as `deno run -A mod.ts ARGS` with a clean environment. */
export async function runCli(args: string[], options: RunOptions): Promise<RunResult> {
  return await run([Deno.execPath(), "run", "-A", "--quiet", MOD, ...args], options);
}

/** Runs any command with a clean environment and collects its output. */
export async function run(argv: string[], options: RunOptions): Promise<RunResult> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: options.env,
    clearEnv: true,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
