/**
 * The run of one Jupyter server, as `notebook` and `lab` start it: a free port, a token made
 * here, the state entry that lets `servers` and `stop` find it from its first moment, the URL
 * and the SSH tunnel commands once it is ready, and a clean shutdown with its kernels.
 * @module
 */

import { pathToFileURL } from "node:url";
import { join } from "../util/path.ts";
import { STOP_SIGNALS } from "../util/signals.ts";
import { shQuote } from "../util/shell.ts";
import type { JupyterServer, StartResult } from "../jupyter/server.ts";
import type { ServerRecord } from "../state/servers.ts";
import { type Route, type RouteLearning, startRoute } from "../jupyter/route.ts";
import { type Plan, resolvePlan, type ServerOutput, type ServerRequest } from "./plan.ts";
import { openSession, type Session } from "./session.ts";
import { readyRecord, startFailure, startingRecord } from "./records.ts";
import * as argvMod from "../jupyter/argv.ts";
import * as connect from "../jupyter/connect.ts";
import * as logparse from "../jupyter/logparse.ts";
import * as ports from "../jupyter/ports.ts";
import * as serverMod from "../jupyter/server.ts";
import * as proc from "../os/proc.ts";
import * as ready from "./ready.ts";
import * as state from "../state/servers.ts";
import { writePrivateFile } from "../os/private.ts";
import { browserCommands, openWith } from "../util/browser.ts";

/**
 * The run of one server, in phases: resolve the plan (nothing started), open the session
 * (state dir, log, runtime dir), start Jupyter (its entry is written, as `starting`, before
 * Jupyter may exec; the laptop's route is learned while it starts), report a failed start,
 * announce the ready server, and supervise it until it exits or is stopped. A stop asked for at
 * any point (a signal, or `stop`) exits 0 once Jupyter and its kernels are gone.
 */
export async function runServer(req: ServerRequest, out: ServerOutput): Promise<number> {
  const run = new ServerRun(out, req.program);
  try {
    const plan = await resolvePlan(req, out);
    if (run.stopAsked) return 0;
    const session = await openSession(out, plan.jupyter.app);
    const result = await run.start(plan, session);
    if (run.stopAsked) return await run.finishStop();
    if (result.kind !== "ready") throw await startFailure(plan, session, run.server!, result);
    const route = await run.route();
    const record = await readyRecord(plan, session, run.server!, run.port!, result, route);
    await run.announce(record, req, plan, route);
    return await run.supervise(plan, session);
  } finally {
    await run.close();
  }
}

/**
 * One run's moving parts: the Jupyter child, the signal listeners, the entry and its
 * heartbeat. Signals: the first asks Jupyter to shut down (SIGTERM, its clean path: nb 6
 * answers SIGINT with a confirmation prompt, and dies on SIGHUP without stopping its
 * kernels); a second one kills it.
 */
class ServerRun {
  readonly #out: ServerOutput;
  readonly #program: string;
  server: JupyterServer | undefined;
  /** The port the current child was started on. */
  port: number | undefined;
  #stopping: Promise<Deno.CommandStatus> | undefined;
  #signals = 0;
  #session: Session | undefined;
  #recorded = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #openFile: string | undefined;
  #title = "Jupyter";
  #route: Promise<RouteLearning> | undefined;
  readonly #onSignal = () => {
    this.#signals++;
    this.requestStop(this.#signals === 1 ? `Stopping ${this.#title} and its kernels...` : "");
  };

  constructor(out: ServerOutput, program: string) {
    this.#out = out;
    this.#program = program;
    // Installed before anything starts, so that an early Ctrl-C also stops cleanly.
    for (const s of STOP_SIGNALS) Deno.addSignalListener(s, this.#onSignal);
  }

  /** Whether a stop was asked for (a signal, or a stop request through the state dir). */
  get stopAsked(): boolean {
    return this.#signals > 0 || this.#stopping !== undefined;
  }

  /** Asks Jupyter to stop (with `why` shown), or kills it when asked a second time. */
  requestStop(why: string): void {
    if (!this.server) return;
    if (!this.#stopping) {
      if (why) this.#out.note(why);
      this.#stopping = this.server.stop(15_000);
    } else {
      this.server.signal("SIGKILL");
    }
  }

  /**
   * Phase 3: spawns Jupyter (held at its gate), records the entry as `starting`, lets Jupyter
   * go, and waits until it is ready. A port we chose can be taken between our check and
   * Jupyter's bind; then we choose again (three tries).
   */
  async start(plan: Plan, session: Session): Promise<StartResult> {
    this.#session = session;
    this.#title = plan.title;
    const out = this.#out;
    const terminal = Deno.stderr.isTerminal();
    const tried = new Set<number>();
    let result: StartResult = { kind: "timeout" };
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = plan.port ?? ports.chooseFreePort(plan.ip, tried);
      tried.add(port);
      const args = argvMod.jupyterArgs(plan.jupyter, {
        port,
        ip: plan.ip,
        notebookDir: plan.notebookDir,
        kernel: plan.kernel,
        extra: plan.extra,
      });
      const started = performance.now();
      // The log file is opened here: a full or read-only state dir fails now, with its cause.
      const server = await serverMod.JupyterServer.spawn({
        program: plan.jupyter.program,
        args,
        env: session.env,
        cwd: plan.notebookDir,
        logPath: session.logPath,
        echo: plan.verbose,
        gated: true,
      });
      this.server = server;
      this.port = port;
      const state = await this.#record(plan, session);
      // A stop asked for meanwhile: Jupyter never starts (the gate is stopped instead).
      if (this.#signals > 0) this.requestStop("");
      else await server.release();
      // Only now: the heartbeat's set-up and the route's squeue spawn, done any earlier, would
      // delay Jupyter's exec; Jupyter's own start hides them.
      this.#startHeartbeat(state);
      this.#route ??= this.#learnRoute(plan);
      const what = `Starting ${plan.title} (${plan.jupyter.program}) on ${plan.host}:${port}`;
      if (terminal) out.progress(`${what}...`);
      else out.note(`${what}; log: ${session.logPath}`);
      let lastShown = 0;
      result = await server.waitReady(
        {
          runtimeDir: session.runtimeDir,
          port,
          ip: plan.ip,
          token: session.token,
          timeoutMs: plan.timeoutMs,
        },
        () => {
          if (!terminal) return;
          const s = Math.floor((performance.now() - started) / 1000);
          if (s !== lastShown) {
            lastShown = s;
            out.progress(`${what}... ${s}s (log: ${session.logPath})`);
          }
        },
      );
      out.clearProgress();
      if (result.kind !== "exited" || plan.port !== undefined || this.#stopping) break;
      if (logparse.parseServerLog(server.output).portInUse !== port) break;
      await server.reap([], 5000);
      out.note(`Port ${port} was taken as Jupyter started; choosing another.`);
    }
    return result;
  }

  /** Writes the `starting` entry of the current child; returns the state module. */
  async #record(plan: Plan, session: Session): Promise<typeof import("../state/servers.ts")> {
    await state.writeServer(
      session.dir,
      startingRecord(plan, session, this.server!, this.port!, connect, proc),
    );
    this.#recorded = true;
    return state;
  }

  /**
   * Every second: a stop request from `stop` (on any node sharing the home)? Every 30 s: a
   * heartbeat, so that other nodes see the entry as alive. From the first entry on.
   */
  #startHeartbeat(state: typeof import("../state/servers.ts")): void {
    if (this.#heartbeat !== undefined) return;
    const { dir, id } = this.#session!;
    let ticks = 0;
    this.#heartbeat = setInterval(async () => {
      ticks++;
      if (!this.#stopping && await state.stopRequested(dir, id)) {
        this.requestStop(
          `Stop requested by '${this.#program} stop ${id}'; stopping ${this.#title}...`,
        );
      }
      if (ticks % (state.HEARTBEAT_MS / 1000) === 0) await state.touchServer(dir, id);
    }, 1000);
  }

  /** A stop asked for during start-up: wait for it to finish; exit 0. */
  async finishStop(): Promise<number> {
    if (this.server) await (this.#stopping ?? this.server.stop());
    return 0;
  }

  /**
   * The login node the laptop goes through (the scheduler knows it where nothing else says) and
   * whether this node lets SSH in: asked as Jupyter starts, read once it is ready.
   */
  #learnRoute(plan: Plan): Promise<RouteLearning> {
    return Promise.resolve(startRoute({
      host: plan.host,
      ip: plan.ip,
      loginHost: plan.loginHost,
      user: plan.sshUser,
      home: Deno.env.get("HOME"),
    }));
  }

  /**
   * The route {@link ServerRun.start} set out to learn once Jupyter was released, waiting at
   * most 5 s more for it (on a machine that is not overloaded it has answered long before
   * Jupyter is ready).
   */
  async route(): Promise<Route> {
    return await (await this.#route!).settle(5000);
  }

  /** Phase 5: records the ready server and prints its URL and tunnels (or the JSON event). */
  async announce(
    record: ServerRecord,
    req: ServerRequest,
    plan: Plan,
    route: Route,
  ): Promise<void> {
    const { dir, id } = this.#session!;
    const readyOpts = {
      sshConfig: req.sshConfig,
      // In a batch job nobody is at a terminal to press Ctrl-C: the hint names the job instead.
      foreground: Deno.stdin.isTerminal() || !plan.jobId,
      jobId: Deno.stdin.isTerminal() ? undefined : plan.jobId,
      program: this.#program,
      loginUnknown: route.loginUnknown,
    };
    // Record first (about a millisecond), so that whoever reads the URL can find the entry.
    await state.writeServer(dir, record);
    if (req.json) this.#out.print(JSON.stringify(ready.readyEvent(record, readyOpts)));
    else this.#out.print(ready.renderReadyBlock(record, readyOpts));
    if (req.open) this.#openFile = await openBrowser(dir, id, record.url, this.#out);
  }

  /**
   * Phase 6: waits until Jupyter exits or is stopped. A stop asked for exits 0; Jupyter
   * ending on its own exits with its status.
   */
  async supervise(plan: Plan, session: Session): Promise<number> {
    const server = this.server!;
    const status = await Promise.race([server.status, ...(this.#stopping ? [this.#stopping] : [])]);
    if (this.#stopping) {
      await this.#stopping;
      return 0;
    }
    const final = await server.reap([], 5000);
    if (!status.success) {
      this.#out.warn(
        `${plan.title} exited with status ${status.code}; its log: ${session.logPath}`,
      );
    }
    return final.code;
  }

  /** Phase 7, always: nothing of this run is left running or recorded. */
  async close(): Promise<void> {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    if (this.server && !this.server.exited) await (this.#stopping ?? this.server.stop(5000));
    if (this.#recorded && this.#session) {
      await state.removeServer(this.#session.dir, this.#session.id);
    }
    if (this.#openFile) await Deno.remove(this.#openFile).catch(() => {});
    (await this.#route)?.cancel();
    for (const s of STOP_SIGNALS) Deno.removeSignalListener(s, this.#onSignal);
  }
}

/**
 * Opens the URL in a browser where one is available. The browser gets a private redirect
 * file, not the URL, so that the token never shows in `ps` (Jupyter's own trick).
 */
async function openBrowser(
  dir: string,
  id: string,
  url: string,
  out: Pick<ServerOutput, "note">,
): Promise<string | undefined> {
  // No WSL openers: the browser gets a file of this (Linux) side, which Windows' cannot open.
  const candidates = browserCommands(Deno.env.toObject());
  if (candidates.length === 0) {
    out.note("No browser here (no DISPLAY or $BROWSER): open the URL above on your laptop.");
    return undefined;
  }
  const file = join(dir, `open-${id}.html`);
  const html = `<!DOCTYPE html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${
    url.replaceAll("&", "&amp;").replaceAll('"', "&quot;")
  }"><a href="${url.replaceAll('"', "&quot;")}">Open Jupyter</a>\n`;
  await writePrivateFile(file, html);
  // As a URL: a home with a space, '#' or '?' in its path must still name the file.
  if (!openWith(candidates, pathToFileURL(file).href)) {
    out.note(
      `Could not start a browser (${candidates.map((c) => shQuote(c[0])).join(", ")}).`,
    );
  }
  return file;
}
