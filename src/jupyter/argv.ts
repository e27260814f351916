/**
 * The command line for each Jupyter application. Everything here is pure: which executable
 * and subcommand run, and the options that make the server's port and URL certain.
 * @module
 */

import { basename } from "../util/path.ts";

/** The Jupyter applications `notebook` and `lab` start. */
export type JupyterApp = "notebook" | "lab" | "server";

/** A located Jupyter: the program to run and the words before our options. */
export interface JupyterCommand {
  /** Absolute path of the program. */
  readonly program: string;
  /** `["notebook"]` for the `jupyter` dispatcher; `[]` for `jupyter-notebook` itself. */
  readonly prefix: readonly string[];
  /** The application it runs. */
  readonly app: JupyterApp;
}

/**
 * How to run `app` with the program at `path`: the `jupyter` dispatcher gets the subcommand;
 * `jupyter-notebook`, `jupyter-lab` and `jupyter-server` run directly (and a
 * `jupyter-server` runs a bare server whatever command asked for it).
 */
export function jupyterCommand(path: string, app: JupyterApp): JupyterCommand {
  const base = basename(path);
  if (/^jupyter(\.exe)?$/.test(base)) return { program: path, prefix: [app], app };
  const m = /^jupyter-(notebook|lab|server)$/.exec(base);
  return { program: path, prefix: [], app: m ? m[1] as JupyterApp : app };
}

/** What {@link jupyterArgs} needs. */
export interface ServerOptions {
  readonly port: number;
  readonly ip: string;
  readonly notebookDir: string;
  /** Kernel to make the server's default. */
  readonly kernel?: string;
  /** Extra arguments after `--`, passed last so that they can override ours. */
  readonly extra?: readonly string[];
}

/**
 * Arguments for the server. `--port-retries=0` keeps Jupyter on the port we verified (it
 * would otherwise drift to another one and the printed tunnel would point at nothing). The
 * token is not here: it travels in `JUPYTER_TOKEN`, out of sight of `ps`. `--notebook-dir`
 * is an alias in notebook 6 (NotebookApp.notebook_dir) and in jupyter_server 1.x/2.x
 * (ServerApp.root_dir), so notebook 7 and Lab take it too.
 */
export function jupyterArgs(cmd: JupyterCommand, o: ServerOptions): string[] {
  const args = [
    ...cmd.prefix,
    "--no-browser",
    `--port=${o.port}`,
    "--port-retries=0",
    `--ip=${o.ip}`,
    `--notebook-dir=${o.notebookDir}`,
  ];
  // MappingKernelManager is the class in notebook 6 and jupyter_server alike (a subclass of
  // MultiKernelManager, whose default_kernel_name trait it sets).
  if (o.kernel) args.push(`--MappingKernelManager.default_kernel_name=${o.kernel}`);
  return [...args, ...(o.extra ?? [])];
}

/** The environment additions for the server: the token (never on the command line). */
export function jupyterEnv(token: string): Record<string, string> {
  return { JUPYTER_TOKEN: token };
}

/** A human name for the application, for messages. */
export function appTitle(app: JupyterApp): string {
  return app === "lab" ? "JupyterLab" : app === "server" ? "Jupyter Server" : "Jupyter Notebook";
}
