/**
 * Test helpers: temporary directories, an isolated environment, and one way to run the CLI
 * as a subprocess for end-to-end tests.
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
/** The program's entry point. */
export const MOD = join(ROOT, "mod.ts");

/**
 * How the program names itself in the commands it prints when {@link runCli} runs it: as the
 * user typed it, `deno run -A /path/mod.ts` (with `deno` bare when the isolated PATH finds it).
 */
export const PROGRAM: string = (() => {
  const exe = Deno.execPath();
  const real = (p: string) => {
    try {
      return Deno.realPathSync(p);
    } catch {
      return undefined;
    }
  };
  const first = ["/usr/local/bin", "/usr/bin", "/bin"].map((d) => join(d, "deno")).find(real);
  const onPath = first !== undefined && real(first) === real(exe);
  const q = (s: string) =>
    /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'"'"'`)}'`;
  return [onPath ? "deno" : exe, "run", "-A", MOD].map(q).join(" ");
})();

/** `s` with the characters a regular expression gives meaning to escaped. */
export function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

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

/**
 * `legate-jupyter ARGS` as a command with a clean environment, stdout and stderr piped: what
 * {@link spawnCli} starts, and, with `stdin` piped, the hidden commands (`agent`, `relay`)
 * that tests speak connect's protocol with.
 */
export function cliCommand(
  args: string[],
  options: RunOptions,
  stdin: "null" | "piped",
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MOD, ...args],
    env: options.env,
    clearEnv: true,
    cwd: options.cwd,
    stdin,
    stdout: "piped",
    stderr: "piped",
  });
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

/** A long-running CLI child whose output can be awaited line by line. */
export interface SpawnedCli extends AsyncDisposable {
  readonly child: Deno.ChildProcess;
  /** Everything written to stdout so far. */
  stdout(): string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the first stdout line matching `re`; rejects if the child exits first or `ms` pass. */
  waitForLine(re: RegExp, ms?: number): Promise<string>;
  /**
   * Resolves once `re` matches all that was written to stdout, or all to stderr (a progress
   * note, a warning); rejects if the child exits first or `ms` pass.
   */
  waitForOutput(re: RegExp, ms?: number): Promise<void>;
  /** Resolves with the exit status and all output once the child has exited. */
  finished(): Promise<RunResult>;
}

/**
 * Starts `legate-jupyter ARGS` and returns at once. Disposing it sends SIGTERM, then SIGKILL
 * if the child has not exited within 20 s, so that no test leaves a process behind.
 */
export function spawnCli(args: string[], options: RunOptions): SpawnedCli {
  const child = cliCommand(args, options, "null").spawn();
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((f) => f());
  const pump = async (stream: ReadableStream<Uint8Array>, add: (s: string) => void) => {
    const dec = new TextDecoder();
    for await (const chunk of stream) {
      add(dec.decode(chunk, { stream: true }));
      notify();
    }
  };
  const pumps = Promise.all([
    pump(child.stdout, (s) => (out += s)),
    pump(child.stderr, (s) => (err += s)),
  ]);
  let exited = false;
  const status = child.status.then(async (s) => {
    await pumps.catch(() => {});
    exited = true;
    notify();
    return s;
  });
  /** Resolves with what `found` finds in the output so far, checked at each new write. */
  const waitFor = <T>(found: () => T | undefined, what: string, ms: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const value = found();
        if (value !== undefined) done(() => resolve(value));
        else if (exited) done(() => reject(new Error(`exited before ${what}; stderr:\n${err}`)));
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no ${what} after ${ms} ms; stderr:\n${err}`))),
        ms,
      );
      const done = (f: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      check();
    });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForLine(re: RegExp, ms = 60_000): Promise<string> {
      return waitFor(() => out.split("\n").find((l) => re.test(l)), `line matching ${re}`, ms);
    },
    async waitForOutput(re: RegExp, ms = 60_000): Promise<void> {
      await waitFor(() => re.test(out) || re.test(err) || undefined, `${re}`, ms);
    },
    async finished(): Promise<RunResult> {
      const s = await status;
      return { code: s.code, stdout: out, stderr: err };
    },
    async [Symbol.asyncDispose]() {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch {
          // Already gone.
        }
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch {
            // Already gone.
          }
        }, 20_000);
        await status;
        clearTimeout(timer);
      }
      await status;
    },
  };
}
