/**
 * The activation's pure parts: conda's order of variables, the captured lines (relative PATH
 * forms, unsets), a pixi manifest's activation, the launch script's pieces and their quoting,
 * and how the choice of mode reads the flags.
 */

import assert from "node:assert/strict";
import activateTemplate from "../kernels/activate.sh" with { type: "text" };
import envVarsProgram from "../kernels/env_vars.awk" with { type: "text" };
import { capturedLines, parseEnvDump } from "../src/environment/capture.ts";
import { activationMode } from "../src/environment/choose.ts";
import { recordName } from "../src/environment/describe.ts";
import { manifestActivation } from "../src/environment/pixi.ts";
import { activationPlan, activatorVars, mergeVars } from "../src/environment/plan.ts";
import { activationParts, piece } from "../src/environment/script.ts";
import type { Activation, EnvChoice, PrefixFacts } from "../src/environment/types.ts";

const TEMPLATES = { script: activateTemplate, envVars: envVarsProgram };

const FACTS: PrefixFacts = {
  packageVars: [["PKG", "pkg"], ["BOTH", "from-pkg"], ["GONE", "set"]],
  stateVars: [["BOTH", "from-state"], ["GONE", null]],
  scripts: ["a.sh"],
  otherShells: ["a.csh"],
  manifestScripts: [],
  manifestVars: [],
  warnings: [],
};
const CONDA: EnvChoice = {
  kind: "conda",
  prefix: "/envs/legate",
  name: "legate",
  chosenBy: "--conda-env legate",
};

function plan(mode: "live" | "captured" = "live", choice = CONDA): Activation {
  return activationPlan(choice, FACTS, mode, `${choice.prefix}/bin/python`);
}

Deno.test("variables follow conda: the activator's, then env_vars.d, then state, which wins; ***unset*** unsets", () => {
  assert.deepEqual(plan().vars, [
    ["CONDA_PREFIX", "/envs/legate"],
    ["CONDA_DEFAULT_ENV", "legate"],
    ["CONDA_SHLVL", "1"],
    ["CONDA_PROMPT_MODIFIER", "(legate) "],
    ["PKG", "pkg"],
    ["BOTH", "from-state"],
    ["GONE", null],
  ]);
  assert.deepEqual(mergeVars([["A", "1"], ["B", "2"]], [["A", null]]), [["A", null], ["B", "2"]]);
  assert.deepEqual(
    activatorVars({ kind: "venv", prefix: "/v", name: "v", chosenBy: "--venv /v" }),
    [["VIRTUAL_ENV", "/v"], ["PYTHONHOME", null]],
  );
});

Deno.test("a live plan watches no file it reads again at start (env_vars.d, state); a captured one watches them and the scripts", () => {
  assert.deepEqual(plan("live").stamps, []);
  assert.deepEqual(plan("live").readAtStart, {
    envVarsDir: "/envs/legate/etc/conda/env_vars.d",
    stateFile: "/envs/legate/conda-meta/state",
  });
  assert.deepEqual(plan("captured").stamps, [
    "/envs/legate/conda-meta/state",
    "/envs/legate/etc/conda/env_vars.d",
    "/envs/legate/etc/conda/env_vars.d/*",
    "/envs/legate/etc/conda/activate.d",
    "/envs/legate/etc/conda/activate.d/*",
  ]);
  assert.equal(plan("captured").readAtStart, undefined);
  const pixi: EnvChoice = {
    kind: "pixi",
    prefix: "/w/.pixi/envs/default",
    name: "default",
    chosenBy: "--pixi /w",
    pixi: { root: "/w", manifest: "/w/pixi.toml", project: "w", env: "default" },
  };
  assert.deepEqual(plan("live", pixi).stamps, ["/w/pixi.toml"], "the manifest is read at install");
});

Deno.test("a capture is replayed relative to the kernel's own PATH-like values, with unsets, and nothing volatile", () => {
  const before = new Map([
    ["PATH", "/usr/bin:/bin"],
    ["LD_LIBRARY_PATH", "/opt/lib"],
    ["MANPATH", "/usr/share/man"],
    ["CHANGED", "old"],
    ["DROPPED", "x"],
    ["PWD", "/a"],
    ["SHLVL", "1"],
  ]);
  const after = new Map([
    ["PATH", "/envs/legate/bin:/usr/bin:/bin"],
    ["LD_LIBRARY_PATH", "/opt/lib:/envs/legate/lib"],
    ["MANPATH", "/pre:/usr/share/man:/post"],
    ["CHANGED", "it's $(new)"],
    ["NEW", "a\n\n\nb"],
    ["PWD", "/b"],
    ["SHLVL", "2"],
    ["BASH_FUNC_f%%", "() { :; }"],
  ]);
  const { lines, names } = capturedLines(plan("captured"), before, after);
  assert.deepEqual(lines, [
    "unset GONE",
    `export CHANGED='it'"'"'s $(new)'`,
    "unset DROPPED",
    "export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/envs/legate/lib",
    "export MANPATH=/pre${MANPATH:+:$MANPATH}:/post",
    "export NEW='a\n\n\nb'",
    "export PATH=/envs/legate/bin${PATH:+:$PATH}",
  ]);
  assert.deepEqual(names, [
    "CHANGED",
    "DROPPED",
    "GONE",
    "LD_LIBRARY_PATH",
    "MANPATH",
    "NEW",
    "PATH",
  ]);
});

Deno.test("a replayed capture gives sh the values bash had, whatever the kernel's PATH", async () => {
  const before = parseEnvDump(new TextEncoder().encode("PATH=/usr/bin:/bin\0"));
  const after = parseEnvDump(
    new TextEncoder().encode("PATH=/e/bin:/usr/bin:/bin\0V=x'y\n\nz\0"),
  );
  const { lines } = capturedLines(plan("captured"), before, after);
  for (const [path, want] of [["/usr/bin:/bin", "/e/bin:/usr/bin:/bin"], ["", "/e/bin"]]) {
    const out = await new Deno.Command("/bin/sh", {
      args: ["-c", `${lines.join("\n")}\nprintf '%s|%s' "$PATH" "$V"`],
      env: { PATH: path },
      clearEnv: true,
      stdout: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(out.stdout), `${want}|x'y\n\nz`);
  }
});

Deno.test("a pixi manifest's activation: default feature, the environment's features, multi-line arrays, both string kinds, pyproject's tool.pixi", () => {
  const toml = `
[workspace]
name = "w"

[activation]
scripts = [
  "a.sh",  # first
  'b.sh',
]
env = { INLINE = "in\\"line" }

[activation.env]
TABLE = 'lit\\eral'

[feature.cuda.activation]
scripts = ["cuda.sh"]

[feature.cuda.activation.env]
CUDA = "\\u00e9"

[environments]
gpu = { features = ["cuda"] }
bare = { features = ["cuda"], no-default-feature = true }
`;
  assert.deepEqual(manifestActivation(toml, "default", false), {
    scripts: ["a.sh", "b.sh"],
    env: [["INLINE", 'in"line'], ["TABLE", "lit\\eral"]],
  });
  assert.deepEqual(manifestActivation(toml, "gpu", false), {
    scripts: ["a.sh", "b.sh", "cuda.sh"],
    env: [["INLINE", 'in"line'], ["TABLE", "lit\\eral"], ["CUDA", "é"]],
  });
  assert.deepEqual(manifestActivation(toml, "bare", false), {
    scripts: ["cuda.sh"],
    env: [["CUDA", "é"]],
  });
  const py = `[tool.pixi.activation]\nscripts = ["p.sh"]\n[tool.pixi.activation.env]\nP = "1"\n`;
  assert.deepEqual(manifestActivation(py, "default", true), {
    scripts: ["p.sh"],
    env: [["P", "1"]],
  });
  assert.deepEqual(manifestActivation("not = [toml", "default", false), { scripts: [], env: [] });
});

Deno.test("the launch script's pieces quote every value and pick bash only when something needs it", () => {
  const hostile = "/e $(touch PWNED) 'q'";
  const a = activationPlan({ ...CONDA, prefix: hostile }, FACTS, "live", `${hostile}/bin/python`);
  const parts = activationParts(
    { activation: a, refresh: "lj install --replace" },
    TEMPLATES,
  )!;
  assert.ok(parts.start.includes(`'/e $(touch PWNED) '"'"'q'"'"'/etc/conda/activate.d'/*.sh`));
  assert.ok(parts.afterModules.includes(`export CONDA_PREFIX='/e $(touch PWNED) '"'"'q'"'"''`));
  assert.ok(
    parts.afterModules.includes(
      `for lj_f in '/e $(touch PWNED) '"'"'q'"'"'/etc/conda/env_vars.d'/*.json; do`,
    ),
    "a live start reads env_vars.d at a quoted path",
  );
  assert.ok(parts.afterModules.endsWith("fi\n"));
  assert.match(parts.scripts, /LC_ALL=C/);

  const venv = activationPlan(
    { kind: "venv", prefix: "/v", name: "v", chosenBy: "--venv /v" },
    FACTS,
    "live",
    "/v/bin/python",
  );
  const vp = activationParts({ activation: venv, refresh: "x" }, TEMPLATES)!;
  assert.ok(!vp.start.includes("lj_need"), "a venv never needs bash");
  assert.equal(vp.scripts, "");
  assert.match(vp.afterModules, /^unset PYTHONHOME$/m);

  const source = activationParts({ source: "/site.sh", refresh: "x" }, TEMPLATES)!;
  assert.match(source.start, /lj_need=1/, "--source always runs in bash");
  assert.equal(activationParts({ refresh: "x" }, TEMPLATES), undefined);
  assert.throws(() => piece(activateTemplate, "nosuch"), /no piece 'nosuch'/);
});

Deno.test("--activate auto is live with an environment and off without; live or captured without one is a usage error", () => {
  assert.equal(activationMode("auto", CONDA), "live");
  assert.equal(activationMode("auto", undefined), "off");
  assert.equal(activationMode("captured", CONDA), "captured");
  assert.equal(activationMode("off", CONDA), "off");
  assert.throws(() => activationMode("live", undefined), /--activate live needs an environment/);
});

Deno.test("what info and list say about a recorded environment survives anyone's kernel.json", () => {
  assert.equal(
    recordName({ kind: "conda", name: "legate", prefix: "/e", mode: "live" }),
    "conda environment 'legate' (/e), activated live at every start",
  );
  assert.equal(
    recordName({
      kind: "pixi",
      name: "default",
      prefix: "/w/.pixi/envs/default",
      pixi: { root: "/w" },
      mode: "captured",
    }),
    "pixi environment 'default' of /w, activated from its capture at install",
  );
  assert.equal(
    recordName({ kind: 7, name: ["x"], prefix: "a\nb" }),
    "conda environment '?' (a\\x0ab), activated live at every start",
  );
});
