/**
 * Stopping a recorded server, wherever it runs. On this node: the supervising
 * `legate-jupyter` is asked to stop (it shuts Jupyter and its kernels down); if it is gone,
 * Jupyter gets SIGTERM, then SIGKILL after a bound, and leftover kernels are ended. On another
 * node sharing the home: a stop request file that the supervisor watches.
 *
 * Nothing is signalled on an entry's word alone: each PID passes the checks of
 * `src/state/trust.ts` first (owner, start time, command line), only single processes are
 * signalled (never a process group), and an entry whose PID fails them is forgotten without
 * any signal.
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { ServerRecord } from "../state/servers.ts";
import * as proc from "../os/proc.ts";
import * as state from "../state/servers.ts";
import { sameHost } from "../os/hosts.ts";
import { describeProblem } from "../os/private.ts";
import { heartbeatStale, jobEnded } from "../state/liveness.ts";
import { fsNow } from "../util/fs_clock.ts";
import { descendsFrom, verifyJupyter, verifySupervisor } from "../state/status.ts";
import { runsAsSelf } from "../state/trust.ts";

const GRACE_MS = 20_000;

/**
 * The servers `stop` acts on, recorded in this user's state dir: the one whose id starts with
 * `id`, or every one (`id` undefined). A prefix that matches none or several is a usage error;
 * files that are not entries this tool wrote go to `warn`, in words.
 */
export async function stopTargets(
  id: string | undefined,
  program: string,
  warn: (line: string) => void,
): Promise<{ dir: string; targets: ServerRecord[] }> {
  const dir = state.currentStateDir();
  const stored = await state.readServers(dir, { onProblem: (p) => warn(describeProblem(p)) });
  let targets = stored.map((s) => s.record);
  if (id) {
    targets = targets.filter((r) => r.id.startsWith(id.toLowerCase()));
    if (targets.length === 0) {
      throw new UsageError(`no server with id '${id}'; '${program} servers' lists them`);
    }
    if (targets.length > 1) {
      throw new UsageError(
        `'${id}' matches ${targets.map((t) => t.id).join(", ")}; give more of the id`,
      );
    }
  }
  return { dir, targets };
}

/**
 * Stops server `r` (recorded in state dir `dir`) and removes its entry; returns how, in words
 * after "Stopped ID" (empty when it simply stopped). Throws when it could not be stopped, or
 * was not signalled because its entry failed the checks (the entry is then forgotten).
 * `program` names this program in the hint for a server on another node.
 */
export async function stopServer(dir: string, r: ServerRecord, program: string): Promise<string> {
  if (!sameHost(r.host, Deno.hostname())) return await stopElsewhere(dir, r, program);
  return await stopHere(dir, r);
}

/**
 * A server on another node: its supervisor there watches for the stop request. A server lives
 * no longer than its batch job, and the scheduler says at once when that has ended: then there
 * is no request to wait on. Its supervisor refreshes the entry every few seconds: an entry whose
 * heartbeat is stale on the file system's clock, or does not move while we wait (measured on
 * this host's clock alone), has nobody left to take the request.
 */
async function stopElsewhere(dir: string, r: ServerRecord, program: string): Promise<string> {
  const gone = async () => r.jobId !== undefined && await jobEnded(r.jobId) === true;
  if (await gone()) {
    await state.removeServer(dir, r.id);
    return ` (it had already stopped: job ${r.jobId} has ended)`;
  }
  const first = await state.readServer(dir, r.id);
  if (first && heartbeatStale(first, await fsNow(state.serversDir(dir)))) {
    await state.removeServer(dir, r.id);
    return ` (it had already stopped: its entry had no heartbeat for over ${
      state.STALE_MS / 1000
    } s)`;
  }
  await state.requestStop(dir, r.id);
  const deadline = Date.now() + GRACE_MS + 10_000;
  const beat = { at: first?.heartbeat?.getTime(), seen: Date.now() };
  for (let i = 1; Date.now() < deadline; i++) {
    const now = await state.readServer(dir, r.id);
    if (!now) return " (by request through the state dir)";
    const at = now.heartbeat?.getTime();
    if (at !== beat.at) Object.assign(beat, { at, seen: Date.now() });
    if (Date.now() - beat.seen > 2 * state.HEARTBEAT_MS) {
      await state.removeServer(dir, r.id);
      return ` (its legate-jupyter on ${r.host} had stopped: no heartbeat for ${
        Math.round((Date.now() - beat.seen) / 1000)
      } s)`;
    }
    if (i % 5 === 0 && await gone()) {
      await state.removeServer(dir, r.id);
      return ` (its job ${r.jobId} ended)`;
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  await Deno.remove(state.stopFile(dir, r.id)).catch(() => {});
  throw new Error(
    `it runs on ${r.host} and did not stop within ${(GRACE_MS + 10_000) / 1000}s; run ` +
      `'${program} stop ${r.id}' on ${r.host}${r.jobId ? ` or cancel job ${r.jobId}` : ""}`,
  );
}

/**
 * A server on this node. Its supervisor, when verified, is asked first (it stops Jupyter and
 * its kernels and removes the entry); a verified Jupyter left running is then signalled itself,
 * and its children and kernels (found before any signal: they outlive a killed server) after.
 */
async function stopHere(dir: string, r: ServerRecord): Promise<string> {
  const jupyter = verifyJupyter(r);
  if (jupyter.kind === "refused") {
    await state.removeServer(dir, r.id);
    throw new Error(`not signalled: ${jupyter.reason}; its entry was removed`);
  }
  const server = jupyter.kind === "verified" ? [jupyter.proc] : [];
  const family = server.flatMap((p) => {
    const procs = proc.descendantsOf(proc.allProcs(), p.pid);
    for (const k of proc.kernelsOf(p.pid, p.start)) {
      if (!procs.some((q) => q.pid === k.pid)) procs.push(k);
    }
    // Root can read every process's environment: keep to this user's own.
    return procs.filter((q) => runsAsSelf(q.pid));
  });
  const supervisor = verifySupervisor(r);
  if (supervisor.kind === "verified") {
    // The request is bound to this entry's id; the signal goes only to the legate-jupyter
    // whose child the verified Jupyter is.
    await state.requestStop(dir, r.id);
    if (jupyter.kind === "verified" && descendsFrom(jupyter.proc.pid, supervisor.proc.pid)) {
      proc.signalQuiet(supervisor.proc.pid, "SIGTERM");
    }
    await proc.waitGone([supervisor.proc], GRACE_MS);
  }
  let killed = false;
  if ((await proc.waitGone(server, 0)).length) {
    proc.signalQuiet(server[0].pid, "SIGTERM");
    if ((await proc.waitGone(server, GRACE_MS)).length) {
      killed = true;
      proc.signalQuiet(server[0].pid, "SIGKILL");
      await proc.waitGone(server, 5000);
    }
  }
  await proc.terminate(family, 5000);
  await state.removeServer(dir, r.id);
  if (jupyter.kind === "gone") return " (it had already exited)";
  return killed ? " (killed: it did not shut down in time)" : "";
}
