/**
 * Reading Jupyter's log: only a fallback. Readiness comes from the server's runtime file or
 * its port; the log tells why a start failed, and gives the URL when neither is usable.
 *
 * Formats handled (../shared/reference/jupyter.md): notebook ≤ 6.0 ("The Jupyter Notebook is
 * running at:"), notebook 6.1–6.5 ("Jupyter Notebook 6.4.12 is running at:", second URL
 * prefixed " or "), jupyter_server 1.x ("Jupyter Server 1.23.3 is running at:", " or "),
 * jupyter_server 2.0–2.19 (second URL indented four spaces) and ≥ 2.16 (second URL omitted
 * when identical), ≥ 2.20's wildcard hint, the critical "To access the ..." block, and the
 * port errors.
 * @module
 */

/** One server URL found in the log. */
export interface LoggedUrl {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Path after the port, without the query: `/`, `/lab`, `/tree`. */
  readonly path: string;
  /** The token, when the log shows it (Jupyter prints `...` for a token it did not make). */
  readonly token?: string;
}

/** What the log says so far. */
export interface LogState {
  /** The server reported that it is running. */
  readonly running: boolean;
  /** "Jupyter Notebook" or "Jupyter Server". */
  readonly product?: string;
  readonly version?: string;
  readonly urls: LoggedUrl[];
  /** A port Jupyter found taken. */
  readonly portInUse?: number;
  /** Jupyter's own fatal message ("ERROR: the ... could not be started because ..."). */
  readonly fatal?: string;
  /** Where the server loaded JupyterLab from ("JupyterLab extension loaded from DIR"). */
  readonly labDir?: string;
}

const PREFIX = /^\[[A-Z] [^\]]*\]\s?/;
const RUNNING = /(?:The )?(Jupyter Notebook|Jupyter Server)(?: v?(\d[\w.+-]*))? is running at:?/;
const URL_RE = /https?:\/\/[^\s"'<>]+/g;

function parseUrl(text: string): LoggedUrl | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return undefined;
  }
  const port = u.port ? Number(u.port) : (u.protocol === "https:" ? 443 : 80);
  const t = u.searchParams.get("token");
  return {
    url: text,
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port,
    path: u.pathname,
    token: t && t !== "..." && /^[\w-]+$/.test(t) ? t : undefined,
  };
}

/** Parses the log text seen so far. */
export function parseServerLog(text: string): LogState {
  let running = false;
  let product: string | undefined;
  let version: string | undefined;
  let portInUse: number | undefined;
  let fatal: string | undefined;
  let labDir: string | undefined;
  const urls: LoggedUrl[] = [];
  // URL lines count only after "is running at" or inside the critical block, so that an
  // extension's log line with some other link is never taken for the server's URL.
  let collecting = false;
  for (const raw of text.split(/\r?\n/)) {
    const prefixed = PREFIX.test(raw);
    const line = raw.replace(PREFIX, "");
    const run = RUNNING.exec(line);
    if (run) {
      running = true;
      product = run[1];
      version = run[2];
      collecting = true;
      continue;
    }
    if (/To access the (notebook|server)|copy and paste one of these URLs/.test(line)) {
      collecting = true;
      continue;
    }
    const lab = /^JupyterLab extension loaded from (\/\S+)\s*$/.exec(line);
    if (lab) labDir = lab[1];
    const inUse = /The port (\d+) is already in use/.exec(line);
    if (inUse) portInUse = Number(inUse[1]);
    const err = /ERROR: (the (?:notebook|Jupyter) server could not be started.*)$/i.exec(line);
    if (err) fatal = err[1].trim();
    if (!collecting) continue;
    const found = line.match(URL_RE) ?? [];
    const isUrlLine = /^\s*(or\s+)?https?:\/\//.test(line);
    if (found.length === 0 || !isUrlLine) {
      // Any other prefixed line ends the URL list; blank and file:// lines in the block do not.
      if (prefixed && line.trim() !== "" && !line.includes("file://")) collecting = false;
      continue;
    }
    for (const f of found) {
      const u = parseUrl(f);
      if (u && !urls.some((x) => x.url === u.url)) urls.push(u);
    }
  }
  return { running, product, version, urls, portInUse, fatal, labDir };
}

/** The last `n` lines of `text`, for showing why a start failed. */
export function tail(text: string, n = 20): string {
  const lines = text.replace(/\s+$/, "").split(/\r?\n/);
  return lines.slice(-n).join("\n");
}
