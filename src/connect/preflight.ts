/**
 * What the laptop checks before `connect` asks for anything on the login node: that ssh is
 * there and reads its configuration for the login node, that `--local-port` can be had (it is
 * held from then on), and which browser will open the URL. A session that would fail at its
 * end must fail before a job is submitted, not leave one running.
 * @module
 */

import { Failure } from "../util/errors.ts";
import { browserCommands, isWsl } from "../util/browser.ts";
import { printable } from "../util/printable.ts";
import { which } from "../util/which.ts";
import { sshConfigText } from "../relay/laptop.ts";
import { parseSshConfig } from "../relay/ssh.ts";

/** This machine can run connect: not Windows itself, and an ssh client on PATH. */
export function checkPlatform(): void {
  if (Deno.build.os === "windows") {
    throw new Failure("connect runs on macOS and Linux (on Windows: inside WSL)");
  }
  if (!which("ssh")) {
    throw new Failure(
      "no ssh on this machine's PATH: install OpenSSH's client (it brings your keys, " +
        "config and prompts to connect)",
    );
  }
}

/** ssh's view of `login` (`ssh -G`); a {@link Failure} naming ssh's own complaint. */
export async function checkSshConfig(
  login: string,
  options: readonly string[],
): Promise<Map<string, string>> {
  const r = await sshConfigText(login, options);
  if (r.ok) return parseSshConfig(r.text);
  throw new Failure(
    `ssh cannot use its configuration for ${login} (${printable(r.error, 300)}): fix ` +
      `~/.ssh/config${options.length ? " or the -o options" : ""}`,
  );
}

/** Whether `command` can be started here: an executable path, or a name on PATH. */
function runnable(command: string): boolean {
  if (!command.includes("/")) return which(command) !== undefined;
  try {
    const info = Deno.statSync(command);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * The browser commands that can open the URL here, best first. A `$BROWSER` that names no
 * program this machine has is a {@link Failure} (nothing could open the page); no browser at
 * all (no display, no `$BROWSER`) is an empty list, said to the user before anything starts.
 */
export function checkBrowser(vars: Readonly<Record<string, string | undefined>>): string[][] {
  const candidates = browserCommands(vars, { wsl: isWsl() });
  const usable = candidates.filter((c) => runnable(c[0]));
  const named = (vars.BROWSER ?? "").split(":").filter(Boolean);
  if (named.length && !usable.length) {
    throw new Failure(
      `$BROWSER names ${named.map((b) => `'${printable(b, 100)}'`).join(", ")}, which ${
        named.length === 1 ? "is not a program" : "are not programs"
      } on this ` +
        "machine: fix $BROWSER, or add --no-browser",
    );
  }
  return usable;
}
