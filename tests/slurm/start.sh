#!/bin/sh
# Starts a real single-node Slurm (munged, slurmctld, slurmd) for the tests, as root, and waits
# until the node is idle. Idempotent: a healthy cluster it started earlier is left running; a
# broken or half-started one is stopped first. State, logs and PIDs live under $LJ_SLURM_DIR
# (default /tmp/lj-slurm); the config goes to /etc/slurm/slurm.conf, Slurm's default path, so
# clients need no SLURM_CONF. A slurm.conf this script did not write is never overwritten.
# When anything fails it says what and where the log is, and stops what it started, so that a
# failed start leaves nothing running (the tests then skip, with the reason).
# It needs no cgroup file system (a container, a chroot): proctrack/linuxproc, task/none, and
# a cgroup.conf that keeps slurmd from looking for one (see below).
# Recipe and pitfalls: /work/shared/reference/slurm-local.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
DIR=${LJ_SLURM_DIR:-/tmp/lj-slurm}
CONF=/etc/slurm/slurm.conf
CGROUP_CONF=/etc/slurm/cgroup.conf
MARKER="written by legate-jupyter tests/slurm/start.sh"
PARTITION=${LJ_SLURM_PARTITION:-debug}
TIMEOUT=${LJ_SLURM_TIMEOUT:-30}

say() { echo "slurm: $*" >&2; }

# What this run started, stopped again if it fails.
started=""
step="checking the set-up"

# cmdline_has PID WORD: /proc/PID/cmdline mentions WORD (quiet when PID is gone).
cmdline_has() { { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -q "$2"; }

# last_error NAME: the last errors Slurm's daemon NAME logged, on one line.
last_error() {
  { grep -E 'error|fatal' "$DIR/log/$1.log" | tail -n 3 | sed 's/^\[[^]]*\] //' | paste -sd '|' | sed 's/|/; /g'; } 2>/dev/null || true
}

undo() {
  for name in $started; do
    pid=$(cat "$DIR/run/$name.pid" 2>/dev/null) || continue
    cmdline_has "$pid" "$name" || continue
    kill -TERM "$pid" 2>/dev/null || continue
    i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
      sleep 0.1
      i=$((i + 1))
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$DIR/run/$name.pid"
  done
  if [ -f "$CONF" ] && grep -q "$MARKER" "$CONF"; then rm -f "$CONF"; fi
  if [ -f "$CGROUP_CONF" ] && grep -q "$MARKER" "$CGROUP_CONF"; then rm -f "$CGROUP_CONF"; fi
}

# die MESSAGE: says why, stops what this run started, exits 1.
die() {
  trap - EXIT
  say "$*"
  undo
  [ -z "$started" ] || say "stopped what this start had started ($started); nothing is left running"
  exit 1
}
# A command that fails under `set -e` lands here: name the step, never exit in silence.
trap 'rc=$?; [ "$rc" = 0 ] || die "failed while $step (exit $rc); logs in $DIR/log"' EXIT

[ "$(id -u)" = 0 ] || die "start.sh must run as root (it starts munged and the Slurm daemons)"
for exe in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd sinfo scontrol; do
  command -v "$exe" >/dev/null 2>&1 || die "$exe is missing; install slurmctld slurmd slurm-client munge (see .ci/apt-packages)"
done
for f in "$CONF" "$CGROUP_CONF"; do
  if [ -e "$f" ] && ! grep -q "$MARKER" "$f"; then
    trap - EXIT
    say "$f exists and was not written by this script; refusing to replace a real cluster's config"
    exit 1
  fi
done

# alive NAME: the PID recorded for NAME runs the expected program.
alive() {
  pid=$(cat "$DIR/run/$1.pid" 2>/dev/null) || return 1
  cmdline_has "$pid" "$1"
}

# Each client call is bounded: where the controller cannot be reached (no address but loopback,
# say), one `scontrol ping` alone can take minutes, and the loops below count wall-clock time.
node_state() { timeout 5 sinfo -h -n "$NODE" -o %T 2>/dev/null | head -n 1; }

# exited NAME TICKS: daemon NAME has died (its PID file, written once it has daemonized, names
# a process that is gone, or is still missing after 5 s, i.e. 50 ticks of the wait loops).
exited() {
  if [ -f "$DIR/run/$1.pid" ]; then ! alive "$1"; else [ "$2" -gt 50 ]; fi
}

NODE=$(hostname -s 2>/dev/null || hostname)
if [ -f "$DIR/run/slurmctld.pid" ] && alive slurmctld && alive slurmd && [ "$(node_state)" = idle ]; then
  trap - EXIT
  say "already running (node $NODE idle, state in $DIR)"
  exit 0
fi
if ls "$DIR"/run/*.pid >/dev/null 2>&1; then
  say "stopping a previous, unhealthy start first"
  "$here/stop.sh" || true
fi

t0=$(date +%s.%N)
step="preparing $DIR"
# Saved state (node DRAIN, old jobs) would survive a restart: start from nothing.
rm -rf "$DIR/spool" "$DIR/run" "$DIR/log"
mkdir -p "$DIR/spool/ctld" "$DIR/spool/d" "$DIR/run" "$DIR/log"
chmod 0755 "$DIR" "$DIR/log"

# munged: systemd normally creates /run/munge; munged refuses to run as root without --force.
step="starting munged"
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "reusing the munged already running (not started here, so not stopped either)"
else
  [ -f /etc/munge/munge.key ] || {
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  }
  mkdir -p /run/munge && chown munge:munge /run/munge && chmod 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid ||
    die "munged did not start; see /var/log/munge/munged.log"
  cp /run/munge/munged.pid "$DIR/run/munged.pid"
  started="munged"
  munge -n | unmunge >/dev/null || die "munged started but credentials do not verify; see /var/log/munge/munged.log"
fi

step="writing $CONF"
# The node line comes from slurmd -C so it matches the hardware exactly (a mismatch drains it).
nodeline=$(/usr/sbin/slurmd -C | head -n 1 | sed "s/^NodeName=[^ ]*/NodeName=$NODE/")
cpus=$(printf '%s\n' "$nodeline" | sed -n 's/.* CPUs=\([0-9]*\).*/\1/p')
mem=$(printf '%s\n' "$nodeline" | sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p')
defmem=$((mem / cpus / 2))
[ "$defmem" -gt 512 ] && defmem=512
mkdir -p /etc/slurm
sed -e "s|@MARKER@|$MARKER|" -e "s|@NODE@|$NODE|g" -e "s|@DIR@|$DIR|g" -e "s|@DEFMEM@|$defmem|" \
  -e "s|@PARTITION@|$PARTITION|" -e "s|@NODELINE@|$nodeline|" \
  "$here/slurm.conf.in" >"$CONF.tmp"
mv "$CONF.tmp" "$CONF"

# slurmd loads a cgroup plugin even with proctrack/linuxproc and task/none, which use none,
# and autodetection fails where there is no cgroup file system (a container, a chroot):
# "No filesystem mounted on /sys/fs/cgroup". 22.05 is told which plugin to load (cgroup/v1,
# which needs no mount until used); 23.02 and later have CgroupPlugin=disabled, needed too on
# a hybrid v1+v2 host, where 24.x stops with "Hybrid mode is not supported".
version=$(/usr/sbin/slurmd -V 2>/dev/null | sed -n 's/^slurm[^ ]* \([0-9]*\)\.\([0-9]*\).*/\1 \2/p')
set -- $version
major=${1:-0} minor=${2:-0}
rm -f "$CGROUP_CONF"
if [ "$major" -gt 23 ] || { [ "$major" -eq 23 ] && [ "$minor" -ge 2 ]; }; then
  printf '# %s\nCgroupPlugin=disabled\n' "$MARKER" >"$CGROUP_CONF"
elif [ "$major" -eq 22 ] && [ "$minor" -eq 5 ]; then
  printf '# %s\nCgroupPlugin=cgroup/v1\n' "$MARKER" >"$CGROUP_CONF"
fi

step="starting slurmctld"
/usr/sbin/slurmctld -i || die "slurmctld did not start: $(last_error slurmctld); see $DIR/log/slurmctld.log"
started="$started slurmctld"
i=0
deadline=$(($(date +%s) + TIMEOUT))
until timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; do
  i=$((i + 1))
  ! exited slurmctld "$i" || die "slurmctld exited: $(last_error slurmctld); see $DIR/log/slurmctld.log"
  [ "$(date +%s)" -lt "$deadline" ] || die "slurmctld did not answer within ${TIMEOUT}s; see $DIR/log/slurmctld.log"
  sleep 0.1
done

step="starting slurmd"
/usr/sbin/slurmd || die "slurmd did not start: $(last_error slurmd); see $DIR/log/slurmd.log"
started="$started slurmd"
i=0
deadline=$(($(date +%s) + TIMEOUT))
until [ "$(node_state)" = idle ]; do
  i=$((i + 1))
  ! exited slurmd "$i" || die "slurmd exited: $(last_error slurmd); see $DIR/log/slurmd.log"
  [ "$(date +%s)" -lt "$deadline" ] || die "node $NODE not idle within ${TIMEOUT}s (state: $(node_state)); see $DIR/log/slurmd.log"
  sleep 0.1
done
trap - EXIT
t1=$(date +%s.%N)
say "up: node $NODE idle in partition $PARTITION after $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}")s (state in $DIR)"
