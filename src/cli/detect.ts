/**
 * `legate-jupyter detect`: what the node has and what this job may use, with where each
 * figure came from.
 * @module
 */

import type { Command } from "./command.ts";
import { UsageError } from "../util/errors.ts";
import { lazy } from "../util/lazy.ts";

/** The `detect` command. */
export const command: Command = {
  name: "detect",
  summary: "Show the GPUs, CPUs, NUMA domains and memory this node and job provide",
  usage: "detect [--json] [--root DIR]",
  description: "Reads GPUs through NVML (falling back to nvidia-smi, then the driver's /proc " +
    "files), CPUs and NUMA domains from sysfs within this process's affinity, memory from " +
    "/proc/meminfo, limits from cgroups (v1 and v2) and from Slurm, PBS or LSF, and honours " +
    "CUDA_VISIBLE_DEVICES as CUDA does. The budget is the smallest of what each layer allows; " +
    "install --auto sizes kernels from it. What cannot be read is listed under problems. Set " +
    "LEGATE_JUPYTER_NVML to a library path to use another NVML, or to 'none' to skip it.",
  flags: [
    { name: "json", type: "boolean", help: "Print the report as JSON (stable keys)" },
    {
      name: "root",
      type: "string",
      metavar: "DIR",
      help: "Read /proc and /sys under DIR instead of / (for diagnosing with a copied tree)",
      complete: "dir",
    },
  ],
  examples: [
    "legate-jupyter detect",
    "legate-jupyter detect --json | jq .budget",
    "legate-jupyter detect --root /tmp/node-snapshot",
  ],
  async run(parsed, ctx) {
    const root = parsed.values.root as string | undefined;
    if (root !== undefined) {
      let isDir = false;
      try {
        isDir = Deno.statSync(root).isDirectory;
      } catch {
        // Reported below.
      }
      if (!isDir) {
        throw new UsageError(
          `--root '${root}' is not a directory; give a directory that holds proc/ and sys/ like /`,
        );
      }
    }
    const { detectSystem } = await lazy<typeof import("../detect/detect.ts")>(
      "detect/detect.ts",
    );
    const report = await detectSystem(root);
    if (parsed.values.json) {
      ctx.out.print(JSON.stringify(report, null, 2));
    } else {
      const { renderReport } = await lazy<typeof import("../detect/render.ts")>(
        "detect/render.ts",
      );
      ctx.out.write(renderReport(report));
    }
    return 0;
  },
};
