/**
 * The laptop's edges for `connect`: dialling the login node with the system's `ssh`, and the
 * local listener that turns each browser connection into a stream of the current session.
 * The listener outlives dials: while the session is re-dialled, new connections wait for it,
 * and the same URL works again once it is back.
 * @module
 */

import { bridgeConn } from "./bridge.ts";
import { type Dialled, dialPipes, streamWriter } from "./pipes.ts";
import type { MuxSession } from "./mux.ts";

/** Lines a login shell prints that mean nothing to the user of `connect` (tcsh, csh). */
const SHELL_NOISE = [
  /^Warning: no access to tty \(.*\)\.$/,
  /^Thus no job control in this shell\.$/,
];

/** A dial in progress or done. */
export interface SshDial {
  readonly child: Deno.ChildProcess;
  /** The marker and hello, or why they never came. */
  readonly result: Promise<Dialled>;
  /** The last few KB the process wrote on stderr. */
  stderr(): string;
  /** Stops passing its stderr through (once the session is being given up). */
  quiet(): void;
  /** Ends the ssh process (SIGTERM, then SIGKILL) and waits for it. */
  kill(): Promise<void>;
}

/** Options for {@link dialSsh}. */
export interface DialOptions {
  /** The full `ssh` command line (see `sshArgv`). */
  readonly argv: readonly string[];
  /** The line the login shell reads (see `agentLine`). */
  readonly line: string;
  /**
   * Start ssh in a session of its own (no terminal): for a join of a running ControlMaster,
   * which has nothing to ask, so that Ctrl-C reaches only this program.
   */
  readonly detach: boolean;
  readonly version: string;
  /** Where ssh's stderr goes as it comes (its errors, a site's two-factor instructions). */
  readonly passStderr: (text: string) => void;
  /**
   * How long the login node's side may take, once ssh has logged in, to print the marker and
   * its hello. The clock starts at the first bytes from ssh (the login's own signal, see
   * `sshArgv`), or at once for a join of a running ControlMaster (which logs in nobody):
   * time spent at a password or code prompt does not count.
   */
  readonly remoteTimeoutMs: number;
}

/**
 * Starts `ssh` for one dial. Unless detached, ssh is started with SIGINT and SIGHUP ignored
 * (ssh keeps an ignored SIGINT ignored): Ctrl-C on the terminal then reaches this program
 * alone, which still has the connection to cancel the job with. Password and one-time-code
 * prompts are on /dev/tty, as always.
 */
export function dialSsh(o: DialOptions): SshDial {
  const child = o.detach
    ? new Deno.Command(o.argv[0], {
      args: [...o.argv.slice(1)],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn()
    : new Deno.Command("/bin/sh", {
      args: ["-c", 'trap "" INT HUP; exec "$@"', "sh", ...o.argv],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  let tail = "";
  let quiet = false;
  (async () => {
    const dec = new TextDecoder();
    let partial = "";
    try {
      for await (const chunk of child.stderr) {
        const text = partial + dec.decode(chunk, { stream: true });
        const lines = text.split("\n");
        partial = lines.pop() ?? "";
        const kept = lines.filter((l) => !SHELL_NOISE.some((re) => re.test(l.trimEnd())));
        const out = kept.map((l) => l + "\n").join("");
        tail = (tail + out).slice(-4096);
        if (out && !quiet) o.passStderr(out);
        // A prompt-like partial line ("Passcode or option (1-3): ") is shown at once.
        if (partial && !quiet && /[:?]\s*$/.test(partial)) {
          o.passStderr(partial);
          tail = (tail + partial).slice(-4096);
          partial = "";
        }
      }
      if (partial) tail = (tail + partial).slice(-4096);
    } catch {
      // The process is gone.
    }
  })();
  const write = streamWriter(child.stdin);
  write(new TextEncoder().encode(o.line)).catch(() => {});
  const deadline = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const startClock = () => {
    timer ??= setTimeout(() => deadline.abort(), o.remoteTimeoutMs);
  };
  if (o.detach) startClock();
  const result = dialPipes(child.stdout, write, {
    role: "client",
    hello: "client",
    version: o.version,
    // A ping every 5 s; 15 s without a word from the login node means the link is gone
    // (a laptop that slept, a changed network): give it up and dial again.
    keepalive: { intervalMs: 5000, deadMs: 15_000 },
    deadline: deadline.signal,
    onFirstBytes: startClock,
  }).finally(() => clearTimeout(timer));
  let killed: Promise<void> | undefined;
  return {
    child,
    result,
    stderr: () => tail,
    quiet: () => (quiet = true),
    kill() {
      quiet = true;
      killed ??= (async () => {
        const signal = (s: Deno.Signal) => {
          try {
            child.kill(s);
          } catch {
            // Already gone.
          }
        };
        signal("SIGTERM");
        const t = setTimeout(() => signal("SIGKILL"), 3000);
        await child.status;
        clearTimeout(t);
      })();
      return killed;
    },
  };
}

/**
 * Runs `ssh -G` (no connection is made) and returns its output, or why ssh cannot read its
 * configuration for `destination` (a bad line in ~/.ssh/config, a bad `-o` option).
 */
export async function sshConfigText(
  destination: string,
  userOptions: readonly string[],
): Promise<{ ok: true; text: string } | { ok: false; error: string }> {
  try {
    const out = await new Deno.Command("ssh", {
      args: [...userOptions.flatMap((o) => ["-o", o]), "-G", "--", destination],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    if (out.code === 0) return { ok: true, text: dec.decode(out.stdout) };
    const said = dec.decode(out.stderr).trim().split("\n").filter(Boolean).pop();
    return { ok: false, error: said ?? `ssh -G exited with status ${out.code}` };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

/** Whether a ControlMaster for `destination` runs now (`ssh -O check`; no connection made). */
export async function masterRunning(
  destination: string,
  userOptions: readonly string[],
): Promise<boolean> {
  try {
    const out = await new Deno.Command("ssh", {
      args: [...userOptions.flatMap((o) => ["-o", o]), "-O", "check", "--", destination],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return out.code === 0;
  } catch {
    return false;
  }
}

/** The path of the one-time link handed to the browser (see {@link LocalListener}). */
export const OPEN_PREFIX = "/legate-jupyter/open/";

/**
 * The laptop's listening port on 127.0.0.1. Each connection becomes a stream of the session
 * `current()` resolves to (waiting while the session is re-dialled; closed when there will
 * be none). One path is answered here: a one-time link that redirects to the URL with the
 * token, so that the token appears neither on a command line (`ps`) nor in a file when a
 * browser is opened.
 */
export class LocalListener {
  readonly port: number;
  readonly #listener: Deno.TcpListener;
  readonly #current: () => Promise<MuxSession | undefined>;
  readonly #conns = new Set<Deno.TcpConn>();
  #nonce: string | undefined;
  #redirect: string | undefined;
  #closed = false;

  private constructor(listener: Deno.TcpListener, current: () => Promise<MuxSession | undefined>) {
    this.#listener = listener;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#current = current;
    this.#accept();
  }

  /**
   * Listens on 127.0.0.1: on `preferred` when it is free (the server's own port, so that the
   * URL looks the same), else on a port the system picks. With `strict`, `preferred` or an
   * error.
   */
  static listen(
    preferred: number | undefined,
    strict: boolean,
    current: () => Promise<MuxSession | undefined>,
  ): LocalListener {
    if (preferred !== undefined) {
      try {
        return new LocalListener(
          Deno.listen({ hostname: "127.0.0.1", port: preferred }),
          current,
        );
      } catch (e) {
        if (strict) throw e;
      }
    }
    return new LocalListener(Deno.listen({ hostname: "127.0.0.1", port: 0 }), current);
  }

  /**
   * Sets the one-time link: it redirects once to `target`, a path with the token on this
   * listener's own origin (it must begin with a single `/` and hold only URL characters: see
   * `remoteBasePath`); the redirect is absolute, so it never leaves 127.0.0.1.
   */
  oneTimeLink(nonce: string, target: string): string {
    if (!/^\/(?!\/)[\x21-\x7e]*$/.test(target) || target.includes("\\")) {
      throw new Error(`not a local path: ${JSON.stringify(target)}`);
    }
    this.#nonce = nonce;
    this.#redirect = `http://127.0.0.1:${this.port}${target}`;
    return `http://127.0.0.1:${this.port}${OPEN_PREFIX}${nonce}`;
  }

  /** Stops listening and closes every connection. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#listener.close();
    } catch {
      // Already closed.
    }
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // Already closed.
      }
    }
  }

  async #accept(): Promise<void> {
    while (!this.#closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        return; // Closed.
      }
      this.#conns.add(conn);
      this.#serve(conn).finally(() => this.#conns.delete(conn));
    }
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    try {
      conn.setNoDelay(true);
    } catch {
      // Not fatal.
    }
    const first = await this.#readFirst(conn);
    if (first === null) return conn.close();
    if (await this.#answerOpen(conn, first)) return;
    // Wait for a session (the link may be down); a session that ends under the open is tried
    // once more with the next one.
    for (let attempt = 0; attempt < 2 && !this.#closed; attempt++) {
      const session = await this.#current();
      if (!session) break;
      let stream;
      try {
        stream = session.open();
      } catch {
        continue;
      }
      await bridgeConn(conn, stream, first);
      return;
    }
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }

  /** The first bytes a client sends (the start of an HTTP request); null when it sends none. */
  async #readFirst(conn: Deno.TcpConn): Promise<Uint8Array | null> {
    let got = new Uint8Array(0);
    const prefix = new TextEncoder().encode(`GET ${OPEN_PREFIX}`);
    while (true) {
      const buf = new Uint8Array(64 * 1024);
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        return null;
      }
      if (n === null) return got.length ? got : null;
      const next = new Uint8Array(got.length + n);
      next.set(got);
      next.set(buf.subarray(0, n), got.length);
      got = next;
      // Only a request that could still be the one-time link needs its whole first line.
      const head = got.subarray(0, Math.min(got.length, prefix.length));
      const couldBe = head.every((b, i) => b === prefix[i]);
      if (!couldBe || got.includes(10) || got.length > 4096) return got;
    }
  }

  async #answerOpen(conn: Deno.TcpConn, first: Uint8Array): Promise<boolean> {
    const line = new TextDecoder().decode(first.subarray(0, 512)).split("\r\n")[0];
    const m = /^GET (\S+) HTTP\/1\.[01]$/.exec(line);
    if (!m || !m[1].startsWith(OPEN_PREFIX)) return false;
    const nonce = m[1].slice(OPEN_PREFIX.length);
    let response: string;
    if (this.#nonce !== undefined && nonce === this.#nonce && this.#redirect) {
      this.#nonce = undefined;
      response = "HTTP/1.1 302 Found\r\n" +
        `Location: ${this.#redirect}\r\n` +
        "Cache-Control: no-store\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    } else {
      const body = "This link works once. Use the URL that legate-jupyter connect printed.\n";
      response = "HTTP/1.1 410 Gone\r\nContent-Type: text/plain; charset=utf-8\r\n" +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    }
    try {
      const bytes = new TextEncoder().encode(response);
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    } catch {
      // The browser went away.
    }
    try {
      conn.close();
    } catch {
      // Already closed.
    }
    return true;
  }
}

/**
 * Asks the server through the listener (the whole path: listener, SSH, agent, relay, Jupyter)
 * whether it answers: an HTTP GET of `path`; resolves with the status code, 0 when no answer.
 */
export async function probe(port: number, path: string, timeoutMs = 10_000): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }, timeoutMs);
  try {
    const req = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`;
    await conn.write(new TextEncoder().encode(req));
    let text = "";
    const buf = new Uint8Array(4096);
    while (!/\r\n/.test(text)) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    return Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
  } catch {
    return 0;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}
