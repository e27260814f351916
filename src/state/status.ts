/**
 * What a recorded server is now, as `servers` shows it and `stop` acts on it. On this host the
 * answer comes from the processes the entry names, each checked by {@link verifyProcess}
 * (a PID that fails a check is never signalled, and the entry is "unverified"); on another host
 * from {@link liveness} (the batch job's state, the URL or the heartbeat).
 * @module
 */

import { sameHost } from "../os/hosts.ts";
import { currentSelf, procInfo, type Self } from "../os/proc.ts";
import { liveness } from "./liveness.ts";
import { type ServerRecord, serverState, type StoredServer } from "./servers.ts";
import { isJupyterArgv, isSupervisorArgv, type ProcessVerdict, verifyProcess } from "./trust.ts";

/**
 * `running`: Jupyter is up and its `notebook` supervises it. `starting`: spawned, not yet
 * ready. `orphaned`: Jupyter runs but its `notebook` is gone (killed): only `stop` ends it.
 * `unverified`: the entry names a process the tool will not signal (see `reason`). `dead`:
 * nothing of it runs any more.
 */
export type ServerStatus = "running" | "starting" | "orphaned" | "unverified" | "dead";

/** A status, how it was decided, and (on this host) the verdicts it rests on. */
export interface StatusReport {
  readonly status: ServerStatus;
  readonly how: "pid" | "scheduler" | "url" | "heartbeat";
  /** Why the entry is unverified. */
  readonly reason?: string;
  readonly jupyter?: ProcessVerdict;
  readonly supervisor?: ProcessVerdict;
}

/** The verdict on the Jupyter process entry `r` names. */
export function verifyJupyter(r: ServerRecord, self: Self = currentSelf()): ProcessVerdict {
  return verifyProcess({
    pid: r.pid,
    start: r.pidStart,
    what: `the Jupyter on port ${r.port} the entry names`,
    matches: (argv) => isJupyterArgv(argv, r),
  }, self);
}

/** The verdict on the `legate-jupyter notebook` that supervises entry `r`. */
export function verifySupervisor(r: ServerRecord, self: Self = currentSelf()): ProcessVerdict {
  return verifyProcess({
    pid: r.supervisorPid,
    start: r.supervisorStart,
    what: "a legate-jupyter notebook or lab",
    matches: isSupervisorArgv,
  }, self);
}

/** Whether `ancestor` is `pid`'s parent, grandparent... (a few levels: Jupyter's wrappers). */
export function descendsFrom(pid: number, ancestor: number): boolean {
  let p = procInfo(pid);
  for (let depth = 0; p && depth < 8; depth++) {
    if (p.ppid === ancestor) return true;
    if (p.ppid <= 1) return false;
    p = procInfo(p.ppid);
  }
  return false;
}

/**
 * Decides the status of `s` as seen from host `here`. `ended` is `jobsEnded`'s answer for the
 * entries being judged (see `liveness.ts`), when there is one; `fsNow` the file system's time
 * now, for the heartbeats of other hosts' entries (see `liveness.ts`).
 */
export async function serverStatus(
  s: StoredServer,
  here: string,
  ended?: ReadonlyMap<string, boolean>,
  self: Self = currentSelf(),
  fsNow?: number,
): Promise<StatusReport> {
  const r = s.record;
  const starting = serverState(r) === "starting";
  if (!sameHost(r.host, here)) {
    const l = await liveness(s, here, fsNow, ended);
    return { status: l.state === "dead" ? "dead" : starting ? "starting" : "running", how: l.how };
  }
  const jupyter = verifyJupyter(r, self);
  const supervisor = verifySupervisor(r, self);
  const verdicts = { how: "pid" as const, jupyter, supervisor };
  if (jupyter.kind === "refused") {
    return { status: "unverified", reason: jupyter.reason, ...verdicts };
  }
  const supervised = supervisor.kind === "verified" &&
    (jupyter.kind === "gone" || descendsFrom(jupyter.proc.pid, supervisor.proc.pid));
  if (jupyter.kind === "gone") {
    // Between two tries at a port, the supervisor has no Jupyter for a moment.
    return { status: supervised && starting ? "starting" : "dead", ...verdicts };
  }
  if (!supervised) return { status: "orphaned", ...verdicts };
  return { status: starting ? "starting" : "running", ...verdicts };
}
