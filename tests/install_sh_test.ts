/**
 * End-to-end tests of `install.sh`: the real script, run by `sh`, downloads fake release assets
 * (a small shell script packed as a tar.gz, with its .sha256) from a server on 127.0.0.1.
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, run, type RunResult, tempDir } from "./helpers.ts";

const INSTALL_SH = join(ROOT, "install.sh");
const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
];
const SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A fake `legate-jupyter` for `target`, packed as the release packs it, plus its .sha256. */
async function fakeAsset(dir: string, target: string, version: string) {
  const stage = join(dir, `stage-${target}`);
  await Deno.mkdir(stage, { recursive: true });
  await Deno.writeTextFile(
    join(stage, "legate-jupyter"),
    `#!/bin/sh\necho "legate-jupyter ${version} (fake, ${target})"\n`,
    { mode: 0o755 },
  );
  const archive = join(dir, `legate-jupyter-${target}.tar.gz`);
  const tar = await run(["tar", "-czf", archive, "-C", stage, "legate-jupyter"], {
    env: { PATH: SYSTEM_PATH },
  });
  assert.equal(tar.code, 0, tar.stderr);
  const bytes = await Deno.readFile(archive);
  const name = `legate-jupyter-${target}.tar.gz`;
  return { name, bytes, sha256: `${await sha256Hex(bytes)}  ${name}\n` };
}

interface Release {
  /** URL path → body. */
  files: Map<string, Uint8Array>;
}

/** Assets for every target under /releases/latest/download/ and /releases/download/vVERSION/. */
async function fakeRelease(dir: string, version = "9.9.9"): Promise<Release> {
  const files = new Map<string, Uint8Array>();
  const enc = new TextEncoder();
  for (const target of TARGETS) {
    const asset = await fakeAsset(dir, target, version);
    for (const base of ["/releases/latest/download", `/releases/download/v${version}`]) {
      files.set(`${base}/${asset.name}`, asset.bytes);
      files.set(`${base}/${asset.name}.sha256`, enc.encode(asset.sha256));
    }
  }
  return { files };
}

/** Serves `release` on 127.0.0.1 and records each request's path and User-Agent. */
function serve(release: Release) {
  const requests: { path: string; agent: string }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    requests.push({ path, agent: req.headers.get("user-agent") ?? "" });
    const body = release.files.get(path);
    return body
      ? new Response(body as Uint8Array<ArrayBuffer>)
      : new Response("not found", { status: 404 });
  });
  return {
    requests,
    baseUrl: `http://127.0.0.1:${server.addr.port}/releases`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** A directory of links to every program in /usr/bin except `omit`, to stand in for PATH. */
async function pathWithout(dir: string, omit: string[]): Promise<string> {
  const bin = join(dir, "bin-without-" + omit.join("-"));
  await Deno.mkdir(bin, { recursive: true });
  for await (const entry of Deno.readDir("/usr/bin")) {
    if (omit.includes(entry.name)) continue;
    await Deno.symlink(join("/usr/bin", entry.name), join(bin, entry.name));
  }
  return bin;
}

/** A `uname` that reports `os` and `arch`, in its own directory to put first on PATH. */
async function fakeUname(dir: string, os: string, arch: string): Promise<string> {
  const bin = join(dir, "fake-uname");
  await Deno.mkdir(bin, { recursive: true });
  await Deno.writeTextFile(
    join(bin, "uname"),
    `#!/bin/sh\ncase "$1" in -m) echo ${arch} ;; *) echo ${os} ;; esac\n`,
    { mode: 0o755 },
  );
  return bin;
}

function installSh(dir: string, env: Record<string, string>): Promise<RunResult> {
  return run(["/bin/sh", INSTALL_SH], {
    env: { HOME: join(dir, "home"), PATH: SYSTEM_PATH, PREFIX: join(dir, "prefix"), ...env },
    cwd: dir,
  });
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

Deno.test("install.sh with curl installs this machine's latest asset into PREFIX/bin after checking its sha256", async () => {
  await using tmp = await tempDir();
  await using server = serve(await fakeRelease(tmp.path));
  const result = await installSh(tmp.path, { LEGATE_JUPYTER_BASE_URL: server.baseUrl });
  assert.equal(result.code, 0, result.stderr);

  const target = Deno.build.target;
  assert.deepEqual(server.requests.map((r) => r.path), [
    `/releases/latest/download/legate-jupyter-${target}.tar.gz`,
    `/releases/latest/download/legate-jupyter-${target}.tar.gz.sha256`,
  ]);
  assert.match(server.requests[0].agent, /^curl\//);
  assert.match(result.stderr, /checksum verified/);
  // PREFIX/bin is not on the test's PATH, so the script must say how to add it.
  assert.match(result.stderr, /is not on your PATH/);
  assert.match(result.stderr, /export PATH=/);

  const bin = join(tmp.path, "prefix", "bin", "legate-jupyter");
  const ran = await run([bin, "--version"], { env: { PATH: SYSTEM_PATH } });
  assert.equal(ran.code, 0);
  assert.equal(ran.stdout, `legate-jupyter 9.9.9 (fake, ${target})\n`);
  // Nothing but the binary is left behind in bin/.
  const left = [];
  for await (const e of Deno.readDir(join(tmp.path, "prefix", "bin"))) left.push(e.name);
  assert.deepEqual(left, ["legate-jupyter"]);
});

Deno.test("install.sh with only wget on PATH installs the pinned LEGATE_JUPYTER_VERSION", async () => {
  await using tmp = await tempDir();
  await using server = serve(await fakeRelease(tmp.path, "1.2.3"));
  const bin = await pathWithout(tmp.path, ["curl"]);
  const result = await installSh(tmp.path, {
    LEGATE_JUPYTER_BASE_URL: server.baseUrl + "/",
    LEGATE_JUPYTER_VERSION: "1.2.3",
    PATH: bin,
  });
  assert.equal(result.code, 0, result.stderr);
  const target = Deno.build.target;
  assert.equal(
    server.requests[0].path,
    `/releases/download/v1.2.3/legate-jupyter-${target}.tar.gz`,
  );
  assert.match(server.requests[0].agent, /wget/i);
  const ran = await run([join(tmp.path, "prefix", "bin", "legate-jupyter"), "--version"], {
    env: { PATH: SYSTEM_PATH },
  });
  assert.equal(ran.stdout, `legate-jupyter 1.2.3 (fake, ${target})\n`);
});

Deno.test("install.sh refuses an asset whose sha256 does not match and leaves the installed binary alone", async () => {
  await using tmp = await tempDir();
  const release = await fakeRelease(tmp.path);
  const target = Deno.build.target;
  const path = `/releases/latest/download/legate-jupyter-${target}.tar.gz`;
  // Tamper: one byte of the archive changes after its checksum was published.
  const tampered = new Uint8Array(release.files.get(path)!);
  tampered[tampered.length - 5] ^= 0xff;
  release.files.set(path, tampered);
  await using server = serve(release);

  const bindir = join(tmp.path, "prefix", "bin");
  await Deno.mkdir(bindir, { recursive: true });
  await Deno.writeTextFile(join(bindir, "legate-jupyter"), "#!/bin/sh\necho old\n", {
    mode: 0o755,
  });

  const result = await installSh(tmp.path, { LEGATE_JUPYTER_BASE_URL: server.baseUrl });
  assert.equal(result.code, 1);
  const errors = result.stderr.split("\n").filter((l) => l.includes("error"));
  assert.equal(errors.length, 1, result.stderr);
  assert.match(errors[0], /checksum mismatch for legate-jupyter-.*nothing was installed/);
  assert.equal(await Deno.readTextFile(join(bindir, "legate-jupyter")), "#!/bin/sh\necho old\n");
  const left = [];
  for await (const e of Deno.readDir(bindir)) left.push(e.name);
  assert.deepEqual(left, ["legate-jupyter"]);
});

Deno.test("install.sh fails naming the URL when the release has no asset for this version", async () => {
  await using tmp = await tempDir();
  await using server = serve(await fakeRelease(tmp.path));
  const result = await installSh(tmp.path, {
    LEGATE_JUPYTER_BASE_URL: server.baseUrl,
    LEGATE_JUPYTER_VERSION: "v0.0.1",
  });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /error: download failed: http:\/\/127\.0\.0\.1:\d+\/releases\/download\/v0\.0\.1\//,
  );
  assert.equal(await exists(join(tmp.path, "prefix", "bin", "legate-jupyter")), false);
});

Deno.test("install.sh under a fake uname reporting FreeBSD/riscv64 fails with a clear error and downloads nothing", async () => {
  await using tmp = await tempDir();
  await using server = serve(await fakeRelease(tmp.path));
  const uname = await fakeUname(tmp.path, "FreeBSD", "riscv64");
  const result = await installSh(tmp.path, {
    LEGATE_JUPYTER_BASE_URL: server.baseUrl,
    PATH: `${uname}:${SYSTEM_PATH}`,
  });
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr.trim().split("\n").length,
    1,
    `expected one line, got: ${result.stderr}`,
  );
  assert.match(
    result.stderr,
    /^install\.sh: error: no legate-jupyter build for FreeBSD\/riscv64; builds exist for Linux and macOS/,
  );
  assert.deepEqual(server.requests, []);
  assert.equal(await exists(join(tmp.path, "prefix")), false);
});

Deno.test("install.sh under a fake uname reporting Darwin/arm64 fetches the aarch64-apple-darwin asset", async () => {
  await using tmp = await tempDir();
  await using server = serve(await fakeRelease(tmp.path));
  const uname = await fakeUname(tmp.path, "Darwin", "arm64");
  const result = await installSh(tmp.path, {
    LEGATE_JUPYTER_BASE_URL: server.baseUrl,
    PATH: `${uname}:${SYSTEM_PATH}`,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    server.requests[0].path,
    "/releases/latest/download/legate-jupyter-aarch64-apple-darwin.tar.gz",
  );
  assert.match(result.stderr, /installed .*legate-jupyter 9\.9\.9 \(fake, aarch64-apple-darwin\)/);
});

Deno.test("install.sh with neither curl nor wget on PATH fails saying it needs one of them", async () => {
  await using tmp = await tempDir();
  const bin = await pathWithout(tmp.path, ["curl", "wget"]);
  const result = await installSh(tmp.path, {
    LEGATE_JUPYTER_BASE_URL: "http://127.0.0.1:9/releases",
    PATH: bin,
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /error: needs curl or wget to download; install one of them/);
  assert.equal(await exists(join(tmp.path, "prefix", "bin", "legate-jupyter")), false);
});
