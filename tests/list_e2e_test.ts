/**
 * `legate-jupyter list` end to end, cross-checked with real `jupyter kernelspec list`:
 * Legate kernels with a summary, other kernels, broken kernels, Jupyter's precedence order.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, runCli, tempDir } from "./helpers.ts";
import { fakePython, jupyterKernels, SYS_PYTHON } from "./support/e2e.ts";
import { onStack } from "./support/stack.ts";

async function writeSpec(dir: string, spec: unknown): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "kernel.json"),
    typeof spec === "string" ? spec : JSON.stringify(spec),
  );
}

async function install(args: string[], env: Record<string, string>): Promise<void> {
  const r = await runCli(["-q", ...args], { env });
  assert.equal(r.code, 0, r.stderr);
}

interface ListEntry {
  resource_dir: string;
  spec: Record<string, unknown> | null;
  legate: string | null;
  broken: boolean;
  problems: string[];
  shadows: string[];
}

async function listJson(env: Record<string, string>): Promise<Record<string, ListEntry>> {
  const r = await runCli(["list", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  const parsed = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(parsed), ["kernelspecs"], "Jupyter's top-level shape");
  return parsed.kernelspecs;
}

Deno.test("list shows Legate kernels with a summary, other kernels, and broken ones (fake python) as BROKEN", async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const kernels = join(d.path, "data", "kernels");
  await install(["--name", "Legate_A", "--cpus", "4", "--gpus", "1", "--sysmem", "4000"], env);
  await install(["--name", "multi", "--launcher", "srun", "--nodes", "2"], env);
  await writeSpec(join(kernels, "plain"), {
    argv: [SYS_PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
    display_name: "Plain Python",
    language: "python",
  });
  await writeSpec(join(kernels, "badjson"), "{not json");
  await writeSpec(join(kernels, "nointerp"), {
    argv: ["/nonexistent/bin/python", "-f", "{connection_file}"],
    display_name: "Gone",
    language: "python",
  });
  await install(["--name", "nolaunch"], env);
  await Deno.remove(join(kernels, "nolaunch", "launch.sh"));
  const python = await fakePython(join(d.path, "py"));
  await install(["--name", "gonepy", "--python", python], env);
  await Deno.remove(python);

  const r = await runCli(["list"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "");
  const lines = r.stdout.split("\n");
  assert.equal(lines[0], "Available kernels:");
  /** The line after the kernel's name line. */
  const about = (name: string) => {
    const i = lines.findIndex((l) => l.startsWith(`  ${name} `));
    assert.ok(i > 0, `${name} listed:\n${r.stdout}`);
    assert.ok(lines[i].trimEnd().endsWith(join(kernels, name)) || name === "python3");
    return lines[i + 1].trim();
  };
  assert.equal(about("legate_a"), "Legate: 1 node, cpus 4, gpus 1, sysmem 4000");
  assert.match(about("multi"), /^Legate: 2 nodes, via srun$/);
  assert.equal(about("plain"), "Plain Python");
  assert.equal(about("python3"), "Python 3 (ipykernel)");
  assert.match(about("badjson"), /^BROKEN: kernel\.json is not valid JSON/);
  assert.match(about("nointerp"), /^BROKEN: .*\/nonexistent\/bin\/python/);
  assert.match(about("nolaunch"), /^BROKEN: .*launch\.sh/);
  assert.match(about("gonepy"), /^BROKEN: .*py\/bin\/python/);

  const json = await listJson(env);
  for (const name of ["badjson", "nointerp", "nolaunch", "gonepy"]) {
    assert.equal(json[name].broken, true, name);
    assert.ok(json[name].problems.length > 0, name);
  }
  for (const name of ["legate_a", "multi", "plain", "python3"]) {
    assert.equal(json[name].broken, false, name);
  }
  assert.equal(json.badjson.spec, null);
  assert.equal(json.plain.legate, null);
  assert.equal(json.legate_a.legate, "1 node, cpus 4, gpus 1, sysmem 4000");
});

Deno.test(`list --json has Jupyter's kernelspecs shape and agrees with jupyter kernelspec list --json${onStack("jupyter_client")}`, async () => {
  await using d = await tempDir();
  const env = isolatedEnv(d.path);
  const kernels = join(d.path, "data", "kernels");
  await install([], env);
  await install(["--name", "Second", "--env", "A=1", "--module", "m/1"], env);
  await writeSpec(join(kernels, "badjson"), "{");
  await writeSpec(join(d.path, "ipython", "kernels", "fromipython"), {
    argv: [SYS_PYTHON],
    display_name: "IPython dir",
    language: "python",
  });

  const ours = await listJson(env);
  const theirs = await jupyterKernels(env);
  assert.deepEqual(
    Object.keys(ours).filter((n) => n !== "badjson").sort(),
    Object.keys(theirs).sort(),
    "the same kernels, except the invalid JSON Jupyter skips",
  );
  for (const [name, k] of Object.entries(theirs)) {
    assert.equal(ours[name].resource_dir, k.resource_dir, name);
  }
  for (const name of ["legate_sm_gpu", "second"]) {
    assert.deepEqual(
      ours[name].spec,
      theirs[name].spec,
      `${name}: kernel.json as Jupyter reads it`,
    );
    assert.deepEqual(Object.keys(ours[name]).sort(), [
      "broken",
      "environment",
      "legate",
      "problems",
      "resource_dir",
      "shadows",
      "spec",
    ]);
  }

  const names = await runCli(["list", "--names"], { env });
  assert.equal(names.code, 0);
  assert.deepEqual(names.stdout.trim().split("\n").sort(), Object.keys(ours).sort());
});

Deno.test(`list follows Jupyter's precedence (JUPYTER_PATH first) and reports a shadowed same-name kernel${onStack("jupyter_client")}`, async () => {
  await using d = await tempDir();
  const jp = join(d.path, "jp");
  const env = isolatedEnv(d.path, { JUPYTER_PATH: jp });
  const user = join(d.path, "data", "kernels");
  await install(["--name", "dup", "--cpus", "1"], env);
  await install(["--name", "useronly"], env);
  await writeSpec(join(jp, "kernels", "DUP"), {
    argv: [SYS_PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
    display_name: "Dup from JUPYTER_PATH",
    language: "python",
  });
  await writeSpec(join(jp, "kernels", "zz-first"), {
    argv: [SYS_PYTHON],
    display_name: "First dir",
    language: "python",
  });

  const theirs = await jupyterKernels(env);
  const ours = await listJson(env);
  assert.equal(theirs.dup.resource_dir, join(jp, "kernels", "DUP"));
  assert.equal(ours.dup.resource_dir, theirs.dup.resource_dir, "the same winner as Jupyter");
  assert.deepEqual(ours.dup.shadows, [join(user, "dup")]);
  assert.equal(ours.dup.legate, null, "the winner is the plain kernel");

  const order = Object.keys(ours);
  assert.ok(order.indexOf("zz-first") < order.indexOf("useronly"), order.join(" "));
  assert.ok(order.indexOf("useronly") < order.indexOf("python3"), order.join(" "));

  const text = await runCli(["list"], { env });
  assert.equal(text.code, 0);
  assert.match(text.stdout, new RegExp(`\\(hides ${join(user, "dup").replaceAll(".", "\\.")}\\)`));

  // Replacing the hidden one is allowed, and warns that the JUPYTER_PATH one still wins.
  const replace = await runCli(["--name", "dup", "--replace"], { env });
  assert.equal(replace.code, 0, replace.stderr);
  assert.match(replace.stderr, /comes first on Jupyter's search path/);
});
