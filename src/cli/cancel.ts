/**
 * `legate-jupyter cancel JOBID...|--all`: cancels jobs `submit` recorded, waits until the
 * scheduler reports them ended (so that nothing is left running when it returns), and removes
 * their records and any server entry the job could not remove itself (`src/job/cancel.ts`).
 * @module
 */

import type { Command } from "./command.ts";
import { programName } from "./program.ts";
import { Failure, UsageError } from "../util/errors.ts";
import { lazy } from "../util/lazy.ts";

/** `legate-jupyter cancel`. */
export const command: Command = {
  name: "cancel",
  summary: "Cancel Jupyter jobs this tool submitted (by job id, or --all)",
  usage: "cancel JOBID... | --all",
  positionals: "JOBID...",
  maxPositionals: Infinity,
  description: "Cancels jobs listed by 'legate-jupyter jobs' (scancel, qdel or bkill), waits " +
    "until the scheduler reports them ended, and forgets them. Jupyter gets the scheduler's " +
    "SIGTERM first, so it shuts its kernels down. Jobs this tool did not submit are refused: " +
    "cancel those with the scheduler's own command.",
  flags: [
    { name: "all", short: "a", type: "boolean", help: "Cancel every recorded job" },
    {
      name: "no-wait",
      type: "boolean",
      help: "Return once the scheduler has the request, without waiting for the jobs to end",
    },
  ],
  examples: ["legate-jupyter cancel 4242", "legate-jupyter cancel --all"],
  async run(parsed, ctx) {
    const program = programName(ctx.self);
    const all = parsed.values.all as boolean;
    const ids = parsed.positionals;
    if (all && ids.length) throw new UsageError("give job ids or --all, not both");
    if (!all && !ids.length) {
      throw new UsageError(`which job? give its id (see '${program} jobs') or --all`);
    }
    const cancel = await lazy<typeof import("../job/cancel.ts")>("job/cancel.ts");
    const onProblem = cancel.problemReporter((line) => ctx.out.warn(line));
    const { dir, targets } = await cancel.cancelTargets(ids, all, program, onProblem);
    if (targets.length === 0) {
      ctx.out.info("No Jupyter jobs recorded.");
      return 0;
    }
    const before = await cancel.requestCancel(targets);
    if (parsed.values["no-wait"]) {
      for (const t of targets) ctx.out.info(`Asked ${t.scheduler} to cancel job ${t.id}`);
      return 0;
    }
    const { lines, unconfirmed, stuck } = await cancel.awaitCancelled(
      dir,
      targets,
      before,
      onProblem,
    );
    for (const t of targets) if (lines.has(t.id)) ctx.out.info(lines.get(t.id)!);
    if (unconfirmed.length) {
      throw new Failure(
        `asked the scheduler to cancel, but could not confirm that ${unconfirmed.join(", ")} ` +
          `ended; check with '${program} jobs' in a while`,
      );
    }
    if (stuck.length) {
      throw new Failure(
        `the scheduler still shows ${stuck.join(", ")} after ${cancel.END_WAIT_MS / 1000}s; ` +
          `check with '${program} jobs' and ask your admins if it stays`,
      );
    }
    return 0;
  },
};
