/**
 * A server's state entry, as its run writes it: the moment Jupyter is spawned (`starting`),
 * and once ready (with the runtime file's PID, base URL and versions, and the route the laptop
 * takes); and, when Jupyter does not become ready, the error that says why.
 * @module
 */

import { Failure } from "../util/errors.ts";
import type { JupyterServer, StartResult } from "../jupyter/server.ts";
import type { ServerRecord } from "../state/servers.ts";
import type { Route } from "../jupyter/route.ts";
import type { Plan } from "./plan.ts";
import type { Session } from "./session.ts";
import * as connect from "../jupyter/connect.ts";
import * as proc from "../os/proc.ts";
import { parseServerLog, tail } from "../jupyter/logparse.ts";
import { serverVersions } from "../jupyter/versions.ts";

/**
 * Phase 4: why Jupyter did not become ready, as one error with the end of its output. A
 * server that timed out is stopped first.
 */
export async function startFailure(
  plan: Plan,
  session: Session,
  server: JupyterServer,
  result: StartResult,
): Promise<Failure> {
  const last = () =>
    `${tail(server.output, 25).replace(/^/gm, "  | ")}\nFull log: ${session.logPath}`;
  if (result.kind === "timeout") {
    await server.stop(5000);
    return new Failure(
      `${plan.title} was not ready after ${plan.timeoutMs / 1000}s, so it was stopped ` +
        `(raise ${
          plan.jobId && !Deno.stdin.isTerminal() ? "submit's --server-timeout" : "--timeout"
        } if the file system is slow). Its last output:\n${last()}`,
    );
  }
  const status = await server.reap([], 5000);
  const log = parseServerLog(server.output);
  const reason = log.portInUse !== undefined
    ? ` (port ${log.portInUse} is in use; choose another with --port, or leave it out)`
    : /Use --allow-root/.test(server.output)
    ? " (it refuses to run as root: add '-- --allow-root' to pass that option to it)"
    : "";
  return new Failure(
    `${plan.title} exited with status ${status.code} before it was ready${reason}. ` +
      `Its last output:\n${last()}`,
  );
}

/**
 * The entry of the server once ready: the runtime file's PID, base URL and version, and the
 * route the laptop takes to it.
 */
export async function readyRecord(
  plan: Plan,
  session: Session,
  server: JupyterServer,
  port: number,
  result: Extract<StartResult, { kind: "ready" }>,
  route: Route,
): Promise<ServerRecord> {
  const info = result.info;
  const base = startingRecord(plan, session, server, port, connect, proc);
  const baseUrl = connect.serverUrl(
    connect.nodeLocalHost(plan.ip),
    base.port,
    info.base_url ?? "/",
  );
  const versions = await serverVersions({
    app: plan.jupyter.app,
    info,
    log: result.log,
    baseUrl,
    token: session.token,
  });
  return {
    ...base,
    url: connect.withToken(baseUrl, session.token),
    baseUrl,
    // A wrapper that does not exec leaves Jupyter in a child: the runtime file names it.
    pid: info.pid ?? server.pid,
    pidStart: info.pid && info.pid !== server.pid
      ? proc.procInfo(info.pid)?.start
      : server.pidStart,
    startedAt: new Date().toISOString(),
    version: versions.version,
    serverVersion: versions.serverVersion,
    loginHost: route.loginHost,
    jobId: plan.jobId ?? route.jobId,
    sshRefused: route.sshRefused,
    state: "ready",
  };
}

/** The entry written the moment Jupyter is spawned (its URL's path is a guess until ready). */
export function startingRecord(
  plan: Plan,
  session: Session,
  server: JupyterServer,
  port: number,
  connect: typeof import("../jupyter/connect.ts"),
  proc: typeof import("../os/proc.ts"),
): ServerRecord {
  const baseUrl = connect.serverUrl(connect.nodeLocalHost(plan.ip), port, "/");
  return {
    id: session.id,
    app: plan.jupyter.app,
    url: connect.withToken(baseUrl, session.token),
    baseUrl,
    token: session.token,
    port,
    ip: plan.ip,
    host: plan.host,
    pid: server.pid,
    pidStart: server.pidStart,
    supervisorPid: Deno.pid,
    supervisorStart: proc.procInfo(Deno.pid)?.start,
    startedAt: new Date().toISOString(),
    kernel: plan.kernel,
    logPath: session.logPath,
    notebookDir: plan.notebookDir,
    jupyter: plan.jupyter.program,
    loginHost: plan.loginHost,
    sshUser: plan.sshUser,
    jobId: plan.jobId,
    state: "starting",
  };
}
