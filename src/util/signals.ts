/**
 * The signals a long-running command treats as "stop": shared by the commands and by the
 * areas that run their sessions (`connect`'s), so that all of them stop on the same ones.
 * @module
 */

/** The signals that ask a long-running command to stop: Ctrl-C, `kill`, a closed terminal. */
export const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];
