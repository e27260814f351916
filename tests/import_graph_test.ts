/**
 * The import graph of `mod.ts` and `src/**` against the layers `src/README.md` states: every
 * import points down the layer line, a folder imports only the folders its row there names,
 * no two folders import each other, no file takes part in a circle of imports, and nothing
 * but `mod.ts` imports `src/cli/`. The imports are Deno's own reading of each file (`deno info`:
 * static, dynamic and type imports), and the modules `util/lazy.ts` loads, whose paths it cannot
 * see, are read from each `lazy<typeof import(...)>(...)` call.
 */

import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { ROOT, tempDir } from "./helpers.ts";
import { fileURLToPath, pathToFileURL } from "node:url";

const SRC = join(ROOT, "src");

/** What `src/README.md` says: the layer order (top first) and what each folder may import. */
interface Layers {
  readonly order: readonly string[];
  readonly mayImport: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Reads the layer line (`mod.ts → cli/ → … → util/`) and the table of folders, whose last
 * column names (in backquotes) the folders each may import.
 */
async function readLayers(): Promise<Layers> {
  const text = await Deno.readTextFile(join(SRC, "README.md"));
  const line = text.split("\n").find((l) => l.trim().startsWith("mod.ts →"));
  assert.ok(line, "src/README.md has no layer line starting 'mod.ts →'");
  const order = line.trim().split("→").map((s) => s.trim().replace(/\/$/, ""));
  const mayImport = new Map<string, Set<string>>();
  for (const row of text.split("\n").filter((l) => /^\|\s*`[a-z]+\/`\s*\|/.test(l))) {
    const cells = row.split("|").map((c) => c.trim());
    const folder = cells[1].replace(/`/g, "").replace(/\/$/, "");
    const allowed = [...cells[cells.length - 2].matchAll(/`([a-z]+)\/`/g)].map((m) => m[1]);
    mayImport.set(folder, new Set(allowed));
  }
  return { order, mayImport };
}

/** Every `.ts` file under `dir`, as paths relative to the repository. */
async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) out.push(...await sources(path));
    else if (e.name.endsWith(".ts")) out.push(relative(ROOT, path));
  }
  return out.sort();
}

/**
 * The imports of every file in `files` (repository-relative paths → the repository-relative
 * paths they import; Node's built-ins left out): `deno info` of one module importing them all,
 * and the `lazy()` calls read from the sources.
 */
async function importsOf(files: readonly string[]): Promise<Map<string, Set<string>>> {
  await using dir = await tempDir("lj-graph-");
  const root = join(dir.path, "all.ts");
  await Deno.writeTextFile(
    root,
    files.map((f) =>
      `import type * as _${f.replace(/\W/g, "_")} from "${pathToFileURL(join(ROOT, f)).href}";`
    )
      .join("\n") + "\n",
  );
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", join(ROOT, "deno.json"), root],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout));
  // Files by their path in the repository; node: built-ins left out; anything else (a remote
  // module) as it is, for the test that refuses it.
  const local = (specifier: string | undefined) =>
    specifier === undefined || specifier.startsWith("node:")
      ? undefined
      : specifier.startsWith("file://")
      ? relative(ROOT, fileURLToPath(specifier))
      : specifier;
  const edges = new Map<string, Set<string>>(files.map((f) => [f, new Set()]));
  for (const m of graph.modules) {
    const from = local(m.specifier);
    if (!from || !edges.has(from)) continue;
    for (const d of m.dependencies ?? []) {
      for (const to of [local(d.code?.specifier), local(d.type?.specifier)]) {
        if (to) edges.get(from)!.add(to);
      }
    }
  }
  for (const f of files) {
    for (const to of lazyImports(f, await Deno.readTextFile(join(ROOT, f)))) edges.get(f)!.add(to);
  }
  return edges;
}

/**
 * The modules `f` loads with `lazy()`: each call names its module twice, in its type argument
 * (relative to `f`) and its argument (relative to `src/`); the two must agree.
 */
function lazyImports(f: string, text: string): string[] {
  const found: string[] = [];
  // Calls in code, not the examples in doc comments.
  const code = text.split("\n").filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l)).join("\n");
  for (const m of code.matchAll(/\blazy<([^>]*)>\(\s*"([^"]+)"\s*,?\s*\)/g)) {
    const typed = /^typeof import\("([^"]+)"\)$/.exec(m[1].trim());
    assert.ok(typed, `${f}: lazy<${m[1]}>("${m[2]}") names no module in its type argument`);
    const byType = relative(ROOT, fileURLToPath(new URL(typed[1], pathToFileURL(join(ROOT, f)))));
    const byPath = join("src", m[2]);
    assert.equal(byType, byPath, `${f}: lazy() loads ${byPath} but its type is ${byType}'s`);
    found.push(byPath);
  }
  const untyped = code.match(/\blazy\(/);
  assert.ok(
    !untyped,
    `${f}: a lazy() call without its module's type, which this test cannot follow`,
  );
  return found;
}

/** The folder (layer) of a repository-relative file: `mod.ts`, or its folder under `src/`. */
function folderOf(file: string): string {
  if (file === "mod.ts") return "mod.ts";
  if (!file.startsWith("src/")) return file;
  const parts = file.split("/");
  // Files directly in src/ (the version) are ground, with util/.
  return parts.length === 2 ? "util" : parts[1];
}

/** The circles of files in `edges` (Tarjan's strongly connected components of more than one). */
function circles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || edges.get(v)?.has(v)) found.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

const FILES = ["mod.ts", ...await sources(SRC)];
const LAYERS = await readLayers();
const EDGES = await importsOf(FILES);

/** Every import from one folder to another, as "from → to (file → file)". */
function crossings(): { from: string; to: string; file: string; target: string }[] {
  const out = [];
  for (const [file, targets] of EDGES) {
    for (const target of targets) {
      if (!target.startsWith("src/")) continue;
      const from = folderOf(file);
      const to = folderOf(target);
      if (from !== to) out.push({ from, to, file, target });
    }
  }
  return out;
}

Deno.test("src/README.md names every folder of src/ once in the layer line, and gives it a row", () => {
  const folders = new Set(FILES.map(folderOf));
  for (const f of folders) {
    assert.ok(LAYERS.order.includes(f), `${f}/ is not in src/README.md's layer line`);
    assert.ok(f === "mod.ts" || LAYERS.mayImport.has(f), `${f}/ has no row in src/README.md`);
  }
  assert.equal(new Set(LAYERS.order).size, LAYERS.order.length, "a folder twice in the line");
  for (const [folder, allowed] of LAYERS.mayImport) {
    for (const a of allowed) {
      assert.ok(
        LAYERS.order.indexOf(a) > LAYERS.order.indexOf(folder),
        `src/README.md lets ${folder}/ import ${a}/, which is not below it in the layer line`,
      );
    }
  }
});

Deno.test("every import points down the layers and stays within what src/README.md lets its folder import", () => {
  const rank = (f: string) => LAYERS.order.indexOf(f);
  const wrong: string[] = [];
  for (const c of crossings()) {
    if (rank(c.to) < rank(c.from)) {
      wrong.push(`${c.file} imports ${c.target}: ${c.to}/ is above ${c.from}/`);
    } else if (c.from !== "mod.ts" && !LAYERS.mayImport.get(c.from)?.has(c.to)) {
      wrong.push(
        `${c.file} imports ${c.target}, but src/README.md's row for ${c.from}/ does not ` +
          `name ${c.to}/ (add it there if it belongs: it is below)`,
      );
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("no two folders import each other", () => {
  const pairs = new Set(crossings().map((c) => `${c.from} ${c.to}`));
  const both = [...pairs].filter((p) => pairs.has(p.split(" ").reverse().join(" ")));
  assert.deepEqual(both, []);
});

Deno.test("no file takes part in a circle of imports", () => {
  assert.deepEqual(circles(EDGES), []);
});

Deno.test("nothing but mod.ts imports src/cli/", () => {
  const outside = crossings().filter((c) => c.to === "cli" && c.from !== "mod.ts");
  assert.deepEqual(outside.map((c) => `${c.file} imports ${c.target}`), []);
});

Deno.test("the program imports nothing from tests/, bench/ or the network", () => {
  const stray = [...EDGES].flatMap(([file, targets]) =>
    [...targets].filter((t) => !t.startsWith("src/") && !t.startsWith("kernels/")).map((t) =>
      `${file} imports ${t}`
    )
  );
  assert.deepEqual(stray, []);
});
