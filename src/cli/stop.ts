/**
 * `legate-jupyter stop ID|--all`: stops servers `notebook`/`lab` started. On this node: the
 * supervising `legate-jupyter` is asked to stop (it shuts Jupyter and its kernels down); if it
 * is gone, Jupyter gets SIGTERM, then SIGKILL after a bound, and leftover kernels are ended.
 * On another node sharing the home: a stop request file that the supervisor watches.
 * @module
 */

import { type Command, programName } from "./command.ts";
import { Failure, UsageError } from "./errors.ts";
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
    "its id will do), with its kernels, and removes its entry. Servers on other nodes sharing " +
    "the home directory are asked to stop through the state directory.",
  flags: [{ name: "all", short: "a", type: "boolean", help: "Stop every recorded server" }],
  examples: ["legate-jupyter stop 1a2b3c4d", "legate-jupyter stop --all"],
  async run(parsed, ctx) {
    const state = await import("../state/servers.ts");
    const dir = state.currentStateDir();
    const program = programName(ctx.self);
    const all = parsed.values.all as boolean;
    const id = parsed.positionals[0];
    if (all && id) throw new UsageError("give an ID or --all, not both");
    if (!all && !id) {
      throw new UsageError(`which server? give its ID (see '${program} servers') or --all`);
    }
    const stored = await state.readServers(dir);
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
  const state = await import("../state/servers.ts");
  const proc = await import("../jupyter/process.ts");
  const { sameHost } = await import("../jupyter/connect.ts");
  if (!sameHost(r.host, Deno.hostname())) {
    // A server lives no longer than its batch job, and the scheduler says at once when that
    // has ended: no stop request to wait on then.
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
  const server = { pid: r.pid, ppid: 0, start: r.pidStart ?? 0 };
  const serverAlive = await proc.pidAlive(r.pid, r.pidStart);
  const supervisorAlive = r.supervisorPid !== Deno.pid &&
    await proc.pidAlive(r.supervisorPid, r.supervisorStart);
  if (!serverAlive) {
    if (supervisorAlive) proc.signalQuiet(r.supervisorPid, "SIGTERM");
    await state.removeServer(dir, r.id);
    return " (it had already exited)";
  }
  // The kernels, found before anything is signalled: they outlive a killed server.
  const family = proc.descendantsOf(proc.allProcs(), r.pid);
  for (const k of proc.kernelsOf(r.pid, r.pidStart ?? 0)) {
    if (!family.some((p) => p.pid === k.pid)) family.push(k);
  }
  if (supervisorAlive) {
    // The supervisor forwards SIGTERM to Jupyter, waits for its kernels, and removes the entry.
    proc.signalQuiet(r.supervisorPid, "SIGTERM");
    const left = await proc.waitGone([server], GRACE_MS);
    if (left.length === 0) {
      await proc.terminate(family, 5000);
      await proc.waitGone(
        [{ pid: r.supervisorPid, ppid: 0, start: r.supervisorStart ?? 0 }],
        10_000,
      );
      await state.removeServer(dir, r.id);
      return "";
    }
  } else {
    if (!proc.signalQuiet(-r.pid, "SIGTERM")) proc.signalQuiet(r.pid, "SIGTERM");
  }
  const left = await proc.waitGone([server], GRACE_MS);
  if (left.length) {
    if (!proc.signalQuiet(-r.pid, "SIGKILL")) proc.signalQuiet(r.pid, "SIGKILL");
    await proc.waitGone([server], 5000);
  }
  await proc.terminate(family, 5000);
  await state.removeServer(dir, r.id);
  return left.length ? " (killed: it did not shut down in time)" : "";
}
