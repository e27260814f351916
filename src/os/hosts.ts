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

/** Short host name, lowercased: `node01.cluster.org` → `node01`. */
export function shortHost(host: string): string {
  return host.toLowerCase().split(".")[0];
}

/** Whether two host names plainly name the same machine. */
export function sameHost(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase() || shortHost(a) === shortHost(b);
}
