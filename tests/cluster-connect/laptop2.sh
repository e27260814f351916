#!/bin/sh
# laptop2.sh up|down: a second laptop, "laptop2", on the test cluster of tests/cluster/up.sh,
# for the connect tests. They cut its network link for 20 s, give it an ssh config with
# ControlMaster and ProxyJump aliases, and count its logins on login1 by its address: on a
# laptop of their own, none of that reaches the other tests that use "laptop" meanwhile.
#
# Built like up.sh's hosts: a network namespace ($LJC-laptop2) with one veth into the
# cluster's switch (address .101, no route out), a holder process that owns its hostname and
# private mounts (the laptop's /etc files, an empty /etc/slurm, the checkout at $D/app, and a
# home of its own bound over the user's home path), its own key pair (added to the cluster's
# authorized_keys) and known_hosts. tests/cluster/on.sh runs commands on it like on any host.
# "down" ends its processes, deletes its namespace and home. Run as root; the cluster must be up.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$here/../.." && pwd)
. "$here/../cluster/common.sh"

H=laptop2
NS=$(ns_of "$H")
ADDR=$NET.101
HOME2=$D/laptop2-home/$LJC_USER

down() {
  if ip netns list 2>/dev/null | grep -q "^$NS\( \|\$\)"; then
    left=$(ip netns pids "$NS" 2>/dev/null | tr '\n' ' ')
    if [ -n "$left" ]; then
      # shellcheck disable=SC2086
      kill -TERM $left 2>/dev/null || true
      i=0
      while [ -n "$(ip netns pids "$NS" 2>/dev/null)" ] && [ "$i" -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
      done
      left=$(ip netns pids "$NS" 2>/dev/null | tr '\n' ' ')
      # shellcheck disable=SC2086
      [ -z "$left" ] || kill -KILL $left 2>/dev/null || true
    fi
    ip netns del "$NS" 2>/dev/null || true
  fi
  sw=$(ns_of sw)
  if ip netns list 2>/dev/null | grep -q "^$sw\( \|\$\)"; then
    ip -n "$sw" link del "v-$H" 2>/dev/null || true
  fi
  rm -f "$D/run/$H.holder" "$D/run/$H-by-test"
  case $D in /tmp/?* | /var/tmp/?*) [ -f "$D/.ljc-cluster" ] && rm -rf "$D/laptop2-home" ;; esac
  return 0
}

up() {
  [ -f "$D/run/up" ] || die "the cluster is not up (run tests/cluster/up.sh)"
  if holder_pid "$H" >/dev/null 2>&1 && [ -d "$HOME2/.ssh" ]; then
    return 0
  fi
  down
  mkdir -p "$HOME2/.ssh" "$HOME2/.local/bin"
  cp "$D/laptop-home/$LJC_USER/.profile" "$D/laptop-home/$LJC_USER/.bashrc" "$HOME2/"
  cp "$D/laptop-home/$LJC_USER/.ssh/known_hosts" "$HOME2/.ssh/"
  ssh-keygen -q -t ed25519 -N '' -C "$LJC_USER@$H" -f "$HOME2/.ssh/id_ed25519"
  grep -qF "$LJC_USER@$H" "$HOME_DIR/.ssh/authorized_keys" 2>/dev/null &&
    sed -i "/ $LJC_USER@$H\$/d" "$HOME_DIR/.ssh/authorized_keys"
  cat "$HOME2/.ssh/id_ed25519.pub" >>"$HOME_DIR/.ssh/authorized_keys"
  install -m 0755 "$D/bin/legate-jupyter" "$HOME2/.local/bin/legate-jupyter"
  chown -R "$LJC_UID:$LJC_UID" "$D/laptop2-home"
  chmod 0700 "$HOME2" "$HOME2/.ssh"

  sw=$(ns_of sw)
  ip netns add "$NS"
  ip -n "$NS" link set lo up
  ip -n "$NS" link add eth0 type veth peer name "v-$H" netns "$sw"
  ip -n "$sw" link set "v-$H" master br0 up
  ip -n "$NS" addr add "$ADDR/24" dev eth0
  ip -n "$NS" link set eth0 up
  setsid nsenter --net="/run/netns/$NS" -- \
    unshare --mount --uts --propagation private -- /bin/sh -c "set -e
hostname $H
mount -t tmpfs -o mode=0755,size=16m $LJC-run /run
mount -t overlay $LJC-etc2 -o lowerdir=$D/etc/top-laptop:/etc /etc
mount --bind \"\$1\" $D/app
mount -o remount,bind,ro $D/app
mount --bind $D/etc/empty /etc/slurm
mount --bind $HOME2 $HOME_DIR
echo \$\$ >$D/run/$H.holder.tmp
mv $D/run/$H.holder.tmp $D/run/$H.holder
exec sleep infinity" sh "$ROOT" </dev/null >>"$D/log/holder-$H.log" 2>&1 &
  i=0
  until holder_pid "$H" >/dev/null; do
    i=$((i + 1))
    [ "$i" -le 100 ] || die "$H did not come up: $(cat "$D/log/holder-$H.log")"
    sleep 0.05
  done
}

[ "$(id -u)" = 0 ] || die "laptop2.sh must run as root"
case ${1:-} in
  up) up ;;
  down) down ;;
  *)
    echo "usage: laptop2.sh up|down" >&2
    exit 2
    ;;
esac
