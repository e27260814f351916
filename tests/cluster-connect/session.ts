/**
 * What the connect tests and benchmark need on top of the test cluster (tests/cluster/): a
 * laptop of their own ("laptop2", see laptop2.sh) with an ssh config of aliases, a browser
 * wrapper and the Legate kernel; `connect` started there on a terminal (so that Ctrl-C is a
 * real ^C typed into it); the count of its logins in login1's sshd log; its link cut and
 * restored; and what a session may have left on each host.
 * @module
 */

import { join } from "node:path";
import {
  CLUSTER,
  clusterSkipReason,
  clusterUp,
  type Host,
  type HostProcess,
  onHost,
  processTree,
  shq,
  spawnOnHost,
  takeDownAtExit,
  userProcesses,
} from "../cluster/cluster.ts";
import { fileURLToPath } from "node:url";

const HERE = fileURLToPath(new URL(".", import.meta.url));

/** The connect tests' own laptop. */
export const LAPTOP2 = "laptop2" as Host;
/** Its address on the cluster network. */
export const LAPTOP2_ADDRESS = CLUSTER.address.login1.replace(/\.\d+$/, ".101");
/** Its home, as the machine sees it (on laptop2 it is mounted at the user's home path). */
export const LAPTOP2_HOME = `${CLUSTER.dir}/laptop2-home/${CLUSTER.user}`;
/** The Legate kernel the tests install in the cluster's shared home. */
export const KERNEL = "ljd-legate";
/** The `$BROWSER` on laptop2 (tests/support/browser_connect.ts). */
export const BROWSER = `${CLUSTER.home}/ljd-browser`;
/** The Deno that runs the checkout (the same binary on every host). */
export const DENO = Deno.execPath();
const APP_SUPPORT = `${CLUSTER.app}/tests/support`;

/** The ssh config on laptop2: aliases, sharing and a jump host, as users write them. */
export const SSH_CONFIG = `# connect tests (tests/cluster-connect/session.ts)
Host hpc
    HostName login1
Host hpc-jump
    HostName ${CLUSTER.address.login1}
    ProxyJump login1
Host hpc-shared
    HostName login1
    ControlMaster auto
    ControlPath ~/.ssh/cm-%C
    ControlPersist 10m
`;

function clusterEnv(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  };
  for (const k of ["LJC", "LJC_DIR", "LJC_USER", "LJC_UID", "LJC_NET"]) {
    const v = Deno.env.get(k);
    if (v !== undefined) env[k] = v;
  }
  return env;
}

async function laptop2(action: "up" | "down"): Promise<void> {
  const out = await new Deno.Command("/bin/sh", {
    args: [join(HERE, "laptop2.sh"), action],
    env: clusterEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(`laptop2.sh ${action} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
}

let ready: Promise<void> | undefined;

/**
 * Brings the cluster and laptop2 up once per test file: the ssh config, the browser wrapper,
 * and the Legate kernel in the shared home.
 */
export function connectClusterUp(): Promise<void> {
  ready ??= (async () => {
    await clusterUp();
    const marker = `${CLUSTER.dir}/run/laptop2-by-test`;
    // One process at a time: test files that start together must not build laptop2 twice, nor
    // replace the kernel under each other (two `install --replace` at once can collide).
    using lock = await Deno.open(join(HERE, "session.ts"), { read: true });
    await lock.lock(true);
    const wasUp = await Deno.stat(`/run/netns/${CLUSTER.name}-laptop2`).then(
      () => true,
      () => false,
    );
    await laptop2("up");
    // What this process brought up, the last process using the cluster takes down.
    if (!wasUp) await Deno.writeTextFile(marker, `${Deno.pid}\n`);
    takeDownAtExit(marker, ["/bin/sh", join(HERE, "laptop2.sh"), "down"]);
    const uid = CLUSTER.uid;
    await Deno.writeTextFile(`${LAPTOP2_HOME}/.ssh/config`, SSH_CONFIG, { mode: 0o600 });
    await Deno.writeTextFile(
      `${LAPTOP2_HOME}/ljd-browser`,
      `#!/bin/sh\nexec ${DENO} run -A --quiet ${APP_SUPPORT}/browser_connect.ts "$1"\n`,
      { mode: 0o755 },
    );
    for (const f of [".ssh/config", "ljd-browser"]) {
      await Deno.chown(`${LAPTOP2_HOME}/${f}`, uid, uid);
    }
    const r = await onHost(
      "login1",
      `legate-jupyter install --python /usr/bin/python3 --replace --name ${KERNEL} ` +
        "--cpus 1 --sysmem 256",
    );
    if (r.code !== 0) throw new Error(`installing the kernel failed:\n${r.stderr}`);
    await lock.unlock();
  })();
  return ready;
}

/**
 * Runs `fn` with laptop2 to itself. Connect's tests cut laptop2's link, count its logins and
 * check that nothing of a session is left on it or on the cluster's hosts, so two of them must
 * not run at once, from whichever test files: a file lock, held exclusively (taken before
 * `withNodeSsh`'s, never after it).
 */
export async function withLaptop2<T>(fn: () => Promise<T>): Promise<T> {
  using file = await Deno.open(join(HERE, "laptop2.sh"), { read: true });
  await file.lock(true);
  try {
    return await fn();
  } finally {
    await file.unlock();
  }
}

/**
 * A connect test on the cluster: skipped, with the reason, where the cluster cannot be built
 * (or for `skip`, another reason the test file has); otherwise run with the cluster and laptop2
 * up, holding laptop2 to itself (see {@link withLaptop2}) unless `laptop` is false.
 */
export function connectTest(
  name: string,
  fn: () => Promise<void>,
  options: { skip?: string; laptop?: boolean } = {},
): void {
  const skip = clusterSkipReason() ?? options.skip;
  Deno.test({
    name: skip ? `${name} (skipped: ${skip})` : name,
    ignore: skip !== undefined,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      await connectClusterUp();
      await (options.laptop === false ? fn() : withLaptop2(fn));
    },
  });
}

/** Takes laptop2 down (the cluster itself is scripts/test.sh's to take down). */
export async function laptop2Down(): Promise<void> {
  await laptop2("down");
}

/** A job name no other test uses, for `--job-name` and for cleaning up by name. */
export function jobName(): string {
  return `ljd-${crypto.randomUUID().slice(0, 8)}`;
}

/**
 * Starts `legate-jupyter connect ARGS` on laptop2 on a pseudo-terminal, as a person types it.
 * `env` is put before the command (`BROWSER=... `).
 */
export function connectOnLaptop(args: string, env = ""): HostProcess {
  return spawnOnHost(LAPTOP2, `${env}legate-jupyter connect ${args}`, {
    tty: true,
    timeoutMs: 600_000,
  });
}

/** The URL connect printed. */
export async function urlOf(p: HostProcess, ms = 120_000): Promise<string> {
  const m = await p.waitFor(/http:\/\/127\.0\.0\.1:\d+\/\S*\?token=[0-9a-f]+/, ms);
  return m[0];
}

/** The job id connect reported. */
export async function jobOf(p: HostProcess, ms = 60_000): Promise<string> {
  return (await p.waitFor(/Submitted job (\d+)/, ms))[1];
}

/** Ctrl-C typed on connect's terminal. */
export async function ctrlC(p: HostProcess): Promise<void> {
  await p.write("\x03");
}

/** The `connect` process itself (Deno, on laptop2), for kill -9. */
export function connectPid(p: HostProcess): number | undefined {
  return processTree(p.pid).find((q) => / connect /.test(q.args) && /deno/.test(q.args))?.pid;
}

/** The HTTP status of `url` on laptop2, following redirects (curl -L). */
export async function statusOn(url: string, host: Host = LAPTOP2): Promise<number> {
  const r = await onHost(
    host,
    `curl -sL -o /dev/null -m 10 -w '%{http_code}' ${shq(url)}`,
    { timeoutMs: 20_000 },
  );
  return Number(r.stdout.trim()) || 0;
}

/** Runs tests/support/kernel_client.ts on laptop2 against connect's URL. */
export async function kernelClient(...args: string[]): Promise<string> {
  const r = await onHost(
    LAPTOP2,
    `${DENO} run -A --quiet ${APP_SUPPORT}/kernel_client.ts ` +
      args.map(shq).join(" "),
    { timeoutMs: 240_000 },
  );
  if (r.code !== 0) throw new Error(`kernel_client ${args[0]} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

/** login1's sshd log so far (its length marks a point in time). */
export function sshdLog(): string {
  return Deno.readTextFileSync(`${CLUSTER.dir}/log/sshd-login1.log`);
}

/** Logins by laptop2 to login1 in `log` after `from` (a length of the log read earlier). */
export function laptop2Logins(log: string, from: number): number {
  const re = new RegExp(
    `^Accepted \\S+ for ${CLUSTER.user} from ${LAPTOP2_ADDRESS.replaceAll(".", "\\.")} `,
    "gm",
  );
  return (log.slice(from).match(re) ?? []).length;
}

/** Logins to login1 in `log` after `from` that came from login1 itself (a ProxyJump hop). */
export function loginFromLogin1(log: string, from: number): number {
  const re = new RegExp(
    `^Accepted \\S+ for ${CLUSTER.user} from ${CLUSTER.address.login1.replaceAll(".", "\\.")} `,
    "gm",
  );
  return (log.slice(from).match(re) ?? []).length;
}

/** Brings laptop2's only interface down (`up: false`) or up again, as root. */
export async function setLink(up: boolean): Promise<void> {
  const out = await new Deno.Command("ip", {
    args: ["-n", `${CLUSTER.name}-laptop2`, "link", "set", "eth0", up ? "up" : "down"],
  }).output();
  if (out.code !== 0) throw new Error(new TextDecoder().decode(out.stderr));
}

/**
 * What a session for job `job` (port `port` on the node) left behind: processes of the user
 * on laptop2 (nothing else runs there), the agent or relay or the job's processes on the
 * cluster hosts, the job still known as active to Slurm, its record or its server's entry.
 */
export async function leftovers(job: string, port?: number): Promise<string[]> {
  const found: string[] = [];
  for (const p of await userProcesses(LAPTOP2)) {
    // A ControlMaster the user's config keeps (ControlPersist) is theirs, not the session's.
    if (!/\[mux\]$/.test(p.args)) found.push(`laptop2: ${p.args}`);
  }
  const ours = new RegExp(
    [
      `legate-jupyter (agent|relay)\\b`,
      `mod\\.ts (agent|relay)\\b`,
      `--jobid=${job}\\b`,
      `job0*${job}/`,
      ...(port ? [`--port=${port}\\b`] : []),
    ].join("|"),
  );
  for (const h of ["login1", "node1", "node2"] as Host[]) {
    for (const p of await userProcesses(h)) if (ours.test(p.args)) found.push(`${h}: ${p.args}`);
  }
  const q = await onHost("login1", `squeue -h -t all -j ${job} -o %T`);
  const state = q.stdout.trim();
  if (/PENDING|RUNNING|COMPLETING|CONFIGURING|SUSPENDED/.test(state)) {
    found.push(`slurm: job ${job} ${state}`);
  }
  const stateDir = `${CLUSTER.home}/.local/state/legate-jupyter`;
  try {
    Deno.statSync(`${stateDir}/jobs/slurm-${job}.json`);
    found.push(`state: jobs/slurm-${job}.json`);
  } catch {
    // Gone, as it should be.
  }
  try {
    for (const e of Deno.readDirSync(`${stateDir}/servers`)) {
      const text = Deno.readTextFileSync(`${stateDir}/servers/${e.name}`);
      if (text.includes(`"jobId": "${job}"`)) found.push(`state: servers/${e.name}`);
    }
  } catch {
    // No servers directory.
  }
  return found;
}

/** Waits until `leftovers` is empty (a cancelled job takes Slurm's KillWait to go), or returns what stays. */
export async function waitClean(job: string, port?: number, ms = 30_000): Promise<string[]> {
  const deadline = Date.now() + ms;
  let left = await leftovers(job, port);
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    left = await leftovers(job, port);
  }
  return left;
}

/** Cancels every job called `name` (after a test, whatever happened). */
export async function cancelByName(name: string): Promise<void> {
  await onHost("login1", `scancel --name ${shq(name)}`);
}
