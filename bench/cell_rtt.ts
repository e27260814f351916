/**
 * Run on the test cluster's laptop by bench/connect_bench.ts: the time for a cell's reply
 * through two URLs of the same Jupyter server (connect's, and a plain SSH tunnel's), on one
 * kernel, alternating the two so that the kernel's own time weighs on both alike.
 *
 *   deno run -A bench/cell_rtt.ts URL_A URL_B KERNEL_NAME ROUNDS
 *
 * Prints {"a": [ms...], "b": [ms...]}: send of `execute_request` to the kernel's idle status
 * and reply, each over its own WebSocket.
 * @module
 */

function parts(url: string): { base: string; token: string } {
  const u = new URL(url);
  return {
    base: `${u.origin}${u.pathname.replace(/\/?$/, "/")}`,
    token: u.searchParams.get("token") ?? "",
  };
}

class KernelSocket {
  #ws: WebSocket;
  #waiting: { id: string; done: () => void; idle: boolean; reply: boolean } | undefined;
  readonly #session = crypto.randomUUID();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data as string);
      const w = this.#waiting;
      if (!w || m.parent_header?.msg_id !== w.id) return;
      const type = m.header?.msg_type;
      if (type === "execute_reply") w.reply = true;
      if (type === "status" && m.content?.execution_state === "idle") w.idle = true;
      if (w.reply && w.idle) {
        this.#waiting = undefined;
        w.done();
      }
    };
  }

  static open(url: string, kernel: string): Promise<KernelSocket> {
    const { base, token } = parts(url);
    const ws = new WebSocket(
      `${base.replace(/^http/, "ws")}api/kernels/${kernel}/channels?token=${token}`,
    );
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(new KernelSocket(ws));
      ws.onerror = () => reject(new Error(`cannot open the kernel's WebSocket at ${base}`));
    });
  }

  /** Milliseconds from sending `code` to its reply and the kernel's idle status. */
  exec(code: string): Promise<number> {
    const id = crypto.randomUUID();
    const t0 = performance.now();
    return new Promise((resolve) => {
      this.#waiting = {
        id,
        idle: false,
        reply: false,
        done: () => resolve(performance.now() - t0),
      };
      this.#ws.send(JSON.stringify({
        header: {
          msg_id: id,
          username: "bench",
          session: this.#session,
          msg_type: "execute_request",
          version: "5.3",
          date: new Date().toISOString(),
        },
        parent_header: {},
        metadata: {},
        content: {
          code,
          silent: false,
          store_history: false,
          user_expressions: {},
          allow_stdin: false,
          stop_on_error: true,
        },
        channel: "shell",
        buffers: [],
      }));
    });
  }

  close(): void {
    this.#ws.close();
  }
}

if (import.meta.main) {
  const [urlA, urlB, name, roundsText] = Deno.args;
  const rounds = Number(roundsText ?? 50);
  const { base, token } = parts(urlA);
  const headers = { Authorization: `token ${token}`, "Content-Type": "application/json" };
  const r = await fetch(`${base}api/kernels`, {
    method: "POST",
    headers,
    body: JSON.stringify({ name }),
  });
  const kernel = (await r.json()).id as string;
  const a = await KernelSocket.open(urlA, kernel);
  const b = await KernelSocket.open(urlB, kernel);
  for (let i = 0; i < 5; i++) {
    await a.exec("1 + 1");
    await b.exec("1 + 1");
  }
  const times = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    // Alternate which goes first, so that neither always follows the other.
    if (i % 2) {
      times.b.push(await b.exec("1 + 1"));
      times.a.push(await a.exec("1 + 1"));
    } else {
      times.a.push(await a.exec("1 + 1"));
      times.b.push(await b.exec("1 + 1"));
    }
  }
  a.close();
  b.close();
  await (await fetch(`${base}api/kernels/${kernel}`, { method: "DELETE", headers })).body?.cancel();
  console.log(JSON.stringify(times));
}
