/**
 * tests/stacks/: where the other Debian release's root can be neither built nor entered, the
 * second run skips with the reason and counts one skipped test, as the cluster's tests do.
 * The machine here can build one; the test makes one that cannot by running the script in a
 * chroot whose "/" is a plain directory, not a mount point (as a root entered with plain
 * chroot is): every top-level directory of the machine is bound into it, so everything the
 * script needs is there, and only "/" differs.
 */

import assert from "node:assert/strict";
import { ROOT, run, tempDir } from "./helpers.ts";

const SKIP = Deno.uid() !== 0
  ? " (skipped: needs root to make a chroot)"
  : (await run(["unshare", "--mount", "--propagation", "private", "true"], {
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    })).code !== 0
  ? " (skipped: no private mount namespace here to build the chroot in)"
  : "";

/**
 * Runs the shell script `script` with `args`, from the checkout, in a private mount namespace
 * (so that nothing it mounts outlives it), for at most `seconds`.
 */
function inPrivateMounts(
  seconds: number,
  script: string,
  args: string[],
  env: Record<string, string> = {},
) {
  return run(
    ["timeout", String(seconds), "unshare", "--mount", "--propagation", "private"]
      .concat(["sh", "-c", script, "sh", ...args]),
    {
      cwd: ROOT,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", LANG: "C.UTF-8", ...env },
    },
  );
}

/**
 * A shell script that runs `$@` chrooted into a plain directory holding binds of every
 * top-level directory. Run in a private mount namespace, with `$1` an empty directory: a tmpfs
 * mounted there holds the root's skeleton, so nothing of it outlives the namespace.
 */
const IN_PLAIN_ROOT = `
set -eu
mount -t tmpfs -o mode=0755 lj-plain "$1"
r="$1/root"
mkdir "$r"
shift
for entry in /*; do
  name=\${entry#/}
  if [ -L "$entry" ]; then ln -s "$(readlink "$entry")" "$r/$name"
  elif [ -d "$entry" ]; then mkdir "$r/$name" && mount --rbind "$entry" "$r/$name"
  fi
done
cd /
exec chroot "$r" sh -c 'cd "$0" && exec "$@"' "$@"
`;

Deno.test({
  name:
    "tests/stacks/test.sh skips with the reason, and counts one skipped test, in a root whose / is not a mount point (unshare cannot set its propagation)" +
    SKIP,
  ignore: SKIP !== "",
  async fn() {
    await using holder = await tempDir("lj-plain-root-");
    const r = await inPrivateMounts(120, IN_PLAIN_ROOT, [
      holder.path,
      ROOT,
      "sh",
      "tests/stacks/test.sh",
    ]);
    const out = r.stdout + r.stderr;
    assert.equal(r.code, 0, out);
    assert.match(out, /cannot make the private namespaces a root needs: .*unshare/, out);
    assert.match(out, /the other Debian release's Jupyter stack is skipped/);
    const summaries = r.stdout.split("\n").filter((l) => /^(ok|FAILED) \| /.test(l));
    assert.deepEqual(summaries, ["ok | 0 passed | 0 failed | 1 ignored"]);
  },
});

/**
 * A shell script that runs `$@` with `$1` made a root tests/stacks/enter.sh accepts, in a
 * private mount namespace: a tmpfs holding copies of `sh`, `env` and the libraries they load
 * (enter.sh binds the root onto itself, which would leave binds inside it behind), so nothing
 * of it, and nothing enter.sh writes into it, reaches the machine.
 */
const AS_ROOT = `
set -eu
mount -t tmpfs -o mode=0755 lj-enter "$1"
r="$1"
mkdir -p "$r/bin" "$r/usr/bin" "$r/usr/local/bin" "$r/etc" "$r/proc" "$r/dev" "$r/sys" \\
  "$r/tmp" "$r/run"
cp "$(readlink -f /bin/sh)" "$r/bin/sh"
cp "$(readlink -f /usr/bin/env)" "$r/usr/bin/env"
for lib in $(ldd /bin/sh /usr/bin/env | grep -o '/[^ :]*[.]so[^ :]*' | sort -u); do
  mkdir -p "$r$(dirname "$lib")"
  cp "$(readlink -f "$lib")" "$r$lib"
done
: >"$r/etc/hosts"
echo release=0 >"$r/.lj-stack"
shift
exec "$@"
`;

Deno.test({
  name:
    "tests/stacks/enter.sh hands the command its arguments and each LJ_ setting word for word, spaces and quotes included" +
    SKIP,
  ignore: SKIP !== "",
  async fn() {
    await using holder = await tempDir("lj-enter-root-");
    // The reason scripts/test.sh passes when the cluster cannot come up is such a value.
    const reason = `'mount --bind' failed:  "a b" $(x) \`y\``;
    const r = await inPrivateMounts(60, AS_ROOT, [
      holder.path,
      "sh",
      "tests/stacks/enter.sh",
      holder.path,
      "sh",
      "-c",
      'printf "[%s]\\n" "$LJ_CLUSTER_UNAVAILABLE" "$NO_COLOR" "$PWD" "$@"',
      "sh",
      "one arg",
      "it's",
    ], { LJ_CLUSTER_UNAVAILABLE: reason });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stdout, `[${reason}]\n[1]\n[${ROOT}]\n[one arg]\n[it's]\n`);
  },
});
