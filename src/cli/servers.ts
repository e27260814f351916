/**
 * `legate-jupyter servers`: the servers `notebook`/`lab` started, with liveness checked;
 * entries of servers that no longer run are removed.
 * @module
 */

import { type Command, programName } from "./command.ts";

/** `legate-jupyter servers`. */
export const command: Command = {
  name: "servers",
  summary: "List the Jupyter servers this tool started, and forget dead ones",
  usage: "servers [--json]",
  description: "Lists the servers recorded in ~/.local/state/legate-jupyter (or " +
    "$XDG_STATE_HOME/legate-jupyter), on this node and on others sharing the home directory. " +
    "A server on this node is alive when its process is; one on another node when it answers " +
    "or its entry was refreshed in the last two minutes. Entries of dead servers are removed.",
  flags: [{ name: "json", type: "boolean", help: "Print a JSON array" }],
  examples: ["legate-jupyter servers", "legate-jupyter servers --json"],
  async run(parsed, ctx) {
    const state = await import("../state/servers.ts");
    const { jobsEnded, liveness } = await import("../state/liveness.ts");
    const dir = state.currentStateDir();
    const here = Deno.hostname();
    const stored = await state.readServers(dir);
    const ended = await jobsEnded(stored, here);
    const checked = await Promise.all(
      stored.map(async (s) => ({ s, l: await liveness(s, here, Date.now(), ended) })),
    );
    const alive = checked.filter((c) => c.l.state === "running");
    const dead = checked.filter((c) => c.l.state === "dead");
    for (const d of dead) await state.removeServer(dir, d.s.record.id);
    if (parsed.values.json) {
      ctx.out.print(JSON.stringify(
        alive.map((c) => ({ ...c.s.record, status: c.l.state, checked_by: c.l.how })),
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
    if (alive.length === 0) {
      ctx.out.info(
        `No Jupyter servers running (start one with '${programName(ctx.self)} notebook').`,
      );
      return 0;
    }
    const rows = [["ID", "APP", "HOST", "PORT", "PID", "STARTED", "KERNEL", "URL"]];
    for (const { s } of alive) {
      const r = s.record;
      rows.push([
        r.id,
        r.app,
        r.host,
        String(r.port),
        String(r.pid),
        r.startedAt.replace("T", " ").replace(/\.\d+Z$/, "Z"),
        r.kernel ?? "-",
        r.url,
      ]);
    }
    const { formatTable } = await import("../util/table.ts");
    for (const line of formatTable(rows)) ctx.out.print(line);
    return 0;
  },
};
