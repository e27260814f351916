/**
 * Opening a page in the user's browser, as Python's `webbrowser` would: `$BROWSER` first
 * (colon-separated commands), then the system's opener.
 * @module
 */

import { spawnDetached } from "./spawn.ts";

/** Whether this Linux is WSL, where the browser is Windows'. */
export function isWsl(): boolean {
  try {
    return /microsoft/i.test(Deno.readTextFileSync("/proc/version"));
  } catch {
    return false;
  }
}

/**
 * The commands that may open a page here, best first; empty when there is no browser to
 * open (no `$BROWSER`, no display). `wsl` adds Windows' openers (for an `http:` URL: a
 * `file:` URL of the Linux side means nothing to them).
 */
export function browserCommands(
  vars: Readonly<Record<string, string | undefined>>,
  options: { os?: typeof Deno.build.os; wsl?: boolean } = {},
): string[][] {
  const commands: string[][] = [];
  for (const b of (vars.BROWSER ?? "").split(":").filter(Boolean)) commands.push([b]);
  if ((options.os ?? Deno.build.os) === "darwin") commands.push(["open"]);
  else {
    if (options.wsl) commands.push(["wslview"], ["cmd.exe", "/c", "start", '""']);
    if (vars.DISPLAY || vars.WAYLAND_DISPLAY) commands.push(["xdg-open"]);
  }
  return commands;
}

/**
 * Opens `target` with the first of `commands` that starts, detached so that the browser
 * outlives this process; returns that command, or undefined when none could be started.
 */
export function openWith(
  commands: readonly string[][],
  target: string,
): readonly string[] | undefined {
  for (const argv of commands) {
    try {
      spawnDetached([...argv, target]);
      return argv;
    } catch {
      // Not installed: try the next one.
    }
  }
  return undefined;
}
