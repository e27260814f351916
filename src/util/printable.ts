/**
 * Text from files and arguments made safe to print: a kernel name or display name may hold
 * terminal escape sequences or be megabytes long.
 * @module
 */

/**
 * `text` with control characters escaped (`\x1b`), cut to `max` characters with a note of its
 * full length when longer.
 */
export function printable(text: string, max: number): string {
  const head = text.length > max ? text.slice(0, max) : text;
  const safe = head.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  if (text.length <= max && safe.length <= max) return safe;
  return `${safe.slice(0, Math.max(1, max - 1))}… (${text.length} characters)`;
}
