/**
 * `legate-jupyter relay` (hidden): the compute-node end of `connect`. The login node's agent
 * starts it inside the user's job (`srun --jobid=J --overlap ...`, or over SSH where the
 * scheduler has no such step) with its stdin/stdout as the pipe; for each stream the agent
 * opens, it dials the target on this node's loopback (Jupyter) and carries the bytes. It
 * listens on nothing and ends when its stdin ends. The relay itself is `src/relay/serve.ts`.
 * @module
 */

import type { Command } from "./command.ts";
import { UsageError } from "../util/errors.ts";
import { lazy } from "../util/lazy.ts";

/** `legate-jupyter relay`. */
export const command: Command = {
  name: "relay",
  summary: "(internal) The compute-node side of 'connect'",
  usage: "relay [--to HOST:PORT]",
  description: "Started by 'connect' through the scheduler inside the job; speaks connect's " +
    "framed protocol on stdin/stdout and dials the node's loopback for each stream.",
  flags: [{
    name: "to",
    type: "string",
    metavar: "HOST:PORT",
    help: "Where streams that name no target go (loopback only)",
  }],
  examples: [],
  async run(parsed) {
    const given = parsed.values.to as string | undefined;
    if (given !== undefined) {
      const { parseTarget, isLoopbackTarget } = await lazy<typeof import("../relay/bridge.ts")>(
        "relay/bridge.ts",
      );
      const t = parseTarget(given);
      if (!t || !isLoopbackTarget(t.hostname)) {
        throw new UsageError(`--to ${given}: give a loopback HOST:PORT such as 127.0.0.1:8888`);
      }
    }
    const { serveRelay } = await lazy<typeof import("../relay/serve.ts")>("relay/serve.ts");
    return await serveRelay(given);
  },
};
