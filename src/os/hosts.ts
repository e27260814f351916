/**
 * Host names and addresses compared as a user means them: `node01` and
 * `node01.cluster.org` are one machine, `localhost` and `127.0.0.1` are this one. Shared ground:
 * the state readers, the scheduler's login-host lookup, the tunnel commands and `connect` all
 * decide "is that this host?" the same way.
 * @module
 */

/** Whether `ip` is a loopback address or name. */
export function isLoopback(ip: string): boolean {
  return ip === "localhost" || ip === "::1" || /^127\./.test(ip);
}

/**
 * Whether `host` names the loopback of whichever machine reads it, and so no machine a laptop
 * could reach: `localhost` and its usual aliases, loopback addresses, and any name this
 * host's `hosts` file maps to one (such a name means this host, wherever it is read).
 */
export function isLoopbackName(host: string, hostsFile = readHosts()): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  if (
    isLoopback(h) || h === "0:0:0:0:0:0:0:1" || h === "[::1]" ||
    /^(localhost|ip6-localhost|ip6-loopback)(\.|$)/.test(h) || h.endsWith(".localhost")
  ) return true;
  for (const line of hostsFile.split("\n")) {
    const [addr, ...names] = line.replace(/#.*/, "").trim().split(/\s+/);
    if (addr && isLoopback(addr) && names.some((n) => n.toLowerCase() === h)) return true;
  }
  return false;
}

function readHosts(): string {
  try {
    return Deno.readTextFileSync("/etc/hosts");
  } catch {
    return "";
  }
}

/** Short host name, lowercased: `node01.cluster.org` → `node01`. */
export function shortHost(host: string): string {
  return host.toLowerCase().split(".")[0];
}

/** Whether two host names plainly name the same machine. */
export function sameHost(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase() || shortHost(a) === shortHost(b);
}
