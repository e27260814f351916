/**
 * `connect --here` (and a login node with no batch scheduler): Jupyter started on the login
 * node itself by this program's `notebook` (or `lab`), detached from the SSH session that
 * asked for it, so that it outlives the connection as a job would.
 * @module
 */

import { Failure, UsageError } from "../util/errors.ts";
import type { Parsed } from "../util/flag_spec.ts";
import { spawnDetached } from "../util/spawn.ts";
import { SCHEDULER_FLAGS } from "../scheduler/flags.ts";
import { currentStateDir, ensureStateDir, logsDir, newServerId } from "../state/servers.ts";
import { writePrivateFile } from "../os/private.ts";

/** `submit` flags that only mean something for a batch job (refused with `--here`). */
const JOB_ONLY = ["auto-kernel", "install-arg", "output"];

/** `notebook` flags passed on to the `--here` server as given. */
const HERE_FORWARDED = ["port", "ip", "notebook-dir", "jupyter", "kernel", "verbose"];

/**
 * Checks `submit`'s flags for a server here and starts it: `notebook --json` (or `lab`) in a
 * session of its own, its output to a private log in the state dir. Throws
 * {@link UsageError} for a flag that needs a batch job. The server's entry appears in `dir`
 * once it is ready, with `child.pid` as its supervisor.
 */
export async function spawnServerHere(
  self: readonly string[],
  parsed: Parsed,
): Promise<{ child: Deno.ChildProcess; dir: string; log: string }> {
  refuseJobFlags(parsed);
  const dir = await ensureStateDir(currentStateDir());
  const argv = hereArgv(self, parsed);
  const log = `${logsDir(dir)}/connect-${newServerId()}.log`;
  await writePrivateFile(log, "");
  // Detached, its output to a file: the server must outlive this SSH session, and nothing
  // of it may hold the session's pipes.
  const child = spawnDetached(
    ["/bin/sh", "-c", 'exec "$@" >>"$LJ_CONNECT_LOG" 2>&1', "sh", ...argv],
    { LJ_CONNECT_LOG: log },
  );
  return { child, dir, log };
}

/** `--here` runs no batch job: its flags are refused, naming the first. */
function refuseJobFlags(parsed: Parsed): void {
  const scheduling = [...parsed.given].filter((n) =>
    SCHEDULER_FLAGS.some((f) => f.name === n && n !== "scheduler") || JOB_ONLY.includes(n)
  );
  if (scheduling.length) {
    throw new UsageError(
      `--${scheduling[0]} is for a batch job; the server runs on the login node here ` +
        "(--here, or no scheduler): leave it out",
    );
  }
}

/** The `notebook` (or `lab`) command line of a `--here` server, from `submit`'s flags. */
function hereArgv(self: readonly string[], parsed: Parsed): string[] {
  const v = parsed.values;
  const argv = [...self, v.lab ? "lab" : "notebook", "--json"];
  for (const name of HERE_FORWARDED) {
    if (!parsed.given.has(name)) continue;
    argv.push(v[name] === true ? `--${name}` : `--${name}=${v[name]}`);
  }
  if (parsed.given.has("server-timeout")) argv.push(`--timeout=${v["server-timeout"]}`);
  if (parsed.rest.length) argv.push("--", ...parsed.rest);
  return argv;
}

/** Why the `--here` server did not start: its exit status and its own error, or its log. */
export async function hereFailure(code: number, log: string): Promise<Failure> {
  const text = (await Deno.readTextFile(log).catch(() => "")).trim();
  await Deno.remove(log).catch(() => {});
  const ours = text.lastIndexOf("legate-jupyter: error:");
  return new Failure(
    `Jupyter did not start on ${Deno.hostname()} (exit status ${code})` +
      (text ? `:\n${(ours >= 0 ? text.slice(ours) : text).replace(/^/gm, "  | ")}` : ""),
  );
}
