/**
 * The login node behind a compute node, asked of the scheduler. A shell on a compute node
 * reached by `ssh` inside an allocation (`salloc`, then `ssh node1`, where `pam_slurm_adopt`
 * allows it) has no `SLURM_*` variable to say where the user came from; but Slurm knows the
 * host each allocation was made from (`AllocNode`), and whether this host is a node at all.
 * @module
 */

import { runTool } from "./exec.ts";
import { isLoopbackName, sameHost, shortHost } from "../os/hosts.ts";

/** What the scheduler says about the login node behind `host`. */
export type LoginHostAnswer =
  /** A job of the user runs on `host`; it was allocated from `loginHost`. */
  | { readonly kind: "allocation"; readonly loginHost: string; readonly jobId: string }
  /** `host` is a compute node, and no job of the user runs there: nothing names a login node. */
  | { readonly kind: "compute-node" }
  /** The scheduler has no node of that name: `host` is a login node (or not in the cluster). */
  | { readonly kind: "not-a-node" }
  /**
   * `host` is a compute node that also runs the controller: a head node that users log into
   * (a small cluster, or a workstation running Slurm).
   */
  | { readonly kind: "head-node" }
  /**
   * The allocation on `host` was recorded as made from a loopback name (`localhost`), the
   * controller's own host, and the scheduler names no controller.
   */
  | { readonly kind: "loopback"; readonly jobId: string; readonly allocNode: string }
  /** No scheduler here, or it did not answer. */
  | { readonly kind: "unknown"; readonly reason: string };

/** The `squeue -O` fields asked for, and their widths (neither value holds a space). */
export const SQUEUE_ALLOC_FORMAT = "JobID:32,AllocNodes:256";

/**
 * Reads `squeue -h -O JobID,AllocNodes` output: the first job whose allocating host is known.
 * Pure.
 */
export function parseAllocations(stdout: string): { jobId: string; loginHost: string }[] {
  const out: { jobId: string; loginHost: string }[] = [];
  for (const line of stdout.split("\n")) {
    const [jobId, node] = line.trim().split(/\s+/);
    if (!jobId || !node || /^(\(null\)|n\/a|none)$/i.test(node)) continue;
    out.push({ jobId, loginHost: node });
  }
  return out;
}

/**
 * Asks Slurm which login node `user`'s running allocation on `host` came from: one `squeue`
 * (about 20 ms on a healthy controller). Never throws; `signal` bounds it.
 */
export async function loginHostFromScheduler(
  host: string,
  user: string | undefined,
  options: { signal?: AbortSignal } = {},
): Promise<LoginHostAnswer> {
  const args = ["-h", "-t", "RUNNING", "-w", shortHost(host), "-O", SQUEUE_ALLOC_FORMAT];
  if (user) args.push("-u", user);
  let r;
  try {
    r = await runTool("squeue", args, { signal: options.signal });
  } catch (e) {
    return { kind: "unknown", reason: (e as Error).message };
  }
  if (r.code !== 0) {
    // squeue -w refuses a name that is no node of the cluster.
    if (/Invalid node name/i.test(r.stderr)) return { kind: "not-a-node" };
    return { kind: "unknown", reason: r.stderr.trim().split("\n").pop() ?? `exit ${r.code}` };
  }
  const [first] = parseAllocations(r.stdout);
  if (first && !isLoopbackName(first.loginHost)) return { kind: "allocation", ...first };
  return answerWithControllers(host, first, await controllerHosts(options.signal));
}

/**
 * The answer when the user's allocation on `host` names no login node a laptop can reach
 * (`first` is absent, or names a loopback host), from the controllers that are up. Pure.
 */
export function answerWithControllers(
  host: string,
  first: { jobId: string; loginHost: string } | undefined,
  controllers: readonly string[],
): LoginHostAnswer {
  const named = controllers.filter((c) => !isLoopbackName(c));
  const here = named.some((c) => sameHost(c, host));
  if (!first) return here ? { kind: "head-node" } : { kind: "compute-node" };
  // Slurm names the host a request came from by its address; one made on the controller's
  // own host over loopback reads "localhost". The controller's name is that host's: another
  // host is the login node; this one means the allocation was made here, a head node.
  if (here) return { kind: "head-node" };
  return named.length
    ? { kind: "allocation", loginHost: named[0], jobId: first.jobId }
    : { kind: "loopback", jobId: first.jobId, allocNode: first.loginHost };
}

/** The controllers `scontrol ping` says are up (none when it cannot say). */
async function controllerHosts(signal?: AbortSignal): Promise<string[]> {
  const ping = await runTool("scontrol", ["ping"], { signal }).catch(() => undefined);
  return parseControllers(ping?.stdout ?? "");
}

/** The controller hosts that `scontrol ping` says are up (`Slurmctld(primary) at login1 is UP`). Pure. */
export function parseControllers(stdout: string): string[] {
  return [...stdout.matchAll(/ at (\S+) is UP/g)].map((m) => m[1]);
}
