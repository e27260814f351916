/**
 * `legate-jupyter stop ID|--all`: stops servers `notebook`/`lab` started. On this node: the
 * supervising `legate-jupyter` is asked to stop (it shuts Jupyter and its kernels down); if it
 * is gone, Jupyter gets SIGTERM, then SIGKILL after a bound, and leftover kernels are ended.
 * On another node sharing the home: a stop request file that the supervisor watches.
 *
 * Nothing is signalled on an entry's word alone: each PID passes the checks of
 * `src/state/trust.ts` first (owner, start time, command line), only single processes are
 * signalled (never a process group), and an entry whose PID fails them is forgotten without
 * any signal.
 * @module
 */

import { type Command, programName } from "./command.ts";
import { Failure, UsageError } from "../util/errors.ts";
import type { ServerRecord } from "../state/servers.ts";

const GRACE_MS = 20_000;

/** `legate-jupyter stop`. */
export const command: Command = {
  name: "stop",
  summary: "Stop Jupyter servers this tool started (by id, or --all)",
  usage: "stop ID | --all",
  positionals: "ID",
  maxPositionals: 1,
  description: "Stops a server listed by 'legate-jupyter servers' (an unambiguous prefix of " +
    "its id will do), with its kernels, and removes its entry; a server still starting, or " +
    "orphaned by a killed legate-jupyter, is stopped too. Servers on other nodes sharing the " +
    "home directory are asked to stop through the state directory. A process is signalled " +
    "only once it is checked to be the Jupyter the entry names, run by you and started when " +
    "the entry says; an entry that fails the check is forgotten, nothing is signalled, and " +
    "the command exits 1.",
  flags: [{ name: "all", short: "a", type: "boolean", help: "Stop every recorded server" }],
  examples: ["legate-jupyter stop 1a2b3c4d", "legate-jupyter stop --all"],
  async run(parsed, ctx) {
    const state = await import("../state/servers.ts");
    const { describeProblem } = await import("../os/private.ts");
    const dir = state.currentStateDir();
    const program = programName(ctx.self);
    const all = parsed.values.all as boolean;
    const id = parsed.positionals[0];
    if (all && id) throw new UsageError("give an ID or --all, not both");
    if (!all && !id) {
      throw new UsageError(`which server? give its ID (see '${program} servers') or --all`);
    }
    const stored = await state.readServers(dir, {
      onProblem: (p) => ctx.out.warn(describeProblem(p)),
    });
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
    if (targets.length === 0) {
      ctx.out.info("No Jupyter servers recorded.");
      return 0;
    }
    const failures: string[] = [];
    await Promise.all(targets.map(async (r) => {
      try {
        const how = await stopOne(dir, r, program);
        ctx.out.info(`Stopped ${r.id} (${r.app} on ${r.host}:${r.port})${how}`);
      } catch (e) {
        failures.push(`${r.id}: ${(e as Error).message}`);
      }
    }));
    if (failures.length) throw new Failure(failures.join("; "));
    return 0;
  },
};

async function stopOne(dir: string, r: ServerRecord, program: string): Promise<string> {
  const { sameHost } = await import("../os/hosts.ts");
  if (!sameHost(r.host, Deno.hostname())) return await stopElsewhere(dir, r, program);
  return await stopHere(dir, r);
}

/**
 * A server on another node: its supervisor there watches for the stop request. A server lives
 * no longer than its batch job, and the scheduler says at once when that has ended: then there
 * is no request to wait on.
 */
async function stopElsewhere(dir: string, r: ServerRecord, program: string): Promise<string> {
  const state = await import("../state/servers.ts");
  const { jobEnded } = await import("../state/liveness.ts");
  const gone = async () => r.jobId !== undefined && await jobEnded(r.jobId) === true;
  if (await gone()) {
    await state.removeServer(dir, r.id);
    return ` (it had already stopped: job ${r.jobId} has ended)`;
  }
  await state.requestStop(dir, r.id);
  const deadline = Date.now() + GRACE_MS + 10_000;
  for (let i = 1; Date.now() < deadline; i++) {
    if (!(await state.readServer(dir, r.id))) return " (by request through the state dir)";
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
  const state = await import("../state/servers.ts");
  const proc = await import("../os/proc.ts");
  const { verifyJupyter, verifySupervisor, descendsFrom } = await import("../state/status.ts");
  const { runsAsSelf } = await import("../state/trust.ts");
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
