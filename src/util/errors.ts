/**
 * The two ways a command fails. `mod.ts` turns either into one line on stderr and an exit
 * code; anything else escaping a command is a bug and is reported as such, still without a
 * stack trace unless `LEGATE_JUPYTER_DEBUG` is set.
 * @module
 */

/** Bad input from the user: exit code 2. The message names the problem and the fix. */
export class UsageError extends Error {
  override name = "UsageError";
  readonly exitCode = 2;
}

/** The command could not do its work: exit code 1. */
export class Failure extends Error {
  override name = "Failure";
  readonly exitCode: number;
  /** `raw` marks a message printed as is, without the `legate-jupyter: error:` prefix. */
  readonly raw: boolean;
  constructor(message: string, options: { exitCode?: number; raw?: boolean } = {}) {
    super(message);
    this.exitCode = options.exitCode ?? 1;
    this.raw = options.raw ?? false;
  }
}
