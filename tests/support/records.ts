/**
 * Server entries for tests that need one without starting Jupyter: a ready server with fixed
 * values (what the ready block and the tunnel commands are checked against), and one on this
 * host whose processes are long gone.
 * @module
 */

import type { ServerRecord } from "../../src/state/servers.ts";

/** The token of {@link sampleRecord}. */
export const SAMPLE_TOKEN = "0123456789abcdef0123456789abcdef0123456789abcdef";

/** A ready notebook on node01:8123, reached through login1 as user `me`; `extra` wins. */
export function sampleRecord(extra: Partial<ServerRecord> = {}): ServerRecord {
  return {
    id: "1a2b3c4d",
    app: "notebook",
    url: `http://127.0.0.1:8123/?token=${SAMPLE_TOKEN}`,
    baseUrl: "http://127.0.0.1:8123/",
    token: SAMPLE_TOKEN,
    port: 8123,
    ip: "127.0.0.1",
    host: "node01",
    pid: 4242,
    supervisorPid: 4241,
    startedAt: "2026-01-02T03:04:05.000Z",
    logPath: "/home/me/.local/state/legate-jupyter/logs/1a2b3c4d.log",
    notebookDir: "/home/me/work",
    jupyter: "/usr/bin/jupyter-notebook",
    loginHost: "login1",
    sshUser: "me",
    ...extra,
  };
}

/**
 * An entry `id` of a server on this host that passes every type check, whose pids no process
 * has (999999999 is above any pid_max); `extra` makes it what a test needs.
 */
export function deadRecord(id: string, extra: Partial<ServerRecord> = {}): ServerRecord {
  return {
    id,
    app: "notebook",
    url: "http://127.0.0.1:8888/?token=t",
    baseUrl: "http://127.0.0.1:8888/",
    token: "t",
    port: 8888,
    ip: "127.0.0.1",
    host: Deno.hostname(),
    pid: 999_999_999,
    supervisorPid: 999_999_999,
    startedAt: new Date().toISOString(),
    logPath: "/nonexistent.log",
    notebookDir: "/",
    jupyter: "/usr/bin/jupyter",
    ...extra,
  };
}
