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

[ -d "$DIR/run" ] || { say "nothing to stop (no $DIR/run)"; exit 0; }

if scontrol ping 2>/dev/null | grep -q 'is UP'; then
  ids=$(squeue -h -o %i 2>/dev/null)
  [ -n "$ids" ] && scancel $ids 2>/dev/null
  i=0
  while [ -n "$(squeue -h -o %i 2>/dev/null)" ] && [ "$i" -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
  done
fi

# Daemons remove their PID files as they exit: read every PID before signalling any.
pids=""
for name in slurmd slurmctld munged; do
  pid=$(cat "$DIR/run/$name.pid" 2>/dev/null) || continue
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$name"; then
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
if [ -f "$CONF" ] && grep -q "$MARKER" "$CONF"; then rm -f "$CONF"; fi
[ "${1:-}" = --purge ] && rm -rf "$DIR"
say "stopped"
