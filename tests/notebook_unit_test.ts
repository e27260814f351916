/**
 * Unit tests of the pure parts of `notebook`/`lab`: tunnel commands, ssh config, Jupyter's
 * argv, the log-fallback parser on recorded output of every Jupyter flavour, the ready block,
 * and the state module.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { tempDir } from "./helpers.ts";
import { sshConfigSnippet, tunnelCommands, tunnelProblem } from "../src/jupyter/connect.ts";
import { generateToken, serverUrl } from "../src/jupyter/connect.ts";
import { jupyterArgs, jupyterCommand, jupyterEnv } from "../src/jupyter/argv.ts";
import { parseServerLog } from "../src/jupyter/logparse.ts";
import { readyEvent, renderReadyBlock } from "../src/server/ready.ts";
import { descendantsOf, parseStat } from "../src/os/proc.ts";
import { bindAddresses } from "../src/jupyter/ports.ts";
import { shSplit } from "../src/util/shell.ts";
import { SAMPLE_TOKEN as TOKEN, sampleRecord } from "./support/records.ts";
import {
  readServers,
  removeServer,
  type ServerRecord,
  stateDir,
  waitForServer,
  writeServer,
} from "../src/state/servers.ts";

/** The sample entry, as Notebook 6.4.12 left it. */
const record = (extra: Partial<ServerRecord> = {}): ServerRecord =>
  sampleRecord({ version: "6.4.12", ...extra });

Deno.test("tunnelCommands gives -J first and the seed's two hops, with no shell left on the node, when the server is behind a login node", () => {
  const cmds = tunnelCommands({
    host: "node01",
    port: 8123,
    ip: "127.0.0.1",
    loginHost: "login1",
    user: "me",
  });
  assert.deepEqual(cmds.map((c) => c.command), [
    "ssh -N -L 8123:localhost:8123 -J me@login1 me@node01",
    "ssh -4 -t -L 8123:localhost:8123 me@login1 ssh -N -L 8123:localhost:8123 node01",
  ]);
  assert.match(cmds[0].label, /through login1 into node01/);
});

Deno.test("tunnelCommands goes through the login node alone when the server listens on the node's network", () => {
  const wild = tunnelCommands({
    host: "node01",
    port: 8123,
    ip: "0.0.0.0",
    loginHost: "login1",
    user: "me",
    sshRefused: "Permission denied (publickey).",
  });
  assert.deepEqual(wild.map((c) => c.command), ["ssh -N -L 8123:node01:8123 me@login1"]);
  assert.equal(
    tunnelProblem({ host: "node01", port: 8123, ip: "0.0.0.0", loginHost: "login1" }),
    undefined,
  );
  const bound = tunnelCommands({ host: "node01", port: 8123, ip: "10.1.2.3", loginHost: "login1" });
  assert.deepEqual(bound.map((c) => c.command), ["ssh -N -L 8123:10.1.2.3:8123 login1"]);
  const snippet = sshConfigSnippet({
    host: "node01",
    port: 8123,
    ip: "0.0.0.0",
    loginHost: "login1",
  });
  assert.match(snippet, /^ {4}HostName login1$/m);
  assert.doesNotMatch(snippet, /ProxyJump/);
  assert.match(snippet, /^ {4}LocalForward 8123 node01:8123$/m);
});

Deno.test("tunnelCommands gives none, and tunnelProblem says why and what to do, when the node refuses SSH or no login node is known", () => {
  const refused = {
    host: "node01",
    port: 8123,
    ip: "127.0.0.1",
    loginHost: "login1",
    sshRefused: "me@node01: Permission denied (publickey).",
  };
  assert.deepEqual(tunnelCommands(refused), []);
  const why = tunnelProblem(refused) ?? "";
  assert.match(why, /node01 refuses SSH logins \("me@node01: Permission denied \(publickey\)\."\)/);
  assert.match(why, /--ip 0\.0\.0\.0/);
  assert.match(why, /pam_slurm_adopt/);
  const unknown = { host: "node01", port: 8123, ip: "127.0.0.1", loginUnknown: true };
  assert.deepEqual(tunnelCommands(unknown), []);
  assert.match(tunnelProblem(unknown) ?? "", /--login-host HOST/);
  // A refusal recorded on the login node itself changes nothing: no hop into a node is needed.
  assert.equal(tunnelCommands({ ...refused, host: "login1" }).length, 1);
});

Deno.test("tunnelCommands gives one hop when the server runs on the login node itself", () => {
  for (const loginHost of [undefined, "login1", "LOGIN1.cluster.org"]) {
    const cmds = tunnelCommands({
      host: "login1",
      port: 9000,
      ip: "127.0.0.1",
      loginHost,
      user: "me",
    });
    assert.equal(cmds.length, 1);
    assert.match(
      cmds[0].command,
      /^ssh -N -L 9000:localhost:9000 me@(login1|LOGIN1\.cluster\.org)$/,
    );
  }
});

Deno.test("tunnelCommands quotes hostile values for both the laptop's and the login node's shell", () => {
  const cmds = tunnelCommands({
    host: "n$(id)",
    port: 8123,
    ip: "127.0.0.1",
    loginHost: "lo gin",
    user: "me",
  });
  const twoHop = shSplit(cmds[1].command);
  // The laptop's shell sees the login host as one word and the inner command still quoted.
  assert.equal(twoHop[5], "me@lo gin");
  assert.deepEqual(shSplit(twoHop.slice(6).join(" ")), [
    "ssh",
    "-N",
    "-L",
    "8123:localhost:8123",
    "n$(id)",
  ]);
  assert.deepEqual(shSplit(cmds[0].command).slice(-1), ["me@n$(id)"]);
});

Deno.test("tunnelCommands forwards to the listen address when the server is bound to one", () => {
  const [cmd] = tunnelCommands({ host: "login1", port: 8123, ip: "10.0.0.5" });
  assert.equal(cmd.command, "ssh -N -L 8123:10.0.0.5:8123 login1");
});

Deno.test("sshConfigSnippet uses ProxyJump through the login node and forwards the real port", () => {
  const text = sshConfigSnippet({
    host: "node01",
    port: 8123,
    ip: "127.0.0.1",
    loginHost: "login1",
    user: "me",
  });
  assert.match(text, /^Host legate-jupyter-node01-8123$/m);
  assert.match(text, /^ {4}HostName node01$/m);
  assert.match(text, /^ {4}ProxyJump me@login1$/m);
  assert.match(text, /^ {4}LocalForward 8123 localhost:8123$/m);
  const direct = sshConfigSnippet({ host: "login1", port: 8123, ip: "127.0.0.1" });
  assert.doesNotMatch(direct, /ProxyJump/);
});

Deno.test("jupyterArgs pins the port with --port-retries=0 and never carries the token", () => {
  const cmd = jupyterCommand("/usr/bin/jupyter-notebook", "notebook");
  const args = jupyterArgs(cmd, {
    port: 8123,
    ip: "127.0.0.1",
    notebookDir: "/w",
    kernel: "legate-gpu",
    extra: ["--allow-root"],
  });
  assert.deepEqual(args, [
    "--no-browser",
    "--port=8123",
    "--port-retries=0",
    "--ip=127.0.0.1",
    "--notebook-dir=/w",
    "--MappingKernelManager.default_kernel_name=legate-gpu",
    "--allow-root",
  ]);
  assert.ok(!args.join(" ").includes(TOKEN));
  assert.deepEqual(jupyterEnv(TOKEN), { JUPYTER_TOKEN: TOKEN });
});

Deno.test("jupyterCommand adds the subcommand for the jupyter dispatcher only", () => {
  assert.deepEqual(jupyterCommand("/env/bin/jupyter", "lab"), {
    program: "/env/bin/jupyter",
    prefix: ["lab"],
    app: "lab",
  });
  assert.deepEqual(jupyterCommand("/env/bin/jupyter-lab", "lab").prefix, []);
  assert.equal(jupyterCommand("/x/jupyter-server", "notebook").app, "server");
});

Deno.test("generateToken makes 48 lowercase hex digits, different each time", () => {
  const a = generateToken();
  assert.match(a, /^[0-9a-f]{48}$/);
  assert.notEqual(a, generateToken());
});

Deno.test("serverUrl brackets IPv6 hosts and normalizes the base URL", () => {
  assert.equal(serverUrl("::1", 80, "base"), "http://[::1]:80/base/");
  assert.deepEqual(bindAddresses("localhost"), ["127.0.0.1", "::1"]);
});

// Recorded output, from ../shared/reference/jupyter.md.
const NB6 = `[I 21:00:07.381 NotebookApp] Serving notebooks from local directory: /tmp/nbroot
[I 21:00:07.397 NotebookApp] Jupyter Notebook 6.4.12 is running at:
[I 21:00:07.397 NotebookApp] http://localhost:8888/?token=${TOKEN}
[I 21:00:07.397 NotebookApp]  or http://127.0.0.1:8888/?token=${TOKEN}
[I 21:00:07.397 NotebookApp] Use Control-C to stop this server and shut down all kernels (twice to skip confirmation).
[C 21:00:07.399 NotebookApp] 
    
    To access the notebook, open this file in a browser:
        file:///root/.local/share/jupyter/runtime/nbserver-12885-open.html
    Or copy and paste one of these URLs:
        http://localhost:8888/?token=${TOKEN}
     or http://127.0.0.1:8888/?token=${TOKEN}
`;

Deno.test("parseServerLog reads notebook 6's running lines and critical block", () => {
  const s = parseServerLog(NB6);
  assert.equal(s.running, true);
  assert.equal(s.product, "Jupyter Notebook");
  assert.equal(s.version, "6.4.12");
  assert.deepEqual(s.urls.map((u) => [u.host, u.port, u.path, u.token]), [
    ["localhost", 8888, "/", TOKEN],
    ["127.0.0.1", 8888, "/", TOKEN],
  ]);
});

Deno.test("parseServerLog reads notebook 6.0's unversioned line and a hidden token as no token", () => {
  const s = parseServerLog(`[I 10:00:00.000 NotebookApp] The Jupyter Notebook is running at:
[I 10:00:00.000 NotebookApp] http://localhost:8888/?token=...
`);
  assert.equal(s.running, true);
  assert.equal(s.version, undefined);
  assert.equal(s.urls[0].token, undefined);
});

Deno.test("parseServerLog reads jupyter_server 1.x (' or ') and 2.x (four spaces, /lab, /tree)", () => {
  const v1 = parseServerLog(
    `[I 2024-01-01 12:00:00.123 ServerApp] Jupyter Server 1.23.3 is running at:
[I 2024-01-01 12:00:00.123 ServerApp] http://localhost:8888/?token=...
[I 2024-01-01 12:00:00.123 ServerApp]  or http://127.0.0.1:8888/?token=...
[I 2024-01-01 12:00:00.124 ServerApp] Use Control-C to stop this server and shut down all kernels (twice to skip confirmation).
`,
  );
  assert.equal(v1.product, "Jupyter Server");
  assert.equal(v1.version, "1.23.3");
  assert.deepEqual(v1.urls.map((u) => u.host), ["localhost", "127.0.0.1"]);

  const lab = parseServerLog(
    `[I 2024-05-01 09:00:00.001 LabApp] JupyterLab extension loaded from /x/jupyterlab
[I 2024-05-01 09:00:00.002 ServerApp] Jupyter Server 2.14.0 is running at:
[I 2024-05-01 09:00:00.002 ServerApp] http://localhost:8890/lab?token=${TOKEN}
[I 2024-05-01 09:00:00.002 ServerApp]     http://127.0.0.1:8890/lab?token=${TOKEN}
[C 2024-05-01 09:00:00.010 ServerApp] 
    
    To access the server, open this file in a browser:
        file:///home/me/.local/share/jupyter/runtime/jpserver-777-open.html
    Or copy and paste one of these URLs:
        http://localhost:8890/lab?token=${TOKEN}
        http://127.0.0.1:8890/lab?token=${TOKEN}
`,
  );
  assert.equal(lab.version, "2.14.0");
  assert.deepEqual(lab.urls.map((u) => [u.host, u.port, u.path]), [
    ["localhost", 8890, "/lab"],
    ["127.0.0.1", 8890, "/lab"],
  ]);
  assert.equal(lab.urls[0].token, TOKEN);

  const nb7 = parseServerLog(
    `[I 2025-02-01 09:00:00.002 ServerApp] Jupyter Server 2.16.0 is running at:
[I 2025-02-01 09:00:00.002 ServerApp] http://127.0.0.1:8891/tree?token=...
[I 2025-02-01 09:00:00.003 ServerApp] Use Control-C to stop this server and shut down all kernels (twice to skip confirmation).
`,
  );
  assert.deepEqual(nb7.urls.map((u) => [u.port, u.path]), [[8891, "/tree"]]);
});

Deno.test("parseServerLog reads 2.20's wildcard hint without taking it for a URL", () => {
  const s = parseServerLog(
    `[I 2025-09-01 09:00:00.002 ServerApp] Jupyter Server 2.20.0 is running at:
[I 2025-09-01 09:00:00.002 ServerApp] http://node01:8888/lab?token=...
[I 2025-09-01 09:00:00.002 ServerApp]     http://127.0.0.1:8888/lab?token=...
[I 2025-09-01 09:00:00.002 ServerApp] The server is listening on all interfaces, so any hostname or IP of this machine will work.
[I 2025-09-01 09:00:00.003 ServerApp] Extension loaded: see https://example.org/docs
`,
  );
  assert.deepEqual(s.urls.map((u) => u.host), ["node01", "127.0.0.1"]);
});

Deno.test("parseServerLog reports a taken port and Jupyter's fatal message", () => {
  const nb = parseServerLog(`[I 21:05:00.000 NotebookApp] The port 8888 is already in use.
[C 21:05:00.001 NotebookApp] ERROR: the notebook server could not be started because port 8888 is not available.
`);
  assert.equal(nb.portInUse, 8888);
  assert.equal(nb.running, false);
  assert.match(nb.fatal ?? "", /port 8888 is not available/);
  const srv = parseServerLog(
    "[C 2024-01-01 12:00:00.000 ServerApp] ERROR: the Jupyter server could not be started because no available port could be found.\n",
  );
  assert.match(srv.fatal ?? "", /no available port/);
});

Deno.test("renderReadyBlock shows the URL, the tunnels with the real port and how to stop", () => {
  const text = renderReadyBlock(record(), { foreground: true, sshConfig: true });
  assert.match(
    text,
    /^Jupyter Notebook 6\.4\.12 is ready on node01 \(port 8123, pid 4242, id 1a2b3c4d\)/,
  );
  assert.ok(text.includes(`http://127.0.0.1:8123/?token=${TOKEN}`));
  assert.ok(
    text.includes(
      "ssh -4 -t -L 8123:localhost:8123 me@login1 ssh -N -L 8123:localhost:8123 node01",
    ),
  );
  assert.ok(text.includes("ssh -N -L 8123:localhost:8123 -J me@login1 me@node01"));
  assert.ok(text.includes(`then browse to http://localhost:8123/?token=${TOKEN}`));
  assert.match(text, /ProxyJump me@login1/);
  assert.match(text, /Stop it with Ctrl-C here, or legate-jupyter stop 1a2b3c4d/);
});

Deno.test("renderReadyBlock for a remote server takes the login host from the caller", () => {
  const text = renderReadyBlock(record({ loginHost: undefined }), {
    loginHost: "gw",
    sshUser: "u",
  });
  assert.ok(text.includes("-J u@gw u@node01"));
  assert.doesNotMatch(text, /Ctrl-C/);
});

Deno.test("readyEvent carries the URL, token, port and tunnels for scripts", () => {
  const e = readyEvent(record());
  assert.equal(e.event, "ready");
  assert.equal(e.port, 8123);
  assert.equal(e.token, TOKEN);
  assert.equal(e.tunnel.length, 2);
  assert.equal(JSON.parse(JSON.stringify(e)).laptop_url, `http://localhost:8123/?token=${TOKEN}`);
});

Deno.test("parseStat reads ppid and start time even when the command name has spaces", () => {
  const info = parseStat(
    "123 (a (b) c) S 45 123 123 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 98765 0 0",
  );
  assert.deepEqual(info, { pid: 123, ppid: 45, start: 98765 });
});

Deno.test("descendantsOf walks children and grandchildren only", () => {
  const procs = [
    { pid: 10, ppid: 1, start: 0 },
    { pid: 11, ppid: 10, start: 0 },
    { pid: 12, ppid: 11, start: 0 },
    { pid: 13, ppid: 1, start: 0 },
  ];
  assert.deepEqual(descendantsOf(procs, 10).map((p) => p.pid), [11, 12]);
});

Deno.test("stateDir follows XDG_STATE_HOME, else ~/.local/state", () => {
  assert.equal(stateDir({ XDG_STATE_HOME: "/s", HOME: "/h" }), "/s/legate-jupyter");
  assert.equal(stateDir({ HOME: "/h" }), "/h/.local/state/legate-jupyter");
  assert.equal(
    stateDir({ XDG_STATE_HOME: "relative", HOME: "/h" }),
    "/h/.local/state/legate-jupyter",
  );
});

Deno.test("writeServer writes a 0600 file in 0700 dirs that readServers and waitForServer find", async () => {
  await using tmp = await tempDir();
  const dir = join(tmp.path, "state", "legate-jupyter");
  const path = await writeServer(dir, record());
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
  assert.equal((await Deno.stat(join(dir, "servers"))).mode! & 0o777, 0o700);
  const all = await readServers(dir);
  assert.deepEqual(all.map((s) => s.record.id), ["1a2b3c4d"]);
  const found = await waitForServer(dir, (r) => r.host === "node01", { timeoutMs: 1000 });
  assert.equal(found?.token, TOKEN);
  await removeServer(dir, "1a2b3c4d");
  assert.deepEqual(await readServers(dir), []);
  assert.equal(await waitForServer(dir, () => true, { timeoutMs: 0 }), undefined);
});

Deno.test("writeServer tightens a state dir that was created group-readable", async () => {
  await using tmp = await tempDir();
  const dir = join(tmp.path, "legate-jupyter");
  await Deno.mkdir(dir, { mode: 0o755 });
  await Deno.chmod(dir, 0o755);
  await writeServer(dir, record());
  assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
});
