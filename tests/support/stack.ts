/**
 * The Jupyter stack the tests run on, read when a test file loads: the Debian release and the
 * versions of the system Python's Jupyter packages (from their `*.dist-info` / `*.egg-info`
 * directory names, which costs no Python start). The Jupyter-facing tests run on the machine's
 * stack and again on the other Debian release's in a root (tests/stacks/); their names carry
 * {@link onStack} so that each result says which stack it ran on.
 * @module
 */

import { isExecutable } from "../../src/util/which.ts";

/** Where Debian's python3-* packages live. */
const DIST_PACKAGES = "/usr/lib/python3/dist-packages";

/** Versions of the Jupyter packages found (absent: not installed). */
export interface Stack {
  /** The Debian major release ("12", "13"), or the content of /etc/debian_version. */
  readonly debian: string;
  readonly notebook?: string;
  readonly jupyter_server?: string;
  readonly jupyterlab?: string;
  readonly jupyter_client?: string;
  readonly ipykernel?: string;
  readonly jupyter_kernel_test?: string;
}

/** The package names as the labels print them. */
const LABELS = {
  notebook: "notebook",
  jupyter_server: "jupyter_server",
  jupyterlab: "JupyterLab",
  jupyter_client: "jupyter_client",
  ipykernel: "ipykernel",
  jupyter_kernel_test: "jupyter_kernel_test",
} as const;

/** A package of {@link Stack} whose version a label can show. */
export type Package = keyof typeof LABELS;

function readStack(root = ""): Stack {
  let debian = "unknown";
  try {
    const v = Deno.readTextFileSync(`${root}/etc/debian_version`).trim();
    debian = /^\d+/.exec(v)?.[0] ?? v;
  } catch {
    // Not Debian: the label says so.
  }
  const versions: Record<string, string> = {};
  try {
    for (const e of Deno.readDirSync(`${root}${DIST_PACKAGES}`)) {
      const m = /^([A-Za-z0-9_.]+)-(\d[^-]*?)\.(dist|egg)-info$/.exec(e.name);
      if (m && m[1] in LABELS) versions[m[1]] = m[2];
    }
  } catch {
    // No system Python packages: every version stays unknown.
  }
  return { debian, ...versions };
}

/** The stack of this machine (or of the root the tests were started in). */
export const STACK: Stack = readStack();

/**
 * A suffix for a test name: ` [Debian 13: notebook 6.4.13, jupyter_client 8.6.3]`, naming the
 * packages given (those not installed are left out).
 */
export function onStack(...packages: Package[]): string {
  const parts = packages.filter((p) => STACK[p]).map((p) => `${LABELS[p]} ${STACK[p]}`);
  return ` [Debian ${STACK.debian}${parts.length ? ": " + parts.join(", ") : ""}]`;
}

/** Real JupyterLab (Debian 13's `jupyterlab`); Debian 12 packages none. */
export const HAVE_LAB = isExecutable("/usr/bin/jupyter-lab") && STACK.jupyterlab !== undefined;
/** Classic Jupyter Notebook (`jupyter-notebook`). */
export const HAVE_NOTEBOOK = isExecutable("/usr/bin/jupyter-notebook");
