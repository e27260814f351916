/**
 * Pure composition of what a user needs to reach a server: its URLs, the SSH tunnel commands
 * for their laptop, and an `~/.ssh/config` snippet. Every value that lands in a shell command
 * is quoted with `shQuote`.
 * @module
 */

import { shQuote } from "../util/shell.ts";
import { randomHex } from "../util/random.ts";
import { isLoopback, sameHost, shortHost } from "../os/hosts.ts";

/** A 48-hex-digit token from the system's CSPRNG (what Jupyter itself generates). */
export function generateToken(): string {
  return randomHex(24);
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
  /**
   * `host` is a compute node and nothing named the login node (no batch job, no allocation the
   * scheduler knows of, no --login-host): no command can be given, only the way to get one.
   * A string says why, where it is not that.
   */
  readonly loginUnknown?: boolean | string;
  /** What sshd on `host` answered the user when the server started, if it refused them. */
  readonly sshRefused?: string;
  /** The batch job the server runs in: `connect --attach` reaches it with no SSH into `host`. */
  readonly jobId?: string;
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
  return !t.loginUnknown && (!t.loginHost || sameHost(t.loginHost, t.host));
}

/** The host a forward on the server's node points at: `localhost` unless bound elsewhere. */
function forwardHost(ip: string): string {
  return isWildcard(ip) || isLoopback(ip) ? "localhost" : ip;
}

/** Whether only SSH into the server's node can reach it (it listens on that node's loopback). */
function needsNodeSsh(t: TunnelTarget): boolean {
  return !onLoginNode(t) && isLoopback(t.ip);
}

/**
 * The SSH commands to run on the laptop, the one that works everywhere first. On the login
 * node: one hop. On a compute node whose server listens beyond loopback (`--ip`): one hop to
 * the login node, which forwards to the node, so no SSH into the node is needed. On a compute
 * node's loopback: the `-J` (ProxyJump) form, which runs from a terminal, a script or the
 * background alike and leaves no shell anywhere; then the seed document's two-hop form for
 * older clients, whose inner hop is `-N` so that it leaves no shell on the node either (it
 * needs a terminal: its outer `-t` ends the inner hop when the laptop disconnects). None when
 * nothing names the login node, or when the node refuses SSH: {@link tunnelProblem} says why.
 */
export function tunnelCommands(t: TunnelTarget): TunnelCommand[] {
  const lp = t.localPort ?? t.port;
  if (t.loginUnknown || (needsNodeSsh(t) && t.sshRefused !== undefined)) return [];
  if (onLoginNode(t)) {
    const to = t.loginHost ?? t.host;
    return [{
      label: "one hop (the server runs on the login node)",
      command: `ssh -N -L ${shQuote(`${lp}:${forwardHost(t.ip)}:${t.port}`)} ${
        shQuote(userAt(t.user, to))
      }`,
    }];
  }
  const login = shQuote(userAt(t.user, t.loginHost!));
  if (!isLoopback(t.ip)) {
    const target = isWildcard(t.ip) ? t.host : t.ip;
    return [{
      label: `through ${t.loginHost} (the server listens on ${t.host}'s network)`,
      command: `ssh -N -L ${shQuote(`${lp}:${target}:${t.port}`)} ${login}`,
    }];
  }
  // The inner command is run by the login node's shell, so its words are quoted twice: once
  // for the laptop's shell, once for the login node's.
  const inner = ["ssh", "-N", "-L", `${t.port}:localhost:${t.port}`, t.host]
    .map((w) => shQuote(shQuote(w)))
    .join(" ");
  return [
    {
      label: `through ${t.loginHost} into ${t.host} (ProxyJump, OpenSSH 7.3 or later)`,
      command: `ssh -N -L ${shQuote(`${lp}:localhost:${t.port}`)} -J ${login} ${
        shQuote(userAt(t.user, t.host))
      }`,
    },
    {
      label: "or two hops, typed into a terminal (any OpenSSH)",
      command: `ssh -4 -t -L ${shQuote(`${lp}:localhost:${t.port}`)} ${login} ${inner}`,
    },
  ];
}

/** Why {@link tunnelCommands} has no command for `t`, and what to do instead; undefined when it has. */
export function tunnelProblem(t: TunnelTarget): string | undefined {
  if (t.loginUnknown) {
    const why = typeof t.loginUnknown === "string"
      ? t.loginUnknown
      : `no batch job, and the scheduler lists no allocation of yours on ${t.host}`;
    return `${t.host} is a compute node and nothing here names the login node your laptop ` +
      `reaches (${why}), so no tunnel command can be given. Start it again with ` +
      `--login-host HOST, HOST being the login node you ssh to from your laptop.`;
  }
  if (needsNodeSsh(t) && t.sshRefused !== undefined) {
    return `no SSH tunnel can reach this server: it listens on ${t.host}'s loopback only, and ` +
      `${t.host} refuses SSH logins (${JSON.stringify(t.sshRefused)}), which every tunnel into ` +
      `${t.host} needs. Either start it with --ip 0.0.0.0, so that it listens on ` +
      `${t.host}'s network and a tunnel through ${t.loginHost} alone reaches it (its token ` +
      `still guards it, but other users of the cluster network can reach its port), or ask ` +
      `your site to let users SSH into the nodes their jobs run on (pam_slurm_adopt).`;
  }
  return undefined;
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
  const intoNode = needsNodeSsh(t);
  const hostName = onLoginNode(t) ? (t.loginHost ?? t.host) : intoNode ? t.host : t.loginHost!;
  const target = onLoginNode(t) || intoNode ? forwardHost(t.ip) : isWildcard(t.ip) ? t.host : t.ip;
  lines.push(`    HostName ${configValue(hostName)}`);
  if (t.user) lines.push(`    User ${configValue(t.user)}`);
  if (intoNode) lines.push(`    ProxyJump ${configValue(userAt(t.user, t.loginHost!))}`);
  lines.push(`    LocalForward ${lp} ${target}:${t.port}`);
  lines.push("    ExitOnForwardFailure yes");
  lines.push("    ServerAliveInterval 30");
  return lines.join("\n") + "\n";
}

/**
 * Where SSH into the node is refused, the command that still reaches a server in a batch job
 * from a laptop where this program is installed: `connect` relays through the job itself.
 * Undefined when the server is not in a job, or a tunnel works anyway.
 */
export function attachCommand(t: TunnelTarget): TunnelCommand | undefined {
  if (!t.jobId || !t.loginHost || !(needsNodeSsh(t) && t.sshRefused !== undefined)) {
    return undefined;
  }
  return {
    label: `from a laptop with legate-jupyter: through the job, no SSH into ${t.host}`,
    command: `legate-jupyter connect ${shQuote(userAt(t.user, t.loginHost))} --attach ${
      shQuote(t.jobId)
    }`,
  };
}
