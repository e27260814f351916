#!/bin/sh
# node-ssh.sh allow|refuse: whether sshd on the compute nodes lets the users in. "refuse" is a
# site without pam_slurm_adopt: sshd on node1 and node2 denies both users (DenyUsers), while
# login1 still lets them in. Each node's sshd is restarted with the setting (existing
# sessions live on); it returns once the new one listens. Prints nothing; the setting is kept
# in $D/run/node-ssh for up.sh's health check and the tests.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

case ${1:-} in
  allow | refuse) want=$1 ;;
  *) echo "usage: node-ssh.sh allow|refuse" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || die "node-ssh.sh must run as root"
[ -f "$D/run/up" ] || die "the cluster is not up (run tests/cluster/up.sh)"
[ "$(cat "$D/run/node-ssh" 2>/dev/null)" = "$want" ] && exit 0
for n in $NODES; do
  pidfile=$D/run/sshd-$n.pid
  if pid_runs "$pidfile" sshd; then
    old=$(cat "$pidfile")
    kill -TERM "$old"
    i=0
    while alive "$old"; do
      i=$((i + 1))
      [ "$i" -le 100 ] || die "sshd on $n (pid $old) did not exit"
      sleep 0.02
    done
  fi
  rm -f "$pidfile"
  deny="DenyUsers nobody"
  [ "$want" = refuse ] && deny="DenyUsers $LJC_USER $LJC_GUEST"
  in_host "$n" /usr/sbin/sshd -f "$D/ssh/$n/sshd_config" -E "$D/log/sshd-$n.log" -o "$deny" \
    </dev/null >>"$D/log/daemons.log" 2>&1
  i=0
  until pid_runs "$pidfile" sshd; do
    i=$((i + 1))
    [ "$i" -le 250 ] || die "sshd on $n did not start; see $D/log/sshd-$n.log"
    sleep 0.02
  done
done
echo "$want" >"$D/run/node-ssh"
