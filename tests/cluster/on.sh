#!/bin/sh
# on.sh [--root|--guest] [--tty] [--cwd DIR] HOST COMMAND: runs the shell command COMMAND on
# HOST of the test cluster (tests/cluster/up.sh), as the test user in a login shell with a
# clean environment, as a person logged in there would (with --tty: on a pseudo-terminal, as a
# terminal gives it; with --guest: as the cluster's other user; with --root: as root, for
# set-up and inspection). Its exit status is COMMAND's. Run as root on the machine.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

root="" tty="" cwd="" guest=""
while :; do
  case ${1:-} in
    --root) root=1 ;;
    --guest) guest=1 ;;
    --tty) tty=1 ;;
    --cwd) cwd=$2; shift ;;
    *) break ;;
  esac
  shift
done
[ $# -eq 2 ] || { echo "usage: on.sh [--root|--guest] [--tty] [--cwd DIR] HOST COMMAND" >&2; exit 2; }
host=$1
command=$2
pid=$(holder_pid "$host") || die "host $host is not up (run tests/cluster/up.sh)"
uid=$LJC_UID
if [ -n "$root" ]; then
  home=/root user=root
elif [ -n "$guest" ]; then
  [ "$host" != laptop ] || die "the guest user has no laptop"
  home=$GUEST_HOME user=$LJC_GUEST uid=$GUEST_UID
else
  home=$HOME_DIR user=$LJC_USER
fi
term=dumb
[ -n "$tty" ] && term=xterm
set -- env -i HOME="$home" USER="$user" LOGNAME="$user" SHELL=/bin/bash LANG=C.UTF-8 TERM="$term" \
  PATH=/usr/local/bin:/usr/bin:/bin
# q WORD: WORD quoted for a POSIX shell.
q() { printf '%s' "$1" | sed "s/'/'\\\\''/g; 1s/^/'/; \$s/\$/'/"; }
cd_home="cd || exit 1"
[ -n "$cwd" ] && cd_home="cd $(q "$cwd") || exit 1"
if [ -n "$tty" ]; then
  # script(1) gives the command a pseudo-terminal; -e returns the command's own status.
  set -- "$@" script -qfec "$cd_home; exec bash -l -c $(q "$command")" /dev/null
else
  set -- "$@" bash -l -c "$cd_home
$command"
fi
if [ -n "$root" ]; then
  exec nsenter -t "$pid" -n -u -m -r --wd=/ -- "$@"
fi
exec nsenter -t "$pid" -n -u -m -r --wd=/ -- setpriv --reuid="$uid" --regid="$uid" --init-groups -- "$@"
