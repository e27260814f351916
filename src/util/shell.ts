/**
 * POSIX shell quoting and splitting.
 *
 * Every value that reaches a generated shell script goes through {@link shQuote}; launcher
 * arguments given as one string are split with {@link shSplit}, which follows Python's
 * `shlex.split` (POSIX mode) so that `--launcher-extra` means what it means upstream.
 * @module
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes `value` for a POSIX shell: bare when it is plainly safe, single-quoted otherwise. */
export function shQuote(value: string): string {
  if (value !== "" && SAFE.test(value)) return value;
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

/** Quotes each word and joins them with spaces. */
export function shJoin(words: readonly string[]): string {
  return words.map(shQuote).join(" ");
}

/**
 * Splits `text` into words like `shlex.split(text)` (POSIX mode, comments off).
 * Throws a `SyntaxError` on an unterminated quote or a trailing escape.
 */
export function shSplit(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === "\\" && i + 1 < text.length && '\\"$`\n'.includes(text[i + 1])) {
        word += text[++i];
      } else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\") {
      if (i + 1 >= text.length) throw new SyntaxError("no escaped character");
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new SyntaxError("no closing quotation");
  if (inWord) words.push(word);
  return words;
}
