#!/bin/sh
# Builds, once, a root of the other Debian release with its Jupyter stack, and prints its path:
# Debian 13 (JupyterLab 4, jupyter_server 2, jupyter_client 8) on a Debian 12 machine, Debian 12
# (notebook 6.4, jupyter_server 1.23, jupyter_client 7.4) on a Debian 13 one. The packages are
# the "stack" lines of .ci/apt-packages for that release (--all: every line, for running the
# whole suite in the root). The root is cached under $LJ_STACK_CACHE (default
# /var/cache/legate-jupyter-tests/roots), keyed by release, package list and this recipe: a
# second call prints the same path at once; a build killed half-way leaves only a temporary
# directory that the next build removes. Needs root, debootstrap and the Debian mirror.
#   tests/stacks/root.sh [--release 12|13] [--all]
# Exit status: 0 with the path on stdout; 1 when the build failed; 3 when this machine cannot
# build or enter one (not root, not Debian, no debootstrap, no private namespaces, no mirror),
# with the reason on stderr.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
CACHE=${LJ_STACK_CACHE:-/var/cache/legate-jupyter-tests/roots}
MIRROR=${LJ_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Bump when the recipe below changes what a root holds.
RECIPE=1

say() { echo "stack-root: $*" >&2; }
cannot() { say "$*"; exit 3; }

release="" all=""
while [ $# -gt 0 ]; do
  case $1 in
    --release) release=$2; shift 2 ;;
    --all) all=1; shift ;;
    *) say "unknown argument '$1'; use --release 12|13 or --all"; exit 2 ;;
  esac
done
host=$(sh "$repo/scripts/debian-release.sh" 2>/dev/null) || cannot "not a Debian machine (no usable /etc/debian_version)"
if [ -z "$release" ]; then
  case $host in
    12) release=13 ;;
    13) release=12 ;;
    *) cannot "no other stack is defined for Debian $host (only 12 and 13)" ;;
  esac
fi
case $release in
  12) suite=bookworm ;;
  13) suite=trixie ;;
  *) say "--release must be 12 or 13, not '$release'"; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || cannot "building a Debian root needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null 2>&1 || cannot "debootstrap is not installed (apt-get install debootstrap)"
command -v unshare >/dev/null 2>&1 || cannot "unshare is not installed (apt-get install util-linux)"
# Building a root and entering it (enter.sh) both need private mount, PID, network and UTS
# namespaces, and a "/" whose propagation can be changed: an unprivileged container, or a chroot
# whose "/" is not a mount point, has neither. Asked once here, before any cache or build.
probe=$(mktemp -d)
why=$(unshare --mount --pid --net --uts --fork --kill-child sh -c 'mount -t tmpfs lj-probe "$1"' sh "$probe" 2>&1) ||
  { rmdir "$probe"; cannot "this machine cannot make the private namespaces a root needs: $(echo "$why" | tail -n 1)"; }
rmdir "$probe"

if [ -n "$all" ]; then
  packages=$(sh "$repo/scripts/apt-packages.sh" --release "$release" | tr '\n' ' ')
else
  packages=$(sh "$repo/scripts/apt-packages.sh" --release "$release" --stack | tr '\n' ' ')
fi
key=$(printf '%s\n' "$RECIPE" "$suite" "$MIRROR" "$packages" | sha256sum | cut -c1-12)
root="$CACHE/$suite-$key"

mkdir -p "$CACHE"
# One builder at a time per root; a second caller waits, then finds the root ready.
exec 9>"$root.lock"
flock 9
if [ -f "$root/.lj-stack" ]; then
  echo "$root"
  exit 0
fi

# Without the mirror there is nothing to build from: that is this machine's network, not a
# failure of the recipe.
if command -v wget >/dev/null 2>&1; then
  wget -q -T 15 -t 1 -O /dev/null "$MIRROR/dists/$suite/Release" ||
    cannot "the Debian mirror $MIRROR cannot be reached (set LJ_DEBIAN_MIRROR to one that can)"
fi

t0=$(date +%s)
tmp="$root.build"
rm -rf "$tmp"
say "building a Debian $release ($suite) root in $root (first time only; a few minutes)"
say "packages: $packages"
log="$CACHE/$suite-$key.log"
: >"$log"

# inroot CMD...: runs CMD in the root being built, in private mount and PID namespaces, so that
# /proc and /dev are mounted only there and any daemon a package starts ends with the command.
inroot() {
  unshare --mount --pid --fork --kill-child sh -c '
    set -e
    mount -t proc proc "$0/proc"
    mount --rbind /dev "$0/dev"
    exec chroot "$0" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
      DEBIAN_FRONTEND=noninteractive "$@"' "$tmp" "$@"
}

fail() {
  say "$1; its log: $log"
  tail -n 20 "$log" | sed 's/^/  | /' >&2
  rm -rf "$tmp"
  exit 1
}

# A minimal base first; apt inside it resolves the Jupyter stack (debootstrap's own resolver
# leaves JupyterLab's Node.js dependencies unconfigured). debootstrap mounts /proc and /sys in
# the target: a private mount namespace keeps those mounts from outliving it.
unshare --mount --fork --kill-child debootstrap --variant=minbase "$suite" "$tmp" "$MIRROR" \
  >>"$log" 2>&1 ||
  fail "debootstrap $suite failed"

# Nothing in the root is a service to start; skip documentation; write without fsync; no
# recommended packages.
printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
chmod 0755 "$tmp/usr/sbin/policy-rc.d"
cat >"$tmp/etc/dpkg/dpkg.cfg.d/legate-jupyter-tests" <<'EOF'
force-unsafe-io
path-exclude=/usr/share/doc/*
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
EOF
cat >"$tmp/etc/apt/apt.conf.d/90legate-jupyter-tests" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Acquire::Retries "3";
EOF

# shellcheck disable=SC2086
{ inroot apt-get update -q && inroot apt-get install -y -q $packages && inroot apt-get clean; } \
  >>"$log" 2>&1 || fail "apt-get install in the $suite root failed"

seconds=$(($(date +%s) - t0))
printf 'release=%s\nsuite=%s\npackages=%s\nbuilt=%s\nseconds=%s\n' \
  "$release" "$suite" "$packages" "$(date -u +%FT%TZ)" "$seconds" >"$tmp/.lj-stack"
mv "$tmp" "$root"
say "built in ${seconds}s: $root ($(du -sh "$root" | cut -f1))"
echo "$root"
