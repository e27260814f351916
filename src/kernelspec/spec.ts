/**
 * Pure composition of a Legate kernel: plan → kernel.json and launch script. No file,
 * process or network access here; `install.ts` gathers the facts and writes.
 * @module
 */

import { join } from "../util/path.ts";
import { legateConfigString, type LegateValues, metadataSection } from "../legate/options.ts";
import {
  bindLauncherArg,
  launcherCommand,
  type MpiFlavor,
  type MultiNode,
} from "../legate/launcher.ts";
import { shJoin, shQuote } from "../util/shell.ts";
import { SPEC_KEY } from "../legate/info.ts";
import type { KernelJson } from "./store.ts";

/** The kernel-side helper's file name in the kernel directory. */
export const HELPER_FILE = "legate_kernel.py";
/** The launch script's file name in the kernel directory. */
export const SCRIPT_FILE = "launch.sh";

/** Everything that decides what is written for one kernel. */
export interface KernelPlan {
  /** The name as typed (kept for `__LEGATE_JUPYTER_KERNEL_SPEC__`, as upstream does). */
  readonly name: string;
  readonly displayName: string;
  /** Absolute path of the interpreter the kernel runs. */
  readonly python: string;
  /** Legate's bind script, when Legate is installed for that Python. */
  readonly bindScript?: string;
  /** The kernel directory it will have once installed (absolute). */
  readonly kernelDir: string;
  readonly legate: LegateValues;
  readonly multiNode: MultiNode;
  readonly mpi?: MpiFlavor;
  /** Variables mpirun forwards to the ranks. */
  readonly forward?: readonly string[];
  /** `--env KEY=VALUE`, in the order given. */
  readonly env: readonly (readonly [string, string])[];
  /** `--module NAME`, in the order given. */
  readonly modules: readonly string[];
  /** The command-line arguments, verbatim (upstream's `metadata.legate.argv`). */
  readonly argv: readonly string[];
  readonly version: string;
  /** The launch script's pieces that source a site script and activate an environment. */
  readonly launch?: LaunchParts;
  /** What `metadata.legate_jupyter.environment` records (absent: none is activated). */
  readonly environment?: Record<string, unknown>;
}

/**
 * Pieces of the launch script that activate the kernel's environment (written by
 * `src/environment/`): the top, which replaces the argument check; the block around the
 * modules, which a start resumed after an activation script's `exit` skips; the scripts.
 */
export interface LaunchParts {
  readonly start: string;
  readonly beforeModules: string;
  readonly afterModules: string;
  readonly scripts: string;
}

/**
 * Whether each rank runs the launch script again before Legate: mpirun passes on only the
 * variables it is told to, so under it every rank activates the environment itself.
 */
export function ranksActivate(plan: KernelPlan): boolean {
  return plan.launch !== undefined && plan.multiNode.launcher === "mpirun";
}

/** What each rank runs: Legate's bind script, when there is one, then Python and the helper. */
export function rankCommand(plan: KernelPlan): string[] {
  const bind = plan.bindScript
    ? [plan.bindScript, "--launcher", bindLauncherArg(plan.multiNode), "--"]
    : [];
  return [...bind, plan.python, join(plan.kernelDir, HELPER_FILE)];
}

/** The kernel's own command: launcher, bind script, Python, helper. */
export function kernelCommand(plan: KernelPlan): string[] {
  const launcher = launcherCommand(plan.multiNode, { mpi: plan.mpi, forward: plan.forward });
  if (ranksActivate(plan)) {
    return [...launcher, "/bin/sh", join(plan.kernelDir, SCRIPT_FILE), "--rank"];
  }
  return [...launcher, ...rankCommand(plan)];
}

/** kernel.json, compatible with upstream's: same env keys and `metadata.legate` layout. */
export function kernelJson(plan: KernelPlan): KernelJson {
  return {
    argv: ["/bin/sh", join(plan.kernelDir, SCRIPT_FILE), "{connection_file}"],
    display_name: plan.displayName,
    env: {
      LEGATE_CONFIG: legateConfigString(plan.legate),
      PYTHONDONTWRITEBYTECODE: "1",
      [SPEC_KEY]: plan.name,
    },
    interrupt_mode: "signal",
    language: "python",
    metadata: {
      legate: {
        argv: [...plan.argv],
        core: metadataSection(plan.legate, "core"),
        memory: metadataSection(plan.legate, "memory"),
        multi_node: {
          launcher: plan.multiNode.launcher,
          launcher_extra: [...plan.multiNode.launcher_extra],
          nodes: plan.multiNode.nodes,
          ranks_per_node: plan.multiNode.ranks_per_node,
        },
      },
      legate_jupyter: {
        version: plan.version,
        python: plan.python,
        bind_script: plan.bindScript ?? null,
        modules: [...plan.modules],
        env: Object.fromEntries(plan.env),
        command: kernelCommand(plan),
        ...(plan.environment ? { environment: plan.environment } : {}),
      },
    },
  };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** kernel.json text as upstream writes it: keys sorted, two-space indent. */
export function kernelJsonText(spec: KernelJson): string {
  return JSON.stringify(sortKeys(spec), null, 2) + "\n";
}

/**
 * The launch script: modules, then the environment (so that `--env` wins over what a module
 * sets), then `exec` of the kernel. Every value is quoted; the template supplies the logic.
 */
export function launchScript(plan: KernelPlan, template: string): string {
  const modules = plan.modules.map((m) => `load_module ${shQuote(m)}\n`).join("");
  const exports = plan.env.map(([k, v]) => `export ${k}=${shQuote(v)}`).join("\n");
  const parts = plan.launch;
  // Under mpirun each rank comes back here with --rank and goes on to Legate and Python.
  const rank = ranksActivate(plan)
    ? `[ -z "$lj_rank" ] || exec ${shJoin(rankCommand(plan))} -f "$connection_file"\n`
    : "";
  const values: Record<string, string> = {
    START: parts?.start.replace(/\n$/, "") ??
      "connection_file=${1:?usage: launch.sh CONNECTION_FILE}",
    MODULES: parts ? parts.beforeModules + modules + parts.afterModules + parts.scripts : modules,
    EXPORTS: exports ? `${exports}\n` : "",
    EXEC: `${rank}exec ${shJoin(kernelCommand(plan))} -f "$connection_file"`,
  };
  // Blank lines are tidied in the template only: a value keeps every newline it has.
  return template
    .replace("@VERSION@", () => plan.version)
    .replace(/^@([A-Z]+)@\n/gm, (line, k: string) => values[k] === "" ? "" : line)
    .replace(/\n{3,}/g, "\n\n")
    .replace(/@(START|MODULES|EXPORTS|EXEC)@/g, (_, k: string) => values[k]);
}

/** The kernel-side helper with the `%legate_info` rows and wording filled in. */
export function helperScript(
  template: string,
  rows: unknown,
  notSet: string,
): string {
  // JSON string literals are valid Python string literals for this content.
  return template
    .replace("@INFO_ROWS@", () => JSON.stringify(JSON.stringify(rows)))
    .replace("@NOT_SET@", () => JSON.stringify(notSet));
}

/** A valid environment variable name for `--env`. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
