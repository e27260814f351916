/**
 * Shared set-up for the tests that start real Jupyter (notebook_e2e, servers, browser,
 * kernel websocket).
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./helpers.ts";
import { HAVE_LAB } from "./support/stack.ts";

/** The Legate kernel each test home gets. */
export const KERNEL = "legate-e2e";
/** Its display name (what Jupyter's pages show). */
export const DISPLAY = "Legate E2E";

/** An isolated home with a Legate kernel installed by `legate-jupyter install`. */
export async function setupHome(
  dir: string,
  installArgs: string[] = ["--name", KERNEL, "--display-name", DISPLAY],
): Promise<{ env: Record<string, string>; nbDir: string }> {
  const env = isolatedEnv(dir, { XDG_STATE_HOME: join(dir, "state"), USER: "tester" });
  const nbDir = join(dir, "notebooks");
  await Deno.mkdir(nbDir, { recursive: true });
  await Deno.mkdir(env.HOME, { recursive: true });
  const r = await runCli(["install", "--python", "/usr/bin/python3", ...installArgs], { env });
  assert.equal(r.code, 0, r.stderr);
  return { env, nbDir };
}

/**
 * A bin dir with stand-ins `jupyter-server` and `jupyter-lab` that run the system's
 * jupyter_server (Debian ships no `jupyter-server` script, and Debian 12 no JupyterLab).
 */
export async function serverBin(dir: string): Promise<string> {
  const bin = join(dir, "bin");
  await Deno.mkdir(bin, { recursive: true });
  for (const name of ["jupyter-server", "jupyter-lab"]) {
    await Deno.writeTextFile(
      join(bin, name),
      '#!/bin/sh\nexec /usr/bin/python3 -m jupyter_server "$@"\n',
      { mode: 0o755 },
    );
  }
  return bin;
}

/**
 * The environment in which `lab` finds JupyterLab: the real one where the system has it
 * (Debian 13), else the stand-in `jupyter-lab` of {@link serverBin} first on PATH.
 */
export async function labEnv(
  dir: string,
  env: Record<string, string>,
): Promise<Record<string, string>> {
  if (HAVE_LAB) return env;
  return { ...env, PATH: `${await serverBin(dir)}:${env.PATH}` };
}

/** How the tests name the `lab` they run. */
export const LAB_WHAT = HAVE_LAB
  ? "lab (real JupyterLab)"
  : "lab (stand-in jupyter-lab running jupyter_server: this Debian has no JupyterLab)";
