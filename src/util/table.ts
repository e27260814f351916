/**
 * Plain-text tables for terminals: columns padded to their widest cell, two spaces apart.
 * @module
 */

/** `rows` as lines, every column but the last padded; each line starts with `indent`. */
export function formatTable(rows: readonly (readonly string[])[], indent = ""): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) =>
    indent + r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i])).join("  ")
  );
}
