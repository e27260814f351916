/**
 * `legate-jupyter agent` (hidden): the login-node end of `connect`, started by the laptop
 * through its SSH connection; it speaks connect's framed protocol on stdin/stdout. The agent
 * itself is `src/connect/agent.ts`; this file hands it `submit`'s flags (declared in the CLI
 * layer) and the job's planning and submission (`src/job/`).
 * @module
 */

import type { Command } from "./command.ts";
import type { JobSubmitter } from "../connect/agent.ts";
import { parseFlags } from "../util/flags.ts";
import { SUBMIT_FLAGS } from "./submit.ts";
import { lazy } from "../util/lazy.ts";

/** `legate-jupyter agent`. */
export const command: Command = {
  name: "agent",
  summary: "(internal) The login-node side of 'connect'",
  usage: "agent",
  description: "Started by 'connect' on the login node through SSH; speaks connect's framed " +
    "protocol on stdin/stdout. Not for use by hand.",
  flags: [],
  examples: [],
  async run(_parsed, ctx) {
    const { runAgent } = await lazy<typeof import("../connect/agent.ts")>("connect/agent.ts");
    return await runAgent(ctx.self, submitter(ctx.self));
  },
};

/** `submit`'s parsing and planning, as the agent uses them for a `start` request. */
function submitter(self: readonly string[]): JobSubmitter {
  return {
    // A bad flag rejects the promise, as the agent expects, rather than throwing.
    parse: (args) =>
      new Promise((resolve) => resolve(parseFlags(args, SUBMIT_FLAGS, { allowRest: true }))),
    async plan(parsed) {
      const { planJob } = await lazy<typeof import("../job/plan.ts")>("job/plan.ts");
      const { submitPlanned } = await lazy<typeof import("../job/submit.ts")>("job/submit.ts");
      const p = await planJob(parsed, self);
      return { scheduler: p.scheduler, submit: (dir) => submitPlanned(p, dir) };
    },
  };
}
