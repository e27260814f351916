/**
 * A minimal Jupyter kernel client over HTTP and the kernel's WebSocket, as a browser speaks to
 * the server, for tests that run it on the test cluster's laptop through `connect`'s URL:
 *
 *   deno run -A kernel_client.ts start URL KERNEL_NAME      prints the new kernel's id
 *   deno run -A kernel_client.ts exec URL KERNEL_ID CODE    prints {"status", "stdout"}
 *
 * URL is the URL `connect` printed (`http://127.0.0.1:PORT/BASE/?token=T`).
 * @module
 */

/**
 * How long an execution may take to be answered, kernel start-up included: Debian 13's classic
 * notebook (6.4.13 with jupyter_client 8) holds a kernel's first WebSocket for its 60-s
 * kernel_info timeout.
 */
const TIMEOUT_S = Number(Deno.env.get("LJD_KERNEL_TIMEOUT_S") ?? 180);

function parts(url: string): { base: string; token: string } {
  const u = new URL(url);
  const token = u.searchParams.get("token") ?? "";
  return { base: `${u.origin}${u.pathname.replace(/\/?$/, "/")}`, token };
}

async function start(url: string, name: string): Promise<string> {
  const { base, token } = parts(url);
  const r = await fetch(`${base}api/kernels`, {
    method: "POST",
    headers: { Authorization: `token ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ name }),
  });
  const body = await r.json();
  if (!r.ok) throw new Error(`POST api/kernels: HTTP ${r.status} ${JSON.stringify(body)}`);
  return body.id;
}

function exec(url: string, kernel: string, code: string): Promise<Record<string, unknown>> {
  const { base, token } = parts(url);
  const ws = new WebSocket(
    `${base.replace(/^http/, "ws")}api/kernels/${kernel}/channels?token=${token}`,
  );
  const session = crypto.randomUUID();
  const msgId = crypto.randomUUID();
  let stdout = "";
  let status = "";
  let idle = false;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`no reply within ${TIMEOUT_S} s; stdout so far: ${stdout}`));
    }, TIMEOUT_S * 1000);
    ws.onerror = (e) => reject(new Error(`websocket error: ${(e as ErrorEvent).message}`));
    ws.onopen = () => {
      ws.send(JSON.stringify({
        header: {
          msg_id: msgId,
          username: "test",
          session,
          msg_type: "execute_request",
          version: "5.3",
          date: new Date().toISOString(),
        },
        parent_header: {},
        metadata: {},
        content: {
          code,
          silent: false,
          store_history: true,
          user_expressions: {},
          allow_stdin: false,
          stop_on_error: true,
        },
        channel: "shell",
        buffers: [],
      }));
    };
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data as string);
      if (m.parent_header?.msg_id !== msgId) return;
      const type = m.header?.msg_type ?? m.msg_type;
      if (type === "stream" && m.content.name === "stdout") stdout += m.content.text;
      if (type === "execute_result") stdout += m.content.data?.["text/plain"] ?? "";
      if (type === "error") stdout += `${m.content.ename}: ${m.content.evalue}`;
      if (type === "execute_reply") status = m.content.status;
      if (type === "status" && m.content.execution_state === "idle") idle = true;
      // The shell reply and the iopub idle come on different channels, in either order.
      if (idle && status) {
        clearTimeout(timer);
        ws.close();
        resolve({ status, stdout });
      }
    };
  });
}

if (import.meta.main) {
  const [what, url, arg, code] = Deno.args;
  if (what === "start") console.log(await start(url, arg));
  else if (what === "exec") console.log(JSON.stringify(await exec(url, arg, code)));
  else {
    console.error("usage: kernel_client.ts start URL NAME | exec URL KERNEL_ID CODE");
    Deno.exit(2);
  }
}
