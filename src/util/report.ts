/**
 * What the user is told of an error, wherever it surfaces (this process's stderr, or the
 * laptop through `connect`): usage errors exit 2, failures their own code, file-system errors
 * are explained by cause, and anything else is a bug.
 * @module
 */

import { Failure, UsageError } from "./errors.ts";
import { explainFsError, fsCause } from "./fs_errors.ts";
import { startCause, startProblem } from "./start_error.ts";

/** An error as reported: one line, and the exit code it stands for. */
export interface ErrorReport {
  readonly message: string;
  readonly exitCode: number;
  /** Print `message` as it is (a scheduler's own words), without the program's prefix. */
  readonly raw: boolean;
  /** Not an error the program foresaw: worth a report. */
  readonly bug: boolean;
}

/** Another way out of a file-system error, from where it happened. */
function placeHint(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  if (/\/legate-jupyter(\/|$)/.test(path)) {
    return "or set XDG_STATE_HOME to another directory of yours";
  }
  if (/\/kernels(\/|$)/.test(path)) return "or install elsewhere with --prefix DIR";
  return undefined;
}

/** How `error` is reported. */
export function reportOf(error: unknown): ErrorReport {
  const plain = (message: string, exitCode = 1) => ({ message, exitCode, raw: false, bug: false });
  if (error instanceof UsageError) return plain(error.message, 2);
  if (error instanceof Failure) {
    return { message: error.message, exitCode: error.exitCode, raw: error.raw, bug: false };
  }
  const start = startCause(error);
  if (start) {
    const program = /Failed to spawn '([^']*)'/.exec((error as Error).message)?.[1] ?? "a program";
    return plain(
      startProblem(program, start) ??
        `'${program}' was not found: install it, or put the directory that holds it on PATH`,
    );
  }
  const fs = fsCause(error);
  if (fs) return plain(explainFsError(error, placeHint(fs.path))!);
  if (error instanceof Deno.errors.PermissionDenied) {
    return plain(`permission denied: ${(error as Error).message}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return { message, exitCode: 1, raw: false, bug: true };
}
