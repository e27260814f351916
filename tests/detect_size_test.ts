/** autoSize: Legate's formulas, bounded by what the job may use. */

import assert from "node:assert/strict";
import { autoSize } from "../src/detect/size.ts";
import { LEGATE_OPTIONS } from "../src/legate/options.ts";
import type { Budget } from "../src/detect/types.ts";

function budget(b: Partial<Budget>): { budget: Budget; sources: Record<string, string> } {
  return {
    budget: {
      gpus: 0,
      fbmem_free_mib: null,
      cpus: 8,
      cores: 8,
      numa_domains: 1,
      numa_memory_mib: 32000,
      memory_mib: 32000,
      ...b,
    },
    sources: {},
  };
}

Deno.test("autoSize keys are Legate option names and every value has a reason", () => {
  const names = new Set(LEGATE_OPTIONS.map((o) => o.name));
  const { values, reasons } = autoSize(budget({ gpus: 2, fbmem_free_mib: 40000 }));
  for (const key of Object.keys(values)) {
    assert.ok(names.has(key), `${key} is a Legate option`);
    assert.ok(reasons[key], `${key} has a reason`);
  }
});

Deno.test("autoSize reproduces Legate's DGX-H100 example when the whole node is the job", () => {
  const { values } = autoSize(budget({
    gpus: 8,
    fbmem_free_mib: 81000,
    cpus: 224,
    cores: 112,
    numa_domains: 2,
    numa_memory_mib: 1000000,
    // Two domains of 1000000 MiB: the per-domain figure fits the job, so nothing is capped.
    memory_mib: 2100000,
  }));
  assert.deepEqual(
    [
      values.gpus,
      values.omps,
      values.ompthreads,
      values.cpus,
      values.utility,
      values.sysmem,
      values.zcmem,
    ],
    [8, 8, 12, 1, 2, 256, 128],
  );
  assert.equal(values.numamem, Math.floor(0.8 * 1000000 / 4));
});

Deno.test("autoSize never plans more threads than cores or more DRAM than the job's memory", () => {
  for (const gpus of [0, 1, 2, 4, 8]) {
    for (const cores of [1, 2, 3, 4, 6, 8, 16, 64, 112]) {
      for (const domains of [0, 1, 2, 4]) {
        for (const memory of [512, 4096, 65536, 2000000]) {
          const { values } = autoSize(budget({
            gpus,
            fbmem_free_mib: gpus ? 40000 : null,
            cores,
            cpus: cores * 2,
            numa_domains: domains,
            numa_memory_mib: domains ? 1000000 : null,
            memory_mib: memory,
          }));
          const label = JSON.stringify({ gpus, cores, domains, memory, values });
          const threads = values.cpus + values.utility + values.omps * values.ompthreads;
          // Every GPU needs a thread and Legate needs one CPU: only then may threads exceed cores.
          if (cores >= gpus + 2) assert.ok(threads + gpus <= cores, label);
          const dram = values.sysmem + values.numamem * values.omps + (values.zcmem ?? 0);
          assert.ok(dram <= memory, label);
          assert.ok(values.ompthreads >= (values.omps > 0 ? 1 : 0), label);
        }
      }
    }
  }
});

Deno.test("autoSize on a 2-core machine drops OpenMP and one utility thread instead of failing as Legate would", () => {
  const { values, reasons } = autoSize(
    budget({ cores: 2, cpus: 2, numa_domains: 1, memory_mib: 24000 }),
  );
  assert.deepEqual([values.omps, values.ompthreads, values.utility, values.cpus], [0, 0, 1, 1]);
  assert.equal(values.sysmem, Math.floor(0.8 * 24000));
  assert.match(reasons.omps, /no OpenMP groups/);
});

Deno.test("autoSize keeps 512 MiB of a small MIG slice free for the CUDA context", () => {
  const { values } = autoSize(budget({ gpus: 1, fbmem_free_mib: 4864 }));
  assert.equal(values.fbmem, 4864 - 512);
});

Deno.test("autoSize caps numamem by the job's memory when Legate's per-domain figure would exceed it", () => {
  const { values, reasons } = autoSize(
    budget({
      gpus: 2,
      fbmem_free_mib: 80000,
      cores: 8,
      memory_mib: 65536,
      numa_memory_mib: 1000000,
    }),
  );
  assert.equal(values.numamem, Math.floor((Math.floor(0.8 * 65536) - 256 - 128) / 2));
  assert.match(reasons.numamem, /capped by the job's memory/);
});
