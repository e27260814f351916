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
 * A running `notebook` touches its file every {@link HEARTBEAT_MS} and watches for a
 * `<id>.stop` request beside it: that is how `stop` reaches a server on another node.
 * @module
 */

import { compareCodeUnits } from "../util/compare.ts";
import { randomHex } from "../util/random.ts";
import { join } from "../util/path.ts";

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
}

/** How often a running `notebook` refreshes its entry's mtime. */
export const HEARTBEAT_MS = 30_000;
/** An entry of another host whose heartbeat is older than this is taken as dead. */
export const STALE_MS = 4 * HEARTBEAT_MS;

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

/**
 * Creates `path` (and parents) and makes it 0700: a directory we own that was created looser
 * (by an old umask, say) is tightened, because the files in it hold tokens.
 */
export async function ensurePrivateDir(path: string): Promise<void> {
  await Deno.mkdir(path, { recursive: true, mode: 0o700 });
  const info = await Deno.stat(path);
  if (info.mode !== null && (info.mode & 0o777) !== 0o700) await Deno.chmod(path, 0o700);
}

/** Creates the state dir layout with private permissions and returns `dir`. */
export async function ensureStateDir(dir: string): Promise<string> {
  await ensurePrivateDir(dir);
  await ensurePrivateDir(serversDir(dir));
  await ensurePrivateDir(logsDir(dir));
  return dir;
}

/** Writes `text` to `path` with mode 0600, atomically: a temp file beside it, then rename. */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeTextFile(tmp, text, { mode: 0o600, createNew: true });
    await Deno.chmod(tmp, 0o600);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
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
  /** The file's mtime: the last heartbeat. */
  readonly heartbeat: Date | null;
}

function isRecord(value: unknown): value is ServerRecord {
  const v = value as Record<string, unknown>;
  return typeof v === "object" && v !== null && typeof v.id === "string" &&
    typeof v.url === "string" && typeof v.port === "number" && typeof v.pid === "number" &&
    typeof v.host === "string";
}

/** Reads one entry; undefined when it is absent or unreadable. */
export async function readServer(dir: string, id: string): Promise<StoredServer | undefined> {
  const path = serverFile(dir, id);
  try {
    const [text, info] = await Promise.all([Deno.readTextFile(path), Deno.stat(path)]);
    const record = JSON.parse(text);
    return isRecord(record) ? { record, path, heartbeat: info.mtime } : undefined;
  } catch {
    return undefined;
  }
}

/** Every readable entry, oldest first. Files being written (temp names) are skipped. */
export async function readServers(dir: string): Promise<StoredServer[]> {
  const ids: string[] = [];
  try {
    for await (const e of Deno.readDir(serversDir(dir))) {
      const m = /^([0-9a-f]+)\.json$/.exec(e.name);
      if (m && e.isFile) ids.push(m[1]);
    }
  } catch {
    return [];
  }
  const found = await Promise.all(ids.map((id) => readServer(dir, id)));
  return found.filter((s): s is StoredServer => s !== undefined)
    .sort((a, b) => compareCodeUnits(a.record.startedAt, b.record.startedAt));
}

/** Removes server `id`'s entry and any stop request for it. */
export async function removeServer(dir: string, id: string): Promise<void> {
  await Deno.remove(serverFile(dir, id)).catch(() => {});
  await Deno.remove(stopFile(dir, id)).catch(() => {});
}

/** Refreshes the entry's mtime so that other hosts see the server as alive. */
export async function touchServer(dir: string, id: string): Promise<void> {
  const now = new Date();
  await Deno.utime(serverFile(dir, id), now, now).catch(() => {});
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
 * Waits until an entry matching `match` exists and returns it (for `submit`, which waits on
 * the login node for the entry `notebook` writes on the compute node). Polls every
 * `intervalMs` (file-system events do not cross NFS clients). Returns undefined when `signal`
 * aborts or `timeoutMs` passes.
 */
export async function waitForServer(
  dir: string,
  match: (record: ServerRecord) => boolean,
  options: { timeoutMs?: number; intervalMs?: number; signal?: AbortSignal } = {},
): Promise<ServerRecord | undefined> {
  const deadline = Date.now() + (options.timeoutMs ?? Infinity);
  const interval = options.intervalMs ?? 250;
  while (!options.signal?.aborted) {
    const hit = (await readServers(dir)).find((s) => match(s.record));
    if (hit) return hit.record;
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  return undefined;
}
