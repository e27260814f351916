/**
 * The per-user record of running Jupyter servers.
 *
 * Each server is one JSON file, `<state dir>/servers/<id>.json`, written atomically
 * (temp file + rename) with mode 0600 inside directories of mode 0700, because it holds the
 * server's token. One file per server, rather than one shared list, means two processes on two
 * nodes of a shared home never overwrite each other's entries. The state dir lives in the home
 * directory, so a login node can read what a compute node wrote (the Slurm `submit` waits for
 * it with {@link waitForServer}).
 *
 * An entry exists from the moment Jupyter is spawned (`state: "starting"`, with Jupyter's PID
 * and start time) until it has stopped, so that a `notebook` killed at any instant leaves
 * nothing `stop` cannot reach. A running `notebook` touches its file every
 * {@link HEARTBEAT_MS} and watches for a `<id>.stop` request beside it: that is how `stop`
 * reaches a server on another node.
 *
 * Entries are claims, not facts: every reader here checks the directory, the file's owner and
 * mode, and each field's type, and drops (reporting the path) what does not hold. What the
 * tool verifies before it acts on an entry is set out in README.md beside this file.
 * @module
 */

import { compareCodeUnits } from "../util/compare.ts";
import { randomHex } from "../util/random.ts";
import { join } from "../util/path.ts";
import { touchByWrite } from "../util/fs_clock.ts";
import {
  ensurePrivateDir,
  privateDirExists,
  type ReadOptions,
  readPrivateJson,
  type StateProblem,
  writePrivateFile,
} from "../os/private.ts";
import {
  checkFields,
  type FieldRule,
  integer,
  matching,
  oneOf,
  optional,
  text,
  timestamp,
} from "../util/validate.ts";

/** One running server, as `notebook` records it and `servers`/`stop` read it. */
export interface ServerRecord {
  /** Short random id (8 hex digits), unique among the user's servers. */
  readonly id: string;
  /** `notebook`, `lab` or `server`: which Jupyter application runs. */
  readonly app: string;
  /** The URL on the server's node, with the token: `http://127.0.0.1:PORT/?token=T`. */
  readonly url: string;
  /** The URL without the token (the server's base URL). */
  readonly baseUrl: string;
  readonly token: string;
  readonly port: number;
  /** The address Jupyter listens on (`127.0.0.1` unless `--ip` said otherwise). */
  readonly ip: string;
  /** The node's hostname (`Deno.hostname()`). */
  readonly host: string;
  /** PID of the Jupyter server process. */
  readonly pid: number;
  /** Start time of that process in clock ticks since boot (Linux), to tell a reused PID. */
  readonly pidStart?: number;
  /** PID of the `legate-jupyter` process that supervises Jupyter. */
  readonly supervisorPid: number;
  /** Start time of the supervisor (ticks since boot, Linux). */
  readonly supervisorStart?: number;
  /** ISO 8601 time the server became ready. */
  readonly startedAt: string;
  /** The default kernel asked for with `--kernel`, if any. */
  readonly kernel?: string;
  /** Jupyter's log file. */
  readonly logPath: string;
  readonly notebookDir: string;
  /** The Jupyter executable, and the application's own version when known. */
  readonly jupyter: string;
  readonly version?: string;
  /** jupyter_server's version, when the application runs on it (not notebook ≤ 6). */
  readonly serverVersion?: string;
  /** The login host and ssh user the tunnel commands were printed for. */
  readonly loginHost?: string;
  readonly sshUser?: string;
  /** The batch job the server runs in (`SLURM_JOB_ID`, `PBS_JOBID`, `LSB_JOBID`), when any. */
  readonly jobId?: string;
  /**
   * `starting` from the moment Jupyter is spawned until it is ready (the URL's path is then a
   * guess and `startedAt` the spawn time); `ready` after. Absent in entries of older versions,
   * which wrote them only once ready.
   */
  readonly state?: ServerState;
  /**
   * What sshd on `host` answered when the server started, if it refused the user: then no
   * tunnel into `host` can work, and the ready block says so instead of printing one.
   */
  readonly sshRefused?: string;
}

/** Where a recorded server is in its life, as its `notebook` last wrote it. */
export type ServerState = "starting" | "ready";

/** The state of `r`: entries without one were written when ready. */
export function serverState(r: Pick<ServerRecord, "state">): ServerState {
  return r.state ?? "ready";
}

const ID = /^[0-9a-f]{1,32}$/;

/** The type of every field a reader uses (see {@link checkFields}). */
const SERVER_RULES: Readonly<Record<string, FieldRule>> = {
  id: matching(ID, "a server id (hex digits)"),
  app: oneOf(["notebook", "lab", "server"]),
  url: text(true),
  baseUrl: matching(/^https?:\/\/[^\s]+$/, "an http URL"),
  token: text(),
  port: integer(1, 65535),
  ip: text(),
  host: text(true),
  pid: integer(0),
  pidStart: optional(integer(0)),
  supervisorPid: integer(0),
  supervisorStart: optional(integer(0)),
  startedAt: timestamp(),
  kernel: optional(text()),
  logPath: text(),
  notebookDir: text(),
  jupyter: text(),
  version: optional(text()),
  serverVersion: optional(text()),
  loginHost: optional(text()),
  sshUser: optional(text()),
  jobId: optional(text()),
  state: optional(oneOf(["starting", "ready"])),
  sshRefused: optional(text()),
};

/**
 * The record in `value` (parsed JSON of the file `<id>.json`), or why it is not one: a field
 * of the wrong type, or an id that is not the file's.
 */
export function parseServerRecord(value: unknown, id: string): ServerRecord | string {
  const problem = checkFields(value, SERVER_RULES);
  if (problem) return problem;
  const v = value as Record<string, unknown>;
  if (v.id !== id) return `its id "${v.id}" is not its file's (${id})`;
  // JSON writers may spell an absent optional field as null: drop those.
  return Object.fromEntries(
    Object.entries(v).filter(([, x]) => x !== null),
  ) as unknown as ServerRecord;
}

/**
 * How often a running `notebook` refreshes its entry's mtime (with the file system's clock:
 * see `../util/fs_clock.ts`).
 */
export const HEARTBEAT_MS = 10_000;
/**
 * An entry of another host whose heartbeat is older than this, measured on the file system's
 * clock, is taken as dead: a few missed beats, and room for a client's attribute cache.
 */
export const STALE_MS = 45_000;

/** `${XDG_STATE_HOME:-$HOME/.local/state}/legate-jupyter`. */
export function stateDir(vars: Readonly<Record<string, string | undefined>>): string {
  const xdg = vars.XDG_STATE_HOME;
  const base = xdg && xdg.startsWith("/") ? xdg : join(vars.HOME ?? "/", ".local", "state");
  return join(base, "legate-jupyter");
}

/** The state dir of this process's environment. */
export function currentStateDir(): string {
  return stateDir(Deno.env.toObject());
}

/** Where server entries live. */
export function serversDir(dir: string): string {
  return join(dir, "servers");
}

/** Where Jupyter logs live. */
export function logsDir(dir: string): string {
  return join(dir, "logs");
}

/** The entry file of server `id`. */
export function serverFile(dir: string, id: string): string {
  return join(serversDir(dir), `${id}.json`);
}

/** The stop-request file of server `id` (see {@link requestStop}). */
export function stopFile(dir: string, id: string): string {
  return join(serversDir(dir), `${id}.stop`);
}

/** Creates the state dir layout with private permissions and returns `dir`. */
export async function ensureStateDir(dir: string): Promise<string> {
  await ensurePrivateDir(dir);
  await ensurePrivateDir(serversDir(dir));
  await ensurePrivateDir(logsDir(dir));
  return dir;
}

/** A fresh server id: 8 hex digits. */
export function newServerId(): string {
  return randomHex(4);
}

/** Records `record` (creating the state dir as needed). */
export async function writeServer(dir: string, record: ServerRecord): Promise<string> {
  await ensureStateDir(dir);
  const path = serverFile(dir, record.id);
  await writePrivateFile(path, JSON.stringify(record, null, 2) + "\n");
  return path;
}

/** An entry as read back, with when it was last refreshed. */
export interface StoredServer {
  readonly record: ServerRecord;
  readonly path: string;
  /** The file's mtime: the last heartbeat, on the file system's clock. */
  readonly heartbeat: Date | null;
}

/**
 * Reads one entry; undefined when it is absent or must not be believed (reported through
 * `options.onProblem`).
 */
export async function readServer(
  dir: string,
  id: string,
  options: ReadOptions = {},
): Promise<StoredServer | undefined> {
  const path = serverFile(dir, id);
  const read = await readPrivateJson(path);
  if (!read) return undefined;
  const record = "problem" in read ? read.problem : parseServerRecord(read.value, id);
  if (typeof record === "string") {
    options.onProblem?.({ path, problem: record });
    return undefined;
  }
  const info = await Deno.lstat(path).catch(() => undefined);
  return info && { record, path, heartbeat: info.mtime };
}

/**
 * Every entry that may be believed, oldest first. Files being written (temp names) are
 * skipped; an entry file that does not hold is dropped and reported through
 * `options.onProblem`. Throws a `Failure` (one line) when the state dir is not this
 * user's own.
 */
export async function readServers(dir: string, options: ReadOptions = {}): Promise<StoredServer[]> {
  if (!(await privateDirExists(dir)) || !(await privateDirExists(serversDir(dir)))) return [];
  const ids: string[] = [];
  for await (const e of Deno.readDir(serversDir(dir))) {
    const m = /^([0-9a-f]{1,32})\.json$/.exec(e.name);
    if (m) ids.push(m[1]);
    else if (e.name.endsWith(".json") && !e.name.startsWith(".")) {
      options.onProblem?.({
        path: join(serversDir(dir), e.name),
        problem: "not named as this tool names entries (<hex id>.json)",
      });
    }
  }
  const found = await Promise.all(ids.map((id) => readServer(dir, id, options)));
  return found.filter((s): s is StoredServer => s !== undefined)
    .sort((a, b) => compareCodeUnits(a.record.startedAt, b.record.startedAt));
}

/** Removes server `id`'s entry and any stop request for it (the directory was checked). */
export async function removeServer(dir: string, id: string): Promise<void> {
  await Deno.remove(serverFile(dir, id)).catch(() => {});
  await Deno.remove(stopFile(dir, id)).catch(() => {});
}

/**
 * Refreshes the entry's mtime so that other hosts see the server as alive. The time is the
 * file system's, not this host's (whose clock may be off): the file's first byte is written
 * again. An entry removed meanwhile is not brought back.
 */
export async function touchServer(dir: string, id: string): Promise<void> {
  await touchByWrite(serverFile(dir, id));
}

/** Asks the `notebook` supervising server `id` (on any host sharing the home) to stop it. */
export async function requestStop(dir: string, id: string): Promise<void> {
  await writePrivateFile(stopFile(dir, id), new Date().toISOString() + "\n");
}

/** Whether a stop has been requested for server `id`. */
export async function stopRequested(dir: string, id: string): Promise<boolean> {
  try {
    await Deno.lstat(stopFile(dir, id));
    return true;
  } catch {
    return false;
  }
}

/**
 * Waits until a ready entry matching `match` (given the record and the entry as stored, with
 * its heartbeat) exists and returns it (for `submit`, which waits
 * on the login node for the entry `notebook` writes on the compute node). Polls every
 * `intervalMs` (file-system events do not cross NFS clients). Returns undefined when `signal`
 * aborts or `timeoutMs` passes.
 */
export async function waitForServer(
  dir: string,
  match: (record: ServerRecord, stored: StoredServer) => boolean,
  options: ReadOptions & {
    timeoutMs?: number;
    intervalMs?: number;
    signal?: AbortSignal;
    /** Called for each matching entry seen while it is still `starting`. */
    onStarting?: (record: ServerRecord) => void;
  } = {},
): Promise<ServerRecord | undefined> {
  const deadline = Date.now() + (options.timeoutMs ?? Infinity);
  const interval = options.intervalMs ?? 250;
  // A bad file is seen on every poll: report it once.
  const reported = new Set<string>();
  const onProblem = (p: StateProblem) => {
    if (reported.has(p.path)) return;
    reported.add(p.path);
    options.onProblem?.(p);
  };
  while (!options.signal?.aborted) {
    const found = (await readServers(dir, { onProblem })).filter((s) => match(s.record, s));
    const hit = found.find((s) => serverState(s.record) === "ready");
    if (hit) return hit.record;
    for (const s of found) options.onStarting?.(s.record);
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  return undefined;
}
