/**
 * Finding the Jupyter to run: `--jupyter PATH`, else beside the Python of a Legate kernel
 * (kernels this tool installs record it as `metadata.legate_jupyter.python`), else on PATH.
 * The file-system edge of the area; what was searched is kept for the error message.
 * @module
 */

import { dirname, join } from "../util/path.ts";
import { isExecutable } from "../util/which.ts";
import { type KernelEntry, listKernels } from "../kernelspec/store.ts";
import { type JupyterApp, type JupyterCommand, jupyterCommand } from "./argv.ts";

// PATH separates directories with a colon on every system this program runs on.
const delimiter = ":";

/** The outcome of {@link findJupyter}: a command, or the places searched. */
export interface FoundJupyter {
  readonly command?: JupyterCommand;
  /** Human descriptions of each place looked at, in order. */
  readonly searched: string[];
  /** Set when `--jupyter` named something unusable. */
  readonly explicitProblem?: string;
}

/** The names to look for in a directory, best first. */
export function candidateNames(app: JupyterApp): string[] {
  return [`jupyter-${app}`, "jupyter"];
}

function inDir(dir: string, app: JupyterApp): JupyterCommand | undefined {
  for (const name of candidateNames(app)) {
    const path = join(dir, name);
    if (isExecutable(path)) return jupyterCommand(path, app);
  }
  return undefined;
}

/** The Python interpreter a Legate kernel installed by this tool runs. */
export function legatePython(k: KernelEntry): string | undefined {
  const lj = k.spec?.metadata?.legate_jupyter as Record<string, unknown> | undefined;
  const py = lj?.python;
  return typeof py === "string" && py.startsWith("/") ? py : undefined;
}

/** Where to look, with what to say about each place. */
export interface FindOptions {
  readonly app: JupyterApp;
  /** `--jupyter PATH`: a Jupyter program or a directory holding one. */
  readonly explicit?: string;
  /** Kernel search dirs (Jupyter's precedence order). */
  readonly kernelDirs: readonly string[];
  /** The kernel asked for with `--kernel`: its Python is tried first. */
  readonly kernel?: string;
  /** `$PATH`. */
  readonly path: string;
}

/** Finds Jupyter; see the module doc for the order. */
export async function findJupyter(o: FindOptions): Promise<FoundJupyter> {
  const searched: string[] = [];
  if (o.explicit !== undefined) {
    let info: Deno.FileInfo | undefined;
    try {
      info = await Deno.stat(o.explicit);
    } catch {
      return { searched, explicitProblem: `--jupyter ${o.explicit}: no such file or directory` };
    }
    if (info.isDirectory) {
      const cmd = inDir(o.explicit, o.app);
      if (cmd) return { command: cmd, searched };
      return {
        searched,
        explicitProblem: `--jupyter ${o.explicit}: the directory holds no executable ${
          candidateNames(o.app).join(" or ")
        }`,
      };
    }
    if (!(isExecutable(o.explicit))) {
      return { searched, explicitProblem: `--jupyter ${o.explicit}: not an executable file` };
    }
    return { command: jupyterCommand(o.explicit, o.app), searched };
  }
  const kernels = listKernels(o.kernelDirs).filter((k) => legatePython(k));
  const wanted = o.kernel?.toLowerCase();
  kernels.sort((a, b) => Number(b.name === wanted) - Number(a.name === wanted));
  const seen = new Set<string>();
  for (const k of kernels) {
    const dir = dirname(legatePython(k)!);
    if (seen.has(dir)) continue;
    seen.add(dir);
    searched.push(`in ${dir} (beside the Python of kernel '${k.name}')`);
    const cmd = inDir(dir, o.app);
    if (cmd) return { command: cmd, searched };
  }
  if (kernels.length === 0) {
    searched.push("beside a Legate kernel's Python (no Legate kernel is installed)");
  }
  const pathDirs = o.path.split(delimiter).filter(Boolean);
  searched.push(`on PATH (${pathDirs.join(delimiter) || "empty"})`);
  for (const name of candidateNames(o.app)) {
    for (const dir of pathDirs) {
      const path = join(dir, name);
      if (isExecutable(path)) return { command: jupyterCommand(path, o.app), searched };
    }
  }
  return { searched };
}
