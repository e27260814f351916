/**
 * `legate-jupyter install`: a drop-in for upstream's installer, with its flags, defaults and
 * messages, plus a launch script, `%legate_info` without Legate, and atomic writes.
 * @module
 */

import { join, resolve } from "../util/path.ts";
import launchTemplate from "../../kernels/launch.sh" with { type: "text" };
import activateTemplate from "../../kernels/activate.sh" with { type: "text" };
import helperTemplate from "../../kernels/legate_kernel.py" with { type: "text" };
import logo32 from "../../kernels/logo-32x32.png" with { type: "bytes" };
import logo64 from "../../kernels/logo-64x64.png" with { type: "bytes" };
import logoSvg from "../../kernels/logo-svg.svg" with { type: "text" };
import { type Command, type Context, programName } from "./command.ts";
import { Failure, UsageError } from "../util/errors.ts";
import type { FlagSpec, Parsed } from "./flags.ts";
import { infoRows, legateFlagSpecs, legateValuesFrom } from "../legate/options.ts";
import { NOT_SET } from "../legate/info.ts";
import {
  forwardedVars,
  type Launcher,
  LAUNCHERS,
  MPI_FLAVORS,
  type MpiFlavor,
  mpiFlavorFromVersion,
  type MultiNode,
  validateMultiNode,
} from "../legate/launcher.ts";
import {
  currentPathEnv,
  kernelSearchDirs,
  type PathEnv,
  prefixKernelsDir,
  userKernelsDir,
} from "../kernelspec/paths.ts";
import {
  defaultPython,
  inspectPython,
  type PythonInfo,
  pythonPrefix,
} from "../kernelspec/python.ts";
import {
  ENV_NAME,
  HELPER_FILE,
  helperScript,
  kernelJson,
  kernelJsonText,
  type KernelPlan,
  launchScript,
  SCRIPT_FILE,
  SPEC_KEY,
} from "../kernelspec/spec.ts";
import {
  findBrokenKernelDirs,
  findKernel,
  KernelExists,
  type KernelFile,
  kernelNameProblem,
  shownName,
  writeKernelDir,
} from "../kernelspec/store.ts";
import { fsCause } from "../util/fs_errors.ts";
import { searchDirs } from "./list.ts";
import { shJoin, shQuote, shSplit } from "../util/shell.ts";
import { prepareActivation, type PreparedActivation } from "../environment/activate.ts";
import { type EnvRequest, requestedEnvironment } from "../environment/choose.ts";
import { ACTIVATE_MODES, type ActivateMode, type EnvChoice } from "../environment/types.ts";
import { absolute, isExecutable, which } from "../util/which.ts";
import { VERSION } from "../version.ts";

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

/**
 * Why the kernel cannot be written where it would go, with remedies that work as printed.
 * A kernel Jupyter finds first gets upstream's exact words (`jupyter kernelspec uninstall`
 * removes just that one); a directory without a kernel.json, which Jupyter skips and so cannot
 * uninstall, gets this tool's `remove`, which also takes such directories; one that neither
 * finds (outside their search path, or hidden behind another of the same name) gets `rm -r`.
 */
function kernelExists(name: string, resourceDir: string, program: string): Failure {
  const key = name.toLowerCase();
  const dirs = searchDirs();
  const hasSpec = isFile(join(resourceDir, "kernel.json"));
  const first = hasSpec
    ? findKernel(dirs, key)?.resourceDir === resourceDir
    : findKernel(dirs, key) === undefined && findBrokenKernelDirs(dirs, key).includes(resourceDir);
  if (hasSpec && first) {
    return new Failure(
      `ERROR: kernel spec '${name}' already exists. Remove it by running: ` +
        `'jupyter kernelspec uninstall ${key}', or choose a new kernel name, or pass --replace.`,
      { raw: true },
    );
  }
  const what = hasSpec
    ? `kernel spec '${name}' already exists in ${resourceDir}`
    : `${resourceDir} already exists without a kernel.json (Jupyter skips it)`;
  const removal = first ? `${program} remove ${shQuote(key)}` : `rm -r -- ${shQuote(resourceDir)}`;
  return new Failure(
    `ERROR: ${what}. Remove it by running: '${removal}', or choose a new kernel name, or pass ` +
      "--replace.",
    { raw: true },
  );
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

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

/** The resolved inputs of an install, before anything is written. */
interface Prepared {
  plan: KernelPlan;
  kernelsDir: string;
  dirName: string;
  python: PythonInfo;
  warnings: string[];
  activation: PreparedActivation;
}

function parseEnv(items: readonly string[]): [string, string][] {
  return items.map((item) => {
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    if (eq < 0 || !ENV_NAME.test(key)) {
      throw new UsageError(`--env takes KEY=VALUE with a variable name as KEY, not '${item}'`);
    }
    if (key === "LEGATE_CONFIG" || key === SPEC_KEY) {
      throw new UsageError(
        `--env cannot set ${key}: it is written from the Legate flags (see --help)`,
      );
    }
    return [key, item.slice(eq + 1)];
  });
}

function parseExtra(items: readonly string[]): string[] {
  return items.flatMap((item) => {
    try {
      return shSplit(item);
    } catch (e) {
      throw new UsageError(`--launcher-extra '${item}': ${(e as Error).message}`);
    }
  });
}

/** The kernel's Python and what chose it: --python, else the environment's, else the default. */
function choosePython(
  value: string | undefined,
  env: PathEnv,
  environment?: EnvChoice,
): { path: string; source: string } {
  if (value !== undefined) {
    const path = value.includes("/") ? absolute(value) : which(value, env.vars.PATH ?? "");
    if (!path || !isExecutable(path)) {
      throw new Failure(
        `--python ${value}: no such executable; give the path of the Python the kernel should run`,
      );
    }
    return { path, source: `--python ${value}` };
  }
  if (environment) {
    const path = join(environment.prefix, "bin", "python");
    if (!isExecutable(path)) {
      throw new Failure(
        `${environment.chosenBy}: ${environment.prefix} has no bin/python; install Python and ` +
          "ipykernel in it, or pass --python",
      );
    }
    return { path, source: environment.chosenBy };
  }
  const choice = defaultPython(env.vars);
  if (!choice) {
    throw new Failure(
      "no Python found ($CONDA_PREFIX and $VIRTUAL_ENV are unset and python3 is not on PATH); " +
        "pass --python /path/to/python",
    );
  }
  return choice;
}

function envRequest(v: Parsed["values"]): EnvRequest {
  return {
    condaEnv: v["conda-env"] as string | undefined,
    venv: v.venv as string | undefined,
    pixi: v.pixi as string | undefined,
    pixiEnv: v["pixi-env"] as string | undefined,
    activate: v.activate as ActivateMode,
  };
}

/** The command that installs this kernel again as now, replacing it (for the kernel's messages). */
function refreshCommand(ctx: Context): string {
  const args = ctx.args.filter((a) => !["--dry-run", "--replace", "--json"].includes(a));
  return `${programName(ctx.self)} install --replace ${shJoin(args)}`.trimEnd();
}

async function detectMpi(): Promise<MpiFlavor> {
  const mpirun = which("mpirun");
  if (!mpirun) {
    throw new Failure(
      "--launcher mpirun: mpirun is not on PATH; load your MPI module first, or pass --mpi openmpi|mpich",
    );
  }
  const out = await new Deno.Command(mpirun, {
    args: ["--version"],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  const flavor = mpiFlavorFromVersion(text);
  if (!flavor) {
    throw new Failure(
      `cannot tell which MPI '${mpirun} --version' belongs to; pass --mpi openmpi or --mpi mpich`,
    );
  }
  return flavor;
}

function installTarget(parsed: Parsed, env: PathEnv, python: string): string {
  const v = parsed.values;
  const chosen = ["prefix", "sys-prefix"].filter((n) => parsed.given.has(n));
  if (chosen.length > 1 || (chosen.length === 1 && parsed.given.has("user"))) {
    throw new UsageError("choose one of --user, --prefix DIR and --sys-prefix");
  }
  if (parsed.given.has("prefix")) {
    if (!v.prefix) throw new UsageError("--prefix needs a directory");
    return prefixKernelsDir(resolve(v.prefix as string));
  }
  if (v["sys-prefix"]) return prefixKernelsDir(pythonPrefix(python));
  return userKernelsDir(env);
}

async function prepare(parsed: Parsed, ctx: Context): Promise<Prepared> {
  const v = parsed.values;
  const env = currentPathEnv();
  const name = v.name as string;
  const problem = kernelNameProblem(name, true);
  if (problem) throw new UsageError(`invalid kernel name '${shownName(name)}': ${problem}`);
  const multiNode: MultiNode = {
    nodes: v.nodes as number,
    ranks_per_node: v["ranks-per-node"] as number,
    launcher: v.launcher as Launcher,
    launcher_extra: parseExtra(v["launcher-extra"] as string[]),
  };
  validateMultiNode(multiNode);
  const envPairs = parseEnv(v.env as string[]);
  const modules = v.module as string[];
  if (modules.some((m) => m.trim() === "")) throw new UsageError("--module needs a module name");

  const request = envRequest(v);
  const environment = await requestedEnvironment(request, env.vars, env.home);
  const chosen = choosePython(v.python as string | undefined, env, environment);
  const pythonPath = chosen.path;
  const python = inspectPython(pythonPath, env.home);
  const kernelsDir = installTarget(parsed, env, pythonPath);
  const dirName = name.toLowerCase();
  const searchDirs = kernelSearchDirs(env, python.prefix);

  const existing = name.toLowerCase() === "python3"
    ? { resourceDir: "(Jupyter's built-in python3 kernel)" }
    : findKernel([kernelsDir, ...searchDirs], name);
  if (existing && !v.replace) {
    throw name.toLowerCase() === "python3"
      ? new Failure(
        `ERROR: kernel spec '${name}' already exists: it is Jupyter's own Python kernel, ` +
          "which cannot be replaced. Choose a new kernel name.",
        { raw: true },
      )
      : kernelExists(name, existing.resourceDir, programName(ctx.self));
  }

  const warnings: string[] = [];
  if (!python.hasIpykernel) {
    warnings.push(
      `ipykernel is not installed for ${pythonPath}; the kernel will not start until it is ` +
        `(${pythonPath} -m pip install ipykernel, or conda install ipykernel)`,
    );
  }
  if (!python.hasLegate) {
    warnings.push(
      `Legate is not installed for ${pythonPath}; the kernel starts and %legate_info works, ` +
        "but 'import legate' will fail until it is (or pass --python with Legate's Python)",
    );
  }
  if (!searchDirs.includes(kernelsDir)) {
    warnings.push(
      `${kernelsDir} is not on Jupyter's kernel search path, so Jupyter may not find the kernel; ` +
        `add JUPYTER_PATH=${join(kernelsDir, "..")} to Jupyter's environment`,
    );
  } else if (existing) {
    // Jupyter uses the first kernel of that name on its search path, which may come before
    // the target directory even when the target holds one too (the one --replace replaces).
    const winner = findKernel(searchDirs, name);
    const target = join(kernelsDir, dirName);
    const hiddenBy = searchDirs.indexOf(kernelsDir);
    const first = winner ? searchDirs.findIndex((d) => winner.resourceDir.startsWith(d + "/")) : -1;
    if (winner && first >= 0 && first < hiddenBy && winner.resourceDir !== target) {
      warnings.push(
        `${winner.resourceDir} comes first on Jupyter's search path and will still be used; ` +
          "remove it to use the new kernel",
      );
    }
  }

  const mpi = multiNode.launcher === "mpirun"
    ? (v.mpi as MpiFlavor | undefined) ?? await detectMpi()
    : undefined;
  const plan: KernelPlan = {
    name,
    displayName: (v["display-name"] as string | undefined) ?? name,
    python: pythonPath,
    bindScript: python.bindScript,
    kernelDir: join(kernelsDir, dirName),
    legate: v.auto ? await autoValues(parsed, ctx) : legateValuesFrom(v),
    multiNode,
    mpi,
    forward: multiNode.launcher === "mpirun"
      ? forwardedVars(Object.keys(env.vars), [
        "LEGATE_CONFIG",
        "PYTHONDONTWRITEBYTECODE",
        SPEC_KEY,
        ...envPairs.map(([k]) => k),
      ])
      : undefined,
    env: envPairs,
    modules,
    argv: ctx.args,
    version: VERSION,
  };
  const activation = await activate(plan, request, environment, chosen.source, parsed, ctx);
  warnings.push(...activation.warnings);
  return {
    plan: { ...plan, launch: activation.parts, environment: activation.record },
    kernelsDir,
    dirName,
    python,
    warnings,
    activation,
  };
}

/** The environment's activation for `plan` (src/environment/ plans it; a capture renders the script). */
async function activate(
  plan: KernelPlan,
  request: EnvRequest,
  environment: EnvChoice | undefined,
  pythonSource: string,
  parsed: Parsed,
  ctx: Context,
): Promise<PreparedActivation> {
  const env = currentPathEnv();
  return await prepareActivation({
    request,
    choice: environment,
    python: plan.python,
    pythonSource,
    source: parsed.values.source as string | undefined,
    vars: env.vars,
    refresh: refreshCommand(ctx),
    template: activateTemplate,
    render: (launch) => launchScript({ ...plan, env: [], launch }, launchTemplate),
    cwd: env.home,
  });
}

/** Legate values with detection filling what was not given explicitly (explicit flags win). */
async function autoValues(parsed: Parsed, ctx: Context) {
  const { detect } = await import("../detect/detect.ts");
  const { systemProbe } = await import("../detect/probe.ts");
  const { autoSize } = await import("../detect/size.ts");
  const { values: auto, reasons } = autoSize(await detect(systemProbe()));
  const values = legateValuesFrom(parsed.values);
  for (const [name, value] of Object.entries(auto)) {
    const given = parsed.given.has(name);
    if (!given) values[name] = value;
    if (parsed.values["dry-run"] && !parsed.values.json) {
      ctx.out.note(
        `auto: --${name} ${given ? parsed.values[name] : value}  (${
          given ? "given on the command line" : reasons[name] ?? ""
        })`,
      );
    }
  }
  return values;
}

function kernelFiles(plan: KernelPlan, specText: string): KernelFile[] {
  return [
    { name: "kernel.json", content: specText, mode: 0o644 },
    { name: SCRIPT_FILE, content: launchScript(plan, launchTemplate), mode: 0o755 },
    { name: HELPER_FILE, content: helperScript(helperTemplate, infoRows(), NOT_SET), mode: 0o644 },
    { name: "logo-32x32.png", content: logo32, mode: 0o644 },
    { name: "logo-64x64.png", content: logo64, mode: 0o644 },
    { name: "logo-svg.svg", content: logoSvg, mode: 0o644 },
  ];
}

async function run(parsed: Parsed, ctx: Context): Promise<number> {
  const { out } = ctx;
  const { plan, kernelsDir, dirName, warnings, activation } = await prepare(parsed, ctx);
  const spec = kernelJson(plan);
  const specText = kernelJsonText(spec);
  const files = kernelFiles(plan, specText);
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
      out.print(JSON.stringify(result(plan, spec, false, warnings, files), null, 2));
      return 0;
    }
    out.print(`Would install kernel spec ${plan.name} (${plan.displayName}) in ${plan.kernelDir}`);
    for (const line of activation.dryRun) out.print(line);
    for (const f of files) {
      if (typeof f.content !== "string" || f.name.endsWith(".svg")) {
        out.print(`\n--- ${f.name} (${f.content.length} bytes, mode ${f.mode.toString(8)})`);
      } else {
        out.print(`\n--- ${f.name} (mode ${f.mode.toString(8)})`);
        if (f.name !== HELPER_FILE) {
          out.write(f.content.endsWith("\n") ? f.content : f.content + "\n");
        }
      }
    }
    out.print("\nNothing was written (--dry-run).");
    return 0;
  }

  // Upstream's print(f"...\n") ends each block with a blank line; write() keeps it exact.
  if (verbose >= 1 && !asJson) out.write(`Wrote kernel spec file ${plan.name}/kernel.json\n\n`);
  if (verbose >= 2 && !asJson) out.write(`\n${specText.trimEnd()}\n\n`);
  try {
    writeKernelDir(kernelsDir, dirName, files, parsed.values.replace as boolean);
  } catch (e) {
    if (e instanceof KernelExists) {
      throw kernelExists(plan.name, join(kernelsDir, dirName), programName(ctx.self));
    }
    const why = fsCause(e);
    if (why) {
      throw new Failure(
        `cannot write ${plan.kernelDir}: ${why.cause}; nothing was changed there. ${
          why.code === "ENOSPC" || why.code === "EDQUOT"
            ? `Free some space (df -h ${kernelsDir}) or install`
            : "Install with --user (the default) or"
        } with --prefix DIR`,
      );
    }
    throw e;
  }
  warn();
  if (asJson) {
    out.print(JSON.stringify(result(plan, spec, true, warnings, files), null, 2));
    return 0;
  }
  out.print(`Jupyter kernel spec ${plan.name} (${plan.displayName}) has been installed`);
  out.info(`  in ${plan.kernelDir}`);
  if (activation.summary) out.info(activation.summary);
  return 0;
}

function result(
  plan: KernelPlan,
  spec: unknown,
  installed: boolean,
  warnings: string[],
  files: KernelFile[],
) {
  return {
    name: plan.name,
    display_name: plan.displayName,
    resource_dir: plan.kernelDir,
    installed,
    files: files.map((f) => f.name),
    kernel_json: spec,
    launch_script: files.find((f) => f.name === SCRIPT_FILE)!.content,
    environment: plan.environment ?? null,
    warnings,
  };
}
