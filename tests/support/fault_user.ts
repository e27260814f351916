/**
 * The ordinary user the fault-injection tests run the CLI as. Root ignores file permissions
 * (a read-only directory is writable to root), and a signalling bug run as root could end
 * every process on the machine; as `ljfault` it can end only that user's own.
 *
 * Set-up, as root only: the user is created if missing (idempotently: `useradd` once), this
 * checkout's program files (or those of `$LJ_FAULT_REPO`, to run the tests against another
 * version) are copied into its home, and it gets a Deno cache of its own there. The user is
 * left in place afterwards; it owns nothing outside its home.
 * @module
 */

import { join } from "node:path";
import { ROOT, run, type RunResult } from "../helpers.ts";

/** The user's name (this project's tests only). */
export const FAULT_USER = "ljfault";

/** The user, ready to run the CLI. */
export interface FaultUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  /** The copy of the program the user runs. */
  readonly mod: string;
  /** Its Deno cache. */
  readonly denoDir: string;
}

async function ok(argv: string[]): Promise<RunResult> {
  return await run(argv, { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
}

async function lookup(): Promise<{ uid: number; gid: number; home: string } | undefined> {
  const r = await ok(["getent", "passwd", FAULT_USER]);
  const f = r.stdout.trim().split(":");
  return r.code === 0 && f.length >= 6 ? { uid: +f[2], gid: +f[3], home: f[5] } : undefined;
}

/** Why the fault tests cannot run here, or undefined when they can. */
async function problem(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "Linux only (it reads /proc and uses setpriv)";
  if (Deno.uid() !== 0) {
    return `needs root to create the ordinary user '${FAULT_USER}' the faults are injected as`;
  }
  for (const tool of ["useradd", "setpriv", "unshare", "nsenter", "mount", "getent"]) {
    if ((await ok(["sh", "-c", `command -v ${tool}`])).code !== 0) {
      return `${tool} is missing (util-linux, passwd)`;
    }
  }
  const deno = Deno.execPath();
  for (let p = deno; p !== "/"; p = p.slice(0, p.lastIndexOf("/")) || "/") {
    const mode = Deno.statSync(p).mode ?? 0;
    if ((mode & 0o001) === 0) return `${p} is not searchable by other users, so ${deno} is not`;
  }
  return undefined;
}

let ready: Promise<FaultUser | string> | undefined;

/** The user, set up once per test process; or why it cannot be (the tests skip with it). */
export function faultUser(): Promise<FaultUser | string> {
  ready ??= setUp();
  return ready;
}

async function setUp(): Promise<FaultUser | string> {
  const why = await problem();
  if (why) return why;
  let user = await lookup();
  if (!user) {
    const r = await ok([
      "useradd",
      "--create-home",
      "--user-group",
      "--shell",
      "/bin/sh",
      FAULT_USER,
    ]);
    user = await lookup(); // another test run may have created it meanwhile
    if (!user) return `could not create user ${FAULT_USER}: ${r.stderr.trim()}`;
  }
  await Deno.mkdir(user.home, { recursive: true });
  await Deno.chown(user.home, user.uid, user.gid);
  await Deno.chmod(user.home, 0o755);
  // Copies left by runs that were killed.
  for (const e of Deno.readDirSync(user.home)) {
    const path = join(user.home, e.name);
    if (e.name.startsWith("repo-") || e.name.startsWith("run-")) {
      const age = Date.now() - (Deno.statSync(path).mtime?.getTime() ?? 0);
      if (age > 3600_000) await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
  const source = Deno.env.get("LJ_FAULT_REPO") || ROOT;
  const repo = await Deno.makeTempDir({ dir: user.home, prefix: "repo-" });
  const copy = await ok([
    "cp",
    "-R",
    ...["mod.ts", "deno.json", "deno.lock", "src", "kernels"].map((f) => join(source, f)),
    repo,
  ]);
  if (copy.code !== 0) return `could not copy the program for ${FAULT_USER}: ${copy.stderr}`;
  await ok(["chown", "-R", `${user.uid}:${user.gid}`, repo]);
  await Deno.chmod(repo, 0o755);
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(repo, { recursive: true });
    } catch {
      // Swept by a later run.
    }
  });
  const denoDir = join(user.home, "deno-dir");
  await Deno.mkdir(denoDir, { recursive: true });
  await Deno.chown(denoDir, user.uid, user.gid);
  return { name: FAULT_USER, ...user, mod: join(repo, "mod.ts"), denoDir };
}

/** A directory of the user's own for one test, removed when the scope ends. */
export async function userDir(
  u: FaultUser,
): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ dir: u.home, prefix: "run-" });
  await Deno.chown(path, u.uid, u.gid);
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** The argv that runs `argv` as the user (its groups, not root's). */
export function asUserArgv(u: FaultUser, argv: readonly string[]): string[] {
  return [
    "/usr/bin/setpriv",
    `--reuid=${u.uid}`,
    `--regid=${u.gid}`,
    "--init-groups",
    "--",
    ...argv,
  ];
}

/** The argv that runs `legate-jupyter ARGS` as the user. */
export function cliArgv(u: FaultUser, args: readonly string[]): string[] {
  return asUserArgv(u, [Deno.execPath(), "run", "-A", "--quiet", u.mod, ...args]);
}

/**
 * `argv` run in the mount namespace of process `pid`, with that process's root and working
 * directory (in a chroot, entering a mount namespace alone would leave the chroot).
 */
export function inMountNamespace(pid: number, argv: readonly string[]): string[] {
  return ["nsenter", `--target=${pid}`, "--mount", "--root", "--wd", "--", ...argv];
}

/**
 * Runs `legate-jupyter ARGS` as the user, in `env` (plus its Deno cache), optionally in the
 * mount namespace of process `ns`. It runs in `cwd`, by default the user's home, as a login
 * would: the test's own working directory (this checkout) may be one the user cannot enter (a
 * clone under a 0700 `/root`).
 */
export async function runAs(
  u: FaultUser,
  args: readonly string[],
  env: Record<string, string>,
  ns?: number,
  cwd: string = u.home,
): Promise<RunResult> {
  const argv = cliArgv(u, args);
  return await run(
    ns === undefined ? argv : inMountNamespace(ns, argv),
    { env: { ...env, DENO_DIR: u.denoDir, USER: u.name }, cwd },
  );
}

/** Makes `path` (and everything under it) the user's. */
export async function chownToUser(u: FaultUser, path: string): Promise<void> {
  await ok(["chown", "-R", `${u.uid}:${u.gid}`, path]);
}
