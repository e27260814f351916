/**
 * A Jupyter kernel websocket client, as a browser tab is one: it starts a kernel through the
 * REST API, opens `api/kernels/ID/channels`, sends a `kernel_info_request` on the shell channel
 * (the first thing JupyterLab and Notebook send), and times the first `kernel_info_reply`.
 * @module
 */

/** Starts kernel `name` on the server and returns its id. */
export async function startKernel(baseUrl: string, token: string, name: string): Promise<string> {
  const res = await fetch(`${baseUrl}api/kernels`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `token ${token}` },
    body: JSON.stringify({ name }),
  });
  const body = await res.text();
  if (res.status !== 201) throw new Error(`POST api/kernels: ${res.status} ${body}`);
  return JSON.parse(body).id;
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
 * Opens kernel `kernelId`'s websocket, sends kernel_info_request, and resolves at the first
 * kernel_info_reply or after `limitMs` (then without `replyMs`), closing the socket either way.
 */
export function timeKernelInfo(
  baseUrl: string,
  token: string,
  kernelId: string,
  limitMs: number,
): Promise<KernelInfoTiming> {
  const session = crypto.randomUUID();
  const url = `${baseUrl.replace(/^http/, "ws")}api/kernels/${kernelId}/channels` +
    `?session_id=${session}&token=${token}`;
  const t0 = performance.now();
  const ws = new WebSocket(url);
  let openMs: number | undefined;
  return new Promise((resolve, reject) => {
    const finish = (r: KernelInfoTiming | Error) => {
      clearTimeout(timer);
      ws.onmessage = ws.onerror = ws.onclose = null;
      ws.close();
      if (r instanceof Error) reject(r);
      else resolve(r);
    };
    const timer = setTimeout(() => finish({ openMs }), limitMs);
    ws.onopen = () => {
      openMs = performance.now() - t0;
      ws.send(JSON.stringify({
        header: {
          msg_id: crypto.randomUUID(),
          username: "test",
          session,
          msg_type: "kernel_info_request",
          version: "5.3",
          date: new Date().toISOString(),
        },
        parent_header: {},
        metadata: {},
        content: {},
        channel: "shell",
        buffers: [],
      }));
    };
    ws.onmessage = (e) => {
      if (typeof e.data !== "string") return;
      const msg = JSON.parse(e.data);
      if ((msg.msg_type ?? msg.header?.msg_type) === "kernel_info_reply") {
        finish({ openMs, replyMs: performance.now() - t0, reply: msg.content });
      }
    };
    ws.onerror = (e) => finish(new Error(`websocket ${url}: ${(e as ErrorEvent).message}`));
    ws.onclose = (e) => finish(new Error(`websocket closed (${e.code}) before kernel_info_reply`));
  });
}
