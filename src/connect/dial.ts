/**
 * Why a dial of the login node did not bring `connect`'s agent up, in words that name the
 * fix, and whether dialling again may help. Pure: the session gathers ssh's exit status and
 * stderr, this reads them.
 * @module
 */

import type { Dialled } from "../relay/pipes.ts";
import { LOGIN_SIGNAL } from "../relay/ssh.ts";
import { remoteText } from "./untrusted.ts";

/** Where the installer for the login node is. */
export const INSTALL_URL =
  "https://github.com/nv-legate/legate-jupyter/releases/latest/download/install.sh";

/** A failed dial, as the user is told of it. */
export interface DialProblem {
  /** A network failure worth dialling again (not a refusal, a missing program, a version). */
  readonly transient: boolean;
  readonly message: string;
}

/** What a failed dial left behind. */
export interface FailedDial {
  /** The login node as the user named it. */
  readonly login: string;
  /** This program's version (the one to install there). */
  readonly version: string;
  /** `--remote-command`, if given. */
  readonly remote?: string;
  readonly result: Exclude<Dialled, { kind: "up" }>;
  /** ssh's exit status, unless it had not exited. */
  readonly code?: number;
  /** The end of ssh's stderr. */
  readonly stderr: string;
  /** The deadline the remote side had after the login (`--remote-timeout`), in seconds. */
  readonly timeoutS?: number;
}

/** What the remote printed before any marker, as one printable line (our own signal left out). */
function printed(text: string, lines = 3): string {
  const kept = text.split("\n").map((l) => l.trim()).filter((l) => l && l !== LOGIN_SIGNAL);
  return remoteText(kept.slice(-lines).join(" | "), 300);
}

/** Why the dial failed, and whether another may succeed. */
export function dialProblem(f: FailedDial): DialProblem {
  const { login, version, result: r, code, stderr } = f;
  const install = `install legate-jupyter ${version} there ` +
    `(curl -fsSL ${INSTALL_URL} | LEGATE_JUPYTER_VERSION=${version} sh)`;
  if (r.kind === "mismatch") {
    return { transient: false, message: `${login}: ${remoteText(r.problem, 300)}; ${install}` };
  }
  if (r.kind === "protocol") {
    return {
      transient: false,
      message: `the legate-jupyter on ${login} broke connect's protocol (${
        remoteText(r.problem, 200)
      }): what runs there is not this program as it should be; check '${
        f.remote ?? "legate-jupyter"
      } agent' there, or ${install}`,
    };
  }
  if (r.kind === "timeout") {
    const said = printed(r.tail);
    return {
      transient: false,
      message:
        `${login} logged you in, but legate-jupyter did not answer there within ${
          f.timeoutS ?? 30
        } s${
          said ? `; the last it printed: ${said}` : " (it printed nothing)"
        }. A login file there (.profile, .bashrc, .cshrc) may wait for input or run long: ` +
        "fix it, or give it longer with --remote-timeout SECONDS",
    };
  }
  if (code === 255) {
    // ssh's own failure; its message is on the terminal already.
    const transient = !/Permission denied|Host key verification failed|Could not resolve/i
      .test(stderr);
    return {
      transient,
      message: `ssh could not connect to ${login} (exit 255${
        stderr.trim() ? `: ${remoteText(stderr.trim().split("\n").pop(), 300)}` : ""
      })`,
    };
  }
  const name = f.remote ?? "legate-jupyter";
  if (/unknown command 'agent'/.test(stderr)) {
    return {
      transient: false,
      message: `the legate-jupyter on ${login} is older than 'connect' (it has no ` +
        `'agent'); ${install}`,
    };
  }
  if (code === 127 || /command not found|no such file or directory/i.test(stderr)) {
    return {
      transient: false,
      message: `'${name}' was not found on ${login} (in a login shell there); ` +
        `${install}, or say where it is with --remote-command`,
    };
  }
  const out = printed(r.skipped);
  const said = out ? `; it printed: ${out}` : "";
  return {
    transient: false,
    message: `the remote side of connect did not start on ${login} (exit status ${
      code ?? "unknown"
    }${said}); check that '${name} agent' runs there, or ${install}`,
  };
}
