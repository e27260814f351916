/**
 * `legate-jupyter agent` (hidden): the login-node end of `connect`, started by the laptop
 * through its SSH connection; it speaks connect's framed protocol on stdin/stdout. The agent
 * itself is `src/connect/agent.ts`; this file hands it `submit`'s flags and planning, which
 * live in the CLI layer.
 * @module
 */

import type { Command } from "./command.ts";
import type { JobSubmitter } from "../connect/agent.ts";

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
    const { runAgent } = await import("../connect/agent.ts");
    return await runAgent(ctx.self, submitter(ctx.self));
  },
};

/** `submit`'s parsing and planning, as the agent uses them for a `start` request. */
function submitter(self: readonly string[]): JobSubmitter {
  return {
    async parse(args) {
      const { parseFlags } = await import("./flags.ts");
      const { SUBMIT_FLAGS } = await import("./submit.ts");
      return parseFlags(args, SUBMIT_FLAGS, { allowRest: true });
    },
    async plan(parsed) {
      const submit = await import("./submit.ts");
      const p = await submit.plan(parsed, { self });
      return { scheduler: p.scheduler, submit: (dir) => submit.submitPlanned(p, dir) };
    },
  };
}
