/**
 * The login node's link to the relay on the job's node: one long-lived process whose stdio
 * carries the protocol. Slurm: `srun --jobid=J --overlap -N1 -n1 -w NODE -u PROGRAM relay`,
 * a step inside the user's own job (no SSH into the node, no port opened anywhere). Where the
 * scheduler offers no such step (PBS, LSF) or srun cannot make one: `ssh NODE PROGRAM relay`
 * from the login node, the route the `-J` tunnel takes.
 * @module
 */

import { dialPipes, type Peer, streamWriter } from "./pipes.ts";
import { shJoin } from "../util/shell.ts";

/** How the login node reaches the node. */
export type Route = "srun" | "ssh";

/** The command that starts a relay on `node` for job `jobId`. Pure. */
export function relayArgv(
  route: Route,
  node: string,
  jobId: string,
  program: readonly string[],
): string[] {
  if (route === "srun") {
    // --overlap: share the job's CPUs with the server (Slurm 20.11+); -u: no line buffering,
    // the bytes are frames; --quiet: srun's own notes would only be noise on stderr.
    return [
      "srun",
      `--jobid=${jobId}`,
      "--overlap",
      "--nodes=1",
      "--ntasks=1",
      `--nodelist=${node}`,
      "--unbuffered",
      "--quiet",
      ...program,
      "relay",
    ];
  }
  // BatchMode: nobody can answer a prompt on the login node; the command line is run by the
  // node's login shell, hence quoted.
  return [
    "ssh",
    "-T",
    "-o",
    "BatchMode=yes",
    "-o",
    "ClearAllForwardings=yes",
    node,
    shJoin([...program, "relay"]),
  ];
}

/** A running relay and the session to it. */
export class RelayLink {
  readonly route: Route;
  readonly node: string;
  readonly #child: Deno.ChildProcess;
  readonly #stderrLines: string[] = [];
  readonly #write: ReturnType<typeof streamWriter>;
  #stopping = false;
  #failed = false;
  /** The session once the relay said hello; rejects with what its stderr said otherwise. */
  readonly peer: Promise<Peer>;
  /** The fast path for the streams (`direct.ts`), once tried; undefined when not available. */
  readonly #direct: Promise<Peer | undefined>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Deno.CommandStatus>;

  /**
   * Starts the relay. `onStderr` gets each line the process prints on stderr while it is
   * wanted (srun's and ssh's own errors), for the user.
   */
  constructor(
    route: Route,
    node: string,
    jobId: string,
    program: readonly string[],
    version: string,
    onStderr: (line: string) => void,
    direct = true,
  ) {
    this.route = route;
    this.node = node;
    const [cmd, ...args] = relayArgv(route, node, jobId, program);
    this.#child = new Deno.Command(cmd, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.exited = this.#child.status;
    this.#readStderr(onStderr);
    this.#write = streamWriter(this.#child.stdin);
    this.peer = dialPipes(this.#child.stdout, this.#write, {
      role: "client",
      hello: "agent",
      version,
      keepalive: { intervalMs: 10_000, deadMs: 60_000 },
    }).then(async (d) => {
      if (d.kind === "up") return d.peer;
      await Promise.race([this.exited, new Promise((r) => setTimeout(r, 2000))]);
      await new Promise((r) => setTimeout(r, 50));
      const said = this.#stderrLines.slice(-6).join("\n") || d.kind === "eof" && d.skipped;
      throw new Error(
        d.kind === "mismatch"
          ? `the relay on ${node} is another version: ${d.problem}`
          : `${cmd} ended before the relay started${said ? `: ${said}` : ""}`,
      );
    });
    this.peer.catch(() => {
      this.#failed = true;
      return this.stop();
    });
    this.#direct = direct && route === "srun"
      ? this.peer.then(
        async (p) => (await import("./direct.ts")).dialDirect(p, node, version),
        () => undefined,
      ).catch(() => undefined)
      : Promise.resolve(undefined);
  }

  /**
   * The session to open streams on: the direct connection when there is one and it is up,
   * else the step's (or ssh's) stdio.
   */
  async streams(): Promise<Peer> {
    const control = await this.peer;
    const direct = await this.#direct;
    return direct && !direct.session.isEnded ? direct : control;
  }

  /** Whether streams go over the direct connection. */
  async isDirect(): Promise<boolean> {
    const direct = await this.#direct;
    return !!direct && !direct.session.isEnded;
  }

  async #readStderr(onStderr: (line: string) => void): Promise<void> {
    const dec = new TextDecoder();
    let partial = "";
    try {
      for await (const chunk of this.#child.stderr) {
        partial += dec.decode(chunk, { stream: true });
        const lines = partial.split("\n");
        partial = lines.pop() ?? "";
        for (const l of lines.map((x) => x.trimEnd()).filter(Boolean)) {
          this.#stderrLines.push(l);
          if (this.#stderrLines.length > 50) this.#stderrLines.shift();
          if (!this.#stopping) onStderr(l);
        }
      }
    } catch {
      // The process is gone.
    }
  }

  /** Whether this link may still be used: neither stopped nor failed to start. */
  get usable(): boolean {
    return !this.#stopping && !this.#failed;
  }

  /** The last lines the process wrote on stderr. */
  get stderrTail(): string {
    return this.#stderrLines.slice(-6).join("\n");
  }

  /**
   * Ends the relay: its stdin closes (it exits by itself), then SIGTERM and SIGKILL if it
   * lingers. Resolves once the process has exited.
   */
  async stop(): Promise<void> {
    if (this.#stopping) {
      await this.exited;
      return;
    }
    this.#stopping = true;
    this.#write.close();
    this.#direct.then((d) => d?.session.close("relay stopped"), () => {});
    const kill = (sig: Deno.Signal) => {
      try {
        this.#child.kill(sig);
      } catch {
        // Already gone.
      }
    };
    const t1 = setTimeout(() => kill("SIGTERM"), 3000);
    const t2 = setTimeout(() => kill("SIGKILL"), 8000);
    await this.exited;
    clearTimeout(t1);
    clearTimeout(t2);
  }
}
