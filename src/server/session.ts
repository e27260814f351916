/**
 * Phase 2 of a server's run: the private state it writes into — its id, the state directory,
 * Jupyter's log, the token, Jupyter's environment and runtime directory.
 * @module
 */

import { join } from "../util/path.ts";
import type { JupyterApp } from "../jupyter/argv.ts";
import type { ServerOutput } from "./plan.ts";
import { ensurePrivateDir } from "../os/private.ts";
import * as argvMod from "../jupyter/argv.ts";
import * as jconfig from "../jupyter/config.ts";
import * as connect from "../jupyter/connect.ts";
import * as paths from "../kernelspec/paths.ts";
import * as state from "../state/servers.ts";

/** The state this run owns: its id, entry and log, the token, Jupyter's environment. */
export interface Session {
  readonly dir: string;
  readonly id: string;
  readonly logPath: string;
  readonly runtimeDir: string;
  readonly token: string;
  readonly env: Record<string, string>;
}

/**
 * Phase 2: the private state this run writes into. Jupyter writes the token into files in its
 * runtime directory (`nbserver-PID.json`, `*-open.html`) with modes of its own choosing, so
 * that directory must be private: ours but open to others is tightened to 0700; someone
 * else's is replaced by a private one under the state dir.
 */
export async function openSession(
  out: Pick<ServerOutput, "note">,
  app: JupyterApp,
): Promise<Session> {
  const dir = await state.ensureStateDir(state.currentStateDir());
  const id = state.newServerId();
  const token = connect.generateToken();
  const env: Record<string, string> = { ...Deno.env.toObject(), ...argvMod.jupyterEnv(token) };
  // Configuration this tool adds (Notebook 6 on jupyter_client 8: see jupyter/config.ts).
  await jconfig.ensureConfig(app, dir);
  Object.assign(env, jconfig.configEnv(app, dir, env));
  let runtimeDir = paths.jupyterRuntimeDir(paths.currentPathEnv());
  const problem = await runtimeDirProblem(runtimeDir);
  if (problem) {
    const own = join(dir, "runtime");
    await ensurePrivateDir(own);
    out.note(`Jupyter's runtime directory ${runtimeDir} ${problem}: using ${own} instead.`);
    runtimeDir = own;
    env.JUPYTER_RUNTIME_DIR = own;
  }
  return { dir, id, logPath: join(state.logsDir(dir), `${id}.log`), runtimeDir, token, env };
}

/**
 * Makes Jupyter's runtime directory private (0700) when it is this user's; says why it cannot
 * be used otherwise.
 */
async function runtimeDirProblem(path: string): Promise<string | undefined> {
  try {
    await Deno.mkdir(path, { recursive: true, mode: 0o700 });
    const info = await Deno.stat(path);
    if (!info.isDirectory) return "is not a directory";
    if (info.uid !== null && info.uid !== Deno.uid()) return `belongs to uid ${info.uid}`;
    if (info.mode !== null && (info.mode & 0o077) !== 0) await Deno.chmod(path, 0o700);
    return undefined;
  } catch (e) {
    return `cannot be made private (${(e as Error).message})`;
  }
}
