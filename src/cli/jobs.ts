/**
 * `legate-jupyter jobs`: the batch jobs `submit` recorded, as the scheduler sees them now,
 * joined with the servers they run: state, node, time left, URL and tunnel. Records of jobs
 * that have ended are reported once and then forgotten. The listing is `src/job/list.ts`, its
 * text `src/job/render.ts`.
 * @module
 */

import type { Command } from "./command.ts";
import { programName } from "./program.ts";
import { lazy } from "../util/lazy.ts";

/** `legate-jupyter jobs`. */
export const command: Command = {
  name: "jobs",
  summary: "List the Jupyter jobs this tool submitted: state, node, time left, URL, tunnel",
  usage: "jobs [--json]",
  description: "Lists the batch jobs 'submit' recorded in ~/.local/state/legate-jupyter, with " +
    "the scheduler's state for each (the reason and start estimate while queued; node and " +
    "time left while running), the URL of the Jupyter server it runs and the SSH command " +
    "that tunnels to it. A job whose time is nearly up is flagged. Jobs that have ended are " +
    "shown once, then forgotten.",
  flags: [
    { name: "json", type: "boolean", help: "Print a JSON array" },
    {
      name: "login-host",
      type: "string",
      metavar: "HOST",
      group: "Tunnel",
      help: "Login node your laptop reaches (default: the node each job was submitted from)",
    },
  ],
  examples: ["legate-jupyter jobs", "legate-jupyter jobs --json"],
  async run(parsed, ctx) {
    const { listJobs } = await lazy<typeof import("../job/list.ts")>("job/list.ts");
    const { views, ended } = await listJobs((line) => ctx.out.warn(line));
    const loginHost = parsed.values["login-host"] as string | undefined;
    if (views.length === 0 && !parsed.values.json) {
      ctx.out.info(
        `No Jupyter jobs (submit one with '${programName(ctx.self)} submit').`,
      );
      return 0;
    }
    // What prints jobs (the table, the tunnels) is loaded only when there is something to print.
    const render = await lazy<typeof import("../job/render.ts")>("job/render.ts");
    if (parsed.values.json) {
      ctx.out.print(JSON.stringify(render.jobsJson(views, loginHost), null, 2));
      return 0;
    }
    for (const line of render.jobsTable(views)) ctx.out.print(line);
    for (const line of render.tunnelLines(views, loginHost)) ctx.out.print(line);
    for (const w of render.endingWarnings(views)) ctx.out.warn(w);
    const forgot = render.forgotNote(ended);
    if (forgot) ctx.out.note(forgot);
    return 0;
  },
};
