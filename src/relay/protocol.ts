/**
 * The control messages of `connect`'s protocol (JSON in CONTROL frames), the version
 * handshake, and a small inbox that hands them out in order.
 *
 * Laptop → agent: `start` (submit, or `--here`), `attach`, `jobs`, `cancel`, `detach`; `start`,
 * `attach` and `cancel` carry the laptop's `session` id (the same across its re-dials).
 * Agent → laptop: `note`, `warning`, `status` (the job's state while it waits), `submitted`,
 * `ready`, `requeued` (the job went back to the queue: a new `ready` follows when it runs
 * again), `jobs`, `ended`, `cancelled`, `detached`, `error`. Agent → relay: nothing but
 * streams. Every side's first message is a `hello`. The laptop checks every field it gets
 * (`../connect/untrusted.ts`): the login node is not trusted.
 * @module
 */

import { PROTOCOL_VERSION } from "./frame.ts";
import type { SessionEnd } from "./mux.ts";

/** The program's name in hellos (a different program answering is refused). */
export const PROGRAM = "legate-jupyter";

/** The first message of every side. */
export interface Hello {
  readonly type: "hello";
  readonly program: string;
  readonly version: string;
  readonly protocol: number;
  readonly role: "client" | "agent" | "relay";
  /** The host this side runs on. */
  readonly host: string;
}

/** This side's hello. */
export function hello(role: Hello["role"], version: string, host = Deno.hostname()): Hello {
  return { type: "hello", program: PROGRAM, version, protocol: PROTOCOL_VERSION, role, host };
}

/**
 * Why the other side's hello is not acceptable, or undefined when it is: another program, or
 * another protocol version (then the versions are named, so that the fix is plain).
 */
export function helloProblem(msg: Record<string, unknown>, ownVersion: string): string | undefined {
  if (msg.type !== "hello" || msg.program !== PROGRAM) {
    return "the other side did not introduce itself as legate-jupyter";
  }
  if (msg.protocol !== PROTOCOL_VERSION) {
    return `it is legate-jupyter ${String(msg.version)} (protocol ${String(msg.protocol)}) ` +
      `and this is ${ownVersion} (protocol ${PROTOCOL_VERSION})`;
  }
  return undefined;
}

/** A job's status as it crosses the wire (dates as ISO strings, no Infinity). */
export interface WireStatus {
  readonly id: string;
  readonly state: string;
  readonly phase: "queued" | "running" | "ended";
  readonly reason?: string;
  readonly nodeList?: string;
  readonly timeLeft?: number | null;
  readonly timeLimit?: number | null;
  readonly startTime?: string;
  readonly name?: string;
  readonly partition?: string;
}

/** What the agent says once the server can be reached through the session. */
export interface ReadyMessage {
  readonly type: "ready";
  /** The batch job, absent for a server on the login node (`--here`). */
  readonly job?: string;
  /** The server's id in the state dir. */
  readonly server: string;
  readonly app: string;
  readonly version?: string;
  /** The node Jupyter runs on, and its port there. */
  readonly node: string;
  readonly port: number;
  readonly token: string;
  /** The server's base path (`/` unless configured). */
  readonly basePath: string;
  readonly notebookDir: string;
  readonly kernel?: string;
  /** How the login node reaches the node: a Slurm step, SSH from the login node, or itself. */
  readonly route: "srun" | "ssh" | "here";
  /** With srun: the bytes go over a direct connection to the relay (`direct.ts`). */
  readonly direct?: boolean;
  /** The login node's own name. */
  readonly login: string;
}

/** One line of `connect --jobs`. */
export interface JobLine {
  readonly id: string;
  /** `job` (batch job) or `server` (on the login node, `--here`). */
  readonly kind: "job" | "server";
  readonly name: string;
  readonly state: string;
  readonly phase: "queued" | "running" | "ended";
  readonly node?: string;
  readonly timeLeft?: number | null;
  readonly startTime?: string;
  readonly reason?: string;
  /** Whether a server answers for it (a job whose Jupyter is up). */
  readonly serverUp: boolean;
}

/** A failure the agent reports; the laptop exits with `exitCode`. */
export interface ErrorMessage {
  readonly type: "error";
  readonly message: string;
  readonly exitCode: number;
  /** Printed without the program's prefix (a scheduler's own words). */
  readonly raw?: boolean;
}

/** The session ended before the awaited message came. */
export class SessionEndedError extends Error {
  override name = "SessionEndedError";
  readonly end: SessionEnd;
  constructor(end: SessionEnd) {
    super(end.message);
    this.end = end;
  }
}

/** Control messages in arrival order, for whoever waits on them. */
export class Inbox {
  #queue: Record<string, unknown>[] = [];
  #waiters: {
    accept: (m: Record<string, unknown>) => boolean;
    resolve: (m: Record<string, unknown>) => void;
    reject: (e: Error) => void;
  }[] = [];
  #end: SessionEnd | undefined;
  /** Called for messages nobody waits for (notes, progress), instead of queueing them. */
  listener?: (m: Record<string, unknown>) => boolean;

  /** Feeds a message (give this to the session's `onControl`). */
  push = (m: Record<string, unknown>): void => {
    const i = this.#waiters.findIndex((w) => w.accept(m));
    if (i >= 0) {
      const [w] = this.#waiters.splice(i, 1);
      w.resolve(m);
      return;
    }
    if (this.listener?.(m)) return;
    this.#queue.push(m);
  };

  /** Rejects every waiter, now and later, with the session's end. */
  close(end: SessionEnd): void {
    this.#end = end;
    for (const w of this.#waiters.splice(0)) w.reject(new SessionEndedError(end));
  }

  /** The next message whose type is one of `types` (earlier ones already queued first). */
  next(types: readonly string[]): Promise<Record<string, unknown>> {
    const accept = (m: Record<string, unknown>) => types.includes(m.type as string);
    const i = this.#queue.findIndex(accept);
    if (i >= 0) return Promise.resolve(this.#queue.splice(i, 1)[0]);
    if (this.#end) return Promise.reject(new SessionEndedError(this.#end));
    return new Promise((resolve, reject) => this.#waiters.push({ accept, resolve, reject }));
  }
}

/** A status for the wire. */
export function toWire(s: import("../scheduler/types.ts").JobStatus): WireStatus {
  const finite = (n: number | undefined) => n === undefined ? undefined : n === Infinity ? null : n;
  return {
    id: s.id,
    state: s.state,
    phase: s.phase,
    reason: s.reason,
    nodeList: s.nodeList,
    timeLeft: finite(s.timeLeft),
    timeLimit: finite(s.timeLimit),
    startTime: s.startTime?.toISOString(),
    name: s.name,
    partition: s.partition,
  };
}

/** A status from the wire, for `describeJob` on the laptop (in the laptop's time zone). */
export function fromWire(w: WireStatus): import("../scheduler/types.ts").JobStatus {
  const number = (n: number | null | undefined) => n === null ? Infinity : n;
  const fields = {
    id: String(w.id),
    state: String(w.state),
    phase: w.phase,
    reason: w.reason,
    nodeList: w.nodeList,
    timeLeft: number(w.timeLeft),
    timeLimit: number(w.timeLimit),
    startTime: w.startTime ? new Date(w.startTime) : undefined,
    name: w.name,
    partition: w.partition,
  };
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as never;
}
