/**
 * The address a server listens on, checked where it is asked for: `notebook`/`lab` check it
 * before anything starts, and `submit` checks it on the login node, so that a typo is not
 * found hours later on the compute node. Kept on its own, light, because the command modules
 * that declare these flags import it.
 * @module
 */

import { UsageError } from "../util/errors.ts";

/**
 * The checked `--port` and `--ip` of `notebook`/`lab` (also run by `submit` on the login node,
 * so that a typo is not found hours later on the compute node). Throws {@link UsageError}.
 */
export function checkListen(
  v: Readonly<Record<string, unknown>>,
): { port: number | undefined; ip: string } {
  const port = v.port as number | undefined;
  if (port !== undefined && port > 65535) {
    throw new UsageError(`--port must be between 1 and 65535, not ${port}`);
  }
  const ip = (v.ip as string).trim();
  if (ip === "") throw new UsageError("--ip needs an address, e.g. --ip 127.0.0.1");
  // A host name, an IPv4 or IPv6 address: anything else makes Jupyter fail after start-up.
  if (
    !/^(\[[0-9A-Fa-f:.%\w]+\]|[0-9A-Fa-f:.%]+|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/.test(ip)
  ) {
    throw new UsageError(
      `--ip '${ip}' is not an address or host name; give one such as 127.0.0.1 or 0.0.0.0`,
    );
  }
  return { port, ip };
}
