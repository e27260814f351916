/**
 * Why a program could not be started. Deno reports every failed spawn as one error, and a
 * working directory that cannot be entered reads as "not found" like a missing program; a
 * message that blamed PATH for an unreachable directory would send the user the wrong way.
 * @module
 */

/** Why `Deno.Command(...).spawn()` failed, by cause. */
export type StartCause =
  /** No such program (on PATH, or at the path given). */
  | { readonly kind: "missing" }
  /** The directory the program was to run in is gone or cannot be entered. */
  | { readonly kind: "cwd"; readonly dir: string }
  /** The program exists but may not be executed (mode, `noexec` mount). */
  | { readonly kind: "not-executable"; readonly path?: string };

/**
 * The cause of a spawn error `e`, or undefined when `e` is not one of these (then it is not
 * a start failure this module knows). `cwd` is the working directory the child was given
 * (this process's own when undefined).
 */
export function startCause(
  e: unknown,
  cwd?: string,
  pathVar: string = Deno.env.get("PATH") ?? "",
): StartCause | undefined {
  // Only Deno's own spawn errors: any other NotFound is about a file, not a program.
  const spawn = e instanceof Error ? /Failed to spawn '([^']*)'/.exec(e.message) : null;
  if (!spawn) return undefined;
  const noCwd = /No such cwd '([^']*)'/.exec((e as Error).message);
  if (noCwd) return { kind: "cwd", dir: noCwd[1] };
  const notFound = e instanceof Deno.errors.NotFound;
  if (!notFound && !(e instanceof Deno.errors.PermissionDenied)) return undefined;
  // Deno reports a directory it cannot enter as either error.
  const dir = cwd ?? currentDir();
  if (dir !== undefined && !enterable(dir)) return { kind: "cwd", dir };
  if (!notFound) return { kind: "not-executable" };
  // The PATH search passes over files that are not executable, as execvp does.
  const path = nonExecutableOnPath(spawn[1], pathVar);
  return path ? { kind: "not-executable", path } : { kind: "missing" };
}

/**
 * One clause saying why `program` did not start, for a cause other than a missing program
 * (whose message depends on where the program should have come from): undefined for that.
 */
export function startProblem(program: string, cause: StartCause): string | undefined {
  switch (cause.kind) {
    case "cwd":
      return `'${program}' could not be started: the working directory ${cause.dir} is gone or ` +
        `you may not enter it; run this from a directory you can enter, such as your home`;
    case "not-executable":
      return `'${program}' could not be started: ${cause.path ?? "it"} is not executable (its ` +
        "mode, or a file system mounted noexec); make it executable (chmod +x) or put the " +
        "right one first on PATH";
    case "missing":
      return undefined;
  }
}

function nonExecutableOnPath(program: string, pathVar: string): string | undefined {
  if (program.includes("/")) return undefined;
  for (const dir of pathVar.split(":")) {
    if (!dir) continue;
    try {
      if (Deno.statSync(`${dir}/${program}`).isFile) return `${dir}/${program}`;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

function currentDir(): string | undefined {
  try {
    return Deno.cwd();
  } catch {
    return undefined;
  }
}

function enterable(dir: string): boolean {
  try {
    // "dir/." needs search permission on dir and on every directory above it.
    Deno.statSync(`${dir}/.`);
    return true;
  } catch {
    return false;
  }
}
