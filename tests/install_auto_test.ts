import assert from "node:assert/strict";
import { isolatedEnv, runCli, tempDir } from "./helpers.ts";

Deno.test("install --auto sizes unset options from this machine and lets explicit flags win", async () => {
  await using d = await tempDir();
  const r = await runCli(
    ["install", "--auto", "--dry-run", "--json", "--python", "/usr/bin/python3", "--cpus", "1"],
    { env: isolatedEnv(d.path) },
  );
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  const core = result.kernel_json.metadata.legate.core;
  assert.equal(core.cpus, 1, "the explicit --cpus wins");
  assert.equal(core.gpus, 0, "no GPU on this machine");
  const memory = result.kernel_json.metadata.legate.memory;
  const totalMib = Number(/MemTotal:\s+(\d+)/.exec(await Deno.readTextFile("/proc/meminfo"))![1]) /
    1024;
  assert.ok(
    memory.sysmem > 0 && memory.sysmem <= totalMib,
    `sysmem ${memory.sysmem} within ${totalMib}`,
  );
  assert.match(result.kernel_json.env.LEGATE_CONFIG, /^--cpus 1 --gpus 0 /);
  assert.equal(result.installed, false);
});
