#!/bin/sh
# Runs a command inside a root made by tests/stacks/root.sh, as that release's machine would:
#   tests/stacks/enter.sh ROOT COMMAND [ARG...]
# The command runs chrooted in private mount, PID and network namespaces (loopback and one
# address of its own, so its servers, and a Slurm started there, never meet the machine's),
# with /proc, /dev, /sys, a fresh /tmp and /run, and the machine's /etc/hosts mounted, this
# repository bind-mounted at the same path (the working directory; it may be under /tmp) and
# this machine's deno at /usr/local/bin/deno. The mounts live in the private namespace
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

# What runs in the root: env's NAME=VALUE words (a clean environment, plus NO_COLOR and the
# LJ_* settings, each one word whatever its value holds: a reason with spaces and quotes is
# common), then a shell that enters the repository and runs the command.
# shellcheck disable=SC2016
set -- sh -c 'cd "$0" && exec "$@"' "$repo" "$@"
for v in $(env | sed -n 's/^\(LJ_[A-Za-z0-9_]*\)=.*/\1/p'); do
  set -- "$v=$(printenv "$v")" "$@"
done
set -- "NO_COLOR=${NO_COLOR:-1}" "$@"

mkdir -p "$root$repo" "$root/usr/local/bin"
[ -e "$root/usr/local/bin/deno" ] || : >"$root/usr/local/bin/deno"
[ -e "$root/etc/hosts" ] || : >"$root/etc/hosts"

# shellcheck disable=SC2016
exec unshare --mount --pid --net --uts --fork --kill-child sh -c '
  set -e
  root=$1 repo=$2 deno=$3
  shift 3
  ip link set lo up
  # And one address that is not loopback, on a veth pair inside the namespace (192.0.2.1,
  # TEST-NET-1, routed nowhere): resolvers asked for configured address families ignore
  # loopback, and Slurm 24.11 cannot listen without one.
  { ip link add lj-stack0 type veth peer name lj-stack1 &&
    ip addr add 192.0.2.1/32 dev lj-stack0 && ip link set lj-stack0 up &&
    ip link set lj-stack1 up; } 2>/dev/null || true
  # The root becomes a mount point of its own, so that tools run inside it (unshare,
  # debootstrap) can set mount propagation on "/" as on a machine.
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount --rbind /sys "$root/sys"
  mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
  mount -t tmpfs -o mode=0755 tmpfs "$root/run"
  # The host names of the machine, its own among them (Slurm and munge look it up).
  mount --bind /etc/hosts "$root/etc/hosts"
  # Made again now: a repository under /tmp or /run has its mount point on the fresh tmpfs.
  mkdir -p "$root$repo"
  mount --bind "$repo" "$root$repo"
  mount --bind "$deno" "$root/usr/local/bin/deno"
  cd /
  # This sh is PID 1 of the namespace: it stays, so that orphans are reaped and TERM, INT and
  # HUP reach the command (PID 1 ignores signals it has no handler for).
  chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 USER=root LOGNAME=root \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@" <&0 &
  child=$!
  for s in TERM INT HUP; do trap "kill -$s $child 2>/dev/null" $s; done
  status=0
  while kill -0 "$child" 2>/dev/null; do
    wait "$child"
    status=$?
  done
  exit "$status"
' sh "$root" "$repo" "$deno" "$@"
