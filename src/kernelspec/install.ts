/**
 * Installing a Legate kernel: `install`'s flags checked and resolved into a {@link KernelPlan}
 * (the Python and what it has, the target directory, the launcher, the Legate values, sized by
 * `detect` with `--auto`), the kernel's files (kernel.json, the launch script, the
 * `%legate_info` helper, logos), and the one atomic write that puts them in place. Upstream's
 * messages are kept word for word where upstream has one.
 * @module
 */

import { join, resolve } from "../util/path.ts";
import launchTemplate from "../../kernels/launch.sh" with { type: "text" };
import activateTemplate from "../../kernels/activate.sh" with { type: "text" };
import envVarsProgram from "../../kernels/env_vars.awk" with { type: "text" };
import helperTemplate from "../../kernels/legate_kernel.py" with { type: "text" };
import logo32 from "../../kernels/logo-32x32.png" with { type: "bytes" };
import logo64 from "../../kernels/logo-64x64.png" with { type: "bytes" };
import logoSvg from "../../kernels/logo-svg.svg" with { type: "text" };
import { Failure, UsageError } from "../util/errors.ts";
import type { Parsed } from "../util/flag_spec.ts";
import { infoRows, legateValuesFrom } from "../legate/options.ts";
import { NOT_SET, SPEC_KEY } from "../legate/info.ts";
import {
  forwardedVars,
  type Launcher,
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
} from "./paths.ts";
import {
  currentKernelDirs,
  defaultPython,
  inspectPython,
  type PythonInfo,
  pythonPrefix,
} from "./python.ts";
import {
  ENV_NAME,
  HELPER_FILE,
  helperScript,
  type KernelPlan,
  launchScript,
  SCRIPT_FILE,
} from "./spec.ts";
import {
  findBrokenKernelDirs,
  findKernel,
  KernelExists,
  type KernelFile,
  kernelNameProblem,
  shownName,
  writeKernelDir,
} from "./store.ts";
import { fsCause } from "../util/fs_errors.ts";
import { shJoin, shQuote, shSplit } from "../util/shell.ts";
import { prepareActivation, type PreparedActivation } from "../environment/activate.ts";
import { type EnvRequest, requestedEnvironment } from "../environment/choose.ts";
import type { ActivateMode, EnvChoice } from "../environment/types.ts";
import { absolute, isExecutable, which } from "../util/which.ts";
import { VERSION } from "../version.ts";
import { lazy } from "../util/lazy.ts";

/**
 * Why the kernel cannot be written where it would go, with remedies that work as printed.
 * A kernel Jupyter finds first gets upstream's exact words (`jupyter kernelspec uninstall`
 * removes just that one); a directory without a kernel.json, which Jupyter skips and so cannot
 * uninstall, gets this tool's `remove` (`program`), which also takes such directories; one
 * that neither finds (outside their search path, or hidden behind another of the same name)
 * gets `rm -r`. Jupyter's own python3 can only be avoided.
 */
export function kernelExists(name: string, resourceDir: string, program: string): Failure {
  const key = name.toLowerCase();
  if (key === "python3") {
    return new Failure(
      `ERROR: kernel spec '${name}' already exists: it is Jupyter's own Python kernel, ` +
        "which cannot be replaced. Choose a new kernel name.",
      { raw: true },
    );
  }
  const dirs = currentKernelDirs();
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

/** The resolved inputs of an install, before anything is written. */
export interface Prepared {
  plan: KernelPlan;
  kernelsDir: string;
  dirName: string;
  python: PythonInfo;
  warnings: string[];
  /** What the install says about the environment the kernel activates. */
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
function refreshCommand(program: string, args: readonly string[]): string {
  const kept = args.filter((a) => !["--dry-run", "--replace", "--json"].includes(a));
  return `${program} install --replace ${shJoin(kept)}`.trimEnd();
}

/** The environment's activation for `plan` (src/environment/ plans it; a capture renders the script). */
async function activate(
  plan: KernelPlan,
  request: EnvRequest,
  environment: EnvChoice | undefined,
  pythonSource: string,
  parsed: Parsed,
  refresh: string,
): Promise<PreparedActivation> {
  const env = currentPathEnv();
  return await prepareActivation({
    request,
    choice: environment,
    python: plan.python,
    pythonSource,
    source: parsed.values.source as string | undefined,
    vars: env.vars,
    refresh,
    templates: { script: activateTemplate, envVars: envVarsProgram },
    render: (launch) => launchScript({ ...plan, env: [], launch }, launchTemplate),
    cwd: env.home,
  });
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

/** The kernel-side flags, checked: the name, the launcher, `--env` and `--module`. */
function readFlags(v: Readonly<Record<string, unknown>>) {
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
  return { name, multiNode, envPairs, modules };
}

/** What the user should know before the kernel is written: what the Python lacks, and where
 * Jupyter will not find it (or find another first). */
function installWarnings(
  python: PythonInfo,
  kernelsDir: string,
  searchDirs: readonly string[],
  existing: unknown,
  name: string,
): string[] {
  const pythonPath = python.path;
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
    const target = join(kernelsDir, name.toLowerCase());
    const hiddenBy = searchDirs.indexOf(kernelsDir);
    const first = winner ? searchDirs.findIndex((d) => winner.resourceDir.startsWith(d + "/")) : -1;
    if (winner && first >= 0 && first < hiddenBy && winner.resourceDir !== target) {
      warnings.push(
        `${winner.resourceDir} comes first on Jupyter's search path and will still be used; ` +
          "remove it to use the new kernel",
      );
    }
  }
  return warnings;
}

/**
 * Resolves `install`'s flags into what will be written; throws a usage error or upstream's
 * "already exists" before anything is. `args` are the arguments as given (kept in the
 * kernel's metadata, as upstream does); `note` says, with `--auto --dry-run`, why each value.
 */
export async function prepareInstall(
  parsed: Parsed,
  args: readonly string[],
  note: (message: string) => void,
  program: string,
): Promise<Prepared> {
  const v = parsed.values;
  const env = currentPathEnv();
  const { name, multiNode, envPairs, modules } = readFlags(v);
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
    throw kernelExists(name, existing.resourceDir, program);
  }
  const warnings = installWarnings(python, kernelsDir, searchDirs, existing, name);

  const mpi = multiNode.launcher === "mpirun"
    ? (v.mpi as MpiFlavor | undefined) ?? await detectMpi()
    : undefined;
  const plan: KernelPlan = {
    name,
    displayName: (v["display-name"] as string | undefined) ?? name,
    python: pythonPath,
    bindScript: python.bindScript,
    kernelDir: join(kernelsDir, dirName),
    legate: v.auto ? await autoValues(parsed, note) : legateValuesFrom(v),
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
    argv: args,
    version: VERSION,
  };
  const activation = await activate(
    plan,
    request,
    environment,
    chosen.source,
    parsed,
    refreshCommand(program, args),
  );
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

/** Legate values with detection filling what was not given explicitly (explicit flags win). */
async function autoValues(parsed: Parsed, note: (message: string) => void) {
  // Detection is loaded only for --auto.
  const { detectSystem } = await lazy<typeof import("../detect/detect.ts")>("detect/detect.ts");
  const { autoSize } = await lazy<typeof import("../detect/size.ts")>("detect/size.ts");
  const { values: auto, reasons } = autoSize(await detectSystem());
  const values = legateValuesFrom(parsed.values);
  for (const [name, value] of Object.entries(auto)) {
    const given = parsed.given.has(name);
    if (!given) values[name] = value;
    if (parsed.values["dry-run"] && !parsed.values.json) {
      note(
        `auto: --${name} ${given ? parsed.values[name] : value}  (${
          given ? "given on the command line" : reasons[name] ?? ""
        })`,
      );
    }
  }
  return values;
}

/** The files of the kernel `plan` describes, `specText` being its kernel.json. */
export function kernelFiles(plan: KernelPlan, specText: string): KernelFile[] {
  return [
    { name: "kernel.json", content: specText, mode: 0o644 },
    { name: SCRIPT_FILE, content: launchScript(plan, launchTemplate), mode: 0o755 },
    { name: HELPER_FILE, content: helperScript(helperTemplate, infoRows(), NOT_SET), mode: 0o644 },
    { name: "logo-32x32.png", content: logo32, mode: 0o644 },
    { name: "logo-64x64.png", content: logo64, mode: 0o644 },
    { name: "logo-svg.svg", content: logoSvg, mode: 0o644 },
  ];
}

/**
 * Writes the kernel's `files` into `kernelsDir` as `dirName`, all at once (see
 * `writeKernelDir`). A kernel there already, without `replace`, fails with upstream's words; a
 * file-system error with its cause, saying that nothing was changed.
 */
export function writeKernel(
  plan: KernelPlan,
  kernelsDir: string,
  dirName: string,
  files: readonly KernelFile[],
  replace: boolean,
  program: string,
): void {
  try {
    writeKernelDir(kernelsDir, dirName, files, replace);
  } catch (e) {
    if (e instanceof KernelExists) {
      throw kernelExists(plan.name, join(kernelsDir, dirName), program);
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
}
