/**
 * The servers `notebook`/`lab` started, each with its status checked (`src/state/status.ts`):
 * what `servers` shows. Entries of servers that no longer run are removed as they are found;
 * files that are not entries this tool wrote are reported and left alone.
 * @module
 */

import type { StoredServer } from "../state/servers.ts";
import type { StatusReport } from "../state/status.ts";
import * as state from "../state/servers.ts";
import { describeProblem } from "../os/private.ts";
import { jobsEnded } from "../state/liveness.ts";
import { serverStatus } from "../state/status.ts";
import { fsNow } from "../util/fs_clock.ts";

/** A recorded server and its status now. */
export interface CheckedServer {
  readonly s: StoredServer;
  readonly l: StatusReport;
}

/**
 * Every entry in the state dir (`dir`, by default this user's) with its status as seen from
 * this host: those that run or cannot be told (`shown`), and those found dead (`dead`), whose
 * entries are removed. Each file that is not an entry this tool wrote goes to `warn`, in words.
 */
export async function checkServers(
  warn: (line: string) => void,
  dir?: string,
): Promise<{ shown: CheckedServer[]; dead: CheckedServer[] }> {
  dir ??= state.currentStateDir();
  const here = Deno.hostname();
  const stored = await state.readServers(dir, { onProblem: (p) => warn(describeProblem(p)) });
  const ended = await jobsEnded(stored, here);
  // Heartbeats are aged on the file system's clock, never this host's against another's.
  const now = stored.length ? await fsNow(state.serversDir(dir)) : undefined;
  const checked = await Promise.all(
    stored.map(async (s) => ({ s, l: await serverStatus(s, here, ended, undefined, now) })),
  );
  const shown = checked.filter((c) => c.l.status !== "dead");
  const dead = checked.filter((c) => c.l.status === "dead");
  for (const d of dead) await state.removeServer(dir, d.s.record.id);
  return { shown, dead };
}
