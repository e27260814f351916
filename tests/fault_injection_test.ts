/**
 * Fault injection, with the CLI run as the ordinary user `ljfault` (tests/support/fault_user.ts):
 * forged, foreign and malformed state entries and job records, a state dir that is not the
 * user's, a read-only kernels dir, a full file system (a small tmpfs in a private mount
 * namespace) under the kernels dir and the state dir, `notebook` killed with SIGKILL across its
 * start-up, and hostile kernel names. Each test asserts what must stay intact (a canary
 * process, a canary kernel byte for byte, files it must not touch), not only the exit code.
 * Every test skips, with the reason, where the user cannot be set up (not root, no util-linux).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { isolatedEnv, run, type RunResult } from "./helpers.ts";
import { assertOneLineError } from "./support/e2e.ts";
import {
  asUserArgv,
  chownToUser,
  cliArgv,
  type FaultUser,
  faultUser,
  inMountNamespace,
  runAs,
  userDir,
} from "./support/fault_user.ts";
import { allProcs, pidAlive, procInfo } from "../src/os/proc.ts";
import { deadRecord } from "./support/records.ts";

const user = await faultUser();
const skip = typeof user === "string" ? ` (skipped: ${user})` : "";
const HAVE_NOTEBOOK = await Deno.stat("/usr/bin/jupyter-notebook").then(() => true, () => false);
/** Why no private mount namespace can be made here (a chroot whose root is no mount point). */
const NO_PRIVATE_MOUNTS = typeof user === "string" ? "" : await (async () => {
  const r = await run(["unshare", "--mount", "--propagation", "private", "true"], {
    env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" },
  });
  return r.code === 0 ? "" : `no private mount namespace here: ${r.stderr.trim()}`;
})();

function faultTest(
  name: string,
  fn: (u: FaultUser) => Promise<void>,
  needs: { notebook?: boolean; mounts?: boolean } = {},
): void {
  const why = skip ||
    (needs.notebook && !HAVE_NOTEBOOK
      ? " (skipped: no /usr/bin/jupyter-notebook; install Debian's jupyter-notebook)"
      : needs.mounts && NO_PRIVATE_MOUNTS
      ? ` (skipped: ${NO_PRIVATE_MOUNTS})`
      : "");
  Deno.test({
    name: `${name} (as ${typeof user === "string" ? "ljfault" : user.name})${why}`,
    ignore: why !== "",
    sanitizeResources: false,
    sanitizeOps: false,
    fn: () => fn(user as FaultUser),
  });
}

/** An isolated environment in `dir` whose directories the user owns. */
async function userEnv(u: FaultUser, dir: string): Promise<Record<string, string>> {
  const env = isolatedEnv(dir, { XDG_STATE_HOME: join(dir, "state") });
  for (const d of [env.HOME, env.JUPYTER_DATA_DIR, env.XDG_STATE_HOME]) {
    await Deno.mkdir(d, { recursive: true });
  }
  await chownToUser(u, dir);
  return env;
}

/** Installs a kernel as the user; returns its directory. */
async function installAs(
  u: FaultUser,
  env: Record<string, string>,
  name: string,
  ns?: number,
): Promise<string> {
  const r = await runAs(
    u,
    ["install", "--python", "/usr/bin/python3", "--name", name, "--display-name", `K ${name}`],
    env,
    ns,
  );
  assert.equal(r.code, 0, r.stderr);
  return join(env.JUPYTER_DATA_DIR, "kernels", name.toLowerCase());
}

/** Every entry under `dir` (through `/proc/NS/root` when given) with its bytes' digest and mode. */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(join(dir, rel))];
    } catch {
      return;
    }
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      const info = Deno.lstatSync(join(dir, path));
      const mode = (info.mode ?? 0).toString(8);
      if (e.isDirectory) {
        out[path + "/"] = mode;
        await walk(path);
      } else if (e.isSymlink) out[path] = `-> ${Deno.readLinkSync(join(dir, path))}`;
      else if (e.isFile) {
        const digest = await crypto.subtle.digest("SHA-256", Deno.readFileSync(join(dir, path)));
        out[path] = `${mode} ${[...new Uint8Array(digest)].map((b) => b.toString(16)).join("")}`;
      } else out[path] = `special ${mode}`;
    }
  };
  await walk("");
  return out;
}

/** A long-lived process of the user's, in a session of its own: what no entry may end. */
function userCanary(u: FaultUser): Deno.ChildProcess & AsyncDisposable & { start: number } {
  const child = new Deno.Command(asUserArgv(u, ["sleep", "600"])[0], {
    args: asUserArgv(u, ["sleep", "600"]).slice(1),
    cwd: u.home,
    detached: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  // setpriv execs sleep: the PID and its start time are the sleep's.
  return Object.assign(child, {
    start: procInfo(child.pid)!.start,
    async [Symbol.asyncDispose]() {
      try {
        Deno.kill(child.pid, "SIGKILL");
      } catch {
        // Gone: the test has already failed on it.
      }
      await child.status;
    },
  });
}

/** A server entry that passes every type check; `extra` makes it what a test needs. */
function entry(id: string, extra: Record<string, unknown>): Record<string, unknown> {
  return { ...deadRecord(id), ...extra };
}

/** Writes `files` (name → JSON value or raw text) into `dir`, the user's and 0600 unless told. */
async function plant(
  u: FaultUser,
  dir: string,
  files: Record<string, unknown>,
  special: Record<string, { uid?: number; mode?: number }> = {},
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  for (const [name, value] of Object.entries(files)) {
    const path = join(dir, name);
    await Deno.writeTextFile(path, typeof value === "string" ? value : JSON.stringify(value));
    const s = special[name] ?? {};
    await Deno.chown(path, s.uid ?? u.uid, s.uid ?? u.gid);
    await Deno.chmod(path, s.mode ?? 0o600);
  }
}

function lines(r: RunResult): string[] {
  return r.stderr.split("\n").filter((l) => l !== "");
}

const NOBODY = 65534;

faultTest(
  "servers and stop never signal what a forged, foreign or malformed entry names, and go on with the good ones",
  async (u) => {
    await using d = await userDir(u);
    const env = await userEnv(u, d.path);
    const state = join(env.XDG_STATE_HOME, "legate-jupyter");
    const servers = join(state, "servers");
    await using canary = userCanary(u);
    const forged = {
      // pid 1, no start time: stop on main signalled -1, i.e. every process the user may signal.
      "0000f001.json": entry("0000f001", { pid: 1, supervisorPid: 1 }),
      // A live process of the user's, with its right start time, that is no Jupyter.
      "0000f002.json": entry("0000f002", {
        pid: canary.pid,
        pidStart: canary.start,
        supervisorPid: canary.pid,
        supervisorStart: canary.start,
      }),
      // The same process without a start time: main signalled its process group.
      "0000f003.json": entry("0000f003", { pid: canary.pid }),
    };
    const dropped = {
      "0000f004.json": entry("0000f004", { pid: canary.pid, pidStart: canary.start }),
      "0000f005.json": entry("0000f005", { pid: canary.pid, pidStart: canary.start }),
      "0000f006.json": "{ half-written",
      "0000f007.json": { ...entry("0000f007", {}), startedAt: undefined },
      "0000f008.json": entry("0000f008", { startedAt: 5 }),
      "0000f009.json": entry("0000f009", { port: "8888" }),
      "0000f00a.json": { ...entry("0000f00a", {}), baseUrl: undefined },
      "0000f00b.json": entry("0000f00c", {}),
    };
    const dead = { "0000dead.json": entry("0000dead", { pid: 999_999_999 }) };
    await plant(u, servers, { ...forged, ...dropped, ...dead }, {
      "0000f004.json": { uid: NOBODY },
      "0000f005.json": { mode: 0o644 },
    });
    await chownToUser(u, env.XDG_STATE_HOME);
    await Deno.chown(join(servers, "0000f004.json"), NOBODY, NOBODY);
    const before = await fingerprint(servers);

    const listed = await runAs(u, ["servers"], env);
    assert.equal(listed.code, 0, listed.stderr);
    for (const name of Object.keys(dropped)) {
      assert.equal(
        lines(listed).filter((l) => l.includes(`ignoring ${join(servers, name)}: `)).length,
        1,
        `${name} is reported once:\n${listed.stderr}`,
      );
    }
    assert.match(listed.stderr, /0000f004\.json: owned by uid 65534, not by you/);
    assert.match(listed.stderr, /0000f005\.json: mode 0644, not 0600/);
    assert.match(listed.stderr, /0000f007\.json: field "startedAt" is missing/);
    assert.match(listed.stderr, /0000f008\.json: field "startedAt" is 5, not an ISO 8601 time/);
    assert.match(listed.stderr, /Removed 1 entry of servers no longer running: 0000dead/);
    for (const id of ["0000f001", "0000f002", "0000f003"]) {
      assert.match(listed.stdout, new RegExp(`^${id} .* unverified `, "m"));
    }
    const json = await runAs(u, ["servers", "--json"], env);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(
      JSON.parse(json.stdout).map((s: { id: string; status: string }) => [s.id, s.status]).sort(),
      [["0000f001", "unverified"], ["0000f002", "unverified"], ["0000f003", "unverified"]],
    );

    const stopped = await runAs(u, ["stop", "--all"], env);
    assert.equal(stopped.code, 1, stopped.stderr);
    assert.match(stopped.stderr, /0000f001: not signalled: PID 1 is never signalled/);
    assert.match(
      stopped.stderr,
      /0000f002: not signalled: PID \d+ runs 'sleep 600', not the Jupyter/,
    );
    assert.match(stopped.stderr, /0000f003: not signalled: the entry records no start time/);
    assert.equal(await pidAlive(canary.pid, canary.start), true, "the canary process lives");
    const after = await fingerprint(servers);
    for (const name of Object.keys(dropped)) {
      assert.equal(after[name], before[name], `${name} is left as it was`);
    }
    for (const name of [...Object.keys(forged), ...Object.keys(dead)]) {
      assert.equal(after[name], undefined, `${name} is forgotten`);
    }
  },
);

faultTest(
  "a state dir that is someone else's, or that others may write in, is refused with one line and nothing in it is acted on",
  async (u) => {
    await using d = await userDir(u);
    const env = await userEnv(u, d.path);
    const state = join(env.XDG_STATE_HOME, "legate-jupyter");
    await using canary = userCanary(u);
    const bait = {
      "0000ba17.json": entry("0000ba17", { pid: canary.pid, pidStart: canary.start }),
    };
    for (
      const [owner, mode, why] of [
        [NOBODY, 0o777, /refusing to use .*legate-jupyter: it belongs to uid 65534, not to you/],
        [u.uid, 0o777, /refusing to use .*legate-jupyter: others may write in it \(mode 0777\)/],
      ] as const
    ) {
      await Deno.remove(state, { recursive: true }).catch(() => {});
      await plant(u, join(state, "servers"), bait);
      for (const dir of [state, join(state, "servers")]) {
        await Deno.chown(dir, owner, owner);
        await Deno.chmod(dir, mode);
      }
      for (const args of [["servers"], ["stop", "--all"], ["jobs"], ["cancel", "--all"]]) {
        const r = await runAs(u, args, env);
        assertOneLineError(r, 1, why);
        assert.equal(await pidAlive(canary.pid, canary.start), true, `${args}: the canary lives`);
      }
      assert.ok(await Deno.stat(join(state, "servers", "0000ba17.json")), "the entry is left");
    }
  },
);

faultTest(
  "cancel names why scancel could not start: a working directory the user cannot enter, or a scancel that is not executable, never 'not found on PATH'",
  async (u) => {
    await using d = await userDir(u);
    const bin = join(d.path, "bin");
    await Deno.mkdir(bin);
    for (const tool of ["squeue", "scancel"]) {
      await Deno.writeTextFile(join(bin, tool), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    }
    const env: Record<string, string> = {
      ...await userEnv(u, d.path),
      PATH: `${bin}:/usr/bin:/bin`,
    };
    const jobs = join(env.XDG_STATE_HOME, "legate-jupyter", "jobs");
    const record = {
      id: "4242",
      scheduler: "slurm",
      name: "legate-jupyter",
      submittedAt: "2026-01-01T00:00:00Z",
      submitHost: "login01",
    };
    await plant(u, jobs, { "slurm-4242.json": record });
    await chownToUser(u, join(env.XDG_STATE_HOME, "legate-jupyter"));

    // A directory of root's, mode 0700: the user's shell could be left there by `su`.
    const closed = await Deno.makeTempDir({ prefix: "lj-closed-" });
    try {
      await Deno.chmod(closed, 0o700);
      const r = await runAs(u, ["cancel", "--all", "--no-wait"], env, undefined, closed);
      assertOneLineError(
        r,
        1,
        new RegExp(`working directory ${closed} is gone or you may not enter it`),
      );
      assert.doesNotMatch(r.stderr, /not found on PATH/);
    } finally {
      await Deno.remove(closed, { recursive: true });
    }

    // The only scancel on PATH is not executable.
    await Deno.chmod(join(bin, "scancel"), 0o644);
    const r = await runAs(u, ["cancel", "--all", "--no-wait"], { ...env, PATH: bin });
    assertOneLineError(r, 1, new RegExp(`${join(bin, "scancel")} is not executable`));
    assert.doesNotMatch(r.stderr, /not found on PATH/);

    // And a missing one is still called missing.
    await Deno.remove(join(bin, "scancel"));
    const missing = await runAs(u, ["cancel", "--all", "--no-wait"], { ...env, PATH: bin });
    assertOneLineError(missing, 1, /'scancel' was not found on PATH/);
  },
);

faultTest(
  "jobs and cancel go on beside malformed job records and pass the scheduler nothing but job ids (a recording squeue/scancel on PATH)",
  async (u) => {
    await using d = await userDir(u);
    const bin = join(d.path, "bin");
    const log = join(d.path, "calls.log");
    await Deno.mkdir(bin);
    for (const tool of ["squeue", "scancel", "qstat", "qdel"]) {
      await Deno.writeTextFile(
        join(bin, tool),
        `#!/bin/sh\nprintf '${tool}' >> '${log}'; printf ' [%s]' "$@" >> '${log}'; echo >> '${log}'\n`,
        { mode: 0o755 },
      );
    }
    const env: Record<string, string> = {
      ...await userEnv(u, d.path),
      PATH: `${bin}:/usr/bin:/bin`,
    };
    const jobs = join(env.XDG_STATE_HOME, "legate-jupyter", "jobs");
    const job = (id: unknown, extra: Record<string, unknown> = {}) => ({
      id,
      scheduler: "slurm",
      name: "legate-jupyter",
      submittedAt: "2026-01-01T00:00:00Z",
      submitHost: "login01",
      ...extra,
    });
    await plant(u, jobs, {
      "slurm-4242.json": job("4242"),
      "pbs-77.pbs01.json": job("77.pbs01", { scheduler: "pbs" }),
      "slurm---help.json": job("--help"),
      "slurm-1;x.json": job("1;touch /tmp/pwned"),
      "slurm-9.json": job(9),
      "slurm-10.json": job("10", { submittedAt: 5 }),
      "slurm-11.json": "[]",
      "slurm-12.json": job("12"),
      "pbs-x y.json": job("x y", { scheduler: "pbs" }),
    }, { "slurm-12.json": { uid: NOBODY } });
    await chownToUser(u, join(env.XDG_STATE_HOME, "legate-jupyter"));
    await Deno.chown(join(jobs, "slurm-12.json"), NOBODY, NOBODY);

    const cancelled = await runAs(u, ["cancel", "--all", "--no-wait"], env);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    const listed = await runAs(u, ["jobs", "--json"], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      JSON.parse(listed.stdout).map((j: { id: string }) => j.id).sort(),
      ["4242", "77.pbs01"],
    );
    for (
      const bad of ["slurm---help", "slurm-1;x", "slurm-9", "slurm-10", "slurm-11", "slurm-12"]
    ) {
      assert.match(
        listed.stderr,
        new RegExp(`ignoring ${jobs}/${bad.replace(/[;]/g, "\\$&")}\\.json: `),
      );
    }
    const calls = (await Deno.readTextFile(log)).trim().split("\n");
    const ids = calls.flatMap((c) => [...c.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]))
      .filter((a) => /\d/.test(a) && !a.startsWith("%"));
    for (const a of ids) {
      assert.match(
        a,
        /^(4242|77\.pbs01)(,4242)?$/,
        `only job ids reach the scheduler:\n${calls.join("\n")}`,
      );
    }
    assert.ok(calls.some((c) => c.startsWith("squeue")), calls.join("\n"));
    assert.ok(await Deno.stat(join(jobs, "slurm-12.json")), "another user's record is left alone");
  },
);

faultTest(
  "remove and install --replace leave a read-only kernels dir, and a read-only kernel, as they were",
  async (u) => {
    await using d = await userDir(u);
    const env = await userEnv(u, d.path);
    await installAs(u, env, "canary");
    const victim = await installAs(u, env, "victim");
    const kernels = join(env.JUPYTER_DATA_DIR, "kernels");
    await Deno.chmod(kernels, 0o555);
    let before = await fingerprint(env.JUPYTER_DATA_DIR);
    try {
      const removed = await runAs(u, ["remove", "-y", "victim"], env);
      assertOneLineError(
        removed,
        1,
        /cannot remove .*victim: no permission to create a directory in .*kernels; nothing was removed/,
      );
      for (const args of [["--name", "victim", "--replace"], ["--name", "newcomer"]]) {
        const r = await runAs(u, ["install", "--python", "/usr/bin/python3", ...args], env);
        assertOneLineError(r, 1, /permission denied; nothing was changed there/);
      }
      assert.deepEqual(await fingerprint(env.JUPYTER_DATA_DIR), before, "nothing changed");
    } finally {
      await Deno.chmod(kernels, 0o755);
    }
    // A kernel dir that is itself read-only cannot be moved out of Jupyter's view: kept whole.
    await Deno.chmod(victim, 0o555);
    before = await fingerprint(env.JUPYTER_DATA_DIR);
    try {
      const r = await runAs(u, ["remove", "-y", "victim"], env);
      assertOneLineError(
        r,
        1,
        /cannot remove .*victim: no permission to move it out of .*kernels \(both must be writable\); nothing was removed/,
      );
      assert.deepEqual(await fingerprint(env.JUPYTER_DATA_DIR), before, "nothing changed");
    } finally {
      await Deno.chmod(victim, 0o755);
    }
  },
);

/**
 * A private mount namespace holding a small tmpfs at `dir` (owned by the user), kept alive by
 * a process whose PID is the namespace's handle; `/proc/PID/root` shows the mount from here.
 */
async function fullDisk(
  u: FaultUser,
  dir: string,
): Promise<AsyncDisposable & { pid: number; view: (path: string) => string }> {
  await Deno.mkdir(dir, { recursive: true });
  const holder = new Deno.Command("unshare", {
    args: [
      "--mount",
      "--propagation",
      "private",
      "--",
      "sh",
      "-c",
      `mount -t tmpfs -o size=2m,mode=0755,uid=${u.uid},gid=${u.gid} lj-fault "$1" && echo up && exec sleep 600`,
      "sh",
      dir,
    ],
    // Commands entered into this namespace (nsenter --wd) start in the holder's directory:
    // the user's home, which the user can enter wherever this checkout is.
    cwd: u.home,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = holder.stdout.getReader();
  const first = new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
  reader.releaseLock();
  if (!first.startsWith("up")) {
    const err = new TextDecoder().decode((await holder.output()).stderr);
    throw new Error(`could not mount a tmpfs in a private namespace: ${err}`);
  }
  return {
    pid: holder.pid,
    view: (path: string) => `/proc/${holder.pid}/root${path}`,
    async [Symbol.asyncDispose]() {
      holder.kill("SIGKILL");
      await holder.status;
      await holder.stdout.cancel().catch(() => {});
      await holder.stderr.cancel().catch(() => {});
    },
  };
}

faultTest(
  "a full file system under the kernels dir and the state dir fails with one line naming the cause, and changes nothing",
  async (u) => {
    await using d = await userDir(u);
    const full = join(d.path, "full");
    const env = await userEnv(u, d.path);
    Object.assign(env, {
      JUPYTER_DATA_DIR: join(full, "data"),
      XDG_STATE_HOME: join(full, "state"),
    });
    await using ns = await fullDisk(u, full);
    await installAs(u, env, "canary", ns.pid);
    // Fill it up (cat stops at ENOSPC).
    await run(
      inMountNamespace(ns.pid, asUserArgv(u, ["sh", "-c", `cat /dev/zero > '${full}/filler'`])),
      { env: { PATH: "/usr/bin:/bin" } },
    );
    const before = await fingerprint(ns.view(join(full, "data")));
    assert.ok(before["kernels/canary/kernel.json"], "the canary is there to be kept");
    for (const args of [["--name", "newcomer"], ["--name", "canary", "--replace"]]) {
      const r = await runAs(u, ["install", "--python", "/usr/bin/python3", ...args], env, ns.pid);
      assertOneLineError(
        r,
        1,
        /cannot write .*: no space left on its file system; nothing was changed there/,
      );
    }
    assert.deepEqual(
      await fingerprint(ns.view(join(full, "data"))),
      before,
      "the kernels are intact",
    );

    if (HAVE_NOTEBOOK) {
      const nbDir = join(d.path, "nb");
      await Deno.mkdir(nbDir);
      await chownToUser(u, nbDir);
      const r = await runAs(
        u,
        ["notebook", "--notebook-dir", nbDir, "--timeout", "60"],
        env,
        ns.pid,
      );
      assertOneLineError(
        r,
        1,
        /cannot (write|create) .*legate-jupyter.*: no space left on its file system; free some space there \(df -h .*\), or set XDG_STATE_HOME/,
      );
      assert.deepEqual(processesWith(nbDir), [], "no Jupyter is left running");
      const entries = await fingerprint(ns.view(join(full, "state", "legate-jupyter", "servers")));
      assert.deepEqual(Object.keys(entries), [], "no entry is left");
    }
  },
  { mounts: true },
);

/** PIDs of processes whose command line, working directory or environment mention `marker`. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const p of allProcs()) {
    if (p.pid === Deno.pid) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${p.pid}/cmdline`);
      const cwd = Deno.readLinkSync(`/proc/${p.pid}/cwd`);
      const env = Deno.readTextFileSync(`/proc/${p.pid}/environ`);
      if (cmd.includes(marker) || cwd.startsWith(marker) || env.includes(marker)) found.push(p.pid);
    } catch {
      // Gone.
    }
  }
  return found;
}

/** Waits (bounded) until no process mentions `marker`; returns those left. */
async function settled(marker: string, ms = 15_000): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = processesWith(marker);
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = processesWith(marker);
  }
  return left;
}

/** Starts `notebook` as the user; resolves with the child and the time until its ready line. */
function startNotebook(u: FaultUser, env: Record<string, string>, nbDir: string) {
  const child = new Deno.Command(cliArgv(u, ["notebook", "--json", "--notebook-dir", nbDir])[0], {
    args: cliArgv(u, ["notebook", "--json", "--notebook-dir", nbDir]).slice(1),
    env: { ...env, DENO_DIR: u.denoDir, USER: u.name },
    clearEnv: true,
    cwd: u.home,
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const ready = (async () => {
    let out = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      out += chunk;
      if (out.includes('"event":"ready"')) return true;
    }
    return false;
  })();
  return { child, ready };
}

/** One kill: SIGKILL `notebook` after `delayMs` (or once ready), then `servers` and `stop --all`. */
async function killAndStop(
  u: FaultUser,
  dir: string,
  when: number | "ready",
): Promise<{ orphans: number; left: number[]; entries: string[]; stop: RunResult }> {
  const env = await userEnv(u, dir);
  const nbDir = join(dir, "nb");
  await Deno.mkdir(nbDir);
  await chownToUser(u, nbDir);
  const nb = startNotebook(u, env, nbDir);
  try {
    if (when === "ready") assert.equal(await nb.ready, true, "notebook became ready");
    else await new Promise((r) => setTimeout(r, when));
    try {
      nb.child.kill("SIGKILL");
    } catch {
      // Already exited (it cannot have: it runs until stopped).
    }
    await nb.child.status;
    await nb.ready.catch(() => false);
    const listed = await runAs(u, ["servers", "--json"], env);
    assert.equal(listed.code, 0, listed.stderr);
    const statuses = JSON.parse(listed.stdout).map((s: { status: string }) => s.status);
    for (const s of statuses) assert.equal(s, "orphaned", `its notebook is dead: ${listed.stdout}`);
    const stop = await runAs(u, ["stop", "--all"], env);
    const left = await settled(nbDir);
    const servers = join(env.XDG_STATE_HOME, "legate-jupyter", "servers");
    // Entries and stop requests (a write interrupted by the kill may leave a temp file).
    const entries = (() => {
      try {
        return [...Deno.readDirSync(servers)].map((e) => e.name)
          .filter((n) => /^[0-9a-f]+\.(json|stop)$/.test(n));
      } catch {
        return [];
      }
    })();
    return { orphans: statuses.length, left, entries, stop };
  } finally {
    // Whatever failed, leave nothing behind for the other tests.
    for (const pid of processesWith(nbDir)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Gone.
      }
    }
  }
}

faultTest(
  "notebook killed with SIGKILL at 24 moments of its start-up leaves nothing that stop --all does not end",
  async (u) => {
    await using d = await userDir(u);
    // Once ready: the orphan is listed as such, and stop ends it.
    const once = await killAndStop(u, join(d.path, "ready"), "ready");
    assert.equal(once.orphans, 1, "servers lists the orphaned server");
    assert.equal(once.stop.code, 0, once.stop.stderr);
    assert.deepEqual(once.left, [], "no Jupyter or kernel process is left");
    assert.deepEqual(once.entries, [], "no entry is left");

    // How long a start takes here, so that the kills spread over all of it (and past it); what
    // is asserted does not depend on where each one lands.
    const env = await userEnv(u, join(d.path, "calibrate"));
    await Deno.mkdir(join(d.path, "calibrate", "nb"));
    await chownToUser(u, join(d.path, "calibrate"));
    const t0 = performance.now();
    const nb = startNotebook(u, env, join(d.path, "calibrate", "nb"));
    assert.equal(await nb.ready, true);
    const readyMs = performance.now() - t0;
    nb.child.kill("SIGTERM");
    await nb.child.status;

    const RUNS = 24;
    const LANES = 3;
    const failures: string[] = [];
    await Promise.all(Array.from({ length: LANES }, async (_, lane) => {
      for (let i = lane; i < RUNS; i += LANES) {
        const delay = Math.round((i / (RUNS - 1)) * readyMs * 1.3);
        const r = await killAndStop(u, join(d.path, `k${i}`), delay);
        if (r.stop.code !== 0) failures.push(`kill at ${delay} ms: stop --all: ${r.stop.stderr}`);
        if (r.left.length) failures.push(`kill at ${delay} ms: processes left: ${r.left}`);
        if (r.entries.length) failures.push(`kill at ${delay} ms: entries left: ${r.entries}`);
      }
    }));
    assert.deepEqual(failures, []);
  },
  { notebook: true },
);

faultTest(
  "hostile kernel names are refused with exit 2 and a canary kernel survives byte for byte, with and without --replace",
  async (u) => {
    await using d = await userDir(u);
    const env = await userEnv(u, d.path);
    await installAs(u, env, "canary");
    const watched = env.JUPYTER_DATA_DIR; // the kernels dir and the staging place beside it
    const before = await fingerprint(watched);
    const hostile = [".", "..", "../canary", "canary/..", "/tmp", "", "a".repeat(100_000)];
    for (const name of [...hostile, "-x", "x\u001b[2J"]) {
      for (const replace of [[], ["--replace"]]) {
        const r = await runAs(
          u,
          ["install", "--python", "/usr/bin/python3", "--name", name, ...replace],
          env,
        );
        assertOneLineError(r, 2, /invalid kernel name '.*': /);
        assert.ok(r.stderr.length < 400, "the name is not echoed whole");
        assert.deepEqual(await fingerprint(watched), before, `install --name ${name.slice(0, 9)}`);
      }
    }
    for (const name of hostile) {
      for (const args of [["remove", "-y", name], ["remove", "-y", "--", name], ["info", name]]) {
        const r = await runAs(u, args, env);
        assertOneLineError(r, 2, /is not a kernel name: /);
        assert.deepEqual(await fingerprint(watched), before, `${args[0]} ${name.slice(0, 9)}`);
      }
    }
    // A kernel another tool named '-x' can be removed after '--' (and only it).
    const dashed = join(watched, "kernels", "-x");
    await Deno.mkdir(dashed);
    await Deno.copyFile(
      join(watched, "kernels", "canary", "kernel.json"),
      join(dashed, "kernel.json"),
    );
    await chownToUser(u, dashed);
    const refused = await runAs(u, ["remove", "-y", "-x"], env);
    assertOneLineError(refused, 2, /unknown option '-x'/);
    const removed = await runAs(u, ["remove", "-y", "--", "-x"], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.deepEqual(await fingerprint(watched), before, "only '-x' went");
  },
);
