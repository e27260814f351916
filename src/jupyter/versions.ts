/**
 * The versions a ready server is reported with: the application's own (JupyterLab's for `lab`,
 * Notebook's for `notebook`) and, when the application runs on jupyter_server, the server's.
 * They differ: JupyterLab 4.0.11 runs on jupyter_server 2.15.0, whose version is the one its
 * runtime file, its log line and its `/api` carry. Notebook ≤ 6 is its own server: one version.
 *
 * JupyterLab's version comes from the package the server says it loaded ("JupyterLab extension
 * loaded from DIR" in its log): the `jupyterlab-X.dist-info` beside DIR, a directory read and
 * no request. Otherwise the application's version comes from the page it serves (JupyterLab's
 * and Notebook 7's pages embed `"appVersion"` in their `jupyter-config-data`): one local
 * request of 5 to 15 ms, made only for applications on jupyter_server.
 * @module
 */

import type { JupyterApp } from "./argv.ts";
import type { LogState } from "./logparse.ts";
import type { RuntimeInfo } from "./server.ts";
import { dirname } from "../util/path.ts";

/** What {@link serverVersions} found; a version not learnt within a second is absent. */
export interface Versions {
  /** The application's own version. */
  readonly version?: string;
  /** jupyter_server's version, when the application runs on it. */
  readonly serverVersion?: string;
}

/** What {@link serverVersions} reads. */
export interface VersionSources {
  /** The application asked for. */
  readonly app: JupyterApp;
  /** The server's runtime file (or what stood in for it). */
  readonly info: RuntimeInfo;
  /** The server's log so far. */
  readonly log: LogState;
  /** The server's base URL on this node, ending in `/`. */
  readonly baseUrl: string;
  readonly token: string;
}

/** The application's page that carries its version, under the base URL. */
function appPage(app: JupyterApp): string | undefined {
  return app === "lab" ? "lab" : app === "notebook" ? "tree" : undefined;
}

/** Finds both versions; see the module doc. */
export async function serverVersions(o: VersionSources): Promise<Versions> {
  const classic = o.info.server === "notebook" ||
    (o.info.server === undefined && o.log.product === "Jupyter Notebook");
  if (classic) return { version: o.log.version ?? await apiVersion(o.baseUrl, o.token) };
  const logged = o.log.product === "Jupyter Server" ? o.log.version : undefined;
  const page = appPage(o.app);
  const installed = o.app === "lab" && o.log.labDir
    ? await packageVersion(o.log.labDir, "jupyterlab")
    : undefined;
  const [serverVersion, appVersion] = await Promise.all([
    o.info.version ?? logged ?? apiVersion(o.baseUrl, o.token),
    installed ?? (page ? pageVersion(o.baseUrl, page, o.token) : undefined),
  ]);
  return { version: o.app === "server" ? serverVersion : appVersion, serverVersion };
}

/**
 * The version of Python package `name` installed at `dir`, from the one `name-X.dist-info` (or
 * `.egg-info`) directory beside it; undefined when there is none, or more than one.
 */
export async function packageVersion(dir: string, name: string): Promise<string | undefined> {
  const found: string[] = [];
  try {
    for await (const e of Deno.readDir(dirname(dir))) {
      if (!e.name.startsWith(`${name}-`)) continue;
      const m = /^[^-]+-(\d[^-]*?)\.(dist|egg)-info$/.exec(e.name);
      if (m) found.push(m[1]);
    }
  } catch {
    return undefined;
  }
  return found.length === 1 ? found[0] : undefined;
}

/** The version the server reports at `api`. */
async function apiVersion(baseUrl: string, token: string): Promise<string | undefined> {
  try {
    const body = await (await get(`${baseUrl}api`, token)).json();
    return typeof body?.version === "string" ? body.version : undefined;
  } catch {
    return undefined;
  }
}

/** The `appVersion` of the application page at `path`. */
async function pageVersion(
  baseUrl: string,
  path: string,
  token: string,
): Promise<string | undefined> {
  try {
    const res = await get(`${baseUrl}${path}`, token);
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    return appVersionOf(await res.text());
  } catch {
    return undefined;
  }
}

function get(url: string, token: string): Promise<Response> {
  return fetch(url, {
    headers: { Authorization: `token ${token}` },
    signal: AbortSignal.timeout(1000),
  });
}

/** The `"appVersion"` of the `jupyter-config-data` block of a Jupyter page. */
export function appVersionOf(html: string): string | undefined {
  return /"appVersion"\s*:\s*"([^"\\]{1,64})"/.exec(html)?.[1];
}
