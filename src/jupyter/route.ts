/**
 * How the laptop reaches a server this host is starting: which login node it goes through,
 * and whether this node lets the user in by SSH (every tunnel into a compute node's loopback
 * needs that). `notebook` starts {@link learnRoute} as it starts Jupyter and reads the answer
 * once Jupyter is ready: the scheduler and sshd answer in a fraction of the time Jupyter takes.
 * @module
 */

import { isLoopback, isLoopbackName, sameHost } from "../os/hosts.ts";

/** What {@link learnRoute} found. */
export interface Route {
  /** The login node the laptop reaches; undefined when this host is it. */
  readonly loginHost?: string;
  /** This host is a compute node and nothing names its login node (a string: why). */
  readonly loginUnknown?: boolean | string;
  /** The user's allocation on this node that named the login node, when that is how. */
  readonly jobId?: string;
  /** What sshd on this host answered the user, when it refused them. */
  readonly sshRefused?: string;
}

/** What {@link learnRoute} starts from. */
export interface RouteQuestion {
  /** This host's name. */
  readonly host: string;
  /** The address Jupyter listens on. */
  readonly ip: string;
  /** The login node, when --login-host or the batch job's environment named it. */
  readonly loginHost?: string;
  readonly user?: string;
  /** The user's home (where their SSH keys are). */
  readonly home?: string;
}

/**
 * Learns the route: the given login node, else the one the scheduler names for the user's
 * allocation on this host; and, when the tunnel must SSH into this host (a compute node,
 * Jupyter on its loopback), whether sshd here lets the user in. Never throws.
 */
export async function learnRoute(q: RouteQuestion, signal?: AbortSignal): Promise<Route> {
  // A loopback name (a job's SLURM_SUBMIT_HOST on a controller's host) names no machine a
  // laptop can reach: ask the scheduler as if nothing had named the login node.
  const given = q.loginHost !== undefined && !isLoopbackName(q.loginHost) ? q.loginHost : undefined;
  let route: Route = { loginHost: given };
  if (given === undefined) {
    const { loginHostFromScheduler } = await import("../scheduler/login_host.ts");
    const a = await loginHostFromScheduler(q.host, q.user, { signal });
    if (a.kind === "allocation") route = { loginHost: a.loginHost, jobId: a.jobId };
    else if (a.kind === "compute-node") return { loginUnknown: true };
    else if (a.kind === "loopback") {
      return {
        loginUnknown: `Slurm recorded your allocation ${a.jobId} as made from ` +
          `'${a.allocNode}', a loopback name, and names no controller host`,
      };
    }
  }
  if (route.loginHost === undefined || sameHost(route.loginHost, q.host) || !isLoopback(q.ip)) {
    return route;
  }
  // Without a key of this user's that the shared home authorizes, a "Permission denied" would
  // say nothing about the node: the laptop's own key may still be let in. Ask only with one.
  if (!(await hasAuthorizedKey(q.home))) return route;
  const refused = await sshRefusal(q.host, signal);
  return refused === undefined ? route : { ...route, sshRefused: refused };
}

const IDENTITIES = ["id_ed25519", "id_ecdsa", "id_rsa", "id_ed25519_sk", "id_ecdsa_sk", "id_dsa"];

/**
 * Whether one of the user's default SSH keys in `home` is in that home's `authorized_keys`: then
 * an `ssh` from here to a node sharing the home offers a key the node should accept, and a
 * refusal is the node's policy, not a missing key.
 */
export async function hasAuthorizedKey(home: string | undefined): Promise<boolean> {
  if (!home) return false;
  const read = (name: string) => Deno.readTextFile(`${home}/.ssh/${name}`).catch(() => "");
  const authorized = (await read("authorized_keys")) + "\n" + (await read("authorized_keys2"));
  const keys = new Set(
    authorized.split("\n").flatMap((l) => l.trim().split(/\s+/)).filter((w) => w.length > 40),
  );
  for (const id of IDENTITIES) {
    const pub = (await read(`${id}.pub`)).trim().split(/\s+/)[1];
    if (pub && keys.has(pub)) return true;
  }
  return false;
}

/** Words with which ssh reports that the server would not let the user in. */
const REFUSED =
  /Permission denied|Access denied|not allowed|Connection refused|Connection closed by|Authentication failed/i;

/**
 * Whether sshd on `host` refuses the user: the line ssh printed when it did, undefined when it
 * let them in or when the answer says nothing about that (an unknown host key, a timeout).
 * `BatchMode` keeps ssh from asking anything; `true` is all it runs there.
 */
export async function sshRefusal(host: string, signal?: AbortSignal): Promise<string | undefined> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("ssh", {
      args: ["-o", "BatchMode=yes", "-o", "ConnectTimeout=5", "-T", host, "true"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
      signal,
    }).output();
  } catch {
    return undefined;
  }
  if (out.success || out.code !== 255) return undefined;
  const lines = new TextDecoder().decode(out.stderr).split("\n").map((l) => l.trim())
    .filter((l) => l && !/^Warning: Permanently added/.test(l));
  const line = lines.find((l) => REFUSED.test(l));
  return line;
}

/** A route being learned (see {@link startRoute}). */
export interface RouteLearning {
  /**
   * The route, waiting at most `ms` more for it; past that, what was given (the scheduler or
   * sshd too slow to answer must not hold up the URL).
   */
  settle(ms: number): Promise<Route>;
  /** Stops asking (the server did not start). */
  cancel(): void;
}

/** Starts {@link learnRoute} now, to be read with {@link RouteLearning.settle} later. */
export function startRoute(q: RouteQuestion): RouteLearning {
  const abort = new AbortController();
  const answer = learnRoute(q, abort.signal);
  return {
    async settle(ms: number): Promise<Route> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<Route>((resolve) => {
        timer = setTimeout(() => {
          abort.abort();
          resolve({
            loginHost: q.loginHost && !isLoopbackName(q.loginHost) ? q.loginHost : undefined,
          });
        }, ms);
      });
      try {
        return await Promise.race([answer, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    cancel: () => abort.abort(),
  };
}
