/**
 * Environments built by hand for the activation tests: no conda channel, PyPI or pixi is
 * reachable here, so a conda-like prefix and a pixi workspace are laid out as conda, mamba and
 * pixi lay them out (`conda-meta/`, `etc/conda/env_vars.d`, `activate.d`), with activation
 * scripts modelled on the ones HPC users meet (Legate's wrapper packages, cuda-nvcc), and
 * `bin/python` linked to the system Python (which has ipykernel). The venv is a real one,
 * made by `python3 -m venv --system-site-packages`.
 * @module
 */

import { join } from "node:path";
import { run } from "../helpers.ts";
import { SYS_PYTHON, writeExecutable } from "./e2e.ts";

/** A value no shell may run: quotes, command substitution, newlines (three in a row), `$`. */
export const HOSTILE = `it's "$(touch PWNED)" \`touch PWNED\`\n\n\nline 4; $HOME \\$x`;

/** A script name with a space, quotes and a command substitution in it. */
export const HOSTILE_SCRIPT = `x $(touch PWNED) 'q'.sh`;

/** What a kernel in {@link condaLike} must see after activation (null: unset). */
export function condaExpected(prefix: string): Record<string, string | null> {
  return {
    CONDA_PREFIX: prefix,
    CONDA_SHLVL: "1",
    LEGATE_MPI_WRAPPER: join(prefix, "mpi-wrapper", "lib64", "liblegate_mpi_wrapper.so"),
    REALM_GASNETEX_WRAPPER: join(prefix, "gex-wrapper", "lib", "librealm_gex_wrapper.so"),
    GASNET_OFI_SPAWNER: "mpi",
    FI_CXI_RDZV_THRESHOLD: "256",
    GDAL_DATA: join(prefix, "share", "gdal"),
    // state wins over env_vars.d; ***unset*** unsets; the state's PATH is ignored
    OMPI_MCA_opal_cuda_support: "true",
    PKG_VAR: "pkg",
    GONE: null,
    HOSTILE_STATE: HOSTILE,
    AFTER_ERREXIT: "yes",
    SPACED_SCRIPT: "ran",
    WRONG_SHELL: null,
  };
}

/** The names a test reads from a kernel's environment for {@link condaExpected}. */
export const CONDA_NAMES = Object.keys(condaExpected("/x"));

/** The scripts of {@link condaLike}'s `activate.d`, by file name. */
function activateScripts(banner: string): Record<string, string> {
  return {
    // Legate's mpi-wrapper script: bash-only [[ ]], a search, a banner on stdout.
    "legate-mpi-wrapper_activate.sh":
      `echo -e "\\n\\n---- ${banner} LEGATE-MPI-WRAPPER/ACTIVATE.SH ----\\n"
if [[ -d "\${CONDA_PREFIX}/mpi-wrapper" ]]; then
  wrapper_file=$(find "\${CONDA_PREFIX}/mpi-wrapper" -name "liblegate_mpi_wrapper.so" -print -quit)
  export LEGATE_MPI_WRAPPER="\${wrapper_file}"
fi
echo "LEGATE_MPI_WRAPPER=\${LEGATE_MPI_WRAPPER}"
`,
    // Legate's gex-wrapper script from before early 2025: set -eo pipefail.
    "realm-gex-wrapper_activate.sh":
      `echo -e "\\n---- ${banner} CONDA/GASNET_WRAPPER/ACTIVATE.SH ----\\n"
set -eo pipefail
wrapper_file=$(find "\${CONDA_PREFIX}/gex-wrapper" -name "librealm_gex_wrapper.so" -print -quit)
export REALM_GASNETEX_WRAPPER="\${wrapper_file}"
export GASNET_OFI_SPAWNER=mpi
export FI_CXI_RDZV_THRESHOLD=256
echo "REALM_GASNETEX_WRAPPER=\${REALM_GASNETEX_WRAPPER}"
`,
    // conda-forge's cuda-nvcc without a compiler: an error and status 1.
    "cuda-nvcc_activate.sh": `echo "cuda-nvcc: no C++ compiler found (CXX is unset)" >&2
return 1
`,
    "gdal-activate.sh": `export GDAL_DATA="\${CONDA_PREFIX}/share/gdal"\n`,
    // Runs after the set -e script: a failing command must not end the start.
    "zz-after-errexit.sh": `false
[ -n "\${NO_SUCH_VARIABLE_ANYWHERE}" ] || true
export AFTER_ERREXIT=yes
`,
    [HOSTILE_SCRIPT]: `export SPACED_SCRIPT=ran\n`,
    "zz.csh": "setenv WRONG_SHELL 1\n",
    "zz.fish": "set -gx WRONG_SHELL 1\n",
  };
}

/**
 * A conda-like prefix at `prefix`: `conda-meta/` (history, a `state` with a user variable, an
 * `***unset***`, a reserved PATH and a hostile value, and Legate's wrapper packages),
 * `env_vars.d`, the `activate.d` scripts above, the wrapper libraries, `bin/python`.
 * `built: false` leaves the wrappers' libraries out (installed, not built yet).
 */
export async function condaLike(
  prefix: string,
  options: { built?: boolean; banner?: string } = {},
): Promise<{ prefix: string; python: string }> {
  const meta = join(prefix, "conda-meta");
  await Deno.mkdir(meta, { recursive: true });
  await Deno.writeTextFile(join(meta, "history"), "==> 2025-01-01 00:00:00 <==\n");
  await Deno.writeTextFile(
    join(meta, "state"),
    JSON.stringify({
      env_vars: {
        OMPI_MCA_opal_cuda_support: "true",
        GONE: "***unset***",
        PATH: "/reserved/must/not/appear",
        HOSTILE_STATE: HOSTILE,
      },
    }),
  );
  for (const pkg of ["legate-mpi-wrapper-25.01-h1234", "realm-gex-wrapper-25.01-h5678"]) {
    await Deno.writeTextFile(join(meta, `${pkg}.json`), "{}");
  }
  const envVars = join(prefix, "etc", "conda", "env_vars.d");
  await Deno.mkdir(envVars, { recursive: true });
  await Deno.writeTextFile(
    join(envVars, "10-pkg.json"),
    JSON.stringify({ PKG_VAR: "pkg", OMPI_MCA_opal_cuda_support: "false", GONE: "set-by-pkg" }),
  );
  const activate = join(prefix, "etc", "conda", "activate.d");
  await Deno.mkdir(activate, { recursive: true });
  for (const [name, text] of Object.entries(activateScripts(options.banner ?? "BANNER"))) {
    await Deno.writeTextFile(join(activate, name), text);
  }
  if (options.built ?? true) {
    for (
      const lib of [
        "mpi-wrapper/lib64/liblegate_mpi_wrapper.so",
        "gex-wrapper/lib/librealm_gex_wrapper.so",
      ]
    ) {
      await Deno.mkdir(join(prefix, lib, ".."), { recursive: true });
      await Deno.writeTextFile(join(prefix, lib), "");
    }
  } else {
    await writeExecutable(join(prefix, "mpi-wrapper", "build-mpi-wrapper.sh"), "#!/bin/bash\n");
    await writeExecutable(join(prefix, "gex-wrapper", "build-gex-wrapper.sh"), "#!/bin/bash\n");
  }
  await Deno.mkdir(join(prefix, "bin"), { recursive: true });
  const python = join(prefix, "bin", "python");
  await Deno.symlink(SYS_PYTHON, python);
  return { prefix, python };
}

/**
 * Writes `value` to `path` as conda writes `conda-meta/state` (`conda env config vars set`):
 * with Python's json.dump, which writes non-ASCII as `\uXXXX` (a surrogate pair beyond the
 * BMP) and escapes control characters.
 */
export async function writeAsConda(path: string, value: unknown): Promise<void> {
  const r = await run([
    SYS_PYTHON,
    "-c",
    "import json, sys\nwith open(sys.argv[2], 'w') as f: json.dump(json.loads(sys.stdin.read()), f, indent=2)",
    "-",
    path,
  ], { env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" }, stdin: JSON.stringify(value) });
  if (r.code !== 0) throw new Error(`json.dump failed: ${r.stderr}`);
}

/**
 * A pixi workspace at `root` with environment `default` in `.pixi/envs/default` (a conda-like
 * prefix with one activate.d script) and a `pixi.toml` whose `[activation]` adds a bash script
 * and a variable.
 */
export async function pixiLike(
  root: string,
): Promise<{ root: string; prefix: string; python: string }> {
  const prefix = join(root, ".pixi", "envs", "default");
  await Deno.mkdir(join(prefix, "conda-meta"), { recursive: true });
  await Deno.writeTextFile(join(prefix, "conda-meta", "history"), "");
  await Deno.mkdir(join(prefix, "etc", "conda", "activate.d"), { recursive: true });
  await Deno.writeTextFile(
    join(prefix, "etc", "conda", "activate.d", "pkg_activate.sh"),
    `export PIXI_PKG_SCRIPT="\${CONDA_PREFIX}"\n`,
  );
  await Deno.writeTextFile(
    join(root, "pixi.toml"),
    `[workspace]
name = "legate-demo"
channels = ["conda-forge"]
platforms = ["linux-64"]

[activation]
scripts = ["scripts/setup.sh"]  # run at every activation

[activation.env]
FROM_MANIFEST = "manifest value with 'quotes'"
`,
  );
  await Deno.mkdir(join(root, "scripts"), { recursive: true });
  await Deno.writeTextFile(
    join(root, "scripts", "setup.sh"),
    `if [[ -n "\${PIXI_PROJECT_ROOT}" ]]; then export PIXI_SETUP_RAN="\${PIXI_PROJECT_NAME}"; fi\n`,
  );
  await Deno.mkdir(join(prefix, "bin"), { recursive: true });
  const python = join(prefix, "bin", "python");
  await Deno.symlink(SYS_PYTHON, python);
  return { root, prefix, python };
}

/** A real venv made by the system Python, seeing its packages (ipykernel). */
export async function realVenv(dir: string): Promise<{ prefix: string; python: string }> {
  const r = await run([SYS_PYTHON, "-m", "venv", "--without-pip", "--system-site-packages", dir], {
    env: { PATH: "/usr/bin:/bin", LANG: "C.UTF-8" },
  });
  if (r.code !== 0) throw new Error(`python3 -m venv failed: ${r.stderr}`);
  return { prefix: dir, python: join(dir, "bin", "python") };
}

/**
 * A fake `conda` (conda cannot be installed here): answers `env list --json` with `envs`, and
 * records that it was asked.
 */
export async function fakeConda(bin: string, envs: string[]): Promise<string> {
  return await writeExecutable(
    join(bin, "conda"),
    `#!/bin/sh
[ "$1 $2 $3" = "env list --json" ] || exit 2
echo asked >> "$(dirname "$0")/conda.log"
cat <<'EOF'
${JSON.stringify({ envs })}
EOF
`,
  );
}

/**
 * Python code for a cell that prints, as JSON, the variables `names` (null when unset), the
 * first PATH entry, the shell options Python was left with, and sys.prefix.
 */
export function envCell(names: readonly string[]): string {
  return "import os, sys, json\n" +
    `print(json.dumps({"vars": {k: os.environ.get(k) for k in ${JSON.stringify(names)}}, ` +
    `"path0": os.environ["PATH"].split(":")[0], "prefix": sys.prefix, ` +
    `"resume": os.environ.get("__LEGATE_JUPYTER_RESUME")}))`;
}

/**
 * A fake environment-modules init (`$MODULESHOME/init/sh`; no module system can be installed
 * here): `module load NAME` exports MODULE_LOADED=NAME.
 */
export async function fakeModules(dir: string): Promise<string> {
  await writeExecutable(
    join(dir, "init", "sh"),
    'module() { if [ "$1" = load ]; then export MODULE_LOADED="$2"; fi; }\n',
  );
  return dir;
}

/**
 * Legate's bind script, faked (Legate cannot be installed here) in `prefix`'s installation
 * layout with a `legate` package beside it: each rank writes its environment (`env -0`) to
 * `dir/rank<N>.env` (N from Open MPI's OMPI_COMM_WORLD_RANK or Slurm's SLURM_PROCID); rank 0
 * then runs the kernel, the others end (two ipykernels on one node would share its ports).
 */
export async function fakeLegate(prefix: string, dir: string): Promise<void> {
  const version = Deno.realPathSync(SYS_PYTHON).match(/python(\d+\.\d+)$/)?.[1] ?? "3";
  const pkg = join(prefix, "lib", `python${version}`, "site-packages", "legate");
  await Deno.mkdir(pkg, { recursive: true });
  await Deno.writeTextFile(join(pkg, "__init__.py"), "");
  const q = `'${dir.replaceAll("'", `'"'"'`)}'`;
  await writeExecutable(
    join(prefix, "share", "legate", "libexec", "legate-bind.sh"),
    `#!/bin/sh
rank=\${OMPI_COMM_WORLD_RANK:-\${SLURM_PROCID:-none}}
env -0 > ${q}/rank$rank.env
while [ "$1" != -- ]; do shift; done
shift
if [ "$rank" = 0 ]; then exec "$@"; fi
`,
  );
}

/** The environment a rank of {@link fakeLegate} recorded. */
export async function rankEnv(dir: string, rank: number): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const item of (await Deno.readTextFile(join(dir, `rank${rank}.env`))).split("\0")) {
    const eq = item.indexOf("=");
    if (eq > 0) env[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return env;
}
