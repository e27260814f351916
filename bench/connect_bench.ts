/**
 * `connect` against what a user would do without it, in one run on the four-host test
 * cluster (tests/cluster/, with the connect tests' laptop2: tests/cluster-connect/):
 *
 * 1. Start-up: `connect login1 --no-browser` on the laptop, from its start to the printed URL
 *    (which already answers: connect checks it through the tunnel first), against `submit
 *    --json` on login1, from its start to its URL (which still needs a tunnel). Target: at
 *    most 1 s more. Both are started the same way (a login shell on their host), alternating.
 * 2. A cell's reply: `1 + 1` on one kernel, from the execute request to the reply and the
 *    kernel's idle status, through connect's URL and through a plain `ssh -N -L ... -J login1
 *    NODE` tunnel from the laptop to the same server, alternating (bench/cell_rtt.ts, run on
 *    the laptop). Target: at most 1.5 times the plain tunnel's.
 * 3. Throughput: a 50 MB file from Jupyter's `/files/` with curl on the laptop through both.
 *    Target: at least half the plain tunnel's.
 *
 *   deno run -A bench/connect_bench.ts [--rounds N]   (start-up rounds, default 5, after a
 *                                                       warm-up round; cells: 50; downloads: 3)
 *
 * Needs root and what the cluster needs; skips (exit 0) with the reason otherwise.
 * @module
 */

import {
  clusterSkipReason,
  onHost,
  shq,
  spawnOnHost,
  withNodeSsh,
} from "../tests/cluster/cluster.ts";
import { CLUSTER } from "../tests/cluster/cluster.ts";
import {
  cancelByName,
  connectClusterUp,
  connectOnLaptop,
  ctrlC,
  jobName,
  jobOf,
  LAPTOP2,
  urlOf,
  waitClean,
} from "../tests/cluster-connect/session.ts";
import { median } from "./support.ts";

const BUDGET_START_MS = 1000;
const CELL_RATIO = 1.5;
const THROUGHPUT_SHARE = 0.5;
const FILE = "ljd-bench-50m.bin";
const FILE_BYTES = 50 * 1000 * 1000;

function serverOf(job: string): { port: number; host: string } {
  const dir = `${CLUSTER.home}/.local/state/legate-jupyter/servers`;
  for (const e of Deno.readDirSync(dir)) {
    const r = JSON.parse(Deno.readTextFileSync(`${dir}/${e.name}`));
    if (r.jobId === job) return { port: r.port, host: r.host };
  }
  throw new Error(`no server entry for job ${job}`);
}

/** Start → `Submitted job` (the way in, before sbatch answers) and start → URL. */
interface StartTimes {
  readonly submitted: number;
  readonly url: number;
}

/** connect on the laptop: start → URL printed (answering). Cancels and waits after. */
async function connectStart(): Promise<StartTimes> {
  const name = jobName();
  try {
    const t0 = performance.now();
    await using p = connectOnLaptop(`login1 --no-browser --job-name ${name}`);
    const job = await jobOf(p);
    const submitted = performance.now() - t0;
    await urlOf(p);
    const url = performance.now() - t0;
    await ctrlC(p);
    await p.finished();
    await waitClean(job);
    return { submitted, url };
  } finally {
    await cancelByName(name);
  }
}

/** submit on login1: start → ready JSON on stdout. Cancels and waits after. */
async function submitStart(): Promise<StartTimes> {
  const name = jobName();
  try {
    const t0 = performance.now();
    await using p = spawnOnHost("login1", `legate-jupyter submit --json --job-name ${name}`, {
      timeoutMs: 300_000,
    });
    const job = (await p.waitFor(/Submitted job (\d+)/, 60_000))[1];
    const submitted = performance.now() - t0;
    await p.waitFor(/"event":"ready"/, 120_000);
    const url = performance.now() - t0;
    await p.finished();
    await onHost("login1", `legate-jupyter cancel ${job}`);
    await waitClean(job);
    return { submitted, url };
  } finally {
    await cancelByName(name);
  }
}

async function curlOnLaptop(url: string): Promise<{ bytes: number; seconds: number }> {
  const r = await onHost(
    LAPTOP2,
    `curl -s -o /dev/null -w '%{size_download} %{time_total}' ${shq(url)}`,
    { timeoutMs: 300_000 },
  );
  const [bytes, seconds] = r.stdout.trim().split(" ").map(Number);
  return { bytes, seconds };
}

function fmt(ms: number): string {
  return `${Math.round(ms)} ms`;
}

async function main(): Promise<number> {
  const skip = clusterSkipReason();
  if (skip) {
    console.log(`connect benchmark skipped: ${skip}`);
    return 0;
  }
  const i = Deno.args.indexOf("--rounds");
  const rounds = i >= 0 ? Number(Deno.args[i + 1]) : 5;
  await connectClusterUp();

  // 1. Start-up, alternating, after one warm-up of each (Deno's cache, the nodes' page cache).
  await connectStart();
  await submitStart();
  const ct: StartTimes[] = [];
  const st: StartTimes[] = [];
  for (let r = 0; r < rounds; r++) {
    // Slurm needs a moment after a cancelled job before it schedules the next at once.
    await new Promise((res) => setTimeout(res, 1000));
    ct.push(await connectStart());
    await new Promise((res) => setTimeout(res, 1000));
    st.push(await submitStart());
  }
  const c = ct.map((t) => t.url);
  const s = st.map((t) => t.url);
  const startDiff = median(c) - median(s);
  const way = median(ct.map((t) => t.submitted)) - median(st.map((t) => t.submitted));
  const after = median(ct.map((t) => t.url - t.submitted)) -
    median(st.map((t) => t.url - t.submitted));

  // 2 and 3, on one session and a plain tunnel to the same server.
  const name = jobName();
  const file = `${CLUSTER.home}/${FILE}`;
  let cell: { a: number[]; b: number[] } | undefined;
  let cellLocal = 0;
  const down = { connect: [] as number[], plain: [] as number[] };
  try {
    const data = new Uint8Array(FILE_BYTES);
    for (let off = 0; off < data.length; off += 65536) {
      crypto.getRandomValues(data.subarray(off, Math.min(off + 65536, data.length)));
    }
    await Deno.writeFile(file, data, { mode: 0o644 });
    await Deno.chown(file, CLUSTER.uid, CLUSTER.uid);
    await withNodeSsh("allow", async () => {
      await using p = connectOnLaptop(`login1 --no-browser --job-name ${name}`);
      const job = await jobOf(p);
      const url = await urlOf(p);
      const { port, host } = serverOf(job);
      const token = new URL(url).searchParams.get("token")!;
      const local = 20000 + Math.floor(Math.random() * 20000);
      await using tunnel = spawnOnHost(
        LAPTOP2,
        `ssh -N -o ExitOnForwardFailure=yes -L ${local}:localhost:${port} -J login1 ${host}`,
        { timeoutMs: 600_000 },
      );
      const plainUrl = `http://127.0.0.1:${local}/?token=${token}`;
      for (let k = 0; k < 100; k++) {
        const r = await onHost(
          LAPTOP2,
          `curl -s -o /dev/null -w '%{http_code}' ${shq(`http://127.0.0.1:${local}/api`)}`,
        );
        if (r.stdout.trim() === "200") break;
        if (tunnel.exited()) throw new Error(`the plain tunnel ended: ${tunnel.stderr()}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      const rtt = await onHost(
        LAPTOP2,
        `${Deno.execPath()} run -A --quiet ` +
          `${CLUSTER.app}/bench/cell_rtt.ts ${shq(url)} ${shq(plainUrl)} python3 50`,
        { timeoutMs: 300_000 },
      );
      if (rtt.code !== 0) throw new Error(`cell_rtt failed:\n${rtt.stderr}`);
      cell = JSON.parse(rtt.stdout);
      // The same on the node itself, without any tunnel: what the kernel and Jupyter take.
      const nodeUrl = `http://127.0.0.1:${port}/?token=${token}`;
      const onNode = await onHost(
        host as never,
        `${Deno.execPath()} run -A --quiet ` +
          `${CLUSTER.app}/bench/cell_rtt.ts ${shq(nodeUrl)} ${shq(nodeUrl)} python3 20`,
        { timeoutMs: 300_000 },
      );
      if (onNode.code !== 0) throw new Error(`cell_rtt on ${host} failed:\n${onNode.stderr}`);
      cellLocal = median(JSON.parse(onNode.stdout).a);
      const fileUrl = (u: string) => {
        const x = new URL(u);
        return `${x.origin}/files/${FILE}?token=${token}`;
      };
      await curlOnLaptop(fileUrl(url)); // warm the node's page cache
      for (let r = 0; r < 3; r++) {
        for (const [key, u] of [["connect", url], ["plain", plainUrl]] as const) {
          const d = await curlOnLaptop(fileUrl(u));
          if (d.bytes !== FILE_BYTES) throw new Error(`${key}: got ${d.bytes} bytes`);
          down[key].push(d.bytes / d.seconds);
        }
      }
      await tunnel.kill();
      await ctrlC(p);
      await p.finished();
      await waitClean(job);
    });
  } finally {
    await Deno.remove(file).catch(() => {});
    await cancelByName(name);
  }
  const cellC = median(cell!.a);
  const cellP = median(cell!.b);
  const mbs = (x: number) => `${(x / 1e6).toFixed(1)} MB/s`;
  const dC = median(down.connect);
  const dP = median(down.plain);
  const rows = [
    [
      "start to URL",
      `connect (laptop) ${fmt(median(c))}`,
      `submit (login1) ${fmt(median(s))}`,
      `${startDiff >= 0 ? "+" : ""}${fmt(startDiff)} (target ≤ +${BUDGET_START_MS} ms)`,
    ],
    [
      "cell reply (median of 50)",
      `connect ${cellC.toFixed(2)} ms`,
      `ssh -L -J ${cellP.toFixed(2)} ms`,
      `${(cellC / cellP).toFixed(2)}× (target ≤ ${CELL_RATIO}×); on the node itself ` +
      `${cellLocal.toFixed(2)} ms`,
    ],
    [
      "50 MB from /files/ (median of 3)",
      `connect ${mbs(dC)}`,
      `ssh -L -J ${mbs(dP)}`,
      `${Math.round((dC / dP) * 100)}% (target ≥ ${THROUGHPUT_SHARE * 100}%)`,
    ],
  ];
  console.log(`start-up rounds: connect ${c.map(fmt).join(", ")}; submit ${s.map(fmt).join(", ")}`);
  const signed = (ms: number) => `${ms >= 0 ? "+" : ""}${fmt(ms)}`;
  console.log(
    `  connect's share: start → Submitted ${signed(way)} (ssh, login shell, agent); ` +
      `Submitted → URL ${signed(after)} (relay, check through the tunnel, Slurm's own timing)`,
  );
  for (const r of rows) {
    console.log(`  ${r[0].padEnd(34)} ${r[1].padEnd(28)} ${r[2].padEnd(28)} ${r[3]}`);
  }
  const met = startDiff <= BUDGET_START_MS && cellC / cellP <= CELL_RATIO &&
    dC / dP >= THROUGHPUT_SHARE;
  console.log(met ? "all three targets met" : "a target was missed (see above)");
  return 0;
}

if (import.meta.main) Deno.exit(await main());
