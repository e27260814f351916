/**
 * `legate-jupyter stop ID|--all`: stops servers `notebook`/`lab` started, each as
 * `src/server/stop.ts` does (their supervisor asked first, every PID checked before a signal),
 * and says how each one stopped.
 * @module
 */

import type { Command } from "./command.ts";
import { programName } from "./program.ts";
import { Failure, UsageError } from "../util/errors.ts";
import { lazy } from "../util/lazy.ts";

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
    const program = programName(ctx.self);
    const all = parsed.values.all as boolean;
    const id = parsed.positionals[0];
    if (all && id) throw new UsageError("give an ID or --all, not both");
    if (!all && !id) {
      throw new UsageError(`which server? give its ID (see '${program} servers') or --all`);
    }
    const stopper = await lazy<typeof import("../server/stop.ts")>("server/stop.ts");
    const { dir, targets } = await stopper.stopTargets(id, program, (l) => ctx.out.warn(l));
    if (targets.length === 0) {
      ctx.out.info("No Jupyter servers recorded.");
      return 0;
    }
    const failures: string[] = [];
    await Promise.all(targets.map(async (r) => {
      try {
        const how = await stopper.stopServer(dir, r, program);
        ctx.out.info(`Stopped ${r.id} (${r.app} on ${r.host}:${r.port})${how}`);
      } catch (e) {
        failures.push(`${r.id}: ${(e as Error).message}`);
      }
    }));
    if (failures.length) throw new Failure(failures.join("; "));
    return 0;
  },
};
