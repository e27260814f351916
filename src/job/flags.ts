/**
 * What `submit`'s flag table (`src/cli/submit.ts`) and the job's plan (`plan.ts`) share: which
 * `notebook` flags go on to the job, and the kernel `--auto-kernel` installs. Kept apart from
 * the plan so that declaring the flags loads nothing else.
 * @module
 */

/** The kernel name `--auto-kernel` installs when `--kernel` does not name one. */
export const AUTO_KERNEL_NAME = "legate-auto";

/**
 * `notebook` flags that `submit` forwards to the job; the others mean something only to a
 * terminal that watches the server (--json, --open) or are `submit`'s own (--timeout).
 */
export const FORWARDED: readonly string[] = [
  "port",
  "ip",
  "notebook-dir",
  "jupyter",
  "kernel",
  "verbose",
  "login-host",
];
