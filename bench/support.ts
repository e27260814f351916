/**
 * What the benchmarks share: the isolated environment each measured program runs in.
 * @module
 */

import { join } from "node:path";

/**
 * A clean environment rooted at `tmp`: its own HOME (which also holds Deno's cache, warmed by
 * a warm-up round as a user's would be), Jupyter dirs and state dir, and system PATH only.
 */
export function benchEnv(tmp: string): Record<string, string> {
  return {
    HOME: join(tmp, "home"),
    JUPYTER_DATA_DIR: join(tmp, "data"),
    JUPYTER_RUNTIME_DIR: join(tmp, "runtime"),
    JUPYTER_CONFIG_DIR: join(tmp, "config"),
    XDG_STATE_HOME: join(tmp, "state"),
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    USER: "bench",
  };
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
