/**
 * What a server's run starts from: the request `notebook`/`lab` read from their flags, the
 * voice the run speaks with, and phase 1 of the run, the plan — everything checked and looked
 * up (the notebook directory, the kernel, the Jupyter program, the port, the login node) before
 * anything is started.
 * @module
 */

import { Failure, UsageError } from "../util/errors.ts";
import type { JupyterApp, JupyterCommand } from "../jupyter/argv.ts";
import { batchJobId, batchSubmitHost } from "../scheduler/types.ts";
import * as argvMod from "../jupyter/argv.ts";
import * as find from "../jupyter/find.ts";
import * as ports from "../jupyter/ports.ts";
import * as paths from "../kernelspec/paths.ts";
import * as store from "../kernelspec/store.ts";

/** What the user asked `notebook` or `lab` for (the flags, checked for their form). */
export interface ServerRequest {
  readonly app: "notebook" | "lab";
  /** `--port`, checked to be a port; undefined: a free one is chosen. */
  readonly port: number | undefined;
  /** `--ip`, checked to be an address or host name. */
  readonly ip: string;
  readonly notebookDir: string | undefined;
  /** `--jupyter`: the program, or its directory. */
  readonly jupyter: string | undefined;
  readonly kernel: string | undefined;
  readonly timeoutS: number;
  readonly verbose: boolean;
  readonly loginHost: string | undefined;
  readonly sshUser: string | undefined;
  readonly sshConfig: boolean;
  /** Print the ready event as one JSON line instead of the ready block. */
  readonly json: boolean;
  /** Open a browser here when one is available. */
  readonly open: boolean;
  /** Arguments for Jupyter, after `--`. */
  readonly extra: readonly string[];
  /** How to name this program in the hints printed (`legate-jupyter`, `deno run -A …`). */
  readonly program: string;
}

/** Where the run speaks (the command's `Output`). */
export interface ServerOutput {
  /** A result on stdout (the ready block). */
  print(text: string): void;
  /** A note on stderr, dropped by `--quiet`. */
  note(message: string): void;
  /** A warning on stderr. */
  warn(message: string): void;
  /** A progress line that rewrites itself on a terminal. */
  progress(message: string): void;
  clearProgress(): void;
}

/** What `notebook` resolved from its flags and the node before it starts anything. */
export interface Plan {
  readonly app: "notebook" | "lab";
  readonly port: number | undefined;
  readonly ip: string;
  readonly notebookDir: string;
  readonly kernel: string | undefined;
  readonly jupyter: JupyterCommand;
  readonly extra: readonly string[];
  readonly title: string;
  readonly host: string;
  readonly loginHost: string | undefined;
  readonly jobId: string | undefined;
  readonly sshUser: string | undefined;
  readonly timeoutMs: number;
  readonly verbose: boolean;
}

async function resolveNotebookDir(given: string | undefined): Promise<string> {
  const dir = given ?? Deno.cwd();
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch {
    throw new UsageError(`--notebook-dir ${dir}: no such directory; give an existing directory`);
  }
  if (!info.isDirectory) {
    throw new UsageError(`--notebook-dir ${dir}: not a directory; give an existing directory`);
  }
  return await Deno.realPath(dir);
}

/** Phase 1: everything checked and looked up, nothing started. Throws {@link UsageError}. */
export async function resolvePlan(
  req: ServerRequest,
  out: Pick<ServerOutput, "warn">,
): Promise<Plan> {
  const { app, port, ip } = req;
  const notebookDir = await resolveNotebookDir(req.notebookDir);
  const kernelDirs = paths.kernelSearchDirs(paths.currentPathEnv());
  checkKernel(req, kernelDirs, out);
  const jupyter = await findJupyter(req, kernelDirs);
  checkPort(ip, port);
  const vars = Deno.env.toObject();
  return {
    app,
    port,
    ip,
    notebookDir,
    kernel: req.kernel,
    jupyter,
    extra: req.extra,
    title: argvMod.appTitle(jupyter.app),
    host: Deno.hostname(),
    loginHost: req.loginHost ?? batchSubmitHost(vars),
    jobId: batchJobId(vars),
    sshUser: req.sshUser ?? vars.USER ?? vars.LOGNAME,
    timeoutMs: req.timeoutS * 1000,
    verbose: req.verbose,
  };
}

/** `--kernel`: a name (or a usage error), and a warning when no such kernel is installed. */
function checkKernel(
  req: ServerRequest,
  kernelDirs: readonly string[],
  out: Pick<ServerOutput, "warn">,
): void {
  const kernel = req.kernel;
  if (kernel === undefined) return;
  if (!store.KERNEL_NAME.test(kernel)) {
    throw new UsageError(
      `--kernel '${kernel}' is not a kernel name (letters, digits, '-', '.', '_'); ` +
        `see '${req.program} list'`,
    );
  }
  if (!store.findKernel(kernelDirs, kernel)) {
    out.warn(
      `kernel '${kernel}' is not installed (searched ${kernelDirs.join(", ")}); Jupyter will ` +
        `fall back to its own default. Install it with '${req.program} install --name ${kernel}'`,
    );
  }
}

/** The Jupyter to run: `--jupyter`, else beside the kernel's Python, else on PATH. */
async function findJupyter(
  req: ServerRequest,
  kernelDirs: readonly string[],
): Promise<JupyterCommand> {
  const app: JupyterApp = req.app;
  const found = await find.findJupyter({
    app: req.app,
    explicit: req.jupyter,
    kernelDirs: [...kernelDirs],
    kernel: req.kernel,
    path: Deno.env.get("PATH") ?? "",
  });
  if (found.explicitProblem) {
    throw new UsageError(`${found.explicitProblem}; give the path of jupyter or jupyter-${app}`);
  }
  if (!found.command) {
    throw new Failure(
      `no Jupyter found: looked for ${find.candidateNames(req.app).join(" and ")} ` +
        `${found.searched.join(", then ")}. Install it into the Legate environment ` +
        `(conda install -c conda-forge ${app === "lab" ? "jupyterlab" : "notebook"}, or ` +
        `pip install ${app === "lab" ? "jupyterlab" : "notebook"}) or pass --jupyter PATH`,
    );
  }
  return found.command;
}

/** A `--port` given must be free now. */
function checkPort(ip: string, port: number | undefined): void {
  if (port === undefined) return;
  const problem = ports.portProblem(ip, port);
  if (problem) {
    throw new Failure(
      `${problem}; choose another with --port, or leave --port out and a free one is chosen`,
    );
  }
}
