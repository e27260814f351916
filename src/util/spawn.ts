/**
 * Starting a program that must outlive this short-lived process: a browser, or the server
 * `connect --here` leaves on the login node.
 * @module
 */

/**
 * Starts `argv` in a session of its own (setsid), with no standard streams, and without
 * holding this process open: a Ctrl-C or a closed terminal of ours never reaches it, and none
 * of our pipes is held by it. `env` is added to this process's environment. Throws when
 * the program cannot be started (not installed).
 */
export function spawnDetached(
  argv: readonly string[],
  env?: Record<string, string>,
): Deno.ChildProcess {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  child.unref();
  return child;
}
