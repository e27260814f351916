/**
 * The thin edge between detection and the machine. Detection reads files, lists
 * directories, runs `nvidia-smi` and asks NVML only through a {@link Probe}, so tests point
 * it at a fixture tree (`--root DIR`), a fake `nvidia-smi` on PATH and a fake NVML library.
 * @module
 */

import { NVML_LIBRARY, type NvmlOutcome, queryNvml } from "./nvml.ts";
import { which } from "../util/which.ts";

/** A finished command. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How detection sees the machine. Paths are absolute as on the machine (`/proc/meminfo`). */
export interface Probe {
  /** The directory that stands for `/` (shown in problems and sources when not `/`). */
  readonly root: string;
  /** An environment variable of the process being sized. */
  env(name: string): string | undefined;
  /** A file's text; throws the `Deno.errors` error of the failed read. */
  readFile(path: string): string;
  /** Names in a directory; throws like {@link readFile}. */
  readDir(path: string): string[];
  /** Whether a path exists (false when it cannot be checked). */
  exists(path: string): boolean;
  /** Runs a program found on PATH; throws `Deno.errors.NotFound` when there is none. */
  run(program: string, args: readonly string[]): Promise<CommandResult>;
  /** Asks NVML for the GPUs (the dlopen hook). */
  nvml(): Promise<NvmlOutcome>;
}

/** Options for {@link systemProbe}. */
export interface ProbeOptions {
  /** The directory that stands for `/` (default `/`). */
  readonly root?: string;
  /** The environment (default: this process's). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The NVML library to load: a name for the dynamic loader or a path. Default: the
   * `LEGATE_JUPYTER_NVML` variable, else `libnvidia-ml.so.1`. `none` skips NVML.
   */
  readonly nvmlLibrary?: string;
  /** How long `nvidia-smi` may take before it is given up on (default 15 s). */
  readonly commandTimeoutMs?: number;
}

/** The environment variable that overrides the NVML library (`none` skips NVML). */
export const NVML_ENV = "LEGATE_JUPYTER_NVML";

function within(root: string, path: string): string {
  if (root === "/" || root === "") return path;
  return root.replace(/\/+$/, "") + (path.startsWith("/") ? path : `/${path}`);
}

/**
 * What a machine whose NVML can answer has (the driver's control device, WSL's GPU device, or
 * the driver's `/proc` tree): without any of them `nvmlInit` fails, and a `dlopen` that searches
 * the loader's path for nothing is most of `detect`'s time on a node without GPUs.
 */
const DRIVER_SIGNS = ["/dev/nvidiactl", "/dev/dxg", "/proc/driver/nvidia"];

function present(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The real machine (or a tree standing for it under `root`), read with Deno's APIs. */
export function systemProbe(options: ProbeOptions = {}): Probe {
  const root = options.root ?? "/";
  const envMap = options.env;
  const env = (name: string) => envMap ? envMap[name] : Deno.env.get(name);
  const timeout = options.commandTimeoutMs ?? 15000;
  return {
    root,
    env,
    readFile: (path) => Deno.readTextFileSync(within(root, path)),
    readDir: (path) => [...Deno.readDirSync(within(root, path))].map((e) => e.name),
    exists: (path) => present(within(root, path)),
    async run(program, args) {
      const path = env("PATH");
      // Spawning a missing program costs ~5 ms before it fails; a PATH walk costs microseconds.
      const found = which(program, path ?? "");
      if (found === undefined) throw new Deno.errors.NotFound(`${program} not found on PATH`);
      const out = await new Deno.Command(found, {
        args: [...args],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        // nvidia-smi can hang on a wedged driver; a detection that never ends is worse.
        signal: AbortSignal.timeout(timeout),
        env: path === undefined ? undefined : { PATH: path },
      }).output();
      const dec = new TextDecoder();
      return {
        code: out.signal ? 128 : out.code,
        stdout: dec.decode(out.stdout),
        stderr: dec.decode(out.stderr),
      };
    },
    nvml() {
      const library = options.nvmlLibrary ?? env(NVML_ENV) ?? "";
      if (library === "none") {
        return Promise.resolve({ ok: false, stage: "load", message: `skipped (${NVML_ENV}=none)` });
      }
      if (library === "" && !DRIVER_SIGNS.some(present)) {
        return Promise.resolve({
          ok: false,
          stage: "load",
          message: `no NVIDIA driver here: none of ${DRIVER_SIGNS.join(", ")} exists`,
        });
      }
      return Promise.resolve(queryNvml(library === "" ? NVML_LIBRARY : library));
    },
  };
}
