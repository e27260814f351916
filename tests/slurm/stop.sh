#!/bin/sh
# Stops the Slurm that start.sh started: cancels every job, waits for the queue to drain, then
# signals only the PIDs recorded under $LJ_SLURM_DIR/run (each checked against its
# /proc/PID/cmdline) and waits for them to exit, SIGKILL after 15 s. `--purge` also removes the
# state directory. Safe to run when nothing is running.
set -u
DIR=${LJ_SLURM_DIR:-/tmp/lj-slurm}
CONF=/etc/slurm/slurm.conf
MARKER="written by legate-jupyter tests/slurm/start.sh"
say() { echo "slurm: $*" >&2; }
# cmdline_has PID WORD: /proc/PID/cmdline mentions WORD (quiet when PID is gone: a stale file).
cmdline_has() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -q "$2"; }

[ -d "$DIR/run" ] || { say "nothing to stop (no $DIR/run)"; exit 0; }

# Client calls are bounded: a controller that cannot be reached must not hold the stop up.
if timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; then
  ids=$(timeout 5 squeue -h -o %i 2>/dev/null)
  [ -n "$ids" ] && timeout 10 scancel $ids 2>/dev/null
  deadline=$(($(date +%s) + 10))
  while [ -n "$(timeout 5 squeue -h -o %i 2>/dev/null)" ] && [ "$(date +%s)" -lt "$deadline" ]; do
    sleep 0.1
  done
fi

# Daemons remove their PID files as they exit: read every PID before signalling any.
pids=""
for name in slurmd slurmctld munged; do
  pid=$(cat "$DIR/run/$name.pid" 2>/dev/null) || continue
  if cmdline_has "$pid" "$name"; then
    pids="$pids $pid"
  fi
done
[ -n "$pids" ] && kill -TERM $pids 2>/dev/null
i=0
for pid in $pids; do
  while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt 150 ]; then
      say "PID $pid ignored SIGTERM for 15s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null
      break
    fi
    sleep 0.1
  done
done
rm -f "$DIR"/run/*.pid
# Without our config, clients fail at once instead of waiting on a controller that is gone.
for f in "$CONF" /etc/slurm/cgroup.conf; do
  if [ -f "$f" ] && grep -q "$MARKER" "$f"; then rm -f "$f"; fi
done
[ "${1:-}" = --purge ] && rm -rf "$DIR"
say "stopped"
