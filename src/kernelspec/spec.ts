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
}

/** The kernel's own command: launcher, bind script, Python, helper. */
export function kernelCommand(plan: KernelPlan): string[] {
  const launcher = launcherCommand(plan.multiNode, { mpi: plan.mpi, forward: plan.forward });
  const bind = plan.bindScript
    ? [plan.bindScript, "--launcher", bindLauncherArg(plan.multiNode), "--"]
    : [];
  return [...launcher, ...bind, plan.python, join(plan.kernelDir, HELPER_FILE)];
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
  const modules = plan.modules.map((m) => `load_module ${shQuote(m)}`).join("\n");
  const exports = plan.env.map(([k, v]) => `export ${k}=${shQuote(v)}`).join("\n");
  const exec = `exec ${shJoin(kernelCommand(plan))} -f "$connection_file"`;
  return template
    .replace("@VERSION@", () => plan.version)
    .replace("@MODULES@", () => modules ? `${modules}\n` : "")
    .replace("@EXPORTS@", () => exports ? `${exports}\n` : "")
    .replace("@EXEC@", () => exec)
    .replace(/\n{3,}/g, "\n\n");
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
