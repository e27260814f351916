/**
 * Ports: choosing a free one, checking one the user asked for, and seeing whether a server
 * accepts connections. Loopback only, short-lived sockets.
 * @module
 */

import { isWildcard } from "./connect.ts";

/** The addresses Jupyter binds for `ip` (tornado binds both families for `localhost`). */
export function bindAddresses(ip: string): string[] {
  if (ip === "localhost") return ["127.0.0.1", "::1"];
  if (isWildcard(ip)) return ["0.0.0.0", "::"];
  return [ip];
}

/** Why `port` cannot be bound on `ip`, or undefined when it is free. */
export function portProblem(ip: string, port: number): string | undefined {
  for (const hostname of bindAddresses(ip)) {
    try {
      Deno.listen({ hostname, port }).close();
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) {
        return `port ${port} is already in use on ${hostname}`;
      }
      // An address family the machine lacks (no IPv6) is not a conflict.
      if (
        e instanceof Deno.errors.AddrNotAvailable || /not available|not supported/i.test(String(e))
      ) {
        if (hostname === "::1" || hostname === "::") continue;
      }
      if (e instanceof Deno.errors.PermissionDenied) {
        return `port ${port} cannot be used on ${hostname} (permission denied)`;
      }
      return `port ${port} cannot be used on ${hostname}: ${(e as Error).message}`;
    }
  }
  return undefined;
}

/**
 * A port that is free on every address Jupyter will bind, chosen by the kernel (bind to port
 * 0) rather than from a fixed list, so that many users on one node do not collide.
 */
export function chooseFreePort(ip: string, excluded: ReadonlySet<number> = new Set()): number {
  const first = bindAddresses(ip)[0];
  for (let attempt = 0; attempt < 50; attempt++) {
    const l = Deno.listen({ hostname: first, port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    if (!excluded.has(port) && portProblem(ip, port) === undefined) return port;
  }
  throw new Error(`no free port found on ${ip}`);
}

/** Whether something accepts TCP connections on `host:port`. */
export async function portAccepts(host: string, port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: host, port });
    conn.close();
    return true;
  } catch {
    return false;
  }
}
