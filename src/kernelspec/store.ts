/**
 * Kernel directories on disk: discovery in Jupyter's precedence order, atomic installation,
 * and removal. This is the file-system edge of the kernelspec area.
 * @module
 */

import { compareNames } from "../util/compare.ts";
import { basename, dirname, join, normalize } from "../util/path.ts";
import { printable } from "../util/printable.ts";

/** Jupyter's kernel name rule (jupyter_client `_kernel_name_pat`). */
export const KERNEL_NAME = /^[a-z0-9._-]+$/i;

/** The longest kernel name: a directory name (NAME_MAX bytes). */
export const MAX_NAME_BYTES = 255;

/**
 * Why `name` cannot name a kernel directory, or undefined when it can: a name must be one
 * path component that resolves to a directory *inside* a kernels directory, never onto it
 * (`.`) or outside it (`..`, anything with `/`). `install` also holds it to Jupyter's rule and
 * refuses a leading `-` (no command could take it back as an argument); `remove` and `info`
 * accept any other directory name, since kernels installed by other tools may have one.
 */
export function kernelNameProblem(name: string, forInstall: boolean): string | undefined {
  if (name === "") return "an empty name";
  if (name === ".") return "'.' is the kernels directory itself, not a kernel in it";
  if (name === "..") return "'..' is the directory above the kernels directory";
  if (name.includes("/") || name.includes("\0")) return "a path, not a single directory name";
  if (new TextEncoder().encode(name).length > MAX_NAME_BYTES) {
    return `longer than ${MAX_NAME_BYTES} bytes, more than a directory name can hold`;
  }
  if (!forInstall) return undefined;
  if (!KERNEL_NAME.test(name)) {
    return "kernel names can only contain ASCII letters and numbers and these separators: " +
      "- . _ (hyphen, period, and underscore)";
  }
  if (name.startsWith("-")) return "a name that begins with '-' would read as an option";
  return undefined;
}

/** A name as messages show it: at most 60 characters, control characters escaped. */
export function shownName(name: string): string {
  return printable(name, 60);
}

/**
 * `<kernelsDir>/<dirName>`, refusing any name that would not land directly inside
 * `kernelsDir` (see {@link kernelNameProblem}): the last line of defence of every write and
 * removal.
 */
export function kernelDirPath(kernelsDir: string, dirName: string): string {
  const problem = kernelNameProblem(dirName, false);
  const path = join(kernelsDir, dirName);
  if (problem || dirname(path) !== normalize(kernelsDir)) {
    throw new Error(`refusing kernel directory name '${dirName}': ${problem ?? "outside"}`);
  }
  return path;
}

/** The kernel.json fields this tool reads. */
export interface KernelJson {
  argv?: string[];
  display_name?: string;
  language?: string;
  env?: Record<string, string>;
  interrupt_mode?: string;
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/** One kernelspec found on the search path. */
export interface KernelEntry {
  /** Lowercased directory name: the name Jupyter knows it by. */
  readonly name: string;
  readonly resourceDir: string;
  /** The parsed kernel.json, absent when it could not be read. */
  readonly spec?: KernelJson;
  /** Why the kernel is broken (unreadable JSON, missing interpreter or launch script). */
  readonly problems: string[];
  /** Entries with the same name further down the search path, hidden by this one. */
  readonly shadows: string[];
}

function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

// Synchronous on purpose: a short-lived command reading a few small files pays more for the
// first asynchronous file operation than for all the reads themselves.
function readSpec(resourceDir: string): { spec?: KernelJson; problems: string[] } {
  let text: string;
  try {
    text = Deno.readTextFileSync(join(resourceDir, "kernel.json"));
  } catch (e) {
    return { problems: [`kernel.json cannot be read: ${(e as Error).message}`] };
  }
  let spec: KernelJson;
  try {
    spec = JSON.parse(text);
  } catch (e) {
    return { problems: [`kernel.json is not valid JSON: ${(e as Error).message}`] };
  }
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    return { problems: ["kernel.json is not a JSON object"] };
  }
  const problems: string[] = [];
  const argv = Array.isArray(spec.argv) ? spec.argv : [];
  if (argv.length === 0) problems.push("kernel.json has no argv");
  // A program named by absolute path must exist; bare names are looked up on PATH at start.
  for (const word of argv.slice(0, 2)) {
    if (typeof word === "string" && word.startsWith("/") && !word.includes("{")) {
      if (!isFile(word)) problems.push(`${word} does not exist`);
    }
  }
  // Kernels this tool wrote run their Python from the launch script, not from argv.
  const tool = spec.metadata?.legate_jupyter as
    | { python?: unknown; environment?: { prefix?: unknown } }
    | undefined;
  const prefix = tool?.environment?.prefix;
  if (typeof prefix === "string" && !isDir(prefix)) {
    problems.push(`its environment ${prefix} no longer exists (moved or deleted)`);
  } else if (typeof tool?.python === "string" && !isFile(tool.python)) {
    problems.push(`its Python ${tool.python} does not exist`);
  }
  return { spec, problems };
}

/**
 * The directories (or links to directories) in each of `dirs` (highest precedence first), each
 * directory's in name order, keyed by the lower-cased name Jupyter knows a kernel by. A
 * directory that cannot be read is passed over, as Jupyter passes it over.
 */
function* subdirsIn(dirs: readonly string[]): Generator<{ key: string; resourceDir: string }> {
  for (const dir of dirs) {
    let entries: Deno.DirEntry[];
    try {
      entries = Array.from(Deno.readDirSync(dir));
    } catch {
      continue;
    }
    entries.sort((a, b) => compareNames(a.name, b.name));
    for (const e of entries) {
      const resourceDir = join(dir, e.name);
      if (!(e.isDirectory || (e.isSymlink && isDir(resourceDir)))) continue;
      yield { key: e.name.toLowerCase(), resourceDir };
    }
  }
}

/** The kernel directories in `dirs`, as {@link subdirsIn} orders them: what holds a `kernel.json`. */
function* kernelDirsIn(dirs: readonly string[]): Generator<{ key: string; resourceDir: string }> {
  for (const d of subdirsIn(dirs)) {
    if (isFile(join(d.resourceDir, "kernel.json"))) yield d;
  }
}

/** Lists the kernelspecs in `dirs` (highest precedence first), as Jupyter would see them. */
export function listKernels(dirs: readonly string[]): KernelEntry[] {
  const found = new Map<string, { name: string; resourceDir: string; shadows: string[] }>();
  for (const { key, resourceDir } of kernelDirsIn(dirs)) {
    const seen = found.get(key);
    if (seen) seen.shadows.push(resourceDir);
    else found.set(key, { name: key, resourceDir, shadows: [] });
  }
  return [...found.values()].map((k) => ({ ...k, ...readSpec(k.resourceDir) }));
}

/** Finds kernel `name` (case-insensitive) on the search path: the one `listKernels` shows. */
export function findKernel(
  dirs: readonly string[],
  name: string,
): KernelEntry | undefined {
  const key = name.toLowerCase();
  for (const k of kernelDirsIn(dirs)) {
    if (k.key === key) {
      return { name: key, resourceDir: k.resourceDir, shadows: [], ...readSpec(k.resourceDir) };
    }
  }
  return undefined;
}

/** A file to write into a kernel directory. */
export interface KernelFile {
  readonly name: string;
  readonly content: string | Uint8Array;
  readonly mode: number;
}

/** Thrown when the kernel directory already exists and replacing was not asked for. */
export class KernelExists extends Error {
  override name = "KernelExists";
}

function tempName(kind: string): string {
  return `.legate-jupyter-${kind}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Where work-in-progress directories go: beside the kernels directory, never inside it, so
 * that Jupyter never lists a half-written kernel.
 */
function stagingParent(kernelsDir: string): string {
  return dirname(kernelsDir);
}

/**
 * Writes `files` into `<kernelsDir>/<dirName>` atomically: they are written into a staging
 * directory beside `kernelsDir`, then renamed into place in one step. With `replace`, an
 * existing directory is moved aside first and removed after. Throws {@link KernelExists}
 * when the directory exists (or another install wins a race) and `replace` is false.
 */
export function writeKernelDir(
  kernelsDir: string,
  dirName: string,
  files: readonly KernelFile[],
  replace: boolean,
): string {
  const dest = kernelDirPath(kernelsDir, dirName);
  Deno.mkdirSync(kernelsDir, { recursive: true });
  const parent = stagingParent(kernelsDir);
  sweepStaleStaging(parent);
  const staging = join(parent, tempName("new"));
  Deno.mkdirSync(staging, { mode: 0o755 });
  try {
    for (const f of files) {
      const path = join(staging, f.name);
      if (typeof f.content === "string") {
        Deno.writeTextFileSync(path, f.content, { mode: f.mode });
      } else Deno.writeFileSync(path, f.content, { mode: f.mode });
      Deno.chmodSync(path, f.mode);
    }
    Deno.chmodSync(staging, 0o755);
    moveIntoPlace(staging, dest, parent, replace);
    return dest;
  } finally {
    tryDo(() => Deno.removeSync(staging, { recursive: true }));
  }
}

/** How often a replacing install moves aside a kernel another install put in place meanwhile. */
const REPLACE_TRIES = 20;

/**
 * Renames `staging` to `dest`. Without `replace`, a `dest` that exists (or that another install
 * creates first) is {@link KernelExists}. With it, whatever is at `dest` is moved aside first,
 * and again if another replacing install puts its own there meanwhile: the last one to rename
 * wins and none fails for the race. What was moved aside is deleted once the new kernel is in
 * place, or the last of it put back when the rename fails for another reason.
 */
function moveIntoPlace(staging: string, dest: string, parent: string, replace: boolean): void {
  const aside: string[] = [];
  for (let attempt = 1;; attempt++) {
    if (exists(dest)) {
      if (!replace) throw new KernelExists(dest);
      const old = join(parent, tempName("old"));
      try {
        Deno.renameSync(dest, old);
        aside.push(old);
      } catch (e) {
        // Another replacing install moved it first.
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    try {
      Deno.renameSync(staging, dest);
      break;
    } catch (e) {
      const taken = e instanceof Deno.errors.AlreadyExists || /not empty|exists/i.test(String(e));
      if (taken && replace && attempt < REPLACE_TRIES) continue;
      const last = aside.pop();
      if (last) tryDo(() => Deno.renameSync(last, dest));
      for (const old of aside) tryDo(() => Deno.removeSync(old, { recursive: true }));
      if (taken) throw new KernelExists(dest);
      throw e;
    }
  }
  for (const old of aside) tryDo(() => Deno.removeSync(old, { recursive: true }));
}

function tryDo(action: () => void): void {
  try {
    action();
  } catch {
    // Best effort: the caller has already decided what matters.
  }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Removes staging directories left by an install that was killed more than an hour ago. */
function sweepStaleStaging(parent: string): void {
  const cutoff = Date.now() - 3600_000;
  try {
    for (const e of Deno.readDirSync(parent)) {
      if (!e.name.startsWith(".legate-jupyter-")) continue;
      const path = join(parent, e.name);
      const info = Deno.lstatSync(path);
      if (info.mtime && info.mtime.getTime() < cutoff) {
        tryDo(() => Deno.removeSync(path, { recursive: true }));
      }
    }
  } catch {
    // Nothing to sweep.
  }
}

/** Why a kernel directory could not be removed; nothing of it was deleted. */
export class RemoveRefused extends Error {
  override name = "RemoveRefused";
}

/**
 * Removes a kernel directory, all or nothing: it is first renamed into a fresh trash directory
 * beside it (in the same kernels directory, so on the same file system), which takes it out
 * of Jupyter's view in one step, and only then deleted. When the trash cannot be made or the
 * rename is refused, nothing is deleted and {@link RemoveRefused} says which permission is
 * missing. A symlinked kernel loses only its link, as with Jupyter. Returns the path of a
 * trash directory that could not be deleted in full (out of Jupyter's view), if any.
 */
export function removeKernelDir(resourceDir: string): string | undefined {
  const kernelsDir = dirname(resourceDir);
  kernelDirPath(kernelsDir, basename(resourceDir));
  const info = Deno.lstatSync(resourceDir);
  const refused = (what: string, e: unknown): never => {
    const code = (e as { code?: string }).code;
    if (code === "EACCES" || code === "EPERM") {
      throw new RemoveRefused(`no permission to ${what}; nothing was removed`);
    }
    if (code === "EROFS") {
      throw new RemoveRefused(`${kernelsDir} is on a read-only file system; nothing was removed`);
    }
    throw e;
  };
  if (info.isSymlink) {
    try {
      Deno.removeSync(resourceDir);
    } catch (e) {
      refused(`remove the link from ${kernelsDir}`, e);
    }
    return undefined;
  }
  const trash = join(kernelsDir, tempName("trash"));
  try {
    Deno.mkdirSync(trash, { mode: 0o700 });
  } catch (e) {
    refused(`create a directory in ${kernelsDir}`, e);
  }
  try {
    Deno.renameSync(resourceDir, join(trash, basename(resourceDir)));
  } catch (e) {
    tryDo(() => Deno.removeSync(trash));
    // Moving a directory to another parent rewrites its '..': it must be writable itself.
    refused(`move it out of ${kernelsDir} (both must be writable)`, e);
  }
  try {
    Deno.removeSync(trash, { recursive: true });
    return undefined;
  } catch {
    return trash;
  }
}

/**
 * Why Jupyter skips the directory `resourceDir` (its `kernel.json` is missing, or not a
 * regular file: a directory, a symlink loop, a FIFO), or undefined when it holds a kernel.
 * Nothing in it is read.
 */
export function skippedBecause(resourceDir: string): string | undefined {
  const spec = join(resourceDir, "kernel.json");
  if (isFile(spec)) return undefined;
  return exists(spec) ? "its kernel.json is not a file" : "it has no kernel.json";
}

/**
 * Kernel directories named `name` (case-insensitive) that Jupyter does not list (see
 * {@link skippedBecause}): an interrupted copy, a hand-made directory. `remove` cleans them
 * up, and `install` refuses to write over one without --replace.
 */
export function findBrokenKernelDirs(dirs: readonly string[], name: string): string[] {
  const key = name.toLowerCase();
  return [...subdirsIn(dirs)]
    .filter((d) => d.key === key && skippedBecause(d.resourceDir) !== undefined)
    .map((d) => d.resourceDir);
}

/**
 * Every directory in `dirs` that Jupyter skips (see {@link skippedBecause}) and that no kernel
 * of the same name shadows, for `list` to show: one of these is why `install NAME` refuses.
 * Hidden directories (this tool's own trash among them) are not kernels anyone named.
 */
export function listSkippedDirs(
  dirs: readonly string[],
): { name: string; resourceDir: string; why: string }[] {
  const kernels = new Set([...kernelDirsIn(dirs)].map((k) => k.key));
  const out: { name: string; resourceDir: string; why: string }[] = [];
  for (const d of subdirsIn(dirs)) {
    if (d.key.startsWith(".") || kernels.has(d.key)) continue;
    const why = skippedBecause(d.resourceDir);
    if (why) out.push({ name: d.key, resourceDir: d.resourceDir, why });
  }
  return out;
}
