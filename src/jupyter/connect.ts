/**
 * Pure composition of what a user needs to reach a server: its URLs, the SSH tunnel commands
 * for their laptop, and an `~/.ssh/config` snippet. Every value that lands in a shell command
 * is quoted with `shQuote`.
 * @module
 */

import { shQuote } from "../util/shell.ts";
import { randomHex } from "../util/random.ts";

/** A 48-hex-digit token from the system's CSPRNG (what Jupyter itself generates). */
export function generateToken(): string {
  return randomHex(24);
}

/** Whether `ip` is a loopback address or name. */
export function isLoopback(ip: string): boolean {
  return ip === "localhost" || ip === "::1" || /^127\./.test(ip);
}

/** Whether `ip` means every interface. */
export function isWildcard(ip: string): boolean {
  return ip === "" || ip === "0.0.0.0" || ip === "::" || ip === "*";
}

/** `host` as it goes into a URL: IPv6 literals in brackets. */
export function urlHost(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

/** The host to use on the server's own node to reach a server listening on `ip`. */
export function nodeLocalHost(ip: string): string {
  if (isWildcard(ip) || ip === "localhost") return "127.0.0.1";
  return ip;
}

/** Normalizes a base URL to start and end with `/`. */
export function normalizeBaseUrl(base: string | undefined): string {
  let b = base && base.length ? base : "/";
  if (!b.startsWith("/")) b = "/" + b;
  if (!b.endsWith("/")) b += "/";
  return b;
}

/** `http://HOST:PORT/BASE/`: the server's root without the token. */
export function serverUrl(host: string, port: number, baseUrl = "/"): string {
  return `http://${urlHost(host)}:${port}${normalizeBaseUrl(baseUrl)}`;
}

/** Adds the token to a server URL. */
export function withToken(url: string, token: string): string {
  return token ? `${url}?token=${encodeURIComponent(token)}` : url;
}

/** Short host name, lowercased: `node01.cluster.org` → `node01`. */
export function shortHost(host: string): string {
  return host.toLowerCase().split(".")[0];
}

/** Whether two host names plainly name the same machine. */
export function sameHost(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase() || shortHost(a) === shortHost(b);
}

/** Where a server runs and how the user reaches that machine. */
export interface TunnelTarget {
  /** The node Jupyter runs on. */
  readonly host: string;
  /** The port Jupyter listens on. */
  readonly port: number;
  /** The address Jupyter listens on (a forward to it is made from `host`). */
  readonly ip: string;
  /** The port on the laptop (default: the same as `port`). */
  readonly localPort?: number;
  /** The login node the laptop can reach; absent or equal to `host` when Jupyter runs there. */
  readonly loginHost?: string;
  /** The user name on the cluster. */
  readonly user?: string;
}

/** One ready-to-paste shell command with a short label. */
export interface TunnelCommand {
  readonly label: string;
  readonly command: string;
}

function userAt(user: string | undefined, host: string): string {
  return user ? `${user}@${host}` : host;
}

/** Whether the server runs on the login node itself (one hop reaches it). */
export function onLoginNode(t: TunnelTarget): boolean {
  return !t.loginHost || sameHost(t.loginHost, t.host);
}

/** The host a forward on the server's node points at: `localhost` unless bound elsewhere. */
function forwardHost(ip: string): string {
  return isWildcard(ip) || isLoopback(ip) ? "localhost" : ip;
}

/**
 * The SSH commands to run on the laptop. On the login node: one hop. On a compute node
 * behind a login node: the seed document's two-hop form (`ssh -4 -t -L ... login ssh -t -L
 * ... node`, which works everywhere compute nodes accept SSH from the login node) and the
 * `-J` (ProxyJump) form (one process, no shell left open on the login node).
 */
export function tunnelCommands(t: TunnelTarget): TunnelCommand[] {
  const lp = t.localPort ?? t.port;
  const fwdHost = forwardHost(t.ip);
  if (onLoginNode(t)) {
    const to = t.loginHost ?? t.host;
    return [{
      label: "one hop (the server runs on the login node)",
      command: `ssh -N -L ${shQuote(`${lp}:${fwdHost}:${t.port}`)} ${shQuote(userAt(t.user, to))}`,
    }];
  }
  const login = shQuote(userAt(t.user, t.loginHost!));
  // The inner command is run by the login node's shell, so its words are quoted twice: once
  // for the laptop's shell, once for the login node's.
  const inner = ["ssh", "-t", "-L", `${t.port}:${fwdHost}:${t.port}`, t.host]
    .map((w) => shQuote(shQuote(w)))
    .join(" ");
  return [
    {
      label: "two hops through the login node",
      command: `ssh -4 -t -L ${shQuote(`${lp}:localhost:${t.port}`)} ${login} ${inner}`,
    },
    {
      label: "ProxyJump (OpenSSH 7.3 or later)",
      command: `ssh -N -L ${shQuote(`${lp}:${fwdHost}:${t.port}`)} -J ${login} ${
        shQuote(userAt(t.user, t.host))
      }`,
    },
  ];
}

/** The alias the `~/.ssh/config` snippet defines. */
export function sshAlias(t: TunnelTarget): string {
  return `legate-jupyter-${shortHost(t.host).replace(/[^A-Za-z0-9._-]/g, "_")}-${t.port}`;
}

function configValue(v: string): string {
  // ssh_config takes double quotes around values with spaces; nothing else needs escaping.
  return /[\s"]/.test(v) ? `"${v.replaceAll('"', "")}"` : v;
}

/**
 * An `~/.ssh/config` stanza for the laptop, after which `ssh -N ALIAS` opens the tunnel.
 */
export function sshConfigSnippet(t: TunnelTarget): string {
  const lp = t.localPort ?? t.port;
  const lines = [`Host ${sshAlias(t)}`];
  const direct = onLoginNode(t);
  lines.push(`    HostName ${configValue(direct ? (t.loginHost ?? t.host) : t.host)}`);
  if (t.user) lines.push(`    User ${configValue(t.user)}`);
  if (!direct) lines.push(`    ProxyJump ${configValue(userAt(t.user, t.loginHost!))}`);
  lines.push(`    LocalForward ${lp} ${forwardHost(t.ip)}:${t.port}`);
  lines.push("    ExitOnForwardFailure yes");
  lines.push("    ServerAliveInterval 30");
  return lines.join("\n") + "\n";
}
