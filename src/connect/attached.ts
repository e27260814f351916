/**
 * Which `connect` sessions are attached to a job, so that a Ctrl-C in one of them does not
 * cancel the job under another. Each agent that serves a job records itself in the state dir
 * (`sessions/<scheduler>-<job>-<session>-<pid>.json`, 0600, in the shared home: login nodes behind a
 * round robin see each other's), keeps the file's mtime fresh with the file system's clock while
 * it lives, and removes it when it ends. Another agent counts a recorded session as alive when,
 * on its own login node, its process still runs (PID and start time), and elsewhere when its
 * heartbeat is recent on the file system's clock: no two hosts' clocks are compared.
 *
 * A session is named by the laptop (a random id per `connect` run), so that the agent of a
 * re-dialled session, and the one it replaces while that is still winding down, are one
 * session, not two.
 * @module
 */

import { join } from "../util/path.ts";
import { fsNow, touchByWrite } from "../util/fs_clock.ts";
import { sameHost } from "../os/hosts.ts";
import { pidAlive, procInfo } from "../os/proc.ts";
import {
  ensurePrivateDir,
  privateDirExists,
  readPrivateJson,
  writePrivateFile,
} from "../os/private.ts";
import { HEARTBEAT_MS, STALE_MS } from "../state/servers.ts";

/** A session's id, as the laptop makes it (`crypto.randomUUID()`). */
export const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** One session attached to a job, as its agent recorded it. */
export interface Attachment {
  readonly session: string;
  /** The login node its agent runs on. */
  readonly host: string;
  readonly pid: number;
  /** The agent's start time (clock ticks since boot), to tell a reused PID. */
  readonly pidStart?: number;
}

/** Where sessions are recorded inside the state dir. */
export function sessionsDir(stateDir: string): string {
  return join(stateDir, "sessions");
}

function prefix(scheduler: string, job: string): string {
  return `${scheduler}-${job}-`;
}

/** This agent's record of its session on a job, kept fresh until {@link leave}. */
export class Attached {
  readonly #path: string;
  readonly #dir: string;
  readonly #prefix: string;
  readonly session: string;
  #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(dir: string, scheduler: string, job: string, session: string) {
    this.#dir = dir;
    this.#prefix = prefix(scheduler, job);
    this.session = session;
    // The PID too: a re-dialled session's new agent and its old one, still winding down,
    // each have a record, and each removes only its own.
    this.#path = join(dir, `${this.#prefix}${session}-${Deno.pid}.json`);
  }

  /**
   * Records session `session` (a {@link SESSION_ID}; another id is replaced by a fresh one) as
   * attached to the job, and keeps the record fresh.
   */
  static async join(
    stateDir: string,
    scheduler: string,
    job: string,
    session: string,
  ): Promise<Attached> {
    const dir = sessionsDir(stateDir);
    const id = SESSION_ID.test(session) ? session : crypto.randomUUID();

    const a = new Attached(dir, scheduler, job, id);
    await ensurePrivateDir(dir);
    const me: Attachment = {
      session: id,
      host: Deno.hostname(),
      pid: Deno.pid,
      pidStart: procInfo(Deno.pid)?.start,
    };
    await writePrivateFile(a.#path, JSON.stringify(me) + "\n");
    a.#timer = setInterval(() => touchByWrite(a.#path), HEARTBEAT_MS);
    return a;
  }

  /** The other sessions attached to the job now; records of ended ones are removed. */
  async others(): Promise<Attachment[]> {
    return await liveSessions(this.#dir, this.#prefix, this.session);
  }

  /** Removes this session's record. */
  async leave(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await Deno.remove(this.#path).catch(() => {});
  }
}

/**
 * The sessions attached to `scheduler` job `job` now, other than `except`; records of ended
 * ones are removed.
 */
export async function attachedSessions(
  stateDir: string,
  scheduler: string,
  job: string,
  except: string,
): Promise<Attachment[]> {
  return await liveSessions(sessionsDir(stateDir), prefix(scheduler, job), except);
}

async function liveSessions(dir: string, pre: string, except: string): Promise<Attachment[]> {
  if (!(await privateDirExists(dir))) return [];
  const now = await fsNow(dir);
  const live: Attachment[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.startsWith(pre) || !e.name.endsWith(".json")) continue;
    const path = join(dir, e.name);
    const session = e.name.slice(pre.length, pre.length + 36);
    if (session === except) continue;
    const a = await readAttachment(path, session);
    if (!a) continue;
    if (await isAlive(a.record, a.mtime, now)) live.push(a.record);
    else await Deno.remove(path).catch(() => {});
  }
  return live;
}

/**
 * A session's record; undefined when it is not one to believe (not the user's own 0600 file,
 * not this tool's fields): such a file is left alone.
 */
async function readAttachment(
  path: string,
  session: string,
): Promise<{ record: Attachment; mtime?: number } | undefined> {
  const read = await readPrivateJson(path);
  if (!read || "problem" in read) return undefined;
  const v = read.value as Record<string, unknown>;
  if (
    typeof v !== "object" || v === null || v.session !== session || !SESSION_ID.test(session) ||
    typeof v.host !== "string" || !Number.isInteger(v.pid) || (v.pid as number) <= 1 ||
    (v.pidStart !== undefined && !Number.isInteger(v.pidStart))
  ) return undefined;
  const mtime = (await Deno.lstat(path).catch(() => undefined))?.mtime?.getTime();
  return { record: v as unknown as Attachment, mtime };
}

/** Alive: its process runs, on this host; elsewhere, its heartbeat is recent (file system's clock). */
async function isAlive(a: Attachment, mtime: number | undefined, now: number | undefined) {
  if (sameHost(a.host, Deno.hostname())) return await pidAlive(a.pid, a.pidStart);
  if (now === undefined || mtime === undefined) return true;
  return now - mtime <= STALE_MS;
}
