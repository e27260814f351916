#!/bin/sh
# Runs the Jupyter-facing tests a second time, on the other Debian release's Jupyter stack: in
# the root tests/stacks/root.sh builds (or finds cached), through tests/stacks/enter.sh, with
# this repository's tests and this machine's deno. Prints deno's output, whose summary line
# ("ok | N passed | N failed | N ignored") scripts/test.sh adds to the machine's run. Where
# this machine cannot build a root (not root, not Debian 12 or 13, no debootstrap), or
# LJ_OTHER_STACK=0, it prints the reason and a summary of one skipped test; a build that fails
# counts as one failed test.
#   tests/stacks/test.sh [deno test options]
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

# The tests that meet Jupyter: kernelspecs, kernels through jupyter_client, the conformance
# suite, notebook, lab, servers, stop, kernel websockets, the browser, kernels in environments.
FILES="tests/install_e2e_test.ts tests/install_atomic_test.ts tests/list_e2e_test.ts
  tests/remove_e2e_test.ts tests/kernel_jupyter_test.ts tests/kernel_conformance_test.ts
  tests/kernel_websocket_test.ts tests/notebook_e2e_test.ts tests/notebook_faults_test.ts
  tests/servers_test.ts tests/notebook_browser_test.ts tests/remedy_e2e_test.ts
  tests/environment_e2e_test.ts"

summary() { echo "$1 | $2 passed | $3 failed | $4 ignored"; }

if [ "${LJ_OTHER_STACK:-1}" = 0 ]; then
  echo "stacks: the other Debian release's Jupyter stack is skipped (LJ_OTHER_STACK=0)"
  summary ok 0 0 1
  exit 0
fi
t0=$(date +%s)
root=$(sh "$here/root.sh")
rc=$?
if [ "$rc" = 3 ]; then
  echo "stacks: the other Debian release's Jupyter stack is skipped: this machine cannot build its root (see above)"
  summary ok 0 0 1
  exit 0
fi
if [ "$rc" != 0 ] || [ -z "$root" ]; then
  echo "stacks: building the other Debian release's root failed (see above)"
  summary FAILED 0 1 0
  exit 1
fi
release=$(sed -n 's/^release=//p' "$root/.lj-stack")
echo "stacks: running the Jupyter-facing tests on Debian $release's stack in $root (root ready after $(($(date +%s) - t0))s)"
# shellcheck disable=SC2086
NO_COLOR=1 sh "$here/enter.sh" "$root" deno test -A --parallel "$@" $FILES
