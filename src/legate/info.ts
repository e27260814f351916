/**
 * The `%legate_info` text, in the layout the Legate documentation shows. The kernel-side
 * magic (`kernels/legate_kernel.py`) renders the same layout from the same rows, which the
 * installer writes into it from {@link infoRows}.
 * @module
 */

import { infoRows, LEGATE_OPTIONS } from "./options.ts";

/**
 * The environment key through which Legate's magic (and `info` without a name) finds the
 * running kernel's spec; upstream's name, which the kernel's helper reads too.
 */
export const SPEC_KEY = "__LEGATE_JUPYTER_KERNEL_SPEC__";

/** What `%legate_info` prints for a value that was not set at install time. */
export const NOT_SET = "(Legate default)";

/** The part of `metadata.legate` that `%legate_info` reads. */
export interface LegateMetadata {
  readonly argv?: readonly string[];
  readonly core?: Record<string, unknown>;
  readonly memory?: Record<string, unknown>;
  readonly multi_node?: { nodes?: unknown; [k: string]: unknown };
}

function show(value: unknown): string {
  return value === null || value === undefined ? NOT_SET : String(value);
}

/** Renders `%legate_info` for kernel `specName` configured by `metadata`. */
export function renderInfo(specName: string, metadata: LegateMetadata): string {
  const lines = [
    `Kernel '${specName}' configured for ${show(metadata.multi_node?.nodes)} node(s)`,
  ];
  for (const [title, section, rows] of infoRows()) {
    lines.push("", `${title}:`);
    const values = metadata[section] ?? {};
    for (const [key, label] of rows) lines.push(`${label} : ${show(values[key])}`);
  }
  return lines.join("\n") + "\n";
}

/**
 * A one-line summary of a Legate kernel's configuration for `list`: nodes and launcher, then
 * every option that was set, in table order.
 */
export function summarize(metadata: LegateMetadata): string {
  const mn = metadata.multi_node ?? {};
  const nodes = Number(mn.nodes ?? 1);
  const rpn = Number(mn.ranks_per_node ?? 1);
  const parts = [`${nodes} node${nodes === 1 ? "" : "s"}`];
  if (rpn !== 1) parts[0] += ` x ${rpn} ranks`;
  if (mn.launcher && mn.launcher !== "none") parts.push(`via ${mn.launcher}`);
  for (const o of LEGATE_OPTIONS) {
    if (!o.section) continue;
    const value = metadata[o.section]?.[o.key];
    if (value === null || value === undefined || value === false) continue;
    parts.push(value === true ? o.name : `${o.name} ${value}`);
  }
  return parts.join(", ");
}
