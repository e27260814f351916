/**
 * The servers `notebook`/`lab` started, each with its status checked (`src/state/status.ts`):
 * what `servers` shows. Entries of servers that no longer run are removed as they are found;
 * files that are not entries this tool wrote are reported and left alone.
 * @module
 */

import type { StateProblem } from "../os/private.ts";
import type { StoredServer } from "../state/servers.ts";
import type { StatusReport } from "../state/status.ts";

/** A recorded server and its status now. */
export interface CheckedServer {
  readonly s: StoredServer;
  readonly l: StatusReport;
}

/**
 * Every entry in state dir `dir` with its status as seen from this host: those that run or
 * cannot be told (`shown`), and those found dead (`dead`), whose entries are removed.
 */
export async function checkServers(
  dir: string,
  onProblem: (p: StateProblem) => void,
): Promise<{ shown: CheckedServer[]; dead: CheckedServer[] }> {
  const state = await import("../state/servers.ts");
  const { serverStatus } = await import("../state/status.ts");
  const { jobsEnded } = await import("../state/liveness.ts");
  const here = Deno.hostname();
  const stored = await state.readServers(dir, { onProblem });
  const ended = await jobsEnded(stored, here);
  const checked = await Promise.all(
    stored.map(async (s) => ({ s, l: await serverStatus(s, here, ended) })),
  );
  const shown = checked.filter((c) => c.l.status !== "dead");
  const dead = checked.filter((c) => c.l.status === "dead");
  for (const d of dead) await state.removeServer(dir, d.s.record.id);
  return { shown, dead };
}
