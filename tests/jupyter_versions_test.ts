/**
 * Unit tests of what the tool says about the Jupyter it started and adds to it: the two
 * versions in the ready block and its JSON (the application's and jupyter_server's), and the
 * Notebook configuration written into the state dir and named in JUPYTER_CONFIG_PATH.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";
import { sampleRecord } from "./support/records.ts";
import { readyEvent, readyTitle, renderReadyBlock } from "../src/server/ready.ts";
import { appVersionOf, packageVersion, serverVersions } from "../src/jupyter/versions.ts";
import { configDir, configEnv, ensureConfig } from "../src/jupyter/config.ts";
import { parseServerLog } from "../src/jupyter/logparse.ts";
import type { ServerRecord } from "../src/state/servers.ts";

/** A ready JupyterLab entry; `extra` wins. */
function record(extra: Partial<ServerRecord>): ServerRecord {
  return sampleRecord({ app: "lab", jupyter: "/usr/bin/jupyter-lab", ...extra });
}

Deno.test("the ready title names JupyterLab's version and jupyter_server's, each as itself", () => {
  const lab = record({ version: "4.0.11", serverVersion: "2.15.0" });
  assert.equal(readyTitle(lab), "JupyterLab 4.0.11 on Jupyter Server 2.15.0");
  assert.match(renderReadyBlock(lab), /^JupyterLab 4\.0\.11 on Jupyter Server 2\.15\.0 is ready/);
  const ev = readyEvent(lab);
  assert.equal(ev.version, "4.0.11");
  assert.equal(ev.server_version, "2.15.0");
});

Deno.test("the ready title names Notebook 6 once (it is its own server) and a bare server once", () => {
  assert.equal(
    readyTitle(record({ app: "notebook", version: "6.4.12" })),
    "Jupyter Notebook 6.4.12",
  );
  assert.equal(
    readyTitle(record({ app: "server", version: "2.15.0", serverVersion: "2.15.0" })),
    "Jupyter Server 2.15.0",
  );
  // An application whose own version could not be learnt still names its server's.
  assert.equal(
    readyTitle(record({ serverVersion: "1.23.3" })),
    "JupyterLab on Jupyter Server 1.23.3",
  );
  assert.equal(
    readyEvent(record({ app: "notebook", version: "6.4.12" })).server_version,
    undefined,
  );
});

Deno.test("appVersionOf reads the appVersion of a Jupyter page's config data", () => {
  const page = '<script id="jupyter-config-data" type="application/json">{"appName": ' +
    '"JupyterLab", "appNamespace": "lab", "appUrl": "/lab", "appVersion": "4.0.11", ' +
    '"baseUrl": "/"}</script>';
  assert.equal(appVersionOf(page), "4.0.11");
  assert.equal(appVersionOf("<html>no config</html>"), undefined);
});

/** A local HTTP server answering like jupyter_server 2 with JupyterLab 4. */
function fakeServer(pages: Record<string, string>): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (req.headers.get("authorization") !== "token t") return new Response("", { status: 403 });
    return path in pages ? new Response(pages[path]) : new Response("", { status: 404 });
  });
}

Deno.test("serverVersions takes the server's version from the runtime file and the app's from its page", async () => {
  await using server = fakeServer({
    "/api": '{"version": "2.15.0"}',
    "/lab": '<script id="jupyter-config-data">{"appVersion": "4.0.11"}</script>',
  });
  const baseUrl = `http://127.0.0.1:${server.addr.port}/`;
  const log = parseServerLog("");
  const lab = await serverVersions({
    app: "lab",
    info: { port: 1, version: "2.15.0", server: "jupyter_server" },
    log,
    baseUrl,
    token: "t",
  });
  assert.deepEqual(lab, { version: "4.0.11", serverVersion: "2.15.0" });
  // No runtime file version (a start seen on the port): the API says which server runs.
  const fromApi = await serverVersions({
    app: "server",
    info: { port: 1 },
    log,
    baseUrl,
    token: "t",
  });
  assert.deepEqual(fromApi, { version: "2.15.0", serverVersion: "2.15.0" });
  // A page without a version (a stand-in, a server without the app) leaves the app's unknown.
  const notebook7 = await serverVersions({
    app: "notebook",
    info: { port: 1, version: "2.15.0", server: "jupyter_server" },
    log,
    baseUrl,
    token: "t",
  });
  assert.deepEqual(notebook7, { version: undefined, serverVersion: "2.15.0" });
});

Deno.test("serverVersions gives Notebook 6 one version, from its log line", async () => {
  const log = parseServerLog(
    "[I 21:00:07.397 NotebookApp] Jupyter Notebook 6.4.12 is running at:\n" +
      "[I 21:00:07.397 NotebookApp] http://127.0.0.1:8888/?token=...\n",
  );
  const v = await serverVersions({
    app: "notebook",
    info: { port: 8888, server: "notebook" },
    log,
    baseUrl: "http://127.0.0.1:1/",
    token: "t",
  });
  assert.deepEqual(v, { version: "6.4.12" });
});

Deno.test("configEnv names the tool's config dir first in JUPYTER_CONFIG_PATH, for notebook only", () => {
  const dir = "/home/me/.local/state/legate-jupyter";
  assert.deepEqual(configEnv("notebook", dir, {}), { JUPYTER_CONFIG_PATH: configDir(dir) });
  assert.deepEqual(configEnv("notebook", dir, { JUPYTER_CONFIG_PATH: "/site/etc" }), {
    JUPYTER_CONFIG_PATH: `${configDir(dir)}:/site/etc`,
  });
  assert.deepEqual(configEnv("lab", dir, {}), {});
  assert.deepEqual(configEnv("server", dir, {}), {});
});

Deno.test("ensureConfig writes the Notebook config once, 0600 in a 0700 dir, and repairs a changed one", async () => {
  await using tmp = await tempDir();
  const file = join(configDir(tmp.path), "jupyter_notebook_config.py");
  await ensureConfig("lab", tmp.path);
  await assert.rejects(Deno.stat(file), Deno.errors.NotFound);
  await ensureConfig("notebook", tmp.path);
  const text = await Deno.readTextFile(file);
  assert.match(text, /AsyncMappingKernelManager/);
  assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(configDir(tmp.path))).mode! & 0o777, 0o700);
  const mtime = (await Deno.stat(file)).mtime;
  await ensureConfig("notebook", tmp.path);
  assert.deepEqual((await Deno.stat(file)).mtime, mtime, "unchanged content is not rewritten");
  await Deno.writeTextFile(file, "c.NotebookApp.port = 1\n");
  await ensureConfig("notebook", tmp.path);
  assert.equal(await Deno.readTextFile(file), text);
});

Deno.test("serverVersions reads JupyterLab's version beside the package its log says it loaded, without a request", async () => {
  await using tmp = await tempDir();
  const site = join(tmp.path, "site-packages");
  await Deno.mkdir(join(site, "jupyterlab"), { recursive: true });
  await Deno.mkdir(join(site, "jupyterlab-4.0.11.dist-info"));
  await Deno.mkdir(join(site, "jupyterlab_server-2.25.2.dist-info"));
  const log = parseServerLog(
    `[I 2026-12-01 07:59:41.955 LabApp] JupyterLab extension loaded from ${site}/jupyterlab\n`,
  );
  assert.equal(log.labDir, `${site}/jupyterlab`);
  assert.equal(await packageVersion(`${site}/jupyterlab`, "jupyterlab"), "4.0.11");
  // No server answers at this URL: the version came from the directory.
  const v = await serverVersions({
    app: "lab",
    info: { port: 1, version: "2.15.0", server: "jupyter_server" },
    log,
    baseUrl: "http://127.0.0.1:1/",
    token: "t",
  });
  assert.deepEqual(v, { version: "4.0.11", serverVersion: "2.15.0" });
  // Two versions side by side (a broken upgrade): neither is taken for the truth.
  await Deno.mkdir(join(site, "jupyterlab-3.6.5.dist-info"));
  assert.equal(await packageVersion(`${site}/jupyterlab`, "jupyterlab"), undefined);
});
