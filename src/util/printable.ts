/**
 * Text from files, arguments and other hosts made safe to print: a kernel name or display
 * name may hold terminal escape sequences or be megabytes long, and what a login node sends
 * `connect` may be written to clear the screen, set the clipboard (OSC 52) or hide a link.
 * @module
 */

// C0 controls, DEL, C1 controls (an 8-bit CSI or OSC is as live as ESC [ on many terminals),
// and the bidirectional overrides and isolates that make text display other than it reads.
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// The same without the newline, for text that may span lines.
const CONTROL_BUT_NEWLINE =
  // deno-lint-ignore no-control-regex
  /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Whether `text` holds a character {@link printable} would escape (C0, DEL, C1, bidi). */
export function hasControl(text: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text);
}

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `text` with control characters escaped (`\x1b`, `\x9b`, `\u202e`), cut to `max` characters
 * with a note of its full length when longer. `multiline` keeps newlines (and only them).
 */
export function printable(text: string, max: number, multiline = false): string {
  const head = text.length > max ? text.slice(0, max) : text;
  const safe = head.replace(multiline ? CONTROL_BUT_NEWLINE : CONTROL, escapeChar);
  if (text.length <= max && safe.length <= max) return safe;
  return `${safe.slice(0, Math.max(1, max - 1))}… (${text.length} characters)`;
}
