import assert from "node:assert/strict";
import {
  jupyterDataDir,
  jupyterPath,
  jupyterRuntimeDir,
  kernelSearchDirs,
  type PathEnv,
  prefixKernelsDir,
} from "../src/kernelspec/paths.ts";
import {
  kernelCommand,
  kernelJson,
  type KernelPlan,
  launchScript,
} from "../src/kernelspec/spec.ts";
import { SPEC_KEY } from "../src/legate/info.ts";

const linux = (vars: Record<string, string> = {}): PathEnv => ({
  vars,
  home: "/home/u",
  os: "linux",
});

Deno.test("the Jupyter data dir follows JUPYTER_DATA_DIR, then XDG_DATA_HOME, then ~/.local/share", () => {
  assert.equal(jupyterDataDir(linux({ JUPYTER_DATA_DIR: "/j" })), "/j");
  assert.equal(jupyterDataDir(linux({ XDG_DATA_HOME: "/x" })), "/x/jupyter");
  assert.equal(jupyterDataDir(linux({ JUPYTER_DATA_DIR: "" })), "/home/u/.local/share/jupyter");
  assert.equal(
    jupyterDataDir({ vars: { XDG_DATA_HOME: "/x" }, home: "/Users/u", os: "darwin" }),
    "/Users/u/Library/Jupyter",
  );
});

Deno.test("the runtime dir follows JUPYTER_RUNTIME_DIR, else the data dir's runtime", () => {
  assert.equal(jupyterRuntimeDir(linux({ JUPYTER_RUNTIME_DIR: "/r" })), "/r");
  assert.equal(jupyterRuntimeDir(linux({ JUPYTER_DATA_DIR: "/j" })), "/j/runtime");
});

Deno.test("the data path puts JUPYTER_PATH first, then user, env and system dirs, once each", () => {
  assert.deepEqual(jupyterPath(linux({ JUPYTER_PATH: "/a:/b/" }), "/usr"), [
    "/a",
    "/b",
    "/home/u/.local/share/jupyter",
    "/usr/share/jupyter",
    "/usr/local/share/jupyter",
  ]);
});

Deno.test("an active virtualenv's dirs come before the user's, as in jupyter_core 5", () => {
  const dirs = jupyterPath(linux({ VIRTUAL_ENV: "/venv" }), "/venv");
  assert.deepEqual(dirs.slice(0, 2), ["/venv/share/jupyter", "/home/u/.local/share/jupyter"]);
  const off = jupyterPath(linux({ VIRTUAL_ENV: "/venv", JUPYTER_PREFER_ENV_PATH: "no" }), "/venv");
  assert.equal(off[0], "/home/u/.local/share/jupyter");
});

Deno.test("kernel search dirs end with IPython's kernels dir", () => {
  const dirs = kernelSearchDirs(linux({ IPYTHONDIR: "/ip" }));
  assert.equal(dirs.at(-1), "/ip/kernels");
  assert.ok(dirs.includes("/usr/share/jupyter/kernels"));
  assert.equal(prefixKernelsDir("/p"), "/p/share/jupyter/kernels");
});

const plan = (over: Partial<KernelPlan> = {}): KernelPlan => ({
  name: "Legate_SM_GPU",
  displayName: "Legate_SM_GPU",
  python: "/env/bin/python",
  kernelDir: "/k/legate_sm_gpu",
  legate: { cpus: 4 },
  multiNode: { nodes: 1, ranks_per_node: 1, launcher: "none", launcher_extra: [] },
  env: [],
  modules: [],
  argv: ["--cpus", "4"],
  version: "0.0.0",
  ...over,
});

Deno.test("kernel.json runs the launch script and carries upstream's env keys", () => {
  const spec = kernelJson(plan());
  assert.deepEqual(spec.argv, ["/bin/sh", "/k/legate_sm_gpu/launch.sh", "{connection_file}"]);
  assert.deepEqual(spec.env, {
    LEGATE_CONFIG: "--cpus 4 --logdir .",
    PYTHONDONTWRITEBYTECODE: "1",
    [SPEC_KEY]: "Legate_SM_GPU",
  });
  assert.equal(spec.interrupt_mode, "signal");
  assert.equal(spec.language, "python");
  const legate = (spec.metadata as Record<string, Record<string, unknown>>).legate;
  assert.deepEqual(Object.keys(legate).sort(), ["argv", "core", "memory", "multi_node"]);
});

Deno.test("the kernel command puts launcher, bind script and Python in upstream's order", () => {
  assert.deepEqual(
    kernelCommand(plan({
      bindScript: "/env/share/legate/libexec/legate-bind.sh",
      multiNode: { nodes: 2, ranks_per_node: 1, launcher: "srun", launcher_extra: ["--exclusive"] },
    })),
    [
      "srun",
      "-n",
      "2",
      "--ntasks-per-node",
      "1",
      "--exclusive",
      "/env/share/legate/libexec/legate-bind.sh",
      "--launcher",
      "srun",
      "--",
      "/env/bin/python",
      "/k/legate_sm_gpu/legate_kernel.py",
    ],
  );
});

Deno.test("the launch script loads modules, then exports env, then execs, all quoted", () => {
  const text = launchScript(
    plan({ modules: ["cuda/12", "x$(id)"], env: [["A", "it's $(id)"]] }),
    "@VERSION@\n@MODULES@\n@EXPORTS@\n@EXEC@\n",
  );
  assert.equal(
    text,
    "0.0.0\nload_module cuda/12\nload_module 'x$(id)'\n\nexport A='it'\"'\"'s $(id)'\n\n" +
      `exec /env/bin/python /k/legate_sm_gpu/legate_kernel.py -f "$connection_file"\n`,
  );
});
