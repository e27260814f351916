/**
 * `notebook` and `lab` against the real Jupyter of the Debian they run on (Debian 12: notebook
 * 6.4.12, jupyter_server 1.23; Debian 13: notebook 6.4.13, JupyterLab 4.0, jupyter_server 2.15;
 * the names say which). `lab` runs real JupyterLab where Debian packages it; Debian 12 has none,
 * so there it runs a stand-in `jupyter-lab` that starts jupyter_server. Each test has its own
 * HOME, Jupyter dirs, state dir and PATH.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isolatedEnv, runCli, spawnCli, type SpawnedCli, tempDir } from "./helpers.ts";
import { DISPLAY, KERNEL, LAB_WHAT, labEnv, serverBin, setupHome } from "./notebook_support.ts";
import { allProcs, descendantsOf, pidAlive, type ProcInfo } from "../src/os/proc.ts";
import { HAVE_LAB, HAVE_NOTEBOOK, onStack, STACK } from "./support/stack.ts";

const ROOT_ARGS = Deno.uid() === 0 ? ["--", "--allow-root"] : [];

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The ready event a `--json` run prints. */
interface Ready {
  id: string;
  version?: string;
  server_version?: string;
  url: string;
  token: string;
  port: number;
  pid: number;
  host: string;
  log: string;
}

async function ready(cli: SpawnedCli): Promise<Ready> {
  return JSON.parse(await cli.waitForLine(/^\{"event":"ready"/, 90_000));
}

function api(r: Ready, path: string, token = true): string {
  const base = r.url.replace(/\?.*$/, "");
  return `${base}${path}${token ? `?token=${r.token}` : ""}`;
}

async function get(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { redirect: "manual" });
  return { status: res.status, body: await res.text() };
}

/** Starts a kernel through the REST API and returns the server's processes afterwards. */
async function startKernel(r: Ready, name: string): Promise<ProcInfo[]> {
  const res = await fetch(api(r, "api/kernels"), {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `token ${r.token}` },
    body: JSON.stringify({ name }),
  });
  const body = await res.text();
  assert.equal(res.status, 201, body);
  const family = descendantsOf(allProcs(), r.pid);
  assert.ok(family.length >= 1, "the kernel runs as a child of Jupyter");
  return family;
}

async function assertAllGone(procs: ProcInfo[]): Promise<void> {
  for (const p of procs) {
    assert.equal(await pidAlive(p.pid, p.start), false, `process ${p.pid} is still running`);
  }
}

const opts = { ignore: !HAVE_NOTEBOOK, sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name:
    "notebook serves the printed token URL, names Notebook's version, lists the Legate kernel and refuses requests without the token" +
    onStack("notebook"),
  ...opts,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    await using cli = spawnCli([
      "notebook",
      "--json",
      "--notebook-dir",
      nbDir,
      "--kernel",
      KERNEL,
      ...ROOT_ARGS,
    ], {
      env,
    });
    const r = await ready(cli);
    assert.match(r.url, new RegExp(`^http://127\\.0\\.0\\.1:${r.port}/\\?token=[0-9a-f]{48}$`));
    assert.equal(r.version, STACK.notebook, "Notebook's own version");
    // Notebook 6 is its own server; Notebook 7 runs on jupyter_server.
    const onServer = !/^[0-6]\./.test(STACK.notebook ?? "");
    assert.equal(r.server_version, onServer ? STACK.jupyter_server : undefined);
    const status = await get(api(r, "api/status"));
    assert.equal(status.status, 200);
    const specs = await get(api(r, "api/kernelspecs"));
    assert.equal(specs.status, 200);
    const parsed = JSON.parse(specs.body);
    assert.equal(parsed.kernelspecs[KERNEL]?.spec.display_name, DISPLAY);
    assert.equal(parsed.default, KERNEL, "--kernel made it the default kernel");
    const refused = await get(api(r, "api/status", false));
    assert.ok([403, 302].includes(refused.status), `without the token: ${refused.status}`);
    // The token is nowhere in Jupyter's command line.
    const cmdline = await Deno.readTextFile(`/proc/${r.pid}/cmdline`);
    assert.ok(!cmdline.includes(r.token));
  },
});

Deno.test({
  name:
    "notebook records the server in a 0600 state file in a 0700 dir; servers lists it; stop ends Jupyter and its kernels" +
    onStack("notebook"),
  ...opts,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    await using cli = spawnCli(["notebook", "--json", "--notebook-dir", nbDir, ...ROOT_ARGS], {
      env,
    });
    const r = await ready(cli);
    const stateDir = join(env.XDG_STATE_HOME, "legate-jupyter");
    const file = join(stateDir, "servers", `${r.id}.json`);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(stateDir)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(join(stateDir, "servers"))).mode! & 0o777, 0o700);
    assert.equal(JSON.parse(await Deno.readTextFile(file)).token, r.token);

    const listed = await runCli(["servers"], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${r.id}\\s+notebook\\s+\\S+\\s+${r.port}\\s`, "m"));
    const json = await runCli(["servers", "--json"], { env });
    assert.deepEqual(JSON.parse(json.stdout).map((s: { id: string }) => s.id), [r.id]);

    const family = [{ pid: r.pid, ppid: 0, start: -1 }, ...(await startKernel(r, "python3"))]
      .map((p) => p.start === -1 ? allProcs().find((q) => q.pid === r.pid)! : p);
    const stopped = await runCli(["stop", r.id], { env });
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, new RegExp(`Stopped ${r.id}`));
    const end = await cli.finished();
    assert.equal(end.code, 0, end.stderr);
    await assertAllGone(family);
    assert.equal(await exists(file), false, "the entry is removed");
    const after = await runCli(["servers", "--json"], { env });
    assert.deepEqual(JSON.parse(after.stdout), []);
  },
});

Deno.test({
  name:
    "notebook --open hands $BROWSER a file URL of a private redirect to the token URL, from a state dir whose path has a space and a '#', and removes the redirect at exit" +
    onStack("notebook"),
  ...opts,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    env.XDG_STATE_HOME = join(tmp.path, "state dir #1");
    const record = join(tmp.path, "browser-arg");
    const browser = join(tmp.path, "browser");
    await Deno.writeTextFile(browser, `#!/bin/sh\nprintf '%s' "$1" > '${record}'\n`, {
      mode: 0o755,
    });
    env.BROWSER = browser;
    await using cli = spawnCli(
      ["notebook", "--json", "--open", "--notebook-dir", nbDir, ...ROOT_ARGS],
      { env },
    );
    const r = await ready(cli);
    let arg = "";
    for (let i = 0; i < 100 && arg === ""; i++) {
      arg = await Deno.readTextFile(record).catch(() => "");
      if (arg === "") await new Promise((res) => setTimeout(res, 100));
    }
    assert.match(arg, /^file:\/\//);
    const file = fileURLToPath(arg);
    assert.ok(file.startsWith(join(env.XDG_STATE_HOME, "legate-jupyter")), file);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.ok((await Deno.readTextFile(file)).includes(`url=${r.url}"`));
    const stopped = await runCli(["stop", r.id], { env });
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal((await cli.finished()).code, 0);
    assert.equal(await exists(file), false, "the redirect is removed at exit");
  },
});

Deno.test({
  name:
    "notebook forwards SIGINT to Jupyter and exits with its status, leaving no Jupyter or kernel process" +
    onStack("notebook"),
  ...opts,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    await using cli = spawnCli(["notebook", "--json", "--notebook-dir", nbDir, ...ROOT_ARGS], {
      env,
    });
    const r = await ready(cli);
    const server = allProcs().find((p) => p.pid === r.pid)!;
    const family = [server, ...(await startKernel(r, KERNEL))];
    cli.child.kill("SIGINT");
    const end = await cli.finished();
    assert.equal(end.code, 0, end.stderr);
    assert.match(end.stderr, /Stopping Jupyter Notebook and its kernels/);
    await assertAllGone(family);
    const entries = [...Deno.readDirSync(join(env.XDG_STATE_HOME, "legate-jupyter", "servers"))];
    assert.deepEqual(entries, []);
  },
});

Deno.test({
  name: "notebook refuses a --port that is taken, naming the port, and starts no Jupyter",
  ...opts,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const r = await runCli(["notebook", "--port", String(port), "--notebook-dir", nbDir], { env });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      `legate-jupyter: error: port ${port} is already in use on 127.0.0.1; choose another with ` +
        `--port, or leave --port out and a free one is chosen`,
    );
    assert.equal(r.stdout, "");
  },
});

Deno.test("notebook reports a missing Jupyter in one line that says what it searched and how to get it", async () => {
  await using tmp = await tempDir();
  const bin = join(tmp.path, "emptybin");
  await Deno.mkdir(bin);
  const env = isolatedEnv(tmp.path, { XDG_STATE_HOME: join(tmp.path, "state"), PATH: bin });
  const r = await runCli(["notebook", "--notebook-dir", tmp.path], { env });
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0],
    /^legate-jupyter: error: no Jupyter found: looked for jupyter-notebook and jupyter beside a Legate kernel's Python \(no Legate kernel is installed\), then on PATH \(/,
  );
  // (deno run puts its own node_compat_bin on PATH too; the compiled binary does not.)
  assert.match(lines[0], new RegExp(`on PATH \\([^)]*${bin}\\)`));
  assert.match(lines[0], /pip install notebook\) or pass --jupyter PATH$/);
});

Deno.test("notebook --jupyter naming a missing file is a usage error (exit 2)", async () => {
  await using tmp = await tempDir();
  const env = isolatedEnv(tmp.path, { XDG_STATE_HOME: join(tmp.path, "state") });
  const r = await runCli([
    "notebook",
    "--jupyter",
    join(tmp.path, "nope"),
    "--notebook-dir",
    tmp.path,
  ], { env });
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    /--jupyter .*nope: no such file or directory; give the path of jupyter or jupyter-notebook/,
  );
});

Deno.test("notebook shows the tail of Jupyter's output and its exit status when it exits before it is ready", async () => {
  await using tmp = await tempDir();
  const fake = join(tmp.path, "jupyter-notebook");
  await Deno.writeTextFile(
    fake,
    "#!/bin/sh\necho 'starting up' >&2\necho 'ImportError: no module named tornado' >&2\nexit 3\n",
    {
      mode: 0o755,
    },
  );
  const env = isolatedEnv(tmp.path, { XDG_STATE_HOME: join(tmp.path, "state") });
  const r = await runCli(["notebook", "--jupyter", fake, "--notebook-dir", tmp.path], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Jupyter Notebook exited with status 3 before it was ready/);
  assert.match(r.stderr, /\| ImportError: no module named tornado/);
  assert.match(r.stderr, /Full log: .*\/legate-jupyter\/logs\/[0-9a-f]{8}\.log/);
});

Deno.test({
  name: "notebook warns when --kernel names a kernel that is not installed, and still starts" +
    onStack("notebook"),
  ...opts,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    await using cli = spawnCli([
      "notebook",
      "--json",
      "--kernel",
      "nope",
      "--notebook-dir",
      nbDir,
      ...ROOT_ARGS,
    ], {
      env,
    });
    await ready(cli);
    assert.match(cli.stderr(), /warning: kernel 'nope' is not installed/);
  },
});

Deno.test({
  name:
    "notebook --jupyter .../jupyter-server runs jupyter_server, names its version and serves the printed token URL" +
    onStack("jupyter_server"),
  ...opts,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    const bin = await serverBin(tmp.path);
    await using cli = spawnCli(
      [
        "notebook",
        "--json",
        "--jupyter",
        join(bin, "jupyter-server"),
        "--notebook-dir",
        nbDir,
        ...ROOT_ARGS,
      ],
      { env },
    );
    const r = await ready(cli);
    assert.equal(r.version, STACK.jupyter_server);
    assert.equal(r.server_version, STACK.jupyter_server);
    const status = await get(api(r, "api/status"));
    assert.equal(status.status, 200);
    const specs = JSON.parse((await get(api(r, "api/kernelspecs"))).body);
    assert.ok(KERNEL in specs.kernelspecs);
    assert.ok([403, 302].includes((await get(api(r, "api/status", false))).status));
    const runtime = [...Deno.readDirSync(env.JUPYTER_RUNTIME_DIR)].map((e) => e.name);
    assert.ok(
      runtime.includes(`jpserver-${r.pid}.json`),
      "ready came from jupyter_server's runtime file",
    );
  },
});

Deno.test({
  name: `${LAB_WHAT} serves the URL, names JupyterLab's and jupyter_server's versions apart, ` +
    "and stops on SIGTERM with its kernels" + onStack("jupyterlab", "jupyter_server"),
  ...opts,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    await using cli = spawnCli(["lab", "--json", "--notebook-dir", nbDir, ...ROOT_ARGS], {
      env: await labEnv(tmp.path, env),
    });
    const r = await ready(cli);
    assert.equal((await get(api(r, "api/status"))).status, 200);
    // JupyterLab's own version (the stand-in has none), and its server's apart from it.
    assert.equal(r.version, HAVE_LAB ? STACK.jupyterlab : undefined);
    assert.equal(r.server_version, STACK.jupyter_server);
    const listed = JSON.parse((await runCli(["servers", "--json"], { env })).stdout);
    assert.deepEqual(
      listed.map((s: { version?: string; serverVersion?: string }) => [s.version, s.serverVersion]),
      [[r.version, r.server_version]],
    );
    if (HAVE_LAB) {
      const page = await get(api(r, "lab"));
      assert.equal(page.status, 200);
      assert.match(page.body, new RegExp(`"appVersion":\\s*"${STACK.jupyterlab}"`));
    }
    const server = allProcs().find((p) => p.pid === r.pid)!;
    const family = [server, ...(await startKernel(r, "python3"))];
    cli.child.kill("SIGTERM");
    const end = await cli.finished();
    assert.equal(end.code, 0, end.stderr);
    await assertAllGone(family);
  },
});

Deno.test({
  name:
    "notebook is ready only once Jupyter's port accepts, not at its runtime file (a fake jupyter-server that writes the file 1.5 s before it binds, as jupyter_server 2 does before its event loop runs)",
  ...opts,
  async fn() {
    await using tmp = await tempDir();
    const { env, nbDir } = await setupHome(tmp.path);
    const fake = join(tmp.path, "bin", "jupyter-server");
    await Deno.mkdir(join(tmp.path, "bin"), { recursive: true });
    await Deno.writeTextFile(
      fake,
      `#!/usr/bin/python3
import http.server, json, os, re, sys, time
port = int(next(re.sub("^--port=", "", a) for a in sys.argv if a.startswith("--port=")))
info = {"port": port, "token": os.environ["JUPYTER_TOKEN"], "pid": os.getpid(),
        "base_url": "/", "version": "2.99.0"}
path = os.path.join(os.environ["JUPYTER_RUNTIME_DIR"], "jpserver-%d.json" % os.getpid())
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(info, f)
time.sleep(1.5)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"version": "2.99.0"}')
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
`,
      { mode: 0o755 },
    );
    await using cli = spawnCli(["notebook", "--json", "--jupyter", fake, "--notebook-dir", nbDir], {
      env,
    });
    const r = await ready(cli);
    // The URL works the moment it is printed.
    assert.equal((await get(api(r, "api/status"))).status, 200);
    assert.equal(r.version, "2.99.0");
  },
});
