/**
 * Running one Jupyter server: spawn it in its own session, copy its output to the log file,
 * see it become ready, and stop it with its kernels. The process edge of the area.
 *
 * Readiness comes from the server's runtime file (`nbserver-PID.json` / `jpserver-PID.json`
 * with our port), found through a file-system watch on the runtime directory plus 50 ms polls,
 * together with its port accepting connections (jupyter_server 2 writes the file first); the
 * port accepting connections also counts alone, after a short grace for the file; the log is
 * only a fallback. Nothing here sleeps for a fixed time before looking.
 * @module
 */

import { join } from "../util/path.ts";
import { type LogState, parseServerLog } from "./logparse.ts";
import { nodeLocalHost } from "./connect.ts";
import { portAccepts } from "./ports.ts";
import {
  allProcs,
  descendantsOf,
  kernelsOf,
  type ProcInfo,
  procInfo,
  signalQuiet,
  terminate,
} from "../os/proc.ts";

/** The runtime file a server writes (the fields this tool reads). */
export interface RuntimeInfo {
  readonly pid?: number;
  readonly port: number;
  readonly token?: string;
  readonly base_url?: string;
  readonly url?: string;
  readonly version?: string;
  readonly hostname?: string;
  /** Which server wrote the file (from its name): notebook ≤ 6 (`nbserver-`) or jupyter_server. */
  readonly server?: "notebook" | "jupyter_server";
}

/** How a start ended. */
export type StartResult =
  | {
    readonly kind: "ready";
    readonly source: "runtime-file" | "port" | "log";
    readonly info: RuntimeInfo;
    readonly log: LogState;
  }
  | { readonly kind: "exited"; readonly status: Deno.CommandStatus }
  | { readonly kind: "timeout" };

/** What {@link JupyterServer.spawn} needs. */
export interface SpawnOptions {
  readonly program: string;
  readonly args: readonly string[];
  /** The complete environment for Jupyter. */
  readonly env: Record<string, string>;
  readonly cwd: string;
  readonly logPath: string;
  /** Copy Jupyter's output to our stderr too. */
  readonly echo: boolean;
  /**
   * Hold the program until {@link JupyterServer.release}: it runs as `sh -c 'read; exec
   * PROGRAM ARGS'`, with the PID and start time it will keep, so that the caller can record
   * them before Jupyter exists, and it never starts if the caller dies first (the read ends).
   */
  readonly gated?: boolean;
}

/** The gate of a {@link SpawnOptions.gated} spawn: wait for a line on stdin, then exec. */
const GATE = 'read -r go || exit 0; exec "$0" "$@" </dev/null';

const TAIL_BYTES = 64 * 1024;
/** How long a port that accepts connections waits for the runtime file before counting. */
const PORT_GRACE_MS = 3000;
const POLL_MS = 50;
/** How often to look at the port once the runtime file is there. */
const BIND_POLL_MS = 5;

/** A running Jupyter server. */
export class JupyterServer {
  readonly child: Deno.ChildProcess;
  readonly pid: number;
  /** The server process's start time (ticks since boot), for PID-reuse checks. */
  readonly pidStart?: number;
  readonly status: Promise<Deno.CommandStatus>;
  #tail = "";
  #log: Deno.FsFile;
  #pumps: Promise<void>[];
  #wake: () => void = () => {};
  #exited = false;

  private constructor(child: Deno.ChildProcess, log: Deno.FsFile, echo: boolean) {
    this.child = child;
    this.pid = child.pid;
    this.pidStart = procInfo(child.pid)?.start;
    this.#log = log;
    this.status = child.status.then((s) => {
      this.#exited = true;
      this.#wake();
      return s;
    });
    this.#pumps = [this.#pump(child.stdout, echo), this.#pump(child.stderr, echo)];
  }

  /** Starts Jupyter in a session of its own, so that the terminal's Ctrl-C reaches only us. */
  static async spawn(o: SpawnOptions): Promise<JupyterServer> {
    const log = await Deno.open(o.logPath, { create: true, append: true, mode: 0o600 });
    await Deno.chmod(o.logPath, 0o600);
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(o.gated ? "/bin/sh" : o.program, {
        args: o.gated ? ["-c", GATE, o.program, ...o.args] : [...o.args],
        env: o.env,
        clearEnv: true,
        cwd: o.cwd,
        stdin: o.gated ? "piped" : "null",
        stdout: "piped",
        stderr: "piped",
        detached: true,
      }).spawn();
    } catch (e) {
      log.close();
      throw e;
    }
    return new JupyterServer(child, log, o.echo);
  }

  async #pump(stream: ReadableStream<Uint8Array>, echo: boolean): Promise<void> {
    const dec = new TextDecoder();
    try {
      for await (const chunk of stream) {
        await this.#log.write(chunk).catch(() => 0);
        if (echo) await Deno.stderr.write(chunk).catch(() => 0);
        this.#tail = (this.#tail + dec.decode(chunk, { stream: true })).slice(-TAIL_BYTES);
        this.#wake();
      }
    } catch {
      // The pipe closed under us: the process is gone.
    }
  }

  /** Lets a gated spawn go on to exec Jupyter (see {@link SpawnOptions.gated}). */
  async release(): Promise<void> {
    const writer = this.child.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode("go\n"));
      await writer.close();
    } catch {
      // The gate is gone (killed): its status tells.
    }
  }

  /** The last 64 KiB of Jupyter's output. */
  get output(): string {
    return this.#tail;
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /**
   * Waits until the server on `port` is ready, the process exits, or `timeoutMs` passes.
   * `onTick` is called on every look (for the progress line).
   */
  async waitReady(
    o: { runtimeDir: string; port: number; ip: string; token: string; timeoutMs: number },
    onTick?: () => void,
  ): Promise<StartResult> {
    const deadline = Date.now() + o.timeoutMs;
    let watcher: Deno.FsWatcher | undefined;
    try {
      await Deno.mkdir(o.runtimeDir, { recursive: true, mode: 0o700 });
      watcher = Deno.watchFs(o.runtimeDir, { recursive: false });
      (async () => {
        try {
          for await (const _ of watcher!) this.#wake();
        } catch {
          // Closed.
        }
      })();
    } catch {
      // No watch (an odd file system): the polls below still find the file.
    }
    const host = nodeLocalHost(o.ip);
    let acceptedAt: number | undefined;
    let fileAt: number | undefined;
    try {
      while (true) {
        const info = await findRuntimeFile(o.runtimeDir, o.port, o.token);
        // jupyter_server 2 writes its runtime file before its event loop binds the port: ready
        // means the port accepts too, or the first request of whoever reads the URL is refused
        // (a port that never accepts from here, as a firewalled address might, is given up on).
        if (info) fileAt ??= Date.now();
        if (
          info && (await portAccepts(host, o.port) || Date.now() - fileAt! >= PORT_GRACE_MS)
        ) {
          return { kind: "ready", source: "runtime-file", info, log: parseServerLog(this.#tail) };
        }
        if (this.#exited) return { kind: "exited", status: await this.status };
        const log = parseServerLog(this.#tail);
        if (acceptedAt === undefined && await portAccepts(host, o.port)) acceptedAt = Date.now();
        if (acceptedAt !== undefined) {
          const logged = log.running && log.urls.find((u) => u.port === o.port);
          if (logged) {
            const base = logged.path.replace(/\/(tree|lab)\/?$/, "/");
            return { kind: "ready", source: "log", info: { port: o.port, base_url: base }, log };
          }
          if (Date.now() - acceptedAt >= PORT_GRACE_MS) {
            return { kind: "ready", source: "port", info: { port: o.port }, log };
          }
        }
        if (Date.now() >= deadline) return { kind: "timeout" };
        onTick?.();
        await new Promise<void>((resolve) => {
          // With the file there, the bind is a moment away and nothing else will wake us.
          const timer = setTimeout(resolve, fileAt === undefined ? POLL_MS : BIND_POLL_MS);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      this.#wake = () => {};
      try {
        watcher?.close();
      } catch {
        // Already closed.
      }
    }
  }

  /** Snapshot of the server's descendants and kernels now (they may be reparented later). */
  family(): ProcInfo[] {
    return this.#withKernels(descendantsOf(allProcs(), this.pid));
  }

  /** `procs` plus the server's kernels not among them (kernels may have been reparented). */
  #withKernels(procs: ProcInfo[]): ProcInfo[] {
    for (const k of kernelsOf(this.pid, this.pidStart ?? 0)) {
      if (!procs.some((p) => p.pid === k.pid)) procs.push(k);
    }
    return procs;
  }

  /** Forwards `signal` to Jupyter's process group (its wrapper script too, if any). */
  signal(signal: Deno.Signal): void {
    if (!signalQuiet(-this.pid, signal)) signalQuiet(this.pid, signal);
  }

  /**
   * Stops the server: SIGTERM (Jupyter's clean shutdown, which shuts its kernels down), then
   * SIGKILL after `graceMs`; then ends any kernel or child still alive. Returns its status.
   */
  async stop(graceMs = 15_000): Promise<Deno.CommandStatus> {
    const family = this.family();
    if (!this.#exited) this.signal("SIGTERM");
    return await this.reap(family, graceMs);
  }

  /**
   * Waits for the server to exit (SIGKILL after `graceMs`), then ends what is left of
   * `family` (taken before the server was signalled) and of its kernels.
   */
  async reap(family: ProcInfo[], graceMs = 15_000): Promise<Deno.CommandStatus> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.signal("SIGKILL");
        resolve();
      }, graceMs);
    });
    await Promise.race([this.status, killed]);
    const status = await this.status;
    clearTimeout(timer);
    await terminate(this.#withKernels([...family]), 5000);
    await Promise.all(this.#pumps);
    this.#log.close();
    return status;
  }
}

/** Reads the runtime file for `port` in `dir`, if one is there (and carries our token). */
export async function findRuntimeFile(
  dir: string,
  port: number,
  token?: string,
): Promise<RuntimeInfo | undefined> {
  let names: string[];
  try {
    names = [];
    for await (const e of Deno.readDir(dir)) {
      if (/^(nb|jp)server-\d+\.json$/.test(e.name)) names.push(e.name);
    }
  } catch {
    return undefined;
  }
  for (const name of names) {
    try {
      const info = JSON.parse(await Deno.readTextFile(join(dir, name))) as RuntimeInfo;
      if (info.port !== port) continue;
      if (token && info.token !== undefined && info.token !== token) continue;
      return { ...info, server: name.startsWith("nb") ? "notebook" : "jupyter_server" };
    } catch {
      // Half-written (the watch fired mid-write) or another user's: look again next time.
    }
  }
  return undefined;
}
