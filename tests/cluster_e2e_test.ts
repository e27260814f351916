/**
 * legate-jupyter across hosts, as a user runs it, on the four-host test cluster
 * (tests/cluster/): `legate-jupyter` from PATH on the cluster's hosts, every tunnel command it
 * prints run on the laptop exactly as printed (the interactive form on a pseudo-terminal, as
 * a person's terminal gives it), the URL opened through it on the laptop's `localhost`.
 *
 * The person of these tests is the laptop's user, whose account on the cluster is the cluster's
 * second user, ljguest (a name other than the laptop's, as is common): no other test file runs
 * jobs or SSH sessions as it, so what it leaves on the cluster's hosts is this file's to judge.
 * Each test has its own state directory (XDG_STATE_HOME) and job names, so that `jobs` and
 * `servers` list only its own. Skipped, with the reason, where the cluster cannot be built.
 */

import assert from "node:assert/strict";
import {
  CLUSTER,
  clusterSkipReason,
  clusterUp,
  type Host,
  hostProcesses,
  HOSTS,
  httpStatus,
  onHost,
  type Proc,
  shq,
  spawnOnHost,
  userProcesses,
  waitForHttp,
  withNodeSsh,
} from "./cluster/cluster.ts";

const skip = clusterSkipReason();
const HAVE_CHROMIUM = await Deno.stat("/usr/bin/chromium").then(() => true, () => false);

/** The person's account on the cluster. */
const ME = CLUSTER.guest;

/** `command` on `host` as the person: the laptop's user there, ljguest on the cluster. */
function on(host: Host, command: string, o: Parameters<typeof onHost>[2] = {}) {
  return onHost(host, command, { ...o, guest: host !== "laptop" });
}

/** {@link on}, returning at once (see spawnOnHost). */
function spawnOn(host: Host, command: string, o: Parameters<typeof spawnOnHost>[2] = {}) {
  return spawnOnHost(host, command, { ...o, guest: host !== "laptop" });
}

/** What a test gets: its own state, job names, and legate-jupyter run as the user would. */
interface T {
  /** A job name no other test uses (every job whose name starts so is cancelled at the end). */
  job: string;
  /** This test's XDG_STATE_HOME on the cluster (the tool's state is in legate-jupyter/ below). */
  state: string;
  /** `legate-jupyter ARGS` on `host`, in a login shell with this test's state directory. */
  lj(host: Host, args: string, o?: { env?: string }): ReturnType<typeof onHost>;
  /** The shell prefix that gives a command this test's state directory. */
  env: string;
}

/**
 * One cluster test. Unless it says it refuses SSH into the nodes itself, it runs with SSH into
 * them allowed, holding that state against tests in other files that refuse it meanwhile.
 */
function e2e(
  name: string,
  fn: (t: T) => Promise<void>,
  needs: { chromium?: boolean; refusesNodeSsh?: boolean } = {},
) {
  const why = skip ??
    (needs.chromium && !HAVE_CHROMIUM
      ? "/usr/bin/chromium is not installed (apt-get install chromium)"
      : undefined);
  Deno.test({
    name: why ? `${name} (skipped: ${why})` : name,
    ignore: why !== undefined,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      await clusterUp();
      const tag = crypto.randomUUID().slice(0, 8);
      const job = `ljc-e2e-${tag}`;
      const state = `${ME.home}/.lj-e2e/${tag}`;
      const env = `export XDG_STATE_HOME=${shq(state)}; `;
      const t: T = {
        job,
        state,
        env,
        lj: (host, args, o = {}) =>
          on(host, `${env}${o.env ?? ""}legate-jupyter ${args}`, { timeoutMs: 180_000 }),
      };
      let failed = false;
      try {
        if (needs.refusesNodeSsh) await fn(t);
        else await withNodeSsh("allow", () => fn(t));
      } catch (e) {
        failed = true;
        throw e;
      } finally {
        // Every job this test named, whatever state the test left it in.
        await on(
          "login1",
          `squeue -h --me -o '%i %j' | awk '$2 ~ /^${job}/ {print $1}' | xargs -r scancel`,
        );
        const gone = waitFor(
          async () => {
            const r = await on("login1", `squeue -h -a -o '%j' | grep -c '^${job}' || true`);
            return r.stdout.trim() === "0";
          },
          60_000,
          `jobs named ${job}* still listed by squeue`,
        );
        // A failure of the test itself is the one to report.
        await (failed ? gone.catch(() => {}) : gone);
        await Deno.remove(state, { recursive: true }).catch(() => {});
        // Nothing of the user may outlive a test on any host (a failed one's leftovers are
        // ended, so that they do not fail the next test instead).
        const left = await leftovers(15_000);
        for (const p of left) {
          try {
            Deno.kill(p.pid, "SIGKILL");
          } catch {
            // Gone meanwhile.
          }
        }
        if (!failed) {
          assert.deepEqual(left.map((p) => `${p.host}: ${p.args}`), [], "left on the cluster");
        }
      }
    },
  });
}

/**
 * The user's processes still on the cluster's hosts after up to `ms`. (The laptop's user is
 * other test files' user too; what this file starts there, spawnOnHost ends.)
 */
async function leftovers(ms: number): Promise<(Proc & { host: Host })[]> {
  const deadline = Date.now() + ms;
  while (true) {
    const left: (Proc & { host: Host })[] = [];
    for (const host of HOSTS.filter((h) => h !== "laptop")) {
      for (const p of await userProcesses(host, ME.uid)) left.push({ ...p, host });
    }
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function waitFor(ok: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what} (after ${ms / 1000} s)`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Terminal output without colours, cursor moves and carriage returns. */
function plain(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r\n?/g, "\n");
}

interface Printed {
  host: string;
  port: number;
  id: string;
  jobId?: string;
  commands: { label: string; command: string }[];
  url?: string;
  problem?: string;
  alias?: string;
  snippet?: string;
}

/** Reads the ready block `notebook` and `submit` print. */
function parseReady(output: string): Printed {
  const text = plain(output);
  const head = /is ready on (\S+) \(port (\d+), pid \d+, id ([0-9a-f]+)\)/.exec(text);
  assert.ok(head, `no ready block in:\n${text}`);
  const lines = text.split("\n");
  const from = lines.findIndex((l) => l.startsWith("From your laptop"));
  assert.ok(from >= 0, `no tunnel part in:\n${text}`);
  const p: Printed = {
    host: head[1],
    port: Number(head[2]),
    id: head[3],
    jobId: /It runs in job (\S+), /.exec(text)?.[1],
    commands: [],
  };
  if (lines[from] === "From your laptop, open the tunnel with one of:") {
    for (let i = from + 1; i < lines.length; i++) {
      const label = /^ {2}# (.*)$/.exec(lines[i]);
      if (label) p.commands.push({ label: label[1], command: lines[++i].slice(2) });
      const browse = /^then browse to (\S+)$/.exec(lines[i]);
      if (browse) {
        p.url = browse[1];
        break;
      }
    }
  } else {
    const end = lines.indexOf("", from);
    p.problem = lines.slice(from, end < 0 ? undefined : end).join(" ")
      .replace(/^From your laptop: /, "");
  }
  const alias = /Or add this to ~\/\.ssh\/config on your laptop and run: ssh -N (\S+)/.exec(text);
  if (alias) {
    p.alias = alias[1];
    const at = lines.findIndex((l) => l.startsWith("Or add this"));
    const body: string[] = [];
    for (let i = at + 2; i < lines.length && lines[i] !== ""; i++) body.push(lines[i].slice(2));
    p.snippet = body.join("\n") + "\n";
  }
  return p;
}

/** The tunnel commands (and URL, or why none) `jobs` prints for job `id`. */
function parseJobsTunnels(
  output: string,
  id: string,
): { commands: string[]; url?: string; problem?: string; attach?: string } {
  const lines = output.split("\n");
  const at = lines.findIndex((l) => new RegExp(`^ {2}job ${id} on \\S+:$`).test(l));
  assert.ok(at >= 0, `job ${id} has no tunnel entry in:\n${output}`);
  const out: { commands: string[]; url?: string; problem?: string; attach?: string } = {
    commands: [],
  };
  for (let i = at + 1; i < lines.length && lines[i].startsWith("    "); i++) {
    const l = lines[i].slice(4);
    if (l.startsWith("# ") || l === "Or, best:") continue;
    const browse = /^then browse to (\S+)$/.exec(l);
    if (browse) out.url = browse[1];
    else if (l.startsWith("ssh ")) out.commands.push(l);
    else if (l.startsWith("legate-jupyter connect ")) out.attach = l;
    else out.problem = l;
  }
  return out;
}

/** The processes of `uid` on the cluster's hosts that sshd started: `host:pid args`. */
async function sshSessions(uid = ME.uid): Promise<Set<string>> {
  const out = new Set<string>();
  for (const h of ["login1", "node1", "node2"] as const) {
    for (const p of await userProcesses(h, uid)) {
      if (/^(sshd: |ssh )/.test(p.args)) out.add(`${h}:${p.pid} ${p.args}`);
    }
  }
  return out;
}

/**
 * Runs `command` on the laptop exactly as printed (on a pseudo-terminal when it asks for one
 * with -t, as only a terminal can run it), and checks that `url`, the URL printed with it,
 * then works on the laptop: 200 from the API with the token, 403 without, and the URL itself
 * lands on the file tree, not the login page. While it runs, no shell runs in an SSH session
 * on `node`; once it is closed, no SSH process it started is left on any cluster host.
 */
async function tunnelWorks(command: string, url: string, node: string, uid = ME.uid) {
  const tty = /(^| )-t( |$)/.test(command);
  const before = await sshSessions(uid);
  const tunnel = spawnOn("laptop", command, { tty, timeoutMs: 180_000 });
  try {
    const u = new URL(url);
    const token = u.searchParams.get("token");
    assert.ok(token, `the printed URL carries the token: ${url}`);
    const api = `${u.origin}${u.pathname}api/status`;
    const got = await waitForHttp("laptop", `${api}?token=${token}`, { timeoutMs: 30_000 });
    assert.equal(got, 200, `through '${command}':\n${tunnel.stdout()}\n${tunnel.stderr()}`);
    assert.equal(await httpStatus("laptop", api), 403, "without the token");
    const landing = await on(
      "laptop",
      `curl -s -o /dev/null -m 10 -w '%{http_code} %{redirect_url}' ${shq(url)}`,
    );
    assert.match(landing.stdout, /^302 \S*\/tree\b/, `the printed URL lands on the file tree`);
    // No shell on the node: the hop into it is -N (or there is no hop into it at all).
    const procs = await hostProcesses(node as Host);
    const sessions = procs.filter((p) =>
      p.uid === uid && p.args.startsWith("sshd: ") &&
      ![...before].some((b) => b.startsWith(`${node}:${p.pid} `))
    );
    const shells = procs.filter((p) => sessions.some((s) => s.pid === p.ppid));
    assert.deepEqual(shells.map((p) => p.args), [], `no shell in an SSH session on ${node}`);
  } finally {
    await tunnel.kill();
  }
  await waitFor(
    async () => {
      const now = await sshSessions(uid);
      return [...now].every((s) => before.has(s));
    },
    15_000,
    `SSH processes left on the cluster after '${command}' was closed: ${
      [...await sshSessions(uid)].filter((s) => !before.has(s)).join("; ")
    }`,
  );
}

/**
 * Runs `tests/cluster/laptop.ts WHAT URL ARGS` on the laptop through the first tunnel the
 * ready block `p` printed, once Jupyter answers through it, and returns its JSON answer.
 */
async function onLaptopThroughTunnel(p: Printed, what: string, ...args: string[]) {
  const tunnel = spawnOn("laptop", p.commands[0].command, { timeoutMs: 180_000 });
  try {
    const u = new URL(p.url!);
    assert.equal(
      await waitForHttp("laptop", `${u.origin}/api/status?token=${u.searchParams.get("token")}`),
      200,
    );
    const r = await on(
      "laptop",
      `deno run -A --quiet ${CLUSTER.app}/tests/cluster/laptop.ts ${what} ` +
        [p.url!, ...args].map(shq).join(" "),
      { timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  } finally {
    await tunnel.kill();
  }
}

async function jobState(id: string): Promise<string> {
  const r = await on("login1", `squeue -h -t all -j ${id} -o %T 2>/dev/null`);
  return r.stdout.trim();
}

async function nothingLeft(uid: number): Promise<void> {
  await waitFor(
    async () => {
      for (const h of ["node1", "node2"] as const) {
        if ((await userProcesses(h, uid)).length) return false;
      }
      return true;
    },
    30_000,
    `processes of uid ${uid} left on the nodes: ${
      JSON.stringify([...await userProcesses("node1", uid), ...await userProcesses("node2", uid)])
    }`,
  );
}

e2e(
  "submit on login1 prints tunnels that work from the laptop exactly as printed, the -J form first; jobs prints the same ones",
  async (t) => {
    const sub = await t.lj(
      "login1",
      `submit --job-name ${t.job} --time 10 --timeout 150 --ssh-config`,
    );
    assert.equal(sub.code, 0, sub.stderr);
    const p = parseReady(sub.stdout);
    assert.match(p.host, /^node[12]$/);
    assert.ok(p.url?.startsWith(`http://localhost:${p.port}/?token=`), p.url);
    assert.deepEqual(p.commands.map((c) => c.command), [
      `ssh -N -L ${p.port}:localhost:${p.port} -J ${ME.user}@login1 ${ME.user}@${p.host}`,
      `ssh -4 -t -L ${p.port}:localhost:${p.port} ${ME.user}@login1 ssh -N -L ${p.port}:localhost:${p.port} ${p.host}`,
    ]);
    assert.match(sub.stdout, new RegExp(`End both with: legate-jupyter cancel ${p.jobId}\n`));

    const jobs = await t.lj("login1", "jobs");
    assert.equal(jobs.code, 0, jobs.stderr);
    const listed = parseJobsTunnels(jobs.stdout, p.jobId!);
    assert.deepEqual(listed.commands, p.commands.map((c) => c.command), "jobs prints every form");
    assert.equal(listed.url, p.url);

    for (const c of p.commands) await tunnelWorks(c.command, p.url!, p.host);

    // The ~/.ssh/config snippet, as printed, then 'ssh -N ALIAS' as printed.
    assert.ok(p.alias && p.snippet, sub.stdout);
    const config = `${CLUSTER.laptopHome}/.ssh/config`;
    await Deno.writeTextFile(config, "\n" + p.snippet!, { append: true, mode: 0o600 });
    await Deno.chown(config, CLUSTER.uid, CLUSTER.uid); // the laptop's user's file
    try {
      await tunnelWorks(`ssh -N ${p.alias}`, p.url!, p.host);
    } finally {
      const text = await Deno.readTextFile(config);
      await Deno.writeTextFile(config, text.replace("\n" + p.snippet!, ""));
    }

    const server = JSON.parse(
      await Deno.readTextFile(`${t.state}/legate-jupyter/servers/${p.id}.json`),
    );
    const cancel = await t.lj("login1", `cancel ${p.jobId}`);
    assert.equal(cancel.code, 0, cancel.stderr);
    assert.equal(cancel.stdout, `Cancelled job ${p.jobId} (was RUNNING on ${p.host})\n`);
    for (const pid of [server.pid, server.supervisorPid]) {
      assert.equal((await hostProcesses(p.host as Host)).some((x) => x.pid === pid), false);
    }
  },
);

e2e(
  "with SSH into the nodes refused, submit and jobs say why no tunnel can work and what to do; with --ip 0.0.0.0 the command printed works",
  async (t) => {
    await withNodeSsh("refuse", async () => {
      const sub = await t.lj("login1", `submit --job-name ${t.job} --time 10 --timeout 150`);
      assert.equal(sub.code, 0, sub.stderr);
      const p = parseReady(sub.stdout);
      assert.deepEqual(p.commands, [], "no command that cannot work");
      assert.match(
        p.problem ?? "",
        new RegExp(`${p.host} refuses SSH logins \\(".*Permission denied`),
      );
      assert.match(p.problem ?? "", /--ip 0\.0\.0\.0/);
      assert.match(p.problem ?? "", /pam_slurm_adopt/);
      // What works instead, from a laptop with the tool (connect_cluster_test.ts runs it there).
      assert.match(
        plain(sub.stdout),
        new RegExp(`\n {2}legate-jupyter connect ${ME.user}@login1 --attach ${p.jobId}\n`),
      );
      const jobs = await t.lj("login1", "jobs");
      const listed = parseJobsTunnels(jobs.stdout, p.jobId!);
      assert.deepEqual(listed.commands, []);
      assert.match(listed.problem ?? "", /refuses SSH logins/);
      assert.equal(listed.attach, `legate-jupyter connect ${ME.user}@login1 --attach ${p.jobId}`);
      // The refusal is real: the form printed where nodes accept SSH fails here.
      const j = await on(
        "laptop",
        `ssh -o BatchMode=yes -N -L ${p.port}:localhost:${p.port} -J ${ME.user}@login1 ${ME.user}@${p.host}`,
      );
      assert.equal(j.code, 255);
      assert.match(j.stderr, /Permission denied/);
      assert.equal((await t.lj("login1", `cancel ${p.jobId}`)).code, 0);

      const open = await t.lj(
        "login1",
        `submit --job-name ${t.job} --time 10 --timeout 150 --ip 0.0.0.0`,
      );
      assert.equal(open.code, 0, open.stderr);
      const q = parseReady(open.stdout);
      assert.deepEqual(q.commands.map((c) => c.command), [
        `ssh -N -L ${q.port}:${q.host}:${q.port} ${ME.user}@login1`,
      ]);
      await tunnelWorks(q.commands[0].command, q.url!, q.host);
      assert.equal((await t.lj("login1", `cancel ${q.jobId}`)).code, 0);
    });
  },
  { refusesNodeSsh: true },
);

e2e("notebook on login1 prints one hop to login1 that works from the laptop", async (t) => {
  const term = spawnOn("login1", `${t.env}legate-jupyter notebook`, {
    tty: true,
    timeoutMs: 180_000,
  });
  try {
    await term.waitFor(/then browse to \S+/, 120_000);
    const p = parseReady(term.stdout());
    assert.equal(p.host, "login1");
    assert.deepEqual(p.commands.map((c) => c.command), [
      `ssh -N -L ${p.port}:localhost:${p.port} ${ME.user}@login1`,
    ]);
    await tunnelWorks(p.commands[0].command, p.url!, "login1");
    await term.write("\x03");
    const end = await term.finished();
    assert.equal(end.code, 0, plain(end.stdout));
  } finally {
    await term.kill();
  }
});

e2e(
  "notebook inside a job step (srun --pty) prints tunnels that work from the laptop, and Ctrl-C ends it",
  async (t) => {
    const term = spawnOn(
      "login1",
      `${t.env}srun --pty -J ${t.job} -t 10 legate-jupyter notebook`,
      { tty: true, timeoutMs: 180_000 },
    );
    try {
      // The last line of the ready block: through srun's pty the block may come in pieces.
      await term.waitFor(/Stop it with Ctrl-C here/, 120_000);
      const p = parseReady(term.stdout());
      assert.match(p.host, /^node[12]$/);
      assert.match(
        p.commands[0]?.command ?? "",
        new RegExp(` -J ${ME.user}@login1 ${ME.user}@${p.host}$`),
      );
      assert.match(
        plain(term.stdout()),
        new RegExp(`Stop it with Ctrl-C here, or legate-jupyter stop ${p.id}`),
      );
      for (const c of p.commands) await tunnelWorks(c.command, p.url!, p.host);
      await term.write("\x03");
      const end = await term.finished();
      assert.equal(end.code, 0, plain(end.stdout));
      assert.match(plain(end.stdout), /Stopping Jupyter Notebook and its kernels/);
    } finally {
      await term.kill();
    }
  },
);

e2e(
  "notebook on a node reached by ssh inside an allocation learns the login node from Slurm; without an allocation it names --login-host",
  async (t) => {
    const alloc = await on("login1", `salloc --no-shell -J ${t.job} -w node2 -t 10`);
    assert.equal(alloc.code, 0, alloc.stderr);
    const jobId = /Granted job allocation (\d+)/.exec(alloc.stderr)?.[1];
    assert.ok(jobId, alloc.stderr);
    // As a person does: ssh from login1 into the node, then type the command in that shell.
    const term = spawnOn("login1", "ssh -tt node2", { tty: true, timeoutMs: 180_000 });
    try {
      await term.write(`${t.env}legate-jupyter notebook\n`);
      await term.waitFor(/then browse to \S+/, 120_000);
      const p = parseReady(term.stdout());
      assert.equal(p.host, "node2");
      assert.equal(p.commands.length, 2);
      assert.match(
        p.commands[0].command,
        new RegExp(` -J ${ME.user}@login1 ${ME.user}@node2$`),
      );
      for (const c of p.commands) await tunnelWorks(c.command, p.url!, "node2");
      // login1 sees it, and knows the allocation it runs in.
      const servers = await t.lj("login1", "servers --json");
      const entry = JSON.parse(servers.stdout).find((s: { id: string }) => s.id === p.id);
      assert.equal(entry?.jobId, jobId);
      assert.equal(entry?.loginHost, "login1");
      await term.write("\x03");
      await term.waitFor(/Stopping Jupyter Notebook/, 30_000);
      await term.write("exit\n");
      await term.finished();
    } finally {
      await term.kill();
    }

    // No job of the user runs on node1 (the allocation is on node2): there, nothing names the
    // login node the laptop reaches.
    const bare = spawnOn("login1", "ssh -tt node1", {
      tty: true,
      timeoutMs: 180_000,
    });
    try {
      await bare.write(`${t.env}legate-jupyter notebook\n`);
      await bare.waitFor(/Stop it with Ctrl-C here/, 120_000);
      const p = parseReady(bare.stdout());
      assert.deepEqual(p.commands, []);
      assert.match(p.problem ?? "", /node1 is a compute node/);
      assert.match(p.problem ?? "", /--login-host HOST/);
      await bare.write("\x03");
      await bare.waitFor(/Stopping Jupyter Notebook/, 30_000);
      await bare.write(`${t.env}legate-jupyter notebook --login-host login1\n`);
      await bare.waitFor(/then browse to \S+[\s\S]*Stop it with Ctrl-C here/, 120_000);
      const q = parseReady(bare.stdout().slice(bare.stdout().lastIndexOf("is ready on") - 40));
      assert.match(
        q.commands[0]?.command ?? "",
        new RegExp(` -J ${ME.user}@login1 ${ME.user}@node1$`),
      );
      await tunnelWorks(q.commands[0].command, q.url!, "node1");
      await bare.write("\x03");
      await bare.waitFor(/Stopping Jupyter Notebook[\s\S]*Stopping Jupyter Notebook/, 30_000);
      await bare.write("exit\n");
      await bare.finished();
    } finally {
      await bare.kill();
    }
  },
);

e2e(
  "notebook in an allocation Slurm records as made from localhost (the login node runs slurmctld) names login1, from scontrol ping, never a loopback host; the tunnels work as printed",
  async (t) => {
    // The request as a login node running slurmctld makes it, over loopback: its munged's
    // credentials carry a loopback origin (the host's own name resolving to 127.0.1.1) and
    // salloc reaches the controller at 127.0.0.1. Slurm 22.05 goes by the first alone, 24.11
    // needs both; either way it records the request as coming from localhost.
    const lo = `${CLUSTER.dir}/munge-lo-${t.job}`;
    const setUp = await onHost(
      "login1",
      `set -e; mkdir -p ${shq(lo)}; chown munge:munge ${shq(lo)}
       setpriv --reuid=munge --regid=munge --clear-groups -- /usr/sbin/munged --origin=127.0.0.1 \
         --socket=${shq(`${lo}/socket`)} --key-file=${shq(`${CLUSTER.dir}/munge/munge.key`)} \
         --pid-file=${shq(`${lo}/pid`)} --log-file=${shq(`${lo}/log`)} \
         --seed-file=${shq(`${lo}/seed`)}
       { sed 's/^SlurmctldHost=.*/SlurmctldHost=login1(127.0.0.1)/' /etc/slurm/slurm.conf
         echo AuthInfo=socket=${shq(`${lo}/socket`)}; } >${shq(`${lo}/slurm.conf`)}
       chmod 0644 ${shq(`${lo}/slurm.conf`)}`,
      { root: true },
    );
    assert.equal(setUp.code, 0, setUp.stderr);
    const term = spawnOn("login1", "ssh -tt node2", { tty: true, timeoutMs: 180_000 });
    try {
      const alloc = await on(
        "login1",
        `SLURM_CONF=${shq(`${lo}/slurm.conf`)} salloc --no-shell -J ${t.job} -w node2 -t 10`,
      );
      assert.equal(alloc.code, 0, alloc.stderr);
      const jobId = /Granted job allocation (\d+)/.exec(alloc.stderr)?.[1];
      assert.ok(jobId, alloc.stderr);
      const shown = await on("login1", `scontrol show job ${jobId}`);
      assert.match(shown.stdout, /AllocNode:Sid=localhost:\d+/, "Slurm recorded localhost");

      await term.write(`${t.env}legate-jupyter notebook\n`);
      await term.waitFor(/then browse to \S+/, 120_000);
      const p = parseReady(term.stdout());
      assert.equal(p.host, "node2");
      assert.equal(p.commands.length, 2, term.stdout());
      assert.match(p.commands[0].command, new RegExp(` -J ${ME.user}@login1 ${ME.user}@node2$`));
      for (const c of p.commands) {
        assert.doesNotMatch(c.command, /@(localhost|127\.|::1)|-J localhost/, c.command);
        await tunnelWorks(c.command, p.url!, "node2");
      }
      await term.write("\x03");
      await term.waitFor(/Stopping Jupyter Notebook/, 30_000);
      await term.write("exit\n");
      await term.finished();
    } finally {
      await term.kill();
      await onHost(
        "login1",
        `kill "$(cat ${shq(`${lo}/pid`)})" 2>/dev/null; sleep 0.2; rm -rf ${shq(lo)}`,
        { root: true },
      );
    }
  },
);

e2e(
  "submit --nodes 2 --auto-kernel runs the kernel's ranks on both nodes, a cell on rank 0, and cancel leaves nothing of the user on any node",
  async (t) => {
    const uid = ME.uid;
    const kernel = `ljc-${t.job.slice(-8)}`;
    const ranks = `${ME.home}/ranks-${t.job}.log`;
    // Every Python process of the user that sees LJC_RANK_LOG writes its host, rank and argv.
    const site = `${ME.home}/.local/lib/python3-ljc`;
    await on(
      "login1",
      `mkdir -p ${site} && cat > ${site}/usercustomize.py <<'EOF'
import os, sys
_log = os.environ.get("LJC_RANK_LOG")
if _log:
    with open(_log, "a") as f:
        f.write("%s %s %s\\n" % (os.uname().nodename, os.environ.get("SLURM_PROCID"), " ".join(sys.argv)))
EOF`,
    );
    try {
      const sub = await t.lj(
        "login1",
        `submit --job-name ${t.job} --nodes 2 --auto-kernel --kernel ${kernel} --time 10 --timeout 150`,
        { env: `export LJC_RANK_LOG=${ranks} PYTHONPATH=${site}; ` },
      );
      assert.equal(sub.code, 0, sub.stderr);
      const p = parseReady(sub.stdout);
      assert.equal(p.host, "node1");
      assert.match(sub.stderr, /RUNNING on node\[1-2\]/);
      const cell = await onLaptopThroughTunnel(
        p,
        "cell",
        kernel,
        'import os, socket; print(socket.gethostname(), os.environ["SLURM_PROCID"])',
      ).catch(async (e) => {
        // What the job, Jupyter and the kernel's ranks said is where a failure here is explained.
        const logs = `${t.state}/legate-jupyter/logs`;
        const said: string[] = [];
        for await (const f of Deno.readDir(logs)) {
          const text = await Deno.readTextFile(`${logs}/${f.name}`).catch((r) => `(${r})`);
          said.push(`--- ${logs}/${f.name}:\n${text.slice(-4000)}`);
        }
        throw new Error(`${e}\n${said.join("\n")}`);
      });
      assert.deepEqual(cell, { stdout: "node1 0\n", error: null });
      const kernels = (await Deno.readTextFile(ranks)).split("\n")
        .filter((l) => l.includes("legate_kernel.py -f "))
        .map((l) => l.split(" ").slice(0, 2).join(" "))
        .sort();
      assert.deepEqual(kernels, ["node1 0", "node2 1"], "one rank on each node");

      const cancel = await t.lj("login1", `cancel ${p.jobId}`);
      assert.equal(cancel.code, 0, cancel.stderr);
      assert.equal(cancel.stdout, `Cancelled job ${p.jobId} (was RUNNING on node[1-2])\n`);
      await nothingLeft(uid);
    } finally {
      await on("login1", `rm -rf ${site} ${ranks} ~/.local/share/jupyter/kernels/${kernel}`);
    }
  },
);

e2e(
  "jobs, servers, stop and cancel on login1 tell a live server on a node from a killed one and an ended job, at once",
  async (t) => {
    const uid = ME.uid;
    const submit = (suffix: string) =>
      t.lj("login1", `submit --job-name ${t.job}-${suffix} --time 10 --timeout 150`);
    const [a, b, c, d] = (await Promise.all(["a", "b", "c", "d"].map(submit))).map((r) => {
      assert.equal(r.code, 0, r.stderr);
      return parseReady(r.stdout);
    });
    const dir = `${t.state}/legate-jupyter`;
    const record = async (id: string) =>
      JSON.parse(await Deno.readTextFile(`${dir}/servers/${id}.json`));
    // B and D die as the OOM killer kills: SIGKILL to the supervisor and to Jupyter, so nothing
    // cleans their entries up; their batch scripts then end their jobs. C's job is cancelled by
    // the scheduler's own command, as an admin or a time limit would end it.
    for (const s of [b, d]) {
      const r = await record(s.id);
      for (const pid of [r.supervisorPid, r.pid]) Deno.kill(pid, "SIGKILL");
    }
    await on("login1", `scancel ${c.jobId}`);
    await waitFor(
      async () => {
        for (const s of [b, c, d]) {
          if (
            ["RUNNING", "COMPLETING", "PENDING"].includes(await jobState(s.jobId!))
          ) return false;
        }
        return true;
      },
      60_000,
      "jobs B, C and D did not end",
    );
    // Their heartbeats are seconds old: only the scheduler can tell that B and D are dead.
    assert.ok((await Deno.stat(`${dir}/servers/${b.id}.json`)).isFile, "B's entry is left");

    const jobs = await t.lj("login1", "jobs --json");
    const byId = new Map(JSON.parse(jobs.stdout).map((j: { id: string }) => [j.id, j]));
    const view = (s: Printed) => byId.get(s.jobId!) as { phase: string; server: unknown };
    assert.equal(view(a).phase, "running");
    assert.ok(view(a).server, "A's server is listed with its job");
    for (const s of [b, c, d]) {
      assert.equal(view(s).phase, "ended");
      assert.equal(view(s).server, null);
    }

    const stop = await t.lj("login1", `stop ${d.id}`);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, new RegExp(`\\(it had already stopped: job ${d.jobId} has ended\\)`));

    const servers = await t.lj("login1", "servers");
    assert.equal(servers.code, 0, servers.stderr);
    assert.match(
      servers.stderr,
      new RegExp(`Removed 1 entry of servers no longer running: ${b.id}`),
    );
    assert.match(servers.stdout, new RegExp(`^${a.id} +notebook +${a.host} `, "m"));
    assert.doesNotMatch(servers.stdout, new RegExp(`${b.id}|${c.id}|${d.id}`));

    const stopA = await t.lj("login1", `stop ${a.id}`);
    assert.equal(stopA.code, 0, stopA.stderr);
    assert.match(stopA.stdout, /by request through the state dir/);
    await waitFor(
      async () => (await jobState(a.jobId!)) !== "RUNNING",
      60_000,
      "A's job ended",
    );

    const cancel = await t.lj("login1", "cancel --all");
    assert.equal(cancel.code, 0, cancel.stderr);
    await nothingLeft(uid);
  },
);

e2e(
  "the printed URL opens the authenticated notebook tree in headless Chromium on the laptop, through the tunnel",
  async (t) => {
    const kernel = `ljc-${t.job.slice(-8)}`;
    const nb = `${ME.home}/nb-${t.job}`;
    try {
      const made = await on(
        "login1",
        `mkdir ${nb} && echo '{"cells":[],"metadata":{},"nbformat":4,"nbformat_minor":5}' > ${nb}/hello.ipynb`,
      );
      assert.equal(made.code, 0, made.stderr);
      const sub = await t.lj(
        "login1",
        `submit --job-name ${t.job} --auto-kernel --kernel ${kernel} --notebook-dir ${nb} --time 10 --timeout 150`,
      );
      assert.equal(sub.code, 0, sub.stderr);
      const p = parseReady(sub.stdout);
      const page = await onLaptopThroughTunnel(p, "browse") as {
        login: boolean;
        path: string;
        files: string[];
        kernels: { id: string }[];
      };
      assert.equal(page.login, false, "landed on the login page");
      assert.equal(page.path, "/tree");
      assert.deepEqual(page.files, ["hello.ipynb"]);
      assert.ok(
        page.kernels.some((k) => k.id === `kernel-${kernel}`),
        JSON.stringify(page.kernels),
      );
      assert.equal((await t.lj("login1", `cancel ${p.jobId}`)).code, 0);
    } finally {
      await on("login1", `rm -rf ~/.local/share/jupyter/kernels/${kernel} ${nb}`);
    }
  },
  { chromium: true },
);
