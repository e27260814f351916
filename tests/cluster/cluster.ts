/**
 * The four-host test cluster (tests/cluster/up.sh) from a test: bring it up, run a command on
 * a host as the test user (as a person logged in there would, with a pseudo-terminal when
 * asked), follow a long-running command (a tunnel), switch SSH into the compute nodes off
 * and on, and list what the user still runs on a host. See README.md beside this file.
 *
 * Everything here runs as root on the machine and enters the hosts with `nsenter`; the
 * commands themselves run as the test user with a clean environment and a login shell, so
 * that `legate-jupyter` comes from `~/.local/bin` on PATH like a downloaded release.
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** A host of the cluster. */
export type Host = "laptop" | "login1" | "node1" | "node2";

/** Every host, the laptop first. */
export const HOSTS: readonly Host[] = ["laptop", "login1", "node1", "node2"];

const HERE = fileURLToPath(new URL(".", import.meta.url));
/** The checkout the cluster runs (up.sh records it in run/app-root). */
const REPO = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
const NAME = Deno.env.get("LJC") ?? "ljc";
const DIR = Deno.env.get("LJC_DIR") ?? `/tmp/${NAME}`;
const USER = Deno.env.get("LJC_USER") ?? "ljuser";
const NET = Deno.env.get("LJC_NET") ?? "10.77.0";

/** Names and paths of the cluster, as up.sh makes it (overridable with LJC, LJC_DIR, ...). */
export const CLUSTER = {
  /** The instance name: namespaces are `${name}-laptop`, `${name}-login1`, ... */
  name: NAME,
  /** The state directory (removed by down.sh). */
  dir: DIR,
  /** The test user, the same name on the laptop and on the cluster. */
  user: USER,
  /** Its uid on every host. */
  uid: Number(Deno.env.get("LJC_UID") ?? "61011"),
  /** The home the cluster hosts share (login1, node1, node2). */
  home: `${DIR}/home/${USER}`,
  /**
   * The laptop's own home, as seen from the machine. On the laptop it is mounted at
   * {@link CLUSTER.home}'s path, so `~` there means this directory.
   */
  laptopHome: `${DIR}/laptop-home/${USER}`,
  /**
   * The launcher that runs this checkout as `legate-jupyter` (a copy sits in the shared home's
   * `~/.local/bin`, which a login shell puts on PATH). To give the laptop the tool too, copy
   * it into `${laptopHome}/.local/bin/` (owned by {@link CLUSTER.uid}).
   */
  launcher: `${DIR}/bin/legate-jupyter`,
  /** Where every host sees this checkout (read-only). */
  app: `${DIR}/app`,
  /**
   * Another user of the cluster, with a home on it but no laptop: whose jobs and servers
   * nothing else touches (`onHost(host, cmd, { guest: true })`).
   */
  guest: {
    user: Deno.env.get("LJC_GUEST") ?? "ljguest",
    uid: Number(Deno.env.get("LJC_UID") ?? "61011") + 1,
    home: `${DIR}/home/${Deno.env.get("LJC_GUEST") ?? "ljguest"}`,
  },
  /** Each host's address on the cluster network (no route leaves it). */
  address: {
    laptop: `${NET}.100`,
    login1: `${NET}.2`,
    node1: `${NET}.11`,
    node2: `${NET}.12`,
  } as Record<Host, string>,
} as const;

/** What a finished command left. */
export interface HostResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Options for {@link onHost} and {@link spawnOnHost}. */
export interface HostOptions {
  /** Run on a pseudo-terminal (`script -qfec`), as a person's terminal gives one. */
  tty?: boolean;
  /** Run as root instead of the test user (set-up and inspection only). */
  root?: boolean;
  /** Run as the cluster's other user, {@link CLUSTER.guest} (not on the laptop). */
  guest?: boolean;
  /** The working directory (default: the user's home on that host). */
  cwd?: string;
  /**
   * {@link onHost}: text for the command's stdin, which is then closed (default: closed at
   * once). {@link spawnOnHost} keeps stdin open until {@link HostProcess.write} closes it.
   */
  stdin?: string;
  /** Kill the command (and everything it started) after this many ms; default 120 s. */
  timeoutMs?: number;
}

function hostArgv(host: Host, command: string, o: HostOptions): string[] {
  const argv = [join(HERE, "on.sh")];
  if (o.root) argv.push("--root");
  if (o.guest) argv.push("--guest");
  if (o.tty) argv.push("--tty");
  if (o.cwd) argv.push("--cwd", o.cwd);
  argv.push(host, command);
  return argv;
}

function clusterEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  };
  for (const k of ["LJC", "LJC_DIR", "LJC_USER", "LJC_UID", "LJC_NET", "LJC_GUEST"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  return env;
}

async function runScript(argv: string[], timeoutMs = 120_000): Promise<HostResult> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: clusterEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => killTree(child.pid), timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * Why the cluster cannot be built on this machine (not root, a missing program), or
 * undefined when it can. Tests that need it put this reason in their names and skip.
 */
export function clusterSkipReason(): string | undefined {
  if (Deno.build.os !== "linux") return "the test cluster needs Linux namespaces";
  // scripts/test.sh tried to build it and could not: up.sh's own reason.
  const unavailable = Deno.env.get("LJ_CLUSTER_UNAVAILABLE");
  if (unavailable) return `the test cluster could not be built here: ${unavailable}`;
  if (Deno.uid() !== 0) return "the test cluster needs root (network namespaces, sshd, Slurm)";
  const need: [string, string][] = [
    ["/usr/sbin/ip", "iproute2"],
    ["/usr/bin/nsenter", "util-linux"],
    ["/usr/bin/unshare", "util-linux"],
    ["/usr/bin/setpriv", "util-linux"],
    ["/usr/bin/script", "bsdutils"],
    ["/usr/sbin/sshd", "openssh-server"],
    ["/usr/bin/ssh", "openssh-client"],
    ["/usr/sbin/munged", "munge"],
    ["/usr/sbin/slurmctld", "slurmctld"],
    ["/usr/sbin/slurmd", "slurmd"],
    ["/usr/bin/sbatch", "slurm-client"],
    ["/usr/bin/curl", "curl"],
    ["/usr/bin/jupyter-notebook", "jupyter-notebook"],
  ];
  const missing = need.filter(([p]) => !isFile(p));
  if (missing.length) {
    return `the test cluster needs ${missing.map(([p]) => p).join(", ")} ` +
      `(apt-get install ${[...new Set(missing.map(([, pkg]) => pkg))].join(" ")})`;
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Whether up.sh has finished bringing the cluster up (and down.sh has not run since). */
export function clusterIsUp(): boolean {
  return isFile(`${DIR}/run/up`);
}

/**
 * Brings the cluster up (idempotent, a second or so). A cluster that up.sh finished building for
 * this checkout is left exactly as it is, without up.sh's health check: other tests are using
 * it, and a moment that looks unhealthy (a node's sshd restarting to refuse logins, a slow
 * `sinfo` under load) must not make it be rebuilt from under them. Concurrent callers in this
 * or other processes wait for each other. Throws with up.sh's output when it fails.
 */
export async function clusterUp(): Promise<void> {
  await withFileLock(join(HERE, "up.sh"), true, async () => {
    const builtFor = await Deno.readTextFile(`${DIR}/run/app-root`).catch(() => "");
    if (!clusterIsUp() || builtFor.trim() !== REPO) {
      const r = await runScript(["/bin/sh", join(HERE, "up.sh")]);
      if (r.code !== 0) throw new Error(`tests/cluster/up.sh failed (${r.code}):\n${r.stderr}`);
      await Deno.writeTextFile(BROUGHT_UP, `${Deno.pid}\n`);
    }
    holdWhileRunning();
  });
}

/**
 * Marks a service this process brought up on top of the cluster (`marker` exists from then
 * on), to be taken down by `argv` when the last process using the cluster ends, before the
 * cluster itself; see {@link holdWhileRunning}.
 */
export function takeDownAtExit(marker: string, argv: readonly string[]): void {
  if (!TEARDOWNS.some((t) => t.marker === marker)) TEARDOWNS.unshift({ marker, argv });
}

/** Written by {@link clusterUp} when a test or bench process, not scripts/test.sh, built the cluster. */
const BROUGHT_UP = `${DIR}/run/up-by-test`;
const TEARDOWNS: { marker: string; argv: readonly string[] }[] = [
  { marker: BROUGHT_UP, argv: ["/bin/sh", join(HERE, "down.sh")] },
];
let held: Deno.FsFile | undefined;
let registered = false;

/**
 * Holds a shared lock on the cluster's `run/up` for as long as this process lives. When it
 * ends (a test file, a bench), the last process holding one takes down what a test or bench
 * brought up: a cluster that was up before (scripts/test.sh's, or one a person started) is
 * left as it was found, and a cluster that other processes still use is left to them.
 */
function holdWhileRunning(): void {
  held?.close(); // a cluster taken down and brought up again has a new run/up
  held = Deno.openSync(`${DIR}/run/up`, { read: true });
  held.lockSync(false);
  if (!registered) {
    registered = true;
    globalThis.addEventListener("unload", takeDownIfLast);
  }
}

function takeDownIfLast(): void {
  held?.close();
  held = undefined;
  // Under up.sh's lock (no clusterUp meanwhile), and only when no process holds run/up.
  const script = [
    'up=$1; [ -f "$up" ] || exit 0',
    'exec 8<"$up"; flock -n -x 8 || exit 0',
    ...TEARDOWNS.map((t) => `[ ! -f ${shq(t.marker)} ] || ${t.argv.map(shq).join(" ")}`),
  ].join("\n");
  new Deno.Command("flock", {
    args: ["-x", join(HERE, "up.sh"), "/bin/sh", "-c", script, "sh", `${DIR}/run/up`],
    env: clusterEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).outputSync();
}

/** Takes the cluster down, leaving nothing behind (see down.sh). */
export async function clusterDown(): Promise<void> {
  await withFileLock(join(HERE, "up.sh"), true, async () => {
    const r = await runScript(["/bin/sh", join(HERE, "down.sh")]);
    if (r.code !== 0) throw new Error(`tests/cluster/down.sh failed (${r.code}):\n${r.stderr}`);
  });
}

async function withFileLock<T>(path: string, exclusive: boolean, fn: () => Promise<T>): Promise<T> {
  using file = await Deno.open(path, { read: true });
  await file.lock(exclusive);
  try {
    return await fn();
  } finally {
    await file.unlock();
  }
}

/**
 * Runs the shell command `command` on `host` as the test user, in a login shell from a clean
 * environment (see on.sh), and returns its status and output.
 */
export async function onHost(
  host: Host,
  command: string,
  o: HostOptions = {},
): Promise<HostResult> {
  const p = spawnOnHost(host, command, o);
  await p.write(o.stdin ?? "", true);
  return await p.finished();
}

/** A command running on a host (see {@link spawnOnHost}). */
export interface HostProcess extends AsyncDisposable {
  /** The `nsenter` process on the machine; its descendants are the command's processes. */
  readonly pid: number;
  /** Everything the command wrote so far (on a pseudo-terminal, stdout holds both). */
  stdout(): string;
  stderr(): string;
  /** Writes to its stdin; `close` ends stdin after the text. */
  write(text: string, close?: boolean): Promise<void>;
  /** Resolves with the first output matching `re` (stdout, then stderr); rejects on exit or after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Whether it has exited. */
  exited(): boolean;
  /** Waits for it to exit. */
  finished(): Promise<HostResult>;
  /** Ends it and everything it started on the host: SIGTERM, SIGKILL after 5 s. */
  kill(): Promise<HostResult>;
}

/**
 * Starts `command` on `host` and returns at once, with stdin kept open (a tunnel typed into a
 * terminal runs until the person closes it). Disposing it ends it and everything it started.
 */
export function spawnOnHost(host: Host, command: string, o: HostOptions = {}): HostProcess {
  const argv = hostArgv(host, command, o);
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: clusterEnv(),
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  let out = "";
  let err = "";
  let done = false;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((f) => f());
  const pump = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
    const dec = new TextDecoder();
    for await (const chunk of s) {
      add(dec.decode(chunk, { stream: true }));
      notify();
    }
  };
  const pumps = Promise.all([
    pump(child.stdout, (t) => (out += t)),
    pump(child.stderr, (t) => (err += t)),
  ]);
  const timer = setTimeout(() => killTree(child.pid), o.timeoutMs ?? 120_000);
  const status = child.status.then(async (s) => {
    clearTimeout(timer);
    await pumps.catch(() => {});
    await writer.close().catch(() => {});
    done = true;
    notify();
    return { code: s.code, stdout: out, stderr: err };
  });
  const kill = async () => {
    if (!done) await killTree(child.pid);
    return await status;
  };
  return {
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    async write(text: string, close = false) {
      if (text) await writer.write(new TextEncoder().encode(text));
      if (close) await writer.close();
    },
    waitFor(re: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re) ?? err.match(re);
          if (m) finish(() => resolve(m));
          else if (done) {
            finish(() => reject(new Error(`exited before ${re}:\n${out}\n${err}`)));
          }
        };
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(new Error(`nothing matched ${re} after ${ms} ms:\n${out}\n${err}`))
            ),
          ms,
        );
        const finish = (f: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          f();
        };
        listeners.add(check);
        check();
      });
    },
    exited: () => done,
    finished: () => status,
    kill,
    async [Symbol.asyncDispose]() {
      await kill();
    },
  };
}

/** One process: its pid, parent, owner and command line. */
export interface Proc {
  pid: number;
  ppid: number;
  uid: number;
  args: string;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return undefined;
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? "-1");
    const args = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").filter(Boolean).join(
      " ",
    );
    return { pid, ppid: Number(fields[1]), uid, args };
  } catch {
    return undefined;
  }
}

function allProcs(): Proc[] {
  const out: Proc[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    const p = readProc(Number(e.name));
    if (p) out.push(p);
  }
  return out;
}

/** `pid` and its descendants, parents first. */
export function processTree(pid: number): Proc[] {
  const procs = allProcs();
  const out = procs.filter((p) => p.pid === pid);
  for (let i = 0; i < out.length; i++) {
    for (const p of procs) if (p.ppid === out[i].pid && !out.includes(p)) out.push(p);
  }
  return out;
}

async function killTree(pid: number): Promise<void> {
  // Collected before any signal: a child whose parent dies is reparented out of the tree.
  const tree = processTree(pid);
  for (const p of tree) signal(p.pid, "SIGTERM");
  const deadline = Date.now() + 5000;
  while (tree.some((p) => readProc(p.pid)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const p of tree) if (readProc(p.pid)) signal(p.pid, "SIGKILL");
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // Gone already.
  }
}

/** The processes running on `host` (in its network namespace), all users. */
export async function hostProcesses(host: Host): Promise<Proc[]> {
  const r = await runScript(["/usr/sbin/ip", "netns", "pids", `${NAME}-${host}`]);
  if (r.code !== 0) throw new Error(`ip netns pids ${NAME}-${host}: ${r.stderr}`);
  return r.stdout.split("\n").filter(Boolean).map(Number).map(readProc)
    .filter((p): p is Proc => p !== undefined);
}

/** The test user's processes on `host` (the guest's with `uid` {@link CLUSTER.guest}'s). */
export async function userProcesses(host: Host, uid: number = CLUSTER.uid): Promise<Proc[]> {
  return (await hostProcesses(host)).filter((p) => p.uid === uid);
}

/** Whether sshd on node1 and node2 currently lets the test user in. */
export function nodeSsh(): "allow" | "refuse" {
  try {
    return Deno.readTextFileSync(`${DIR}/run/node-ssh`).trim() === "refuse" ? "refuse" : "allow";
  } catch {
    return "allow";
  }
}

/** Sets whether sshd on node1 and node2 lets the test user in (see node-ssh.sh). */
export async function setNodeSsh(mode: "allow" | "refuse"): Promise<void> {
  const r = await runScript(["/bin/sh", join(HERE, "node-ssh.sh"), mode]);
  if (r.code !== 0) throw new Error(`node-ssh.sh ${mode} failed:\n${r.stderr}`);
}

/**
 * Runs `fn` while SSH into the compute nodes is `mode`. Tests that depend on the setting go
 * through here: "refuse" holds an exclusive lock (and allows again afterwards), "allow" a
 * shared one, so that tests in other files never see the setting change under them.
 */
export async function withNodeSsh<T>(mode: "allow" | "refuse", fn: () => Promise<T>): Promise<T> {
  return await withFileLock(join(HERE, "node-ssh.sh"), mode === "refuse", async () => {
    if (nodeSsh() !== mode) await setNodeSsh(mode);
    try {
      return await fn();
    } finally {
      if (mode === "refuse") await setNodeSsh("allow");
    }
  });
}

/**
 * Polls `url` with curl on `host` until it answers `status` (default 200); returns the last
 * status seen. Used to wait for a tunnel on the laptop.
 */
export async function waitForHttp(
  host: Host,
  url: string,
  options: { status?: number; timeoutMs?: number } = {},
): Promise<number> {
  const want = options.status ?? 200;
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last = 0;
  while (Date.now() < deadline) {
    last = await httpStatus(host, url);
    if (last === want) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  return last;
}

/** The HTTP status `url` answers with on `host` (0 when nothing answers). */
export async function httpStatus(host: Host, url: string): Promise<number> {
  const r = await onHost(
    host,
    `curl -s -o /dev/null -m 5 -w '%{http_code}' ${shq(url)}`,
    { timeoutMs: 15_000 },
  );
  return Number(r.stdout.trim()) || 0;
}

/** `s` quoted for a POSIX shell. */
export function shq(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
