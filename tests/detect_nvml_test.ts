/**
 * The NVML FFI path end to end with a fake `libnvidia-ml.so.1` compiled here: error codes,
 * fallbacks, and that nvidia-smi is never run when NVML answers.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";
import { buildFakeNvml, detectFixture } from "./detect_helpers.ts";
import { queryNvml } from "../src/detect/nvml.ts";
import { systemProbe } from "../src/detect/probe.ts";
import type { DetectReport } from "../src/detect/types.ts";

const H100 = "NVIDIA H100 80GB HBM3";

function gpu(rc: number, n: number, free = 81000): string {
  return ["gpu", rc, H100, `GPU-00000000-1111-2222-3333-44444444440${n}`, 81559, free, 0].join(
    "\t",
  );
}

/** Runs detect on the no-driver fixture's CPUs with a fake NVML described by `lines`. */
async function detectWith(lines: string[], extra: { smi?: string } = {}) {
  await using tmp = await tempDir();
  const nvml = await buildFakeNvml(tmp.path);
  const config = join(tmp.path, "nvml.tsv");
  await Deno.writeTextFile(config, lines.join("\n") + "\n");
  const bin = join(tmp.path, "bin");
  await Deno.mkdir(bin);
  const marker = join(tmp.path, "nvidia-smi-ran");
  if (extra.smi !== undefined) {
    await Deno.writeTextFile(
      join(bin, "nvidia-smi"),
      `#!/bin/sh\n: > '${marker}'\n${extra.smi}\n`,
      {
        mode: 0o755,
      },
    );
  }
  const calls = join(tmp.path, "calls");
  const result = await detectFixture("no-driver", {
    tmp: tmp.path,
    env: { LEGATE_JUPYTER_NVML: nvml, FAKE_NVML_CONFIG: config, FAKE_NVML_CALLS: calls, PATH: bin },
  });
  assert.equal(result.code, 0, result.stderr);
  const smiRan = await Deno.stat(marker).then(() => true, () => false);
  const nvmlInits = await Deno.readTextFile(calls).then(
    (t) => t.split("\n").filter(Boolean).length,
    () => 0,
  );
  return { report: JSON.parse(result.stdout) as DetectReport, smiRan, nvmlInits };
}

const SMI_OK = `echo "0, ${H100}, GPU-from-smi, 81559, 7000, 00000000:18:00.0"`;

Deno.test("detect with a fake NVML that answers reads GPUs through FFI and never runs the fake nvidia-smi", async () => {
  const { report, smiRan, nvmlInits } = await detectWith(
    ["driver\t590.48.01", gpu(0, 0), gpu(0, 1, 50000)],
    { smi: SMI_OK },
  );
  assert.equal(nvmlInits, 1);
  assert.equal(smiRan, false, "nvidia-smi must not run when NVML answers");
  assert.equal(report.gpus.length, 2);
  assert.equal(report.gpus[1].memory_free_mib, 50000);
  assert.equal(report.gpus[0].memory_total_mib, 81559);
  assert.equal(report.driver_version, "590.48.01");
  assert.match(report.sources.gpu_list, /^NVML \(libnvidia-ml\.so\.1, driver 590\.48\.01\)$/);
});

Deno.test("detect with a fake NVML denying permission on one device leaves it out and names it in problems", async () => {
  const { report } = await detectWith([gpu(0, 0), gpu(4, 1), gpu(0, 2)]);
  assert.deepEqual(report.gpus.map((g) => g.index), [0, 2]);
  assert.deepEqual(report.gpus.map((g) => g.cuda_index), [0, 1], "CUDA numbers the usable devices");
  assert.equal(report.budget.gpus, 2);
  assert.match(
    report.problems.join("\n"),
    /NVML cannot open GPU 1: Insufficient Permissions \(NVML_ERROR_NO_PERMISSION, 4\)/,
  );
  assert.match(report.sources.gpu_list, /2 of 3 usable/);
});

Deno.test("detect with a fake NVML reporting a library/driver mismatch reports it and falls back to the fake nvidia-smi", async () => {
  const { report, smiRan } = await detectWith(["init\t18", gpu(0, 0)], { smi: SMI_OK });
  assert.equal(smiRan, true);
  assert.match(
    report.problems.join("\n"),
    /NVML failed to start: Driver\/library version mismatch \(NVML_ERROR_LIB_RM_VERSION_MISMATCH, 18\)/,
  );
  assert.equal(report.gpus.length, 1);
  assert.equal(report.gpus[0].uuid, "GPU-from-smi");
  assert.equal(report.gpus[0].memory_free_mib, 7000);
  assert.equal(report.gpus[0].pci_bus_id, "00000000:18:00.0");
  assert.match(report.sources.gpu_list, /^nvidia-smi/);
});

Deno.test("detect with a fake NVML whose device count fails reports the error code and finds no GPU", async () => {
  const { report } = await detectWith(["count\t9", gpu(0, 0)]);
  assert.match(
    report.problems.join("\n"),
    /NVML failed to count GPUs: Driver Not Loaded \(NVML_ERROR_DRIVER_NOT_LOADED, 9\)/,
  );
  assert.deepEqual(report.gpus, []);
});

Deno.test("queryNvml on a fake NVML reads MIG instances in-process and skips empty MIG slots", async () => {
  await using tmp = await tempDir();
  const lib = await buildFakeNvml(tmp.path);
  const config = join(tmp.path, "nvml.tsv");
  await Deno.writeTextFile(
    config,
    [
      ["gpu", 0, H100, "GPU-aaaa", 81559, 81000, 1].join("\t"),
      ["mig", 0, 2, "MIG 3g.40gb", "MIG-bbbb", 40448, 40000].join("\t"),
      ["gpu", 0, "NVIDIA L40S", "GPU-cccc", 46068, 45460, "-"].join("\t"),
    ].join("\n"),
  );
  const before = Deno.env.get("FAKE_NVML_CONFIG");
  Deno.env.set("FAKE_NVML_CONFIG", config);
  try {
    const out = queryNvml(lib);
    assert.ok(out.ok, JSON.stringify(out));
    assert.equal(out.count, 2);
    assert.equal(out.devices[0].migMode, true);
    assert.deepEqual(out.devices[0].mig.map((m) => [m.index, m.uuid, m.memoryFreeMib]), [[
      2,
      "MIG-bbbb",
      40000,
    ]]);
    assert.equal(out.devices[1].migMode, null, "NOT_SUPPORTED means no MIG, not an error");
    assert.deepEqual(out.problems, []);
  } finally {
    if (before === undefined) Deno.env.delete("FAKE_NVML_CONFIG");
    else Deno.env.set("FAKE_NVML_CONFIG", before);
  }
});

Deno.test("queryNvml on a missing library says it was not found instead of throwing", () => {
  const out = queryNvml("/nonexistent/libnvidia-ml.so.1");
  assert.equal(out.ok, false);
  assert.equal(out.ok === false && out.stage, "load");
  assert.match(out.ok === false ? out.message : "", /not found/);
});

Deno.test("systemProbe does not look for NVML on a machine without an NVIDIA driver unless a library is named", async () => {
  const signs = ["/dev/nvidiactl", "/dev/dxg", "/proc/driver/nvidia"];
  const present = signs.filter((p) => {
    try {
      Deno.statSync(p);
      return true;
    } catch {
      return false;
    }
  });
  if (present.length > 0) {
    console.log(`skipped: this machine has an NVIDIA driver (${present.join(", ")})`);
    return;
  }
  const out = await systemProbe({ env: {} }).nvml();
  assert.equal(out.ok, false);
  assert.equal(out.ok === false && out.stage, "load");
  assert.equal(
    out.ok === false && out.message,
    "no NVIDIA driver here: none of /dev/nvidiactl, /dev/dxg, /proc/driver/nvidia exists",
  );
  // A library named on purpose is still tried (the fake NVML of the tests above is one).
  const named = await systemProbe({ env: {}, nvmlLibrary: "/nonexistent/libnvidia-ml.so.1" })
    .nvml();
  assert.match(named.ok === false ? named.message : "", /not found/);
});
