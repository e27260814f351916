/**
 * Helpers for the detect tests: fixture trees, the fake NVML library built with the system C
 * compiler, and running `detect` end to end against a fixture.
 * @module
 */

import { join } from "node:path";
import { isolatedEnv, ROOT, run, runCli, type RunResult } from "./helpers.ts";
import { parseEnvFile } from "../src/detect/parse.ts";

/** Where the detect fixtures live. */
export const FIXTURES = join(ROOT, "tests/fixtures/detect");

/** A fixture's directory (it stands for `/`). */
export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** A fixture's `env` file as a map (empty when there is none). */
export function fixtureEnv(name: string): Record<string, string> {
  try {
    return parseEnvFile(Deno.readTextFileSync(join(fixture(name), "env")));
  } catch {
    return {};
  }
}

/** A JSON file of a fixture. */
export function fixtureJson(name: string, file: string): unknown {
  return JSON.parse(Deno.readTextFileSync(join(fixture(name), file)));
}

/**
 * Compiles the fake `libnvidia-ml.so.1` into `dir` with `cc -shared -fPIC` and returns its
 * path (GPUs cannot exist on a test machine; the FFI path still runs for real).
 */
export async function buildFakeNvml(dir: string): Promise<string> {
  const lib = join(dir, "libnvidia-ml.so.1");
  const result = await run(
    ["cc", "-shared", "-fPIC", "-O1", "-o", lib, join(FIXTURES, "fake_nvml.c")],
    { env: { PATH: "/usr/local/bin:/usr/bin:/bin" } },
  );
  if (result.code !== 0) throw new Error(`cc failed: ${result.stderr}`);
  return lib;
}

/** Options for {@link detectFixture}. */
export interface FixtureRun {
  /** A scratch directory (HOME and friends go there). */
  readonly tmp: string;
  /** The fake NVML library, used when the fixture has an `nvml.tsv`. */
  readonly nvml?: string;
  readonly args?: string[];
  readonly env?: Record<string, string>;
}

/**
 * Runs `legate-jupyter detect --root FIXTURE` with the fixture's env file, its `bin/` alone
 * on PATH (so a real nvidia-smi never answers) and NVML either the fake library described by
 * its `nvml.tsv` or switched off.
 */
export async function detectFixture(name: string, options: FixtureRun): Promise<RunResult> {
  const dir = fixture(name);
  const hasNvml = (() => {
    try {
      return Deno.statSync(join(dir, "nvml.tsv")).isFile;
    } catch {
      return false;
    }
  })();
  if (hasNvml && !options.nvml) throw new Error(`fixture ${name} needs the fake NVML library`);
  const env = isolatedEnv(options.tmp, {
    ...fixtureEnv(name),
    PATH: join(dir, "bin"),
    LEGATE_JUPYTER_NVML: hasNvml ? options.nvml! : "none",
    FAKE_NVML_CONFIG: join(dir, "nvml.tsv"),
    ...options.env,
  });
  return await runCli(["detect", "--root", dir, ...(options.args ?? ["--json"])], { env });
}
