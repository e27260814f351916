/**
 * The human form of a detection report: a short table a user reads in one glance.
 * @module
 */

import type { DetectReport } from "./types.ts";
import { formatTable } from "../util/table.ts";

function mib(n: number | null): string {
  return n === null ? "?" : `${n} MiB`;
}

function memPair(free: number | null, total: number | null): string {
  if (free === null && total === null) return "?";
  return `${free ?? "?"} / ${total ?? "?"}`;
}

const label = (name: string) => name.padEnd(10);

/** The GPUs line, and a table of the GPUs (and their MIG instances) when there are any. */
function gpuLines(report: DetectReport): string[] {
  const out = [
    `${label("GPUs")}${report.gpus.length === 0 ? "none — " : ""}${report.sources.gpu_list}`,
  ];
  if (report.gpus.length > 0) {
    const rows = [["#", "CUDA", "Name", "Free / total MiB", "UUID"]];
    for (const g of report.gpus) {
      rows.push([
        String(g.index),
        g.mig_mode ? "MIG" : g.cuda_index === null ? "-" : String(g.cuda_index),
        g.name ?? "?",
        memPair(g.memory_free_mib, g.memory_total_mib),
        g.uuid ?? "?",
      ]);
      for (const m of g.mig) {
        rows.push([
          ` ${g.index}/${m.index}`,
          m.cuda_index === null ? "-" : String(m.cuda_index),
          `  ${m.name ?? "MIG instance"}`,
          memPair(m.memory_free_mib, m.memory_total_mib),
          m.uuid ?? "?",
        ]);
      }
    }
    out.push(...formatTable(rows, "  "));
  }
  return out;
}

/** The lines of the CPUs, NUMA domains, memory and the batch job. */
function machineLines(report: DetectReport): string[] {
  const out: string[] = [];
  const c = report.cpus;
  out.push(
    `${label("CPUs")}${c.logical} logical, ${c.physical} cores, ${c.sockets} socket(s), ` +
      `${c.threads_per_core} thread(s)/core; allowed ${c.allowed || "none"} of ${c.online}`,
  );
  if (report.numa.length > 0) {
    out.push(
      `${label("NUMA")}${
        report.numa.map((n) => `node ${n.node}: CPUs ${n.cpus || "none"}, ${mib(n.memory_mib)}`)
          .join("; ")
      }`,
    );
  }
  const m = report.memory;
  out.push(
    `${label("Memory")}${mib(m.total_mib)} total, ${mib(m.available_mib)} available, ` +
      `cgroup limit ${m.limit_mib === null ? "none" : mib(m.limit_mib)}` +
      (report.cgroup.cpu_quota === null ? "" : `, CPU quota ${report.cgroup.cpu_quota}`),
  );
  const j = report.scheduler;
  if (j.kind) {
    const parts = [
      j.cpus === null ? null : `${j.cpus} CPUs`,
      j.gpus === null ? null : `${j.gpus} GPUs`,
      j.memory_mib === null ? null : mib(j.memory_mib),
    ].filter(Boolean);
    out.push(
      `${label("Job")}${j.kind} job ${j.job_id ?? "?"}` +
        (j.node_count ? ` on ${j.node_count} node(s)` : "") +
        (j.node_list ? ` (${j.node_list})` : "") +
        (parts.length ? `: ${parts.join(", ")} here` : ""),
    );
  }
  return out;
}

/** Renders `report` as the `detect` table (lines end with a newline). */
export function renderReport(report: DetectReport): string {
  const out = [...gpuLines(report), ...machineLines(report)];
  const s = report.sources;
  const b = report.budget;
  out.push(
    `${label("Budget")}${b.gpus} GPU(s)` +
      (b.fbmem_free_mib === null ? "" : ` (smallest has ${b.fbmem_free_mib} MiB free)`) +
      `, ${b.cpus} CPUs (${b.cores} cores), ${b.numa_domains} NUMA domain(s), ${
        mib(b.memory_mib)
      } memory`,
  );
  out.push(
    ...formatTable([
      ["gpus", `← ${s.gpus}`],
      ["cpus", `← ${s.cpus}`],
      ["memory", `← ${s.memory_mib}`],
    ], " ".repeat(10)),
  );
  if (report.problems.length > 0) {
    out.push("Problems");
    for (const p of report.problems) out.push(`  - ${p}`);
  }
  return out.join("\n") + "\n";
}
