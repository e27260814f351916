#!/bin/sh
# Brings up a four-host test cluster on this machine, as root, in a few seconds: a laptop,
# a login node (login1) and two compute nodes (node1, node2), each a network namespace with
# its own hostname, /etc/hosts and mounts; a test user whose home the cluster hosts share and
# the laptop does not; sshd on the cluster hosts; munged and a two-node Slurm (slurmctld on
# login1, slurmd on node1 and node2). Nothing of it touches the machine's own network,
# /etc files, munged or Slurm: every address lives in the cluster's namespaces, and every
# /etc file it changes is a private bind mount inside them. Idempotent: a healthy cluster is
# left running (its launcher refreshed); a broken one is taken down and built again.
# tests/cluster/down.sh removes all of it. The picture, and how to use it: README.md beside.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
. "$here/common.sh"

[ "$(id -u)" = 0 ] || die "up.sh must run as root (it creates namespaces and starts sshd, munged and Slurm)"
for exe in ip nsenter unshare setpriv script ssh ssh-keygen /usr/sbin/sshd /usr/sbin/munged \
  mungekey /usr/sbin/slurmctld /usr/sbin/slurmd sinfo scontrol squeue deno curl; do
  command -v "$exe" >/dev/null 2>&1 ||
    die "$exe is missing; install iproute2 util-linux openssh-server openssh-client munge slurmctld slurmd slurm-client curl (see .ci/apt-packages)"
done
DENO=$(readlink -f "$(command -v deno)")

# The launcher: the checkout, bind-mounted at $D/app on every host, run as one executable on
# PATH, the way a released binary runs (Deno.mainModule is this file, so the program names
# itself after it). Deno's cache is the user's own, in the home the cluster hosts share.
write_launcher() {
  cat >"$D/bin/legate-jupyter.tmp" <<EOF
#!/usr/bin/env -S $DENO run -A --quiet --config=$D/app/deno.json
// legate-jupyter on the test cluster (tests/cluster/up.sh): the checkout at $D/app, run as
// one executable on PATH, as a released binary is.
import { main } from "$D/app/mod.ts";
Deno.exit(await main(Deno.args));
EOF
  chmod 0755 "$D/bin/legate-jupyter.tmp"
  mv "$D/bin/legate-jupyter.tmp" "$D/bin/legate-jupyter"
  install -o "$LJC_UID" -g "$LJC_UID" -m 0755 "$D/bin/legate-jupyter" "$HOME_DIR/.local/bin/legate-jupyter"
  install -o "$GUEST_UID" -g "$GUEST_UID" -m 0755 "$D/bin/legate-jupyter" "$GUEST_HOME/.local/bin/legate-jupyter"
}

# Bounded: where the controller cannot be reached, one sinfo alone can take minutes.
node_states() { in_host login1 timeout 5 sinfo -h -N -o '%N=%T' 2>/dev/null | sort | tr '\n' ' '; }

# last_error LOG: the last error line a daemon wrote, for the one line that says why.
last_error() { grep -E 'error|fatal' "$1" 2>/dev/null | tail -n 1; }

healthy() {
  [ -f "$D/run/up" ] && [ "$(cat "$D/run/app-root" 2>/dev/null)" = "$ROOT" ] || return 1
  for h in $HOSTS; do holder_pid "$h" >/dev/null || return 1; done
  for h in $CLUSTER_HOSTS; do pid_runs "$D/run/sshd-$h.pid" sshd || return 1; done
  pid_runs "$D/munge/run/munged.pid" munged && pid_runs "$D/run/slurmctld.pid" slurmctld || return 1
  for n in $NODES; do pid_runs "$D/run/slurmd-$n.pid" slurmd || return 1; done
  case $(node_states) in *down* | *drain* | *fail* | *unk* | '') return 1 ;; esac
}

if healthy; then
  write_launcher
  say "already up (state in $D)"
  exit 0
fi
if [ -e "$D" ] || ip netns list | grep -q "^$LJC-"; then
  say "taking down a previous, unhealthy cluster first"
  "$here/down.sh"
fi

t0=$(now)
# From here on a failure takes down whatever was started, so that nothing is left behind and
# the next try starts clean; die has said why (down.sh is kept quiet so that its line is last).
trap 'rc=$?; if [ "$rc" != 0 ]; then "$here/down.sh" >/dev/null 2>&1 || true; fi' EXIT
for uid in "$LJC_UID" "$GUEST_UID"; do
  if getent passwd "$uid" >/dev/null 2>&1; then
    die "uid $uid is taken on this machine ($(getent passwd "$uid" | cut -d: -f1)); choose another with LJC_UID (the guest gets LJC_UID+1)"
  fi
done
umask 022
mkdir -p "$D"
: >"$D/.ljc-cluster"
mkdir -p "$D/run" "$D/log" "$D/etc/slurm" "$D/etc/empty" "$D/ssh" "$D/munge/run" "$D/app" \
  "$D/bin" "$D/slurm/ctld" "$D/slurm/d.node1" "$D/slurm/d.node2" "$D/home" \
  "$D/laptop-home"
chmod 0755 "$D" "$D/log"
chmod 0700 "$D/etc" "$D/ssh"
chmod 0755 "$D/etc/slurm" "$D/etc/empty"

# --- The machine's users plus the test user, in private copies of /etc's files. -----------
ours="^($LJC_USER|$LJC_GUEST):"
grep -Ev "$ours" /etc/passwd >"$D/etc/passwd"
echo "$LJC_USER:x:$LJC_UID:$LJC_UID:legate-jupyter test user:$HOME_DIR:/bin/bash" >>"$D/etc/passwd"
echo "$LJC_GUEST:x:$GUEST_UID:$GUEST_UID:another user of the cluster:$GUEST_HOME:/bin/bash" >>"$D/etc/passwd"
grep -Ev "$ours" /etc/group >"$D/etc/group"
echo "$LJC_USER:x:$LJC_UID:" >>"$D/etc/group"
echo "$LJC_GUEST:x:$GUEST_UID:" >>"$D/etc/group"
# No password hash leaves /etc/shadow: only locked or empty system entries, and '*' for the
# test user (sshd without PAM refuses a '!' account even with a key).
awk -F: '$2 !~ /^\$/' /etc/shadow | grep -Ev "$ours" >"$D/etc/shadow"
echo "$LJC_USER:*:19000:0:99999:7:::" >>"$D/etc/shadow"
echo "$LJC_GUEST:*:19000:0:99999:7:::" >>"$D/etc/shadow"
chmod 0644 "$D/etc/passwd" "$D/etc/group"
chmod 0640 "$D/etc/shadow"
chgrp shadow "$D/etc/shadow" 2>/dev/null || true

cat >"$D/etc/hosts.cluster" <<EOF
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
$(addr_of login1) login1
$(addr_of node1) node1
$(addr_of node2) node2
EOF
# The laptop knows itself and the login node, not the compute nodes.
cat >"$D/etc/hosts.laptop" <<EOF
127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
$(addr_of laptop) laptop
$(addr_of login1) login1
EOF
# Each host's /etc is an overlay: these files over the machine's /etc. (A file bound over
# /etc/passwd would lose its mount the moment the machine's useradd renames a new one into
# place; an overlay layer does not.)
for h in $HOSTS; do
  mkdir -p "$D/etc/top-$h"
  cp -p "$D/etc/passwd" "$D/etc/group" "$D/etc/shadow" "$D/etc/top-$h/"
  if [ "$h" = laptop ]; then cp "$D/etc/hosts.laptop" "$D/etc/top-$h/hosts"; else cp "$D/etc/hosts.cluster" "$D/etc/top-$h/hosts"; fi
  chmod 0644 "$D/etc/top-$h/hosts"
  chmod 0755 "$D/etc/top-$h"
done

# --- Homes: the cluster's (shared by login1, node1, node2) and the laptop's. ---------------
for home in "$HOME_DIR" "$LAPTOP_HOME" "$GUEST_HOME"; do
  mkdir -p "$home/.ssh" "$home/.local/bin"
  cat >"$home/.profile" <<'EOF'
# ~/.profile of the test user: as Debian's /etc/skel/.profile, private bin directories on PATH.
if [ -n "$BASH_VERSION" ] && [ -f "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi
if [ -d "$HOME/bin" ]; then PATH="$HOME/bin:$PATH"; fi
if [ -d "$HOME/.local/bin" ]; then PATH="$HOME/.local/bin:$PATH"; fi
EOF
  printf '%s\n' '# ~/.bashrc of the test user: nothing for non-interactive shells.' \
    'case $- in *i*) ;; *) return ;; esac' >"$home/.bashrc"
done
rmdir "$LAPTOP_HOME/.local/bin"
for h in $CLUSTER_HOSTS; do
  mkdir -p "$D/ssh/$h"
  ssh-keygen -q -t ed25519 -N '' -C "$h" -f "$D/ssh/$h/host_ed25519"
done
ssh-keygen -q -t ed25519 -N '' -C "$LJC_USER@cluster" -f "$HOME_DIR/.ssh/id_ed25519"
ssh-keygen -q -t ed25519 -N '' -C "$LJC_USER@laptop" -f "$LAPTOP_HOME/.ssh/id_ed25519"
ssh-keygen -q -t ed25519 -N '' -C "$LJC_GUEST@cluster" -f "$GUEST_HOME/.ssh/id_ed25519"
cat "$HOME_DIR/.ssh/id_ed25519.pub" "$LAPTOP_HOME/.ssh/id_ed25519.pub" >"$HOME_DIR/.ssh/authorized_keys"
# The laptop's user may log into the cluster as the guest too (a laptop whose user name is
# not the cluster's: the printed commands name the cluster user).
cat "$GUEST_HOME/.ssh/id_ed25519.pub" "$LAPTOP_HOME/.ssh/id_ed25519.pub" >"$GUEST_HOME/.ssh/authorized_keys"
# Host keys as a user who has answered "yes" once for each host (the laptop reaches the nodes
# only through login1, by name).
for h in $CLUSTER_HOSTS; do
  echo "$h,$(addr_of "$h") $(cut -d' ' -f1,2 "$D/ssh/$h/host_ed25519.pub")"
done >"$HOME_DIR/.ssh/known_hosts"
cp "$HOME_DIR/.ssh/known_hosts" "$LAPTOP_HOME/.ssh/known_hosts"
cp "$HOME_DIR/.ssh/known_hosts" "$GUEST_HOME/.ssh/known_hosts"
chown -R "$LJC_UID:$LJC_UID" "$HOME_DIR" "$LAPTOP_HOME"
chown -R "$GUEST_UID:$GUEST_UID" "$GUEST_HOME"
chmod 0700 "$HOME_DIR" "$LAPTOP_HOME" "$GUEST_HOME" "$HOME_DIR/.ssh" "$LAPTOP_HOME/.ssh" "$GUEST_HOME/.ssh"
write_launcher

# --- sshd configs (one per cluster host). ---------------------------------------------------
for h in $CLUSTER_HOSTS; do
  cat >"$D/ssh/$h/sshd_config" <<EOF
ListenAddress $(addr_of "$h"):22
HostKey $D/ssh/$h/host_ed25519
PidFile $D/run/sshd-$h.pid
UsePAM no
AllowUsers $LJC_USER $LJC_GUEST
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile .ssh/authorized_keys
AllowTcpForwarding yes
AllowStreamLocalForwarding yes
X11Forwarding no
PrintMotd no
PrintLastLog no
Subsystem sftp internal-sftp
EOF
done

# --- munged: the cluster's own, on a socket only the cluster's hosts see (/run/munge there). ---
MUNGE_UID=$(id -u munge) || die "no munge user; install the munge package"
MUNGE_GID=$(id -g munge)
mungekey --create --keyfile="$D/munge/munge.key" >/dev/null 2>&1 ||
  die "mungekey could not create $D/munge/munge.key"
chown -R "$MUNGE_UID:$MUNGE_GID" "$D/munge"
chmod 0700 "$D/munge"
chmod 0755 "$D/munge/run"
chmod 0400 "$D/munge/munge.key"

# --- Slurm: both nodes declare this machine's cores and half its memory each. -------------
nodeline=$(/usr/sbin/slurmd -C | head -n 1)
mem=$(printf '%s\n' "$nodeline" | sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p')
hw=$(printf '%s\n' "$nodeline" | sed -e 's/^NodeName=[^ ]* //' -e 's/ RealMemory=[0-9]*//' -e 's/ UpTime=.*//')
sed -e "s|@LJC@|$LJC|g" -e "s|@D@|$D|g" -e "s|@LOGIN@|$(addr_of login1)|" \
  "$here/slurm.conf.in" >"$D/etc/slurm/slurm.conf"
for n in $NODES; do
  echo "NodeName=$n NodeAddr=$(addr_of "$n") $hw RealMemory=$((mem / 2)) State=UNKNOWN"
done >>"$D/etc/slurm/slurm.conf"
echo "PartitionName=debug Nodes=node1,node2 Default=YES DefaultTime=00:30:00 MaxTime=02:00:00 State=UP" \
  >>"$D/etc/slurm/slurm.conf"
# slurmd initialises a cgroup plugin whatever the proctrack and task plugins, and fails where
# no cgroup file system is mounted ("No filesystem mounted on /sys/fs/cgroup"): 23.02 and
# later skip it with "disabled"; 22.05 is told to load cgroup/v1, which needs no mount until
# it is used, and these plugins never use it (as tests/slurm/start.sh does).
case $(/usr/sbin/slurmd -V 2>/dev/null | sed -n 's/^slurm[^ ]* \([0-9]*\)\..*/\1/p') in
  2[3-9] | [3-9][0-9]) echo "CgroupPlugin=disabled" >"$D/etc/slurm/cgroup.conf" ;;
  22) echo "CgroupPlugin=cgroup/v1" >"$D/etc/slurm/cgroup.conf" ;;
esac
chmod 0644 "$D/etc/slurm/"*
echo "$ROOT" >"$D/run/app-root"

# --- The network: a bridge in a namespace of its own, one veth per host, no route out. -----
sw=$(ns_of sw)
ip netns add "$sw"
ip -n "$sw" link set lo up
ip -n "$sw" link add br0 type bridge
ip -n "$sw" link set br0 up
for h in $HOSTS; do
  ns=$(ns_of "$h")
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  # Made inside the host's namespace, the peer moved straight into the switch's: no interface
  # of the cluster ever exists in the machine's own namespace.
  ip -n "$ns" link add eth0 type veth peer name "v-$h" netns "$sw"
  ip -n "$sw" link set "v-$h" master br0 up
  ip -n "$ns" addr add "$(addr_of "$h")/24" dev eth0
  ip -n "$ns" link set eth0 up
done

# --- One holder per host: its hostname and private mounts live as long as it does. ---------
# The checkout is the holder's argument, not a word of its script: its path may hold spaces.
for h in $HOSTS; do
  if [ "$h" = laptop ]; then
    mounts="mount --bind $D/etc/empty /etc/slurm
mount --bind $LAPTOP_HOME $HOME_DIR"
  else
    mounts="mount --bind $D/etc/slurm /etc/slurm
mount --bind $D/munge/run /run/munge"
  fi
  setsid nsenter --net="/run/netns/$(ns_of "$h")" -- \
    unshare --mount --uts --propagation private -- /bin/sh -c "set -e
hostname $h
mount -t tmpfs -o mode=0755,size=16m $LJC-run /run
mkdir /run/sshd /run/munge
mount -t overlay $LJC-etc -o lowerdir=$D/etc/top-$h:/etc /etc
mount --bind \"\$1\" $D/app
mount -o remount,bind,ro $D/app
$mounts
echo \$\$ >$D/run/$h.holder.tmp
mv $D/run/$h.holder.tmp $D/run/$h.holder
exec sleep infinity" sh "$ROOT" </dev/null >>"$D/log/holder-$h.log" 2>&1 &
done
i=0
for h in $HOSTS; do
  until holder_pid "$h" >/dev/null; do
    i=$((i + 1))
    [ "$i" -le 100 ] || die "host $h did not come up: $(cat "$D/log/holder-$h.log")"
    sleep 0.05
  done
done

# --- Daemons. sshd and munged write their PID files once they listen. Their stdio goes to a
# log: a daemon holding this script's stdout would keep whoever reads it waiting.
exec 3</dev/null 4>>"$D/log/daemons.log"
for h in $CLUSTER_HOSTS; do
  deny="DenyUsers nobody"
  case " $NODES " in *" $h "*) [ "${LJC_NODE_SSH:-allow}" = refuse ] && deny="DenyUsers $LJC_USER $LJC_GUEST" ;; esac
  in_host "$h" /usr/sbin/sshd -f "$D/ssh/$h/sshd_config" -E "$D/log/sshd-$h.log" -o "$deny" <&3 >&4 2>&4
done
echo "${LJC_NODE_SSH:-allow}" >"$D/run/node-ssh"
in_host login1 setpriv --reuid="$MUNGE_UID" --regid="$MUNGE_GID" --clear-groups -- \
  /usr/sbin/munged --key-file="$D/munge/munge.key" --pid-file=/run/munge/munged.pid \
  --log-file="$D/munge/munged.log" --seed-file="$D/munge/munged.seed" <&3 >&4 2>&4 ||
  die "munged did not start: $(tail -n 3 "$D/munge/munged.log" 2>/dev/null)"
in_host login1 /usr/sbin/slurmctld -i <&3 >&4 2>&4 ||
  die "slurmctld did not start: $(last_error "$D/log/slurmctld.log"); see $D/log/slurmctld.log"
deadline=$(($(date +%s) + 30))
until in_host login1 timeout 5 scontrol ping 2>/dev/null | grep -q 'is UP'; do
  [ "$(date +%s)" -lt "$deadline" ] ||
    die "slurmctld did not answer within 30s: $(last_error "$D/log/slurmctld.log"); see $D/log/slurmctld.log"
  sleep 0.1
done
for n in $NODES; do
  in_host "$n" /usr/sbin/slurmd <&3 >&4 2>&4 ||
    die "slurmd on $n did not start: $(last_error "$D/log/slurmd-$n.log"); see $D/log/slurmd-$n.log"
done
deadline=$(($(date +%s) + 30))
until [ "$(node_states)" = "node1=idle node2=idle " ]; do
  [ "$(date +%s)" -lt "$deadline" ] ||
    die "nodes not idle within 30s ($(node_states)): $(last_error "$D/log/slurmd-node1.log"); see $D/log/slurmd-*.log"
  sleep 0.1
done
for h in $CLUSTER_HOSTS; do
  i=0
  until pid_runs "$D/run/sshd-$h.pid" sshd; do
    i=$((i + 1))
    [ "$i" -le 100 ] || die "sshd on $h did not start; see $D/log/sshd-$h.log"
    sleep 0.05
  done
done
date +%s >"$D/run/up"
say "up in $(since "$t0")s: laptop $(addr_of laptop), login1 $(addr_of login1), node1 $(addr_of node1), node2 $(addr_of node2); user $LJC_USER, state in $D"
