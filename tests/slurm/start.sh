#!/bin/sh
# Starts a real single-node Slurm (munged, slurmctld, slurmd) for the tests, as root, and waits
# until the node is idle. Idempotent: a healthy cluster it started earlier is left running; a
# broken or half-started one is stopped first. State, logs and PIDs live under $LJ_SLURM_DIR
# (default /tmp/lj-slurm); the config goes to /etc/slurm/slurm.conf, Slurm's default path, so
# clients need no SLURM_CONF. A slurm.conf this script did not write is never overwritten.
# Recipe and pitfalls: /work/shared/reference/slurm-local.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
DIR=${LJ_SLURM_DIR:-/tmp/lj-slurm}
CONF=/etc/slurm/slurm.conf
MARKER="written by legate-jupyter tests/slurm/start.sh"
PARTITION=${LJ_SLURM_PARTITION:-debug}
TIMEOUT=${LJ_SLURM_TIMEOUT:-30}

say() { echo "slurm: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "start.sh must run as root (it starts munged and the Slurm daemons)"
for exe in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd sinfo scontrol; do
  command -v "$exe" >/dev/null 2>&1 || die "$exe is missing; install slurmctld slurmd slurm-client munge (see .ci/apt-packages)"
done
if [ -e "$CONF" ] && ! grep -q "$MARKER" "$CONF"; then
  die "$CONF exists and was not written by this script; refusing to replace a real cluster's config"
fi

# alive NAME: the PID recorded for NAME runs the expected program.
alive() {
  pid=$(cat "$DIR/run/$1.pid" 2>/dev/null) || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$1"
}

node_state() { sinfo -h -n "$NODE" -o %T 2>/dev/null | head -n 1; }

NODE=$(hostname -s 2>/dev/null || hostname)
if [ -f "$DIR/run/slurmctld.pid" ] && alive slurmctld && alive slurmd && [ "$(node_state)" = idle ]; then
  say "already running (node $NODE idle, state in $DIR)"
  exit 0
fi
if ls "$DIR"/run/*.pid >/dev/null 2>&1; then
  say "stopping a previous, unhealthy start first"
  "$here/stop.sh" || true
fi

t0=$(date +%s.%N)
# Saved state (node DRAIN, old jobs) would survive a restart: start from nothing.
rm -rf "$DIR/spool" "$DIR/run" "$DIR/log"
mkdir -p "$DIR/spool/ctld" "$DIR/spool/d" "$DIR/run" "$DIR/log"
chmod 0755 "$DIR" "$DIR/log"

# munged: systemd normally creates /run/munge; munged refuses to run as root without --force.
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "reusing the munged already running (not started here, so not stopped either)"
else
  [ -f /etc/munge/munge.key ] || {
    mungekey --create --keyfile=/etc/munge/munge.key
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  }
  mkdir -p /run/munge && chown munge:munge /run/munge && chmod 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  cp /run/munge/munged.pid "$DIR/run/munged.pid"
  munge -n | unmunge >/dev/null || die "munged started but credentials do not verify; see /var/log/munge/munged.log"
fi

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

/usr/sbin/slurmctld -i
i=0
until scontrol ping 2>/dev/null | grep -q 'is UP'; do
  i=$((i + 1))
  [ "$i" -le $((TIMEOUT * 10)) ] || die "slurmctld did not answer within ${TIMEOUT}s; see $DIR/log/slurmctld.log"
  sleep 0.1
done
/usr/sbin/slurmd
i=0
until [ "$(node_state)" = idle ]; do
  i=$((i + 1))
  [ "$i" -le $((TIMEOUT * 10)) ] || die "node $NODE not idle within ${TIMEOUT}s (state: $(node_state)); see $DIR/log/slurmd.log"
  sleep 0.1
done
t1=$(date +%s.%N)
say "up: node $NODE idle in partition $PARTITION after $(awk "BEGIN{printf \"%.2f\", $t1 - $t0}")s (state in $DIR)"
