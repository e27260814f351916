#!/bin/sh
# The test command: sets up what the tests need (scripts/setup.sh), starts the services they
# use, runs every test, stops the services, runs the Jupyter-facing tests again on the other
# Debian release's stack (tests/stacks/test.sh), and ends with one line `N passed, N failed`
# for both runs (`N passed, N failed, N skipped` when tests skip; deno calls them "ignored").
set -u
cd "$(dirname "$0")/.."
# Even when set-up fails, the last line is the summary.
sh scripts/setup.sh || { echo "test: set-up failed (see above); no test ran" >&2; echo "0 passed, 1 failed"; exit 1; }

services_started=""
if [ -x tests/slurm/start.sh ]; then
  # On failure start.sh says why and stops what it started; the Slurm tests then skip.
  if tests/slurm/start.sh >&2; then services_started=slurm; else echo "test: Slurm did not start (why is above); its tests will skip with the reason" >&2; fi
fi

# The four-host cluster of tests/cluster/ (laptop, login1, node1, node2), for the tests that
# cross hosts; where it cannot be built they skip with up.sh's reason (LJ_CLUSTER_UNAVAILABLE),
# and up.sh has left nothing behind.
cluster=""
if [ "$(id -u)" = 0 ] && [ -f tests/cluster/up.sh ]; then
  uplog=$(mktemp)
  if sh tests/cluster/up.sh 2>"$uplog"; then
    cluster=1
    # This run takes it down at the end, not a test process that finds it up (a marker left
    # by a test file run alone that built it earlier would say otherwise).
    rm -f "${LJC_DIR:-/tmp/${LJC:-ljc}}/run/up-by-test"
  else
    LJ_CLUSTER_UNAVAILABLE=$(tail -n 1 "$uplog")
    export LJ_CLUSTER_UNAVAILABLE="${LJ_CLUSTER_UNAVAILABLE:-tests/cluster/up.sh failed}"
    echo "test: the test cluster did not come up; its tests skip with the reason" >&2
  fi
  cat "$uplog" >&2
  rm -f "$uplog"
fi

log=$(mktemp)
rcfile=$(mktemp)
{ NO_COLOR=1 deno test -A --parallel "$@" tests/ 2>&1; echo $? >"$rcfile"; } | tee "$log"
status=$(cat "$rcfile")
rm -f "$rcfile"

# connect's tests add a laptop of their own to the cluster (tests/cluster-connect/laptop2.sh).
[ -n "$cluster" ] && sh tests/cluster-connect/laptop2.sh down
[ -n "$cluster" ] && sh tests/cluster/down.sh
[ "$services_started" = slurm ] && tests/slurm/stop.sh >&2

# The Jupyter-facing tests again, on the other Debian release's stack, in a cached root
# (Debian 13 on a Debian 12 machine, and the reverse): tests/stacks/test.sh.
stacklog=$(mktemp)
stackrc=$(mktemp)
{ NO_COLOR=1 sh tests/stacks/test.sh "$@" 2>&1; echo $? >"$stackrc"; } | tee "$stacklog"
stack_status=$(cat "$stackrc")
rm -f "$stackrc"

# deno's summary looks like: "ok | 12 passed (3 steps) | 0 failed | 1 ignored (4s)"; the line
# at the end adds up both runs.
count() { # count LOG WORD: WORD's number in LOG's last summary line (empty: no summary)
  grep -E '^(ok|FAILED) \| [0-9]+ passed' "$1" | tail -n 1 | sed -n "s/.*| \([0-9]*\) $2.*/\1/p"
}
if [ -z "$(count "$log" passed)" ] || [ -z "$(count "$stacklog" passed)" ]; then
  rm -f "$log" "$stacklog"
  echo "0 passed, 1 failed"
  exit 1
fi
total() { a=$(count "$log" "$1"); b=$(count "$stacklog" "$1"); echo $((${a:-0} + ${b:-0})); }
passed=$(total passed)
failed=$(total failed)
ignored=$(total ignored)
rm -f "$log" "$stacklog"
if [ "$ignored" != 0 ]; then
  echo "${passed} passed, ${failed} failed, ${ignored} skipped"
else
  echo "${passed} passed, ${failed} failed"
fi
[ "$failed" = 0 ] && [ "$status" = 0 ] && [ "$stack_status" = 0 ]
