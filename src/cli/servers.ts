/**
 * `legate-jupyter servers`: the servers `notebook`/`lab` started, with their state checked;
 * entries of servers that no longer run are removed. Entries that cannot be believed are
 * reported with their path and left alone. The checking is `src/server/list.ts`.
 * @module
 */

import type { Command } from "./command.ts";
import { programName } from "./program.ts";
import { formatTable } from "../util/table.ts";
import { lazy } from "../util/lazy.ts";

/** `legate-jupyter servers`. */
export const command: Command = {
  name: "servers",
  summary: "List the Jupyter servers this tool started, and forget dead ones",
  usage: "servers [--json]",
  description: "Lists the servers recorded in ~/.local/state/legate-jupyter (or " +
    "$XDG_STATE_HOME/legate-jupyter), on this node and on others sharing the home directory. " +
    "A server on this node is checked through its processes: running, starting, orphaned " +
    "(its legate-jupyter was killed; 'stop' ends it) or unverified (the entry names a process " +
    "that is not the Jupyter it claims, or records no start time: it is never signalled, and " +
    "'stop ID' forgets it). One on another node is dead once its batch job has ended; " +
    "otherwise alive when it answers or its entry was refreshed in the last 45 s (by the " +
    "file system's clock, so the nodes' clocks need not agree). Entries of dead servers are removed; files that are " +
    "not entries this tool wrote are reported and left alone.",
  flags: [{ name: "json", type: "boolean", help: "Print a JSON array" }],
  examples: ["legate-jupyter servers", "legate-jupyter servers --json"],
  async run(parsed, ctx) {
    const { checkServers } = await lazy<typeof import("../server/list.ts")>("server/list.ts");
    const program = programName(ctx.self);
    const { shown, dead } = await checkServers((line) => ctx.out.warn(line));
    if (parsed.values.json) {
      ctx.out.print(JSON.stringify(
        shown.map((c) => ({
          ...c.s.record,
          status: c.l.status,
          checked_by: c.l.how,
          ...(c.l.reason ? { reason: c.l.reason } : {}),
        })),
        null,
        2,
      ));
      return 0;
    }
    if (dead.length) {
      ctx.out.note(
        `Removed ${dead.length} entr${dead.length === 1 ? "y" : "ies"} of servers no longer ` +
          `running: ${dead.map((d) => d.s.record.id).join(", ")}`,
      );
    }
    for (const { s, l } of shown) {
      if (l.status === "unverified") {
        ctx.out.warn(
          `entry ${s.record.id} is not signalled: ${l.reason}; '${program} stop ` +
            `${s.record.id}' forgets it (${s.path})`,
        );
      }
    }
    if (shown.length === 0) {
      ctx.out.info(`No Jupyter servers running (start one with '${program} notebook').`);
      return 0;
    }
    const rows = [["ID", "APP", "HOST", "PORT", "PID", "STATE", "STARTED", "KERNEL", "URL"]];
    for (const { s, l } of shown) {
      const r = s.record;
      rows.push([
        r.id,
        r.app,
        r.host,
        String(r.port),
        String(r.pid),
        l.status,
        r.startedAt.replace("T", " ").replace(/\.\d+Z$/, "Z"),
        r.kernel ?? "-",
        r.url,
      ]);
    }
    for (const line of formatTable(rows)) ctx.out.print(line);
    const orphans = shown.filter((c) => c.l.status === "orphaned").map((c) => c.s.record.id);
    if (orphans.length) {
      ctx.out.note(
        `Orphaned: the legate-jupyter that ran ${orphans.join(", ")} is gone; end ` +
          `${orphans.length === 1 ? "it" : "them"} with '${program} stop ID'.`,
      );
    }
    return 0;
  },
};
