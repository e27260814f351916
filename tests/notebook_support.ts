/**
 * Shared set-up for the tests that start real Jupyter (notebook_e2e, servers, browser).
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli } from "./helpers.ts";

/** The Legate kernel each test home gets. */
export const KERNEL = "legate-e2e";
/** Its display name (what Jupyter's pages show). */
export const DISPLAY = "Legate E2E";

/** An isolated home with a Legate kernel installed by `legate-jupyter install`. */
export async function setupHome(
  dir: string,
): Promise<{ env: Record<string, string>; nbDir: string }> {
  const env = isolatedEnv(dir, { XDG_STATE_HOME: join(dir, "state"), USER: "tester" });
  const nbDir = join(dir, "notebooks");
  await Deno.mkdir(nbDir, { recursive: true });
  await Deno.mkdir(env.HOME, { recursive: true });
  const r = await runCli(
    ["install", "--python", "/usr/bin/python3", "--name", KERNEL, "--display-name", DISPLAY],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  return { env, nbDir };
}
