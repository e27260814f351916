#!/bin/sh
# Runs a command inside a root made by tests/stacks/root.sh, as that release's machine would:
#   tests/stacks/enter.sh ROOT COMMAND [ARG...]
# The command runs chrooted in private mount, PID and network namespaces (loopback only, so its
# servers, and a Slurm started there, never meet the machine's), with /proc, /dev, /sys and a
# fresh /tmp mounted, this repository bind-mounted at the same path (the working directory)
# and this machine's deno at /usr/local/bin/deno. The mounts live in the private namespace
# only: nothing stays mounted when the command ends, however it ends. The environment is clean
# apart from NO_COLOR and LJ_* variables. Exits with the command's status.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
[ $# -ge 2 ] || { echo "usage: tests/stacks/enter.sh ROOT COMMAND [ARG...]" >&2; exit 2; }
root=$(cd "$1" && pwd)
shift
[ -f "$root/.lj-stack" ] || { echo "enter: $root is not a root made by tests/stacks/root.sh" >&2; exit 2; }
deno=$(command -v deno) || { echo "enter: deno is not on PATH" >&2; exit 1; }
deno=$(readlink -f "$deno")

# What the command inherits: a clean environment, plus NO_COLOR and the LJ_* settings.
envs="NO_COLOR=${NO_COLOR:-1}"
for v in $(env | sed -n 's/^\(LJ_[A-Za-z0-9_]*\)=.*/\1/p'); do
  envs="$envs $v=$(printenv "$v")"
done

mkdir -p "$root$repo" "$root/usr/local/bin"
[ -e "$root/usr/local/bin/deno" ] || : >"$root/usr/local/bin/deno"

# shellcheck disable=SC2016
exec unshare --mount --pid --net --uts --fork --kill-child sh -c '
  set -e
  root=$1 repo=$2 deno=$3 envs=$4
  shift 4
  ip link set lo up
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount --rbind /sys "$root/sys"
  mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
  mount -t tmpfs -o mode=0755 tmpfs "$root/run"
  mount --bind "$repo" "$root$repo"
  mount --bind "$deno" "$root/usr/local/bin/deno"
  cd /
  # This sh is PID 1 of the namespace: it stays, so that orphans are reaped and TERM, INT and
  # HUP reach the command (PID 1 ignores signals it has no handler for).
  # shellcheck disable=SC2086
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 USER=root LOGNAME=root \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin $envs \
    sh -c "cd \"\$0\" && exec \"\$@\"" "$repo" "$@" <&0 &
  child=$!
  for s in TERM INT HUP; do trap "kill -$s $child 2>/dev/null" $s; done
  status=0
  while kill -0 "$child" 2>/dev/null; do
    wait "$child"
    status=$?
  done
  exit "$status"
' sh "$root" "$repo" "$deno" "$envs" "$@"
