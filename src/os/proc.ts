/**
 * Processes on this host, read from /proc (Linux): liveness that survives PID reuse, and the
 * descendants of a server (its kernels), so that nothing is left running after a stop.
 * Where /proc is absent, liveness falls back to `kill -0`.
 * @module
 */

/** One process's identity. */
export interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Start time in clock ticks since boot. */
  readonly start: number;
}

/** Parses `/proc/PID/stat` (the command name may hold spaces and parentheses). */
export function parseStat(text: string): ProcInfo | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const pid = parseInt(text, 10);
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is the state (field 3 of stat); ppid is field 4, starttime field 22.
  const ppid = Number(fields[1]);
  const start = Number(fields[19]);
  if (!Number.isFinite(pid) || !Number.isFinite(ppid) || !Number.isFinite(start)) return undefined;
  return { pid, ppid, start };
}

/** Whether /proc is there to read. */
export function haveProc(): boolean {
  try {
    Deno.statSync("/proc/self/stat");
    return true;
  } catch {
    return false;
  }
}

/** The identity of `pid`, or undefined when it does not exist (or /proc is absent). */
export function procInfo(pid: number): ProcInfo | undefined {
  try {
    return parseStat(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is alive and, when `start` is given, is still the process that had that
 * start time (not a later one that reused the PID). Zombies count as gone.
 */
export async function pidAlive(pid: number, start?: number): Promise<boolean> {
  if (haveProc()) {
    let text: string;
    try {
      text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    } catch {
      return false;
    }
    const info = parseStat(text);
    if (!info) return false;
    const state = text.slice(text.lastIndexOf(")") + 2, text.lastIndexOf(")") + 3);
    if (state === "Z" || state === "X") return false;
    return start === undefined || info.start === start;
  }
  const r = await new Deno.Command("kill", { args: ["-0", String(pid)], stderr: "null" }).output()
    .catch(() => undefined);
  return r?.success ?? false;
}

/** Every readable process on this host. */
export function allProcs(): ProcInfo[] {
  const out: ProcInfo[] = [];
  try {
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      const info = procInfo(Number(e.name));
      if (info) out.push(info);
    }
  } catch {
    // No /proc: nothing to report.
  }
  return out;
}

/** The descendants of `pid` in `procs` (children first, then theirs). Pure. */
export function descendantsOf(procs: readonly ProcInfo[], pid: number): ProcInfo[] {
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of procs) byParent.set(p.ppid, [...(byParent.get(p.ppid) ?? []), p]);
  const out: ProcInfo[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const child of byParent.get(queue.shift()!) ?? []) {
      if (out.some((p) => p.pid === child.pid)) continue;
      out.push(child);
      queue.push(child.pid);
    }
  }
  return out;
}

/**
 * Processes whose environment has `JPY_PARENT_PID=<serverPid>`: the kernels a Jupyter server
 * launched, found even after they were reparented because the server died.
 */
export function kernelsOf(serverPid: number, startedAfter: number): ProcInfo[] {
  const needle = `\0JPY_PARENT_PID=${serverPid}\0`;
  const out: ProcInfo[] = [];
  for (const p of allProcs()) {
    if (p.start < startedAfter) continue;
    try {
      const env = "\0" + new TextDecoder().decode(Deno.readFileSync(`/proc/${p.pid}/environ`));
      if (env.includes(needle)) out.push(p);
    } catch {
      // Another user's process, or gone.
    }
  }
  return out;
}

/** Sends `signal` to `pid` (negative: a process group), ignoring a process already gone. */
export function signalQuiet(pid: number, signal: Deno.Signal): boolean {
  try {
    Deno.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Waits until none of `procs` is alive, up to `ms`; returns those still alive. */
export async function waitGone(procs: readonly ProcInfo[], ms: number): Promise<ProcInfo[]> {
  const deadline = Date.now() + ms;
  let alive = [...procs];
  while (true) {
    const checks = await Promise.all(alive.map((p) => pidAlive(p.pid, p.start)));
    alive = alive.filter((_, i) => checks[i]);
    if (alive.length === 0 || Date.now() >= deadline) return alive;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Ends `procs`: SIGTERM, then SIGKILL for any still alive after `graceMs`. */
export async function terminate(procs: readonly ProcInfo[], graceMs: number): Promise<void> {
  const live = [];
  for (const p of procs) if (await pidAlive(p.pid, p.start)) live.push(p);
  for (const p of live) signalQuiet(p.pid, "SIGTERM");
  const left = await waitGone(live, graceMs);
  for (const p of left) signalQuiet(p.pid, "SIGKILL");
  await waitGone(left, 2000);
}

/** Who is asking: the identity every check compares against. */
export interface Self {
  readonly uid: number;
  readonly pid: number;
  readonly ppid: number;
}

/** This process's identity. */
export function currentSelf(): Self {
  return { uid: Deno.uid() ?? -1, pid: Deno.pid, ppid: Deno.ppid };
}
