/**
 * File-system errors by cause: a full disk, a missing permission, a read-only file system or
 * a name too long each become one line that names the path, the cause and the fix, instead
 * of "an unexpected error".
 * @module
 */

/** What a file-system error was about. */
export interface FsCause {
  /** The errno name: `ENOSPC`, `EACCES`... */
  readonly code: string;
  /** The cause in words. */
  readonly cause: string;
  /** What was being done: `write`, `create`, `rename`... */
  readonly action: string;
  /** The path the error names (a temporary file's shown as the file it was for). */
  readonly path?: string;
}

const CAUSES: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on its file system",
  EDQUOT: "your disk quota there is used up",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "its file system is read-only",
  ENAMETOOLONG: "the name is too long for the file system",
};

const ACTIONS: Readonly<Record<string, string>> = {
  mkdir: "create",
  open: "write",
  writefile: "write",
  write: "write",
  copy: "write",
  rename: "move",
  remove: "remove",
  chmod: "change the mode of",
  symlink: "create",
};

/** The cause of `e` when it is one of the file-system errors above; undefined otherwise. */
export function fsCause(e: unknown): FsCause | undefined {
  if (!(e instanceof Error)) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== "string" || !(code in CAUSES)) return undefined;
  // Deno's messages end with `: OP 'PATH'` (or `'FROM' -> 'TO'`).
  const m = /: (\w+) '([^']*)'/.exec(e.message);
  const path = m?.[2].replace(/\.tmp-\d+-[0-9a-f]+$/, "");
  return { code, cause: CAUSES[code], action: ACTIONS[m?.[1] ?? ""] ?? "use", path };
}

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

/** The usual way out for each cause, at `path`. */
function defaultFix(c: FsCause): string {
  const dir = c.path ? parentOf(c.path) : "the directory";
  switch (c.code) {
    case "ENOSPC":
    case "EDQUOT":
      return `free some space there (df -h ${dir})`;
    case "EROFS":
      return "choose a place on a writable file system";
    case "ENAMETOOLONG":
      return "choose a shorter name or path";
    default:
      return `check who owns ${dir} and its mode (ls -ld ${dir})`;
  }
}

/**
 * One line for a file-system error: `cannot write PATH: no space left on its file system;
 * free some space there (df -h DIR)`, with `where` (another way out, such as "or set
 * XDG_STATE_HOME to another directory") appended. Undefined when `e` is not one of them.
 */
export function explainFsError(e: unknown, where?: string): string | undefined {
  const c = fsCause(e);
  if (!c) return undefined;
  const what = c.path ? `${c.action} ${c.path}` : c.action;
  return `cannot ${what}: ${c.cause}; ${defaultFix(c)}${where ? `, ${where}` : ""}`;
}
