/**
 * Where a command's words go. Results go to stdout; warnings, progress and errors to stderr.
 * Colour only on a terminal and never when `NO_COLOR` is set; `--quiet` drops the chatter
 * but never results or errors.
 * @module
 */

const encoder = new TextEncoder();

function writeAll(file: { writeSync(p: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
}

/** Whether colour may be used on stderr/stdout given the environment. */
export function colorAllowed(fd: "stdout" | "stderr"): boolean {
  if ((Deno.env.get("NO_COLOR") ?? "") !== "") return false;
  return fd === "stdout" ? Deno.stdout.isTerminal() : Deno.stderr.isTerminal();
}

/** A command's voice. */
export class Output {
  readonly quiet: boolean;
  readonly color: boolean;
  #progressShown = false;

  constructor(options: { quiet?: boolean; color?: boolean } = {}) {
    this.quiet = options.quiet ?? false;
    this.color = options.color ?? colorAllowed("stderr");
  }

  /** A result line (or block) on stdout; printed even with `--quiet`. */
  print(text = ""): void {
    this.clearProgress();
    writeAll(Deno.stdout, text.endsWith("\n") ? text : text + "\n");
  }

  /** Raw text on stdout, no newline added. */
  write(text: string): void {
    writeAll(Deno.stdout, text);
  }

  /** An informational line on stdout, dropped by `--quiet`. */
  info(text: string): void {
    if (!this.quiet) this.print(text);
  }

  /** A warning on stderr, always shown. */
  warn(message: string): void {
    this.clearProgress();
    writeAll(Deno.stderr, `${this.paint("33", "legate-jupyter: warning:")} ${message}\n`);
  }

  /** A note on stderr, dropped by `--quiet`. */
  note(message: string): void {
    if (this.quiet) return;
    this.clearProgress();
    writeAll(Deno.stderr, message.endsWith("\n") ? message : message + "\n");
  }

  /** A progress line that rewrites itself on a terminal; plain lines elsewhere (not repeated). */
  progress(message: string): void {
    if (this.quiet) return;
    if (Deno.stderr.isTerminal()) {
      writeAll(Deno.stderr, `\r\x1b[2K${message}`);
      this.#progressShown = true;
    } else {
      writeAll(Deno.stderr, message + "\n");
    }
  }

  /** Erases a progress line left on the terminal. */
  clearProgress(): void {
    if (this.#progressShown) {
      writeAll(Deno.stderr, "\r\x1b[2K");
      this.#progressShown = false;
    }
  }

  /**
   * Wraps `text` in an SGR colour code when colour is on for `fd`, the stream the text goes
   * to: each stream decides for itself, since either may be piped while the other is not.
   */
  paint(code: string, text: string, fd: "stdout" | "stderr" = "stderr"): string {
    const on = fd === "stderr" ? this.color : colorAllowed("stdout");
    return on ? `\x1b[${code}m${text}\x1b[0m` : text;
  }
}

/** Writes an error line to stderr (used by `mod.ts`). */
export function writeError(line: string): void {
  writeAll(Deno.stderr, line.endsWith("\n") ? line : line + "\n");
}
