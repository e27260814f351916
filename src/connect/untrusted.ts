/**
 * What the laptop accepts from the login node. The login node is another machine, run by
 * others and shared with others: everything `connect`'s agent sends is input to check, never
 * text to print or a value to use as it came. Every remote string goes through one printable
 * filter with a length cap (control characters, C1 and bidirectional ones included, shown
 * escaped); ids must have a scheduler's or a server's form; the base path must be a plain path
 * on the laptop's own origin; exit codes outside 1–255 become 1; and a flood of messages is
 * cut down to what a person can read. A message that breaks these rules is a protocol error.
 * Pure, but for the clock {@link TextBudget} reads.
 * @module
 */

import { hasControl, printable } from "../util/printable.ts";
import { JOB_ID } from "../scheduler/jobs_state.ts";
import type { JobLine, ReadyMessage, WireStatus } from "../relay/protocol.ts";

/** The longest remote text printed as one message. */
export const MAX_TEXT = 2000;

/** The login node sent something connect's protocol does not allow. */
export class RemoteProtocolError extends Error {
  override name = "RemoteProtocolError";
}

/** `value` as printable text (one line unless `multiline`), at most `max` characters. */
export function remoteText(value: unknown, max = MAX_TEXT, multiline = false): string {
  return printable(typeof value === "string" ? value : String(value ?? ""), max, multiline);
}

/** An optional remote string, filtered; undefined when absent. */
function optionalText(value: unknown, max = 200): string | undefined {
  return value === undefined || value === null ? undefined : remoteText(value, max);
}

const SERVER_ID = /^[0-9a-f]{1,32}$/;

/** Whether `id` has the form of a job id of some scheduler this tool speaks to. */
export function isAnyJobId(id: string): boolean {
  return Object.values(JOB_ID).some((re) => re.test(id));
}

/** A job id from the remote, or a {@link RemoteProtocolError} naming it (escaped). */
export function remoteJobId(value: unknown): string {
  if (typeof value === "string" && isAnyJobId(value)) return value;
  throw new RemoteProtocolError(
    `a job id that is not one: ${JSON.stringify(remoteText(value, 80))}`,
  );
}

/** A server id (hex) from the remote, or a {@link RemoteProtocolError}. */
export function remoteServerId(value: unknown): string {
  if (typeof value === "string" && SERVER_ID.test(value)) return value;
  throw new RemoteProtocolError(
    `a server id that is not one: ${JSON.stringify(remoteText(value, 80))}`,
  );
}

/** The exit code a remote error asks for: an integer from 1 to 255, else 1. */
export function remoteExitCode(value: unknown): number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 255
    ? value
    : 1;
}

/**
 * A server's base path from the remote, checked and URL-encoded for a path on the laptop's
 * own origin: it must begin with one `/` (a `//` would make a redirect leave for another
 * host), hold no control characters (a CR LF would add headers to the laptop's own response),
 * and every segment is percent-encoded (so `\` cannot turn into `/`). Ends with `/`.
 */
export function remoteBasePath(value: unknown): string {
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//")) {
    throw new RemoteProtocolError(
      `a base path that is not a path on this machine: ${JSON.stringify(remoteText(value, 80))}`,
    );
  }
  if (hasControl(value) || value.length > 1000) {
    throw new RemoteProtocolError(
      `a base path with control characters: ${JSON.stringify(remoteText(value, 80))}`,
    );
  }
  const segments = value.split("/").slice(1).map((seg) => {
    let plain = seg;
    try {
      plain = decodeURIComponent(seg);
    } catch {
      // Not percent-encoded: taken as it is.
    }
    return encodeURIComponent(plain);
  });
  const path = "/" + segments.join("/");
  return path.endsWith("/") ? path : path + "/";
}

/** A TCP port from the remote, or a {@link RemoteProtocolError}. */
function remotePort(value: unknown): number {
  if (typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535) {
    return value;
  }
  throw new RemoteProtocolError(`a port that is not one: ${JSON.stringify(remoteText(value, 40))}`);
}

/** A host name from the remote: shown as it is when it looks like one, else escaped. */
function remoteHost(value: unknown): string {
  return typeof value === "string" && /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(value)
    ? value
    : remoteText(value, 80);
}

/**
 * A `ready` message, every field checked or filtered; a {@link RemoteProtocolError} for one
 * that cannot be used (an id, port, token or base path of the wrong form).
 */
export function checkReady(m: Record<string, unknown>): ReadyMessage {
  const token = m.token;
  if (typeof token !== "string" || !/^[A-Za-z0-9._~-]{1,512}$/.test(token)) {
    throw new RemoteProtocolError("a token that is not one (letters, digits and ._~- only)");
  }
  const route = m.route === "srun" || m.route === "ssh" || m.route === "here" ? m.route : "ssh";
  return {
    type: "ready",
    job: m.job === undefined || m.job === null ? undefined : remoteJobId(m.job),
    server: remoteServerId(m.server),
    app: m.app === "lab" || m.app === "server" ? m.app : "notebook",
    version: optionalText(m.version, 40),
    node: remoteHost(m.node),
    port: remotePort(m.port),
    token,
    basePath: remoteBasePath(m.basePath),
    notebookDir: remoteText(m.notebookDir, 300),
    kernel: optionalText(m.kernel, 100),
    route,
    direct: m.direct === true,
    login: remoteHost(m.login),
  };
}

/** A job status from the remote, its texts filtered and its numbers checked. */
export function checkStatus(value: unknown): WireStatus {
  const w = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  const num = (x: unknown) =>
    x === null ? null : typeof x === "number" && Number.isFinite(x) && x >= 0 ? x : undefined;
  const when = typeof w.startTime === "string" && !Number.isNaN(Date.parse(w.startTime))
    ? w.startTime
    : undefined;
  return {
    id: remoteJobId(w.id),
    state: remoteText(w.state, 40),
    phase: w.phase === "queued" || w.phase === "running" || w.phase === "ended"
      ? w.phase
      : "queued",
    reason: optionalText(w.reason, 200),
    nodeList: optionalText(w.nodeList, 200),
    timeLeft: num(w.timeLeft),
    timeLimit: num(w.timeLimit),
    startTime: when,
    name: optionalText(w.name, 100),
    partition: optionalText(w.partition, 60),
  };
}

/** `--jobs`'s lines from the remote, each field filtered; ids checked. */
export function checkJobLines(value: unknown): JobLine[] {
  if (!Array.isArray(value)) throw new RemoteProtocolError("a jobs list that is not a list");
  return value.slice(0, 1000).map((x) => {
    const l = (typeof x === "object" && x !== null ? x : {}) as Record<string, unknown>;
    const kind = l.kind === "server" ? "server" : "job";
    const phase = l.phase === "running" || l.phase === "ended" ? l.phase : "queued";
    return {
      id: kind === "job" ? remoteJobId(l.id) : remoteServerId(l.id),
      kind,
      name: remoteText(l.name, 60),
      state: remoteText(l.state, 40),
      phase,
      node: optionalText(l.node, 100),
      timeLeft: typeof l.timeLeft === "number" && l.timeLeft >= 0 ? l.timeLeft : null,
      startTime: optionalText(l.startTime, 40),
      reason: optionalText(l.reason, 100),
      serverUp: l.serverUp === true,
    };
  });
}

/**
 * How many remote messages are printed: a burst, then a steady trickle; beyond that they are
 * dropped, and one line says how many (a login node that sends a megabyte every few
 * milliseconds fills no terminal).
 */
export class TextBudget {
  readonly #burst: number;
  readonly #perSecond: number;
  #tokens: number;
  #last: number;
  #dropped = 0;

  constructor(burst = 50, perSecond = 2) {
    this.#burst = burst;
    this.#perSecond = perSecond;
    this.#tokens = burst;
    this.#last = Date.now();
  }

  /**
   * Whether one more message may be printed now. When messages were dropped and printing
   * resumes, `onDropped` first gets their number.
   */
  take(onDropped?: (count: number) => void): boolean {
    const now = Date.now();
    this.#tokens = Math.min(
      this.#burst,
      this.#tokens + ((now - this.#last) / 1000) * this.#perSecond,
    );
    this.#last = now;
    if (this.#tokens < 1) {
      this.#dropped++;
      return false;
    }
    this.#tokens--;
    if (this.#dropped) {
      onDropped?.(this.#dropped);
      this.#dropped = 0;
    }
    return true;
  }

  /** Messages dropped since the last one printed. */
  get dropped(): number {
    return this.#dropped;
  }
}
