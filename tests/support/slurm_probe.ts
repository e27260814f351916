/**
 * Whether the Slurm tests can run: a controller answers (`sinfo`) and a node of the default
 * partition is up to take jobs (idle, or busy with other tests' jobs). A controller whose
 * slurmd is down would only make every test time out; they skip instead, with the reason.
 * @module
 */

import { run } from "../helpers.ts";
import { slurmAvailable } from "../../src/scheduler/slurm.ts";

/** Node states that take jobs (`sinfo %T`, long or short forms). */
const UP = /^(idle|mixed|mix|allocated|alloc|completing|comp)$/;

/** `{ ok: true }`, or why the Slurm tests skip. */
export async function slurmReady(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const probe = await slurmAvailable();
  if (!probe.ok) return probe;
  const r = await run(["sinfo", "-h", "-o", "%n %T"], {
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
  });
  const nodes = r.stdout.trim().split("\n").filter(Boolean).map((l) => l.split(/\s+/));
  if (nodes.some(([, state]) => UP.test(state ?? ""))) return { ok: true };
  const states = nodes.map(([n, s]) => `${n} ${s}`).join(", ") || "no nodes";
  return {
    ok: false,
    reason: `no Slurm node takes jobs (${states}; is slurmd running? see tests/slurm/start.sh)`,
  };
}
