#!/bin/sh
# The test command: sets up what the tests need (scripts/setup.sh), starts the services they
# use, runs every test, stops the services, and ends with one line `N passed, N failed`.
set -u
cd "$(dirname "$0")/.."
sh scripts/setup.sh || exit 1

services_started=""
if [ -x tests/slurm/start.sh ]; then
  if tests/slurm/start.sh >&2; then services_started=slurm; else echo "test: Slurm did not start; its tests will skip with the reason" >&2; fi
fi

# The four-host cluster of tests/cluster/ (laptop, login1, node1, node2), for the tests that
# cross hosts; where it cannot be built they skip with the reason.
cluster=""
if [ "$(id -u)" = 0 ] && [ -f tests/cluster/up.sh ]; then
  cluster=1
  sh tests/cluster/up.sh || echo "test: the test cluster did not come up; its tests will say why" >&2
fi

log=$(mktemp)
rcfile=$(mktemp)
{ NO_COLOR=1 deno test -A --parallel "$@" tests/ 2>&1; echo $? >"$rcfile"; } | tee "$log"
status=$(cat "$rcfile")
rm -f "$rcfile"

[ -n "$cluster" ] && sh tests/cluster/down.sh
[ "$services_started" = slurm ] && tests/slurm/stop.sh >&2

# deno's summary looks like: "ok | 12 passed (3 steps) | 0 failed | 1 ignored (4s)"
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1)
rm -f "$log"
passed=$(printf '%s' "$summary" | sed -n 's/.*| \([0-9]*\) passed.*/\1/p')
failed=$(printf '%s' "$summary" | sed -n 's/.*| \([0-9]*\) failed.*/\1/p')
ignored=$(printf '%s' "$summary" | sed -n 's/.*| \([0-9]*\) ignored.*/\1/p')
if [ -z "$passed" ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
if [ -n "$ignored" ] && [ "$ignored" != 0 ]; then
  echo "${passed} passed, ${failed:-0} failed, ${ignored} skipped"
else
  echo "${passed} passed, ${failed:-0} failed"
fi
[ "${failed:-0}" = 0 ] && [ "$status" = 0 ]
