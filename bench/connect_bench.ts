/**
 * `connect` against what a user would do without it, in one run on the four-host test
 * cluster (tests/cluster/, with the connect tests' laptop2: tests/cluster-connect/):
 *
 * 1. Start-up: `connect login1 --no-browser` on the laptop, from its start to the printed URL
 *    (which already answers: connect checks it through the tunnel first), against the peer a
 *    user has: `submit --json` on login1, then the `-J` tunnel it prints, started on the laptop
 *    the moment the URL is printed (typed into a shell already open there), timed to the URL
 *    answering on the laptop. Target: connect at most the peer's time (it saves the user a
 *    step; it must not cost time). Also shown: `submit` alone, start to its URL printed (which
 *    still needs a tunnel). Both are started the same way (a login shell on their host),
 *    alternating, and the spread of every figure is reported.
 * 2. A cell's reply: `1 + 1` on one kernel, from the execute request to the reply and the
 *    kernel's idle status, through connect's URL and through a plain `ssh -N -L ... -J login1
 *    NODE` tunnel from the laptop to the same server, alternating (bench/cell_rtt.ts, run on
 *    the laptop). Target: at most 1.05 times the plain tunnel's.
 * 3. Throughput: a 50 MB file from Jupyter's `/files/` with curl on the laptop through both.
 *    Target: at least 90 % of the plain tunnel's.
 *
 *   deno run -A bench/connect_bench.ts [--rounds N]   (start-up rounds, default 5, after a
 *                                                       warm-up round; cells: 50; downloads: 5)
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

const CELL_RATIO = 1.05;
const THROUGHPUT_SHARE = 0.9;
const DOWNLOADS = 5;
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

/** What the peer took: start → URL printed on login1, and start → URL answering on the laptop. */
interface PeerTimes extends StartTimes {
  readonly answered: number;
}

/**
 * The peer a user has: `submit` on login1, and the `-J` tunnel it prints typed, the moment the
 * URL is printed, into a shell already open on the laptop; timed to the URL answering there
 * (curl every 20 ms). Cancels and waits after.
 */
async function submitAndTunnel(): Promise<PeerTimes> {
  const name = jobName();
  await using shell = spawnOnHost(LAPTOP2, `read -r line; eval "$line"`, { timeoutMs: 300_000 });
  try {
    const t0 = performance.now();
    await using p = spawnOnHost("login1", `legate-jupyter submit --json --job-name ${name}`, {
      timeoutMs: 300_000,
    });
    const job = (await p.waitFor(/Submitted job (\d+)/, 60_000))[1];
    const submitted = performance.now() - t0;
    const line = (await p.waitFor(/^\{"event":"ready".*\}\s*$/m, 120_000))[0];
    const url = performance.now() - t0;
    const ready = JSON.parse(line);
    const tunnel: string = ready.tunnel[0].command;
    const status = `http://127.0.0.1:${ready.port}/api/status?token=${ready.token}`;
    await shell.write(
      `${tunnel} & while [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' ${shq(status)})" ` +
        `!= 200 ]; do sleep 0.02; done; echo answered; kill $!\n`,
    );
    await shell.waitFor(/answered/, 60_000);
    const answered = performance.now() - t0;
    await p.finished();
    await onHost("login1", `legate-jupyter cancel ${job}`);
    await waitClean(job);
    return { submitted, url, answered };
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

/** `min–max` of `xs`, formatted with `f`. */
function spread(xs: readonly number[], f: (x: number) => string): string {
  return `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
}

const signed = (ms: number) => `${ms >= 0 ? "+" : ""}${fmt(ms)}`;

/** Start-up rounds, alternating connect and the peer, after one warm-up of each. */
async function startups(rounds: number): Promise<{ ct: StartTimes[]; pt: PeerTimes[] }> {
  const ct: StartTimes[] = [];
  const pt: PeerTimes[] = [];
  await withNodeSsh("allow", async () => {
    // Warm-up: Deno's cache, the nodes' page cache, the laptop's known hosts.
    await connectStart();
    await submitAndTunnel();
    for (let r = 0; r < rounds; r++) {
      // Slurm needs a moment after a cancelled job before it schedules the next at once.
      await new Promise((res) => setTimeout(res, 1000));
      ct.push(await connectStart());
      await new Promise((res) => setTimeout(res, 1000));
      pt.push(await submitAndTunnel());
    }
  });
  return { ct, pt };
}

/** Cells and downloads on one connect session and a plain tunnel to the same server. */
async function transfers(): Promise<
  { cell: { a: number[]; b: number[] }; cellLocal: number; down: Record<string, number[]> }
> {
  const name = jobName();
  const file = `${CLUSTER.home}/${FILE}`;
  const down = { connect: [] as number[], plain: [] as number[] };
  try {
    const data = new Uint8Array(FILE_BYTES);
    for (let off = 0; off < data.length; off += 65536) {
      crypto.getRandomValues(data.subarray(off, Math.min(off + 65536, data.length)));
    }
    await Deno.writeFile(file, data, { mode: 0o644 });
    await Deno.chown(file, CLUSTER.uid, CLUSTER.uid);
    return await withNodeSsh("allow", async () => {
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
      const cell = JSON.parse(await cellRtt(LAPTOP2, url, plainUrl, 50));
      // The same on the node itself, without any tunnel: what the kernel and Jupyter take.
      const nodeUrl = `http://127.0.0.1:${port}/?token=${token}`;
      const cellLocal = median(JSON.parse(await cellRtt(host, nodeUrl, nodeUrl, 20)).a);
      const fileUrl = (u: string) => `${new URL(u).origin}/files/${FILE}?token=${token}`;
      await curlOnLaptop(fileUrl(url)); // warm the node's page cache
      for (let r = 0; r < DOWNLOADS; r++) {
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
      return { cell, cellLocal, down };
    });
  } finally {
    await Deno.remove(file).catch(() => {});
    await cancelByName(name);
  }
}

/** bench/cell_rtt.ts on `host`: cell replies through `a` and `b`, alternating; its JSON. */
async function cellRtt(host: string, a: string, b: string, n: number): Promise<string> {
  const r = await onHost(
    host as never,
    `${Deno.execPath()} run -A --quiet ${CLUSTER.app}/bench/cell_rtt.ts ${shq(a)} ${shq(b)} ` +
      `python3 ${n}`,
    { timeoutMs: 300_000 },
  );
  if (r.code !== 0) throw new Error(`cell_rtt on ${host} failed:\n${r.stderr}`);
  return r.stdout;
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
  const { ct, pt } = await startups(rounds);
  const { cell, cellLocal, down } = await transfers();

  const c = ct.map((t) => t.url);
  const peer = pt.map((t) => t.answered);
  const printed = pt.map((t) => t.url);
  const diffs = ct.map((t, k) => t.url - pt[k].answered);
  const startDiff = median(c) - median(peer);
  const way = median(ct.map((t) => t.submitted)) - median(pt.map((t) => t.submitted));
  const tunnelMs = median(pt.map((t) => t.answered - t.url));
  const cellC = median(cell.a);
  const cellP = median(cell.b);
  const mbs = (x: number) => `${(x / 1e6).toFixed(1)} MB/s`;
  const dC = median(down.connect);
  const dP = median(down.plain);
  const rows = [
    [
      "start to URL answering on the laptop",
      `connect ${fmt(median(c))}`,
      `submit + printed -J tunnel ${fmt(median(peer))}`,
      `${signed(startDiff)} (target ≤ +0 ms)`,
    ],
    [
      "start to URL printed (no tunnel yet)",
      `connect ${fmt(median(c))}`,
      `submit (login1) ${fmt(median(printed))}`,
      signed(median(c) - median(printed)),
    ],
    [
      "cell reply (median of 50)",
      `connect ${cellC.toFixed(2)} ms`,
      `ssh -L -J ${cellP.toFixed(2)} ms`,
      `${(cellC / cellP).toFixed(3)}× (target ≤ ${CELL_RATIO}×); on the node itself ` +
      `${cellLocal.toFixed(2)} ms`,
    ],
    [
      `50 MB from /files/ (median of ${DOWNLOADS})`,
      `connect ${mbs(dC)}`,
      `ssh -L -J ${mbs(dP)}`,
      `${Math.round((dC / dP) * 100)}% (target ≥ ${THROUGHPUT_SHARE * 100}%)`,
    ],
  ];
  console.log(
    `start-up rounds: connect ${c.map(fmt).join(", ")}; submit + tunnel ` +
      `${peer.map(fmt).join(", ")}; paired differences ${diffs.map(signed).join(", ")}`,
  );
  console.log(
    `  spread: connect ${spread(c, fmt)}, peer ${spread(peer, fmt)}, differences ` +
      `${spread(diffs, signed)}; cells connect ${spread(cell.a, (x) => x.toFixed(1))} ms, ` +
      `plain ${spread(cell.b, (x) => x.toFixed(1))} ms; downloads connect ${
        spread(down.connect, mbs)
      }, plain ${spread(down.plain, mbs)}`,
  );
  console.log(
    `  connect's share: start → Submitted ${signed(way)} (ssh, login shell, agent); the ` +
      `peer's tunnel, URL printed → answering on the laptop: ${fmt(tunnelMs)}`,
  );
  for (const r of rows) {
    console.log(`  ${r[0].padEnd(38)} ${r[1].padEnd(20)} ${r[2].padEnd(34)} ${r[3]}`);
  }
  const met = startDiff <= 0 && cellC / cellP <= CELL_RATIO && dC / dP >= THROUGHPUT_SHARE;
  console.log(met ? "all three targets met" : "a target was missed (see above)");
  return 0;
}

if (import.meta.main) Deno.exit(await main());
