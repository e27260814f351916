/**
 * The tests' one Jupyter kernel client, over the server's REST API and the kernel's
 * WebSocket, as a browser tab speaks to them: start a kernel, open its channels, send shell
 * requests (`execute_request`, `kernel_info_request`) and collect what they cause, shut it
 * down. Used in-process (tests/kernel_websocket_test.ts, tests/cluster/laptop.ts,
 * bench/cell_rtt.ts) and, on the test cluster's second laptop, from the command line against
 * the URL `connect` printed (`http://127.0.0.1:PORT/BASE/?token=T`):
 *
 *   deno run -A kernel_client.ts start URL KERNEL_NAME      prints the new kernel's id
 *   deno run -A kernel_client.ts exec URL KERNEL_ID CODE    prints {"status", "stdout"}
 * @module
 */

/** A Jupyter server: its base URL (ending in `/`) and token. */
export interface Server {
  readonly base: string;
  readonly token: string;
}

/** The server of a URL with the token in its query, as `notebook` and `connect` print. */
export function serverOf(url: string): Server {
  const u = new URL(url);
  return {
    base: `${u.origin}${u.pathname.replace(/\/?$/, "/")}`,
    token: u.searchParams.get("token") ?? "",
  };
}

function auth(server: Server): Record<string, string> {
  return { Authorization: `token ${server.token}` };
}

/** Starts kernel `name` on the server and returns its id. */
export async function startKernel(server: Server, name: string): Promise<string> {
  const res = await fetch(`${server.base}api/kernels`, {
    method: "POST",
    headers: { ...auth(server), "Content-Type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`POST api/kernels: ${res.status} ${body}`);
  return JSON.parse(body).id;
}

/** Shuts kernel `id` down. */
export async function shutdownKernel(server: Server, id: string): Promise<void> {
  const res = await fetch(`${server.base}api/kernels/${id}`, {
    method: "DELETE",
    headers: auth(server),
  });
  await res.body?.cancel();
}

/** A message of the kernel protocol, as the server's WebSocket carries it (JSON). */
export interface KernelMessage {
  readonly header: { readonly msg_id: string; readonly msg_type: string };
  readonly parent_header: { readonly msg_id?: string };
  readonly content: Record<string, unknown>;
  readonly channel?: string;
}

/** What one `execute_request` caused. */
export interface Execution {
  /** The reply's status: `ok`, `error` or `aborted`. */
  readonly status: string;
  /** What a notebook cell shows, in order: stdout, results (text/plain), the error. */
  readonly shown: string;
  /** Everything the code printed, stdout and stderr, in order. */
  readonly streams: string;
  /** `ename: evalue`, when the code raised. */
  readonly error: string | null;
  /** From the request's send to its reply and the kernel's idle status. */
  readonly ms: number;
}

interface Pending {
  readonly messages: KernelMessage[];
  readonly idle: boolean;
  reply?: KernelMessage;
  sawIdle: boolean;
  resolve(r: { reply: KernelMessage; messages: KernelMessage[] }): void;
  reject(e: Error): void;
}

/** One WebSocket to a kernel's channels (as one browser tab holds). */
export class KernelSocket {
  readonly #ws: WebSocket;
  readonly #session = crypto.randomUUID();
  readonly #pending = new Map<string, Pending>();
  /** Resolves once the server has accepted the WebSocket; rejects if it did not. */
  readonly opened: Promise<void>;

  /** Starts connecting to kernel `id`'s channels; await {@link opened} before requests. */
  constructor(server: Server, id: string) {
    const url = `${server.base.replace(/^http/, "ws")}api/kernels/${id}/channels` +
      `?session_id=${this.#session}&token=${server.token}`;
    this.#ws = new WebSocket(url);
    this.opened = new Promise((resolve, reject) => {
      this.#ws.onopen = () => resolve();
      this.#ws.onerror = (e) => {
        const why = new Error(`websocket ${url}: ${(e as ErrorEvent).message}`);
        reject(why);
        this.#failAll(why);
      };
    });
    this.opened.catch(() => {});
    this.#ws.onclose = (e) =>
      this.#failAll(new Error(`websocket closed (${e.code}) before the reply`));
    this.#ws.onmessage = (ev) => {
      if (typeof ev.data !== "string") return;
      const m = JSON.parse(ev.data) as KernelMessage & { msg_type?: string };
      const p = m.parent_header?.msg_id ? this.#pending.get(m.parent_header.msg_id) : undefined;
      if (!p) return;
      p.messages.push(m);
      const type = m.header?.msg_type ?? m.msg_type;
      if (type?.endsWith("_reply")) p.reply = m;
      if (type === "status" && m.content.execution_state === "idle") p.sawIdle = true;
      if (p.reply && (p.sawIdle || !p.idle)) {
        this.#pending.delete(m.parent_header.msg_id!);
        p.resolve({ reply: p.reply, messages: p.messages });
      }
    };
  }

  /** A socket to kernel `id` once the server has accepted it. */
  static async open(server: Server, id: string): Promise<KernelSocket> {
    const s = new KernelSocket(server, id);
    await s.opened;
    return s;
  }

  #failAll(e: Error): void {
    for (const p of this.#pending.values()) p.reject(e);
    this.#pending.clear();
  }

  /**
   * Sends `msgType` on the shell channel and resolves with its reply and every message it
   * caused, once the reply has come (and, with `idle`, the kernel's idle status for it).
   */
  request(
    msgType: string,
    content: Record<string, unknown>,
    idle = false,
  ): Promise<{ reply: KernelMessage; messages: KernelMessage[] }> {
    const msgId = crypto.randomUUID();
    return new Promise((resolve, reject) => {
      this.#pending.set(msgId, { messages: [], idle, sawIdle: false, resolve, reject });
      this.#ws.send(JSON.stringify({
        header: {
          msg_id: msgId,
          username: "test",
          session: this.#session,
          msg_type: msgType,
          version: "5.3",
          date: new Date().toISOString(),
        },
        parent_header: {},
        metadata: {},
        content,
        channel: "shell",
        buffers: [],
      }));
    });
  }

  /** Runs `code` as a notebook cell does. */
  async execute(code: string, options: { storeHistory?: boolean } = {}): Promise<Execution> {
    const t0 = performance.now();
    const { reply, messages } = await this.request("execute_request", {
      code,
      silent: false,
      store_history: options.storeHistory ?? false,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    }, true);
    const ms = performance.now() - t0;
    let shown = "";
    let streams = "";
    let error: string | null = null;
    for (const m of messages) {
      const c = m.content;
      switch (m.header.msg_type) {
        case "stream":
          streams += c.text;
          if (c.name === "stdout") shown += c.text;
          break;
        case "execute_result":
          shown += (c.data as Record<string, string> | undefined)?.["text/plain"] ?? "";
          break;
        case "error":
          error = `${c.ename}: ${c.evalue}`;
          shown += error;
          break;
      }
    }
    return { status: String(reply.content.status), shown, streams, error, ms };
  }

  close(): void {
    this.#ws.onclose = null;
    this.#ws.close();
  }
}

/** What {@link timeKernelInfo} saw. */
export interface KernelInfoTiming {
  /** From creating the websocket to its handshake (the server's "open"). */
  readonly openMs?: number;
  /** From creating the websocket to the first kernel_info_reply; absent when none came. */
  readonly replyMs?: number;
  /** The reply's content (protocol_version, language_info, ...). */
  readonly reply?: Record<string, unknown>;
}

/**
 * Opens kernel `id`'s websocket, sends kernel_info_request (the first thing JupyterLab and
 * Notebook send), and resolves at the first kernel_info_reply or after `limitMs` (then
 * without `replyMs`), closing the socket either way.
 */
export async function timeKernelInfo(
  server: Server,
  id: string,
  limitMs: number,
): Promise<KernelInfoTiming> {
  const t0 = performance.now();
  const socket = new KernelSocket(server, id);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<"limit">((r) => (timer = setTimeout(() => r("limit"), limitMs)));
  try {
    if (await Promise.race([socket.opened, limit]) === "limit") return {};
    const openMs = performance.now() - t0;
    const r = await Promise.race([socket.request("kernel_info_request", {}), limit]);
    if (r === "limit") return { openMs };
    return { openMs, replyMs: performance.now() - t0, reply: r.reply.content };
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}

if (import.meta.main) {
  const [what, url, arg, code] = Deno.args;
  const server = url ? serverOf(url) : undefined;
  if (what === "start" && server) console.log(await startKernel(server, arg));
  else if (what === "exec" && server) {
    // Debian 13's classic notebook (6.4.13 with jupyter_client 8) holds a kernel's first
    // WebSocket for its 60-s kernel_info timeout: the answer may take that long.
    const limitS = Number(Deno.env.get("LJD_KERNEL_TIMEOUT_S") ?? 180);
    const deadline = setTimeout(() => {
      console.error(`no reply within ${limitS} s`);
      Deno.exit(1);
    }, limitS * 1000);
    const socket = await KernelSocket.open(server, arg);
    const e = await socket.execute(code, { storeHistory: true });
    socket.close();
    clearTimeout(deadline);
    console.log(JSON.stringify({ status: e.status, stdout: e.shown }));
  } else {
    console.error("usage: kernel_client.ts start URL NAME | exec URL KERNEL_ID CODE");
    Deno.exit(2);
  }
}
