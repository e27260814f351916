/**
 * Private files and directories: what the tool writes that holds a token (state entries, job
 * records, Jupyter's configuration and logs, the browser's redirect file) is written 0600,
 * atomically, in directories 0700 that are the user's own; and what it reads back is believed
 * only when it still is. Shared ground: `state/` (server entries), `scheduler/` (job records),
 * `jupyter/` (its configuration) and `connect/` all keep files this way, with the same checks.
 * The rules are set out in `src/state/README.md`.
 * @module
 */

import { Failure } from "../util/errors.ts";
import { currentSelf, type Self } from "./proc.ts";

/** A file the readers dropped, and why: reported once, with its path. */
export interface StateProblem {
  readonly path: string;
  readonly problem: string;
}

/** The one line a command prints for a dropped file. */
export function describeProblem(p: StateProblem): string {
  return `ignoring ${p.path}: ${p.problem}`;
}

/** Options of the readers: where dropped files are reported. */
export interface ReadOptions {
  /** Called once for each file that is dropped, with its path and why. */
  readonly onProblem?: (problem: StateProblem) => void;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

/**
 * Why an entry file must not be believed, or undefined when it may be read: it must be a
 * regular file (not a link) owned by this user, readable and writable by no one else — which
 * is how this tool writes every entry.
 */
export function entryProblem(info: Deno.FileInfo, self: Self = currentSelf()): string | undefined {
  if (info.isSymlink) return "a symbolic link, not an entry this tool wrote";
  if (!info.isFile) return "not a regular file";
  if (info.uid !== null && info.uid !== self.uid) {
    return `owned by uid ${info.uid}, not by you (uid ${self.uid}); this tool never acts on it`;
  }
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    return `mode ${octal(info.mode)}, not 0600: this tool did not write it as it is`;
  }
  return undefined;
}

/**
 * Checks a state directory (which exists) before anything in it is believed: it must be a
 * directory owned by this user and writable by no one else, or a {@link Failure} names the
 * problem and the fix. One that is ours but readable by others (an old umask) is tightened to
 * 0700, since the files in it hold tokens.
 */
export async function checkPrivateDir(path: string, self: Self = currentSelf()): Promise<void> {
  const info = await Deno.stat(path);
  if (!info.isDirectory) {
    throw new Failure(`${path} is not a directory; move it away so that the tool can create it`);
  }
  if (info.uid !== null && info.uid !== self.uid) {
    throw new Failure(
      `refusing to use ${path}: it belongs to uid ${info.uid}, not to you (uid ${self.uid}), so ` +
        "its entries could be anyone's; set XDG_STATE_HOME to a directory of your own",
    );
  }
  if (info.mode === null) return;
  if ((info.mode & 0o022) !== 0) {
    throw new Failure(
      `refusing to use ${path}: others may write in it (mode ${octal(info.mode)}), so its ` +
        `entries could be anyone's; check what is in it, then run 'chmod 700 ${path}'`,
    );
  }
  if ((info.mode & 0o077) !== 0) await Deno.chmod(path, 0o700);
}

/**
 * Creates `path` (and parents) 0700 and checks it (see {@link checkPrivateDir}): a directory
 * that belongs to someone else, or that others may write in, is refused with one line; one of
 * ours created looser (by an old umask, say) is tightened, because the files in it hold tokens.
 */
export async function ensurePrivateDir(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true, mode: 0o700 });
  await checkPrivateDir(path);
}

/**
 * Checks a private directory that may not exist (readers do not create it): false when it is
 * absent, true when it exists and passes {@link checkPrivateDir}.
 */
export async function privateDirExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
    throw e;
  }
  await checkPrivateDir(path);
  return true;
}

/**
 * Reads a private JSON state file: undefined when it is gone (removed between listing and
 * reading), else its parsed JSON or the reason it must not be believed (wrong owner or mode,
 * not JSON).
 */
export async function readPrivateJson(
  path: string,
): Promise<{ value: unknown } | { problem: string } | undefined> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch {
    return undefined;
  }
  const bad = entryProblem(info, currentSelf());
  if (bad) return { problem: bad };
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    return { problem: `cannot be read (${(e as Error).message})` };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { problem: `not JSON (${(e as Error).message.split("\n")[0]})` };
  }
}

/** Writes `text` to `path` with mode 0600, atomically: a temp file beside it, then rename. */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeTextFile(tmp, text, { mode: 0o600, createNew: true });
    await Deno.chmod(tmp, 0o600);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
