/**
 * Whether a recorded server still runs. On its own host: its PID is alive and is still the
 * same process (start time). On another host (a compute node sharing the home): the server
 * answers on its address when it listens beyond loopback, else its entry's heartbeat is
 * recent.
 * @module
 */

import { pidAlive } from "../jupyter/process.ts";
import { isLoopback, sameHost, serverUrl, withToken } from "../jupyter/connect.ts";
import { STALE_MS, type StoredServer } from "./servers.ts";

/** A recorded server's state as seen from here. */
export type Liveness = "running" | "dead";

/** How the state was decided, for `servers --json`. */
export interface LivenessReport {
  readonly state: Liveness;
  readonly how: "pid" | "url" | "heartbeat";
}

/** Whether `url/api/status` answers within `ms`. */
export async function urlAnswers(url: string, ms = 2000): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(ms), redirect: "manual" });
    await r.body?.cancel();
    return r.status < 500;
  } catch {
    return false;
  }
}

/** Decides whether `s` runs, from host `here`. */
export async function liveness(
  s: StoredServer,
  here: string,
  now = Date.now(),
): Promise<LivenessReport> {
  const r = s.record;
  if (sameHost(r.host, here)) {
    return { state: (await pidAlive(r.pid, r.pidStart)) ? "running" : "dead", how: "pid" };
  }
  if (!isLoopback(r.ip)) {
    const host = r.ip === "0.0.0.0" || r.ip === "::" || r.ip === "" ? r.host : r.ip;
    const status = withToken(
      serverUrl(host, r.port, new URL(r.baseUrl).pathname) + "api/status",
      r.token,
    );
    if (await urlAnswers(status)) return { state: "running", how: "url" };
  }
  const beat = s.heartbeat?.getTime() ?? 0;
  return { state: now - beat <= STALE_MS ? "running" : "dead", how: "heartbeat" };
}
