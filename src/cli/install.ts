/**
 * `legate-jupyter install`: a drop-in for upstream's installer, with its flags, defaults and
 * messages, plus a launch script, `%legate_info` without Legate, and atomic writes. This file
 * declares the flags and prints; the install itself is `src/kernelspec/install.ts`.
 * @module
 */

import type { Command, Context } from "./command.ts";
import { programName } from "./program.ts";
import type { FlagSpec, Parsed } from "../util/flag_spec.ts";
import { legateFlagSpecs } from "../legate/options.ts";
import { LAUNCHERS, MPI_FLAVORS } from "../legate/launcher.ts";
import { ACTIVATE_MODES } from "../environment/types.ts";
import type { KernelFile } from "../kernelspec/store.ts";
import type { KernelPlan } from "../kernelspec/spec.ts";
import { lazy } from "../util/lazy.ts";

const KERNEL = "Kernel configuration";
const MULTI = "Multi-node configuration";
const ENVIRONMENT = "Environment";
const INFO = "Informational";

/** The default kernel name, as upstream. */
export const DEFAULT_NAME = "Legate_SM_GPU";

const flags: FlagSpec[] = [
  {
    name: "user",
    type: "boolean",
    group: KERNEL,
    help: "Install the kernel in the user's Jupyter data directory (the default)",
  },
  {
    name: "name",
    type: "string",
    metavar: "SPEC_NAME",
    default: DEFAULT_NAME,
    group: KERNEL,
    help: "A name for the kernel spec (letters, digits, '-', '.', '_')",
    complete: "kernel",
  },
  {
    name: "display-name",
    type: "string",
    metavar: "TEXT",
    group: KERNEL,
    help: "A display name for the kernel (if not provided, --name is used)",
  },
  {
    name: "prefix",
    type: "string",
    metavar: "DIR",
    group: KERNEL,
    help: "Install the kernel into DIR/share/jupyter/kernels",
    complete: "dir",
  },
  {
    name: "sys-prefix",
    type: "boolean",
    group: KERNEL,
    help: "Install the kernel into the chosen Python's environment (sys.prefix)",
  },
  {
    name: "python",
    type: "string",
    metavar: "PATH",
    group: KERNEL,
    help: "Python the kernel runs (default: $CONDA_PREFIX/bin/python, $VIRTUAL_ENV/bin/python, " +
      "or python3 on PATH)",
    complete: "file",
  },
  {
    name: "env",
    type: "string",
    multiple: true,
    metavar: "KEY=VALUE",
    group: KERNEL,
    help: "Set an environment variable in the kernel (repeatable)",
  },
  {
    name: "module",
    type: "string",
    multiple: true,
    metavar: "NAME",
    group: KERNEL,
    help: "Load an environment module before the kernel starts (repeatable, in order)",
  },
  {
    name: "conda-env",
    type: "string",
    metavar: "NAME|PREFIX",
    group: ENVIRONMENT,
    help: "Activate this conda (mamba, micromamba) environment at kernel start; a name is " +
      "found now and stored as its prefix",
    complete: "dir",
  },
  {
    name: "venv",
    type: "string",
    metavar: "DIR",
    group: ENVIRONMENT,
    help: "Activate this virtual environment (python -m venv) at kernel start",
    complete: "dir",
  },
  {
    name: "pixi",
    type: "string",
    metavar: "DIR",
    group: ENVIRONMENT,
    help: "Activate an environment of the pixi workspace in DIR (or of the manifest DIR names)",
    complete: "dir",
  },
  {
    name: "pixi-env",
    type: "string",
    metavar: "NAME",
    group: ENVIRONMENT,
    help: "The pixi environment to activate (default: default)",
  },
  {
    name: "source",
    type: "string",
    metavar: "FILE",
    group: ENVIRONMENT,
    help: "Source this shell script (with bash) at kernel start, after the modules",
    complete: "file",
  },
  {
    name: "activate",
    type: "string",
    choices: ACTIVATE_MODES,
    default: "auto",
    metavar: "MODE",
    group: ENVIRONMENT,
    help: "How the environment is activated: live at every start, captured now and replayed, " +
      "or off; auto: live when the Python is in a conda, pixi or virtual environment",
  },
  {
    name: "replace",
    type: "boolean",
    group: KERNEL,
    help: "Replace a kernel of the same name instead of refusing",
  },
  {
    name: "auto",
    type: "boolean",
    group: KERNEL,
    help: "Size unset Legate options from what this node and job provide (see 'detect')",
  },
  {
    name: "dry-run",
    type: "boolean",
    group: KERNEL,
    help: "Print what would be written, and write nothing",
  },
  { name: "json", type: "boolean", group: KERNEL, help: "Print the result as JSON" },
  {
    name: "nodes",
    type: "int",
    min: 1,
    default: 1,
    group: MULTI,
    help: "Number of nodes to use",
  },
  {
    name: "ranks-per-node",
    type: "int",
    min: 1,
    default: 1,
    group: MULTI,
    help: "Number of ranks (processes running copies of the program) to launch per node",
  },
  {
    name: "launcher",
    type: "string",
    choices: LAUNCHERS,
    default: "none",
    metavar: "LAUNCHER",
    group: MULTI,
    help: 'Launcher program to use (set to "none" for local runs)',
  },
  {
    name: "launcher-extra",
    type: "string",
    multiple: true,
    metavar: "ARGS",
    group: MULTI,
    help:
      "Additional arguments for the launcher (repeatable; a quoted string is split as by a shell)",
  },
  {
    name: "mpi",
    type: "string",
    choices: MPI_FLAVORS,
    metavar: "KIND",
    group: MULTI,
    help: "The MPI behind mpirun (default: asked from 'mpirun --version')",
  },
  ...legateFlagSpecs(),
  {
    name: "verbose",
    short: "v",
    type: "count",
    group: INFO,
    help: "Display verbose output; -vv also prints kernel.json",
  },
  {
    name: "color",
    type: "boolean",
    group: INFO,
    help: "Accepted for compatibility; colour is used on terminals unless NO_COLOR is set",
  },
];

/** The install command. */
export const command: Command = {
  name: "install",
  summary: "Install a Jupyter kernel configured for Legate",
  usage: "install [options]",
  description: "Writes a kernel into Jupyter's kernel directory: kernel.json with LEGATE_CONFIG " +
    "and upstream's metadata, a launch script that loads modules and sets the environment, and " +
    "a helper that gives the kernel a %legate_info magic. Running legate-jupyter with flags " +
    "and no command does the same, as upstream's legate-jupyter does.",
  flags,
  examples: [
    "legate-jupyter --name Legate_SM_GPU --cpus 4 --gpus 1 --sysmem 4000 --fbmem 4000",
    "legate-jupyter install --name legate-2n --launcher srun --nodes 2 --gpus 4",
    "legate-jupyter install --name cuda12 --module cuda/12.4 --env OMP_NUM_THREADS=4",
    "legate-jupyter install --python ~/envs/legate/bin/python --replace --dry-run",
  ],
  run,
};

async function run(parsed: Parsed, ctx: Context): Promise<number> {
  const { out } = ctx;
  const install = await lazy<typeof import("../kernelspec/install.ts")>("kernelspec/install.ts");
  const { kernelJson, kernelJsonText, HELPER_FILE, SCRIPT_FILE } = await lazy<
    typeof import("../kernelspec/spec.ts")
  >("kernelspec/spec.ts");
  const program = programName(ctx.self);
  const { plan, kernelsDir, dirName, warnings, activation } = await install.prepareInstall(
    parsed,
    ctx.args,
    (m) => out.note(m),
    program,
  );
  const spec = kernelJson(plan);
  const specText = kernelJsonText(spec);
  const files = install.kernelFiles(plan, specText);
  const result = (installed: boolean) => ({
    name: plan.name,
    display_name: plan.displayName,
    resource_dir: plan.kernelDir,
    installed,
    files: files.map((f) => f.name),
    kernel_json: spec,
    launch_script: files.find((f) => f.name === SCRIPT_FILE)!.content,
    environment: plan.environment ?? null,
    warnings,
  });
  const verbose = parsed.values.verbose as number;
  const asJson = parsed.values.json as boolean;
  const dryRun = parsed.values["dry-run"] as boolean;

  // Warnings go with a result, so that a failure (even one lost in a race) is one line.
  const warn = () => {
    if (!asJson) { for (const w of warnings) out.warn(w); }
  };
  if (dryRun) {
    warn();
    if (asJson) {
      out.print(JSON.stringify(result(false), null, 2));
      return 0;
    }
    printDryRun(out, plan, files, HELPER_FILE, activation.dryRun);
    return 0;
  }

  // Upstream's print(f"...\n") ends each block with a blank line; write() keeps it exact.
  if (verbose >= 1 && !asJson) out.write(`Wrote kernel spec file ${plan.name}/kernel.json\n\n`);
  if (verbose >= 2 && !asJson) out.write(`\n${specText.trimEnd()}\n\n`);
  install.writeKernel(plan, kernelsDir, dirName, files, parsed.values.replace as boolean, program);
  warn();
  if (asJson) {
    out.print(JSON.stringify(result(true), null, 2));
    return 0;
  }
  out.print(`Jupyter kernel spec ${plan.name} (${plan.displayName}) has been installed`);
  out.info(`  in ${plan.kernelDir}`);
  if (activation.summary) out.info(activation.summary);
  return 0;
}

/** `--dry-run`: where the kernel would go, and its files (the helper and logos by size). */
function printDryRun(
  out: Context["out"],
  plan: KernelPlan,
  files: readonly KernelFile[],
  helperFile: string,
  environment: readonly string[],
): void {
  out.print(`Would install kernel spec ${plan.name} (${plan.displayName}) in ${plan.kernelDir}`);
  for (const line of environment) out.print(line);
  for (const f of files) {
    if (typeof f.content !== "string" || f.name.endsWith(".svg")) {
      out.print(`\n--- ${f.name} (${f.content.length} bytes, mode ${f.mode.toString(8)})`);
    } else {
      out.print(`\n--- ${f.name} (mode ${f.mode.toString(8)})`);
      if (f.name !== helperFile) {
        out.write(f.content.endsWith("\n") ? f.content : f.content + "\n");
      }
    }
  }
  out.print("\nNothing was written (--dry-run).");
}
