/**
 * Jupyter configuration this tool adds to the servers it starts: today one file, for classic
 * Notebook only, `kernels/jupyter_notebook_config.py`, which makes Notebook 6 on
 * jupyter_client 8 manage kernels with its async kernel manager (with the default one, every
 * notebook's kernel waits kernel_info_timeout, 60 s, before it connects; the file says why).
 * The file decides inside Jupyter's own Python, which knows both versions, so this tool needs
 * no version probe before the start. It is written into the state directory, once, and named
 * first in `JUPYTER_CONFIG_PATH`.
 * @module
 */

import notebookConfig from "../../kernels/jupyter_notebook_config.py" with { type: "text" };
import type { JupyterApp } from "./argv.ts";
import { join } from "../util/path.ts";
import { ensurePrivateDir, writePrivateFile } from "../os/private.ts";

/** The directory, under the state directory, that holds the configuration. */
export function configDir(stateDir: string): string {
  return join(stateDir, "jupyter-config");
}

/**
 * `JUPYTER_CONFIG_PATH` for `app`, with this tool's directory first and the caller's own
 * entries after it; `{}` for applications that need nothing. `vars` is the environment
 * Jupyter would otherwise get.
 */
export function configEnv(
  app: JupyterApp,
  stateDir: string,
  vars: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  if (app !== "notebook") return {};
  const inherited = vars.JUPYTER_CONFIG_PATH;
  return {
    JUPYTER_CONFIG_PATH: inherited ? `${configDir(stateDir)}:${inherited}` : configDir(stateDir),
  };
}

/**
 * Writes the configuration `app` needs into `stateDir` unless it is there already with this
 * content (one small read on every start after the first).
 */
export async function ensureConfig(app: JupyterApp, stateDir: string): Promise<void> {
  if (app !== "notebook") return;
  const dir = configDir(stateDir);
  const path = join(dir, "jupyter_notebook_config.py");
  const current = await Deno.readTextFile(path).catch(() => undefined);
  if (current === notebookConfig) return;
  await ensurePrivateDir(dir);
  // Atomically, so that a server starting at the same moment never reads half a file.
  await writePrivateFile(path, notebookConfig);
}
