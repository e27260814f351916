/**
 * A kernel in a conda-like environment launched across the two compute nodes of the test
 * cluster (tests/cluster/) with srun: `submit --nodes 2 --auto-kernel` installs it in the job
 * with `--install-arg=--conda-env=PREFIX`, Jupyter starts it on node1, and both ranks (node1
 * and node2) see the variables its activation set. Legate's bind script is faked (Legate
 * cannot be installed here): each rank writes its environment, rank 0 runs the kernel.
 * Skipped, with the reason, where the cluster cannot be built.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CLUSTER,
  clusterSkipReason,
  clusterUp,
  onHost,
  shq,
  withNodeSsh,
} from "./cluster/cluster.ts";
import {
  CONDA_NAMES,
  condaExpected,
  condaLike,
  fakeLegate,
  rankEnv,
} from "./support/environments.ts";

const skip = clusterSkipReason();

Deno.test({
  name:
    "submit --nodes 2 --auto-kernel --install-arg=--conda-env: the kernel's srun ranks on node1 and node2 both see the activated environment" +
    (skip ? ` (skipped: ${skip})` : ""),
  ignore: skip !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await clusterUp();
    const tag = crypto.randomUUID().slice(0, 8);
    const job = `ljc-env-${tag}`;
    const kernel = `ljc-env-${tag}`;
    const dir = join(CLUSTER.home, `env-test-${tag}`);
    const state = join(dir, "state");
    const ranks = join(dir, "ranks");
    const { prefix } = await condaLike(join(dir, "envs", "legate"));
    await Deno.mkdir(ranks, { recursive: true });
    await fakeLegate(prefix, ranks);
    const own = await new Deno.Command("chown", {
      args: ["-R", `${CLUSTER.uid}:${CLUSTER.uid}`, dir],
    }).output();
    assert.ok(own.success, "chown the test's directory to the cluster's user");
    const env = `export XDG_STATE_HOME=${shq(state)}; `;
    try {
      await withNodeSsh("allow", async () => {
        const sub = await onHost(
          "login1",
          `${env}legate-jupyter submit --json --job-name ${job} --nodes 2 --auto-kernel ` +
            `--kernel ${kernel} --install-arg=--conda-env=${shq(prefix)} --time 10 --timeout 150`,
          { timeoutMs: 180_000 },
        );
        assert.equal(sub.code, 0, sub.stderr);
        const ready = JSON.parse(sub.stdout.trim().split("\n").at(-1)!);
        const client = `deno run -A --quiet ${CLUSTER.app}/tests/support/kernel_client.ts`;
        const started = await onHost("node1", `${client} start ${shq(ready.url)} ${kernel}`, {
          timeoutMs: 120_000,
        });
        assert.equal(started.code, 0, started.stderr);
        const code = "import os, json, socket\n" +
          `print(json.dumps([socket.gethostname(), {k: os.environ.get(k) for k in ${
            JSON.stringify(CONDA_NAMES)
          }}]))`;
        const cell = await onHost(
          "node1",
          `${client} exec ${shq(ready.url)} ${started.stdout.trim()} ${shq(code)}`,
          { timeoutMs: 200_000 },
        );
        assert.equal(cell.code, 0, cell.stderr);
        const out = JSON.parse(cell.stdout);
        assert.equal(out.status, "ok", cell.stdout);
        assert.deepEqual(JSON.parse(out.stdout), ["node1", condaExpected(prefix)]);
        for (const [rank, node] of [[0, "node1"], [1, "node2"]] as const) {
          const seen = await rankEnv(ranks, rank);
          assert.equal(seen.SLURMD_NODENAME, node, `rank ${rank} ran on ${node}`);
          for (const [k, v] of Object.entries(condaExpected(prefix))) {
            assert.equal(seen[k] ?? null, v, `rank ${rank} on ${node}: ${k}`);
          }
          assert.equal(seen.PATH.split(":")[0], join(prefix, "bin"), `rank ${rank}: PATH`);
        }
        const cancel = await onHost("login1", `${env}legate-jupyter cancel ${ready.job_id}`, {
          timeoutMs: 120_000,
        });
        assert.equal(cancel.code, 0, cancel.stderr);
      });
    } finally {
      await onHost(
        "login1",
        `squeue -h --me -o '%i %j' | awk '$2 == "${job}" {print $1}' | xargs -r scancel; ` +
          `rm -rf ~/.local/share/jupyter/kernels/${kernel}`,
      );
      // The job's end ends its steps on both nodes (the cancel above waits for it too).
      for (let i = 0; i < 150; i++) {
        const q = await onHost("login1", `squeue -h -a -n ${job} -o %i`);
        if (q.stdout.trim() === "") break;
        await new Promise((r) => setTimeout(r, 200));
      }
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
