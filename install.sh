#!/bin/sh
# Installs the legate-jupyter binary for this machine, without root:
#
#   curl -fsSL https://github.com/nv-legate/legate-jupyter/releases/latest/download/install.sh | sh
#   wget -qO- https://github.com/nv-legate/legate-jupyter/releases/latest/download/install.sh | sh
#
# It picks the release asset for this OS and CPU, downloads it and its .sha256 with curl or wget,
# refuses it unless the checksum matches, and puts `legate-jupyter` in $PREFIX/bin.
#
#   PREFIX                    install into $PREFIX/bin (default: $HOME/.local)
#   LEGATE_JUPYTER_VERSION    a release such as 0.2.0 or v0.2.0 (default: the latest)
#   LEGATE_JUPYTER_BASE_URL   where releases live; assets are fetched from
#                             BASE/latest/download/ASSET or BASE/download/vVERSION/ASSET
#                             (default: the GitHub releases page; a mirror for air-gapped sites)
#
# Everything runs inside main(), called on the last line, so a download cut short part-way
# through never runs half a script.
set -eu

BASE_URL_DEFAULT="https://github.com/nv-legate/legate-jupyter/releases"
NAME="legate-jupyter"

die() {
  echo "install.sh: error: $*" >&2
  exit 1
}

say() {
  echo "install.sh: $*" >&2
}

# Prints the release target (Deno's triple) for this machine, or fails naming what it found.
detect_target() {
  os=$(uname -s 2>/dev/null) || die "cannot run 'uname -s' to find the operating system"
  arch=$(uname -m 2>/dev/null) || die "cannot run 'uname -m' to find the CPU architecture"
  case "$arch" in
  x86_64 | amd64) cpu=x86_64 ;;
  aarch64 | arm64) cpu=aarch64 ;;
  *) cpu="" ;;
  esac
  case "$os" in
  Linux) sys=unknown-linux-gnu ;;
  Darwin)
    sys=apple-darwin
    # A shell under Rosetta reports x86_64 on Apple silicon; the native build is the right one.
    if [ "$cpu" = x86_64 ] && [ "$(sysctl -n hw.optional.arm64 2>/dev/null || true)" = 1 ]; then
      cpu=aarch64
    fi
    ;;
  *) sys="" ;;
  esac
  if [ -z "$cpu" ] || [ -z "$sys" ]; then
    die "no $NAME build for $os/$arch; builds exist for Linux and macOS (Darwin) on x86_64 and aarch64 (build from source with 'deno task compile' elsewhere)"
  fi
  echo "$cpu-$sys"
}

# download URL FILE: with curl, or wget when there is no curl. Fails naming the URL.
download() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsSL --retry 2 -o "$2" "$1" || die "download failed: $1 (curl exit $?)"
  elif command -v wget >/dev/null 2>&1; then
    wget -q -O "$2" "$1" || die "download failed: $1 (wget exit $?)"
  else
    die "needs curl or wget to download; install one of them (or download $1 by hand)"
  fi
}

# Prints the SHA-256 of FILE with sha256sum (Linux) or shasum (macOS).
sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  else
    die "needs sha256sum or shasum to verify the download; install coreutils or perl's shasum"
  fi
}

main() {
  target=$(detect_target)
  asset="$NAME-$target.tar.gz"
  base=${LEGATE_JUPYTER_BASE_URL:-$BASE_URL_DEFAULT}
  base=${base%/}
  version=${LEGATE_JUPYTER_VERSION:-latest}
  case "$version" in
  latest) url="$base/latest/download/$asset" ;;
  v*) url="$base/download/$version/$asset" ;;
  *) url="$base/download/v$version/$asset" ;;
  esac
  prefix=${PREFIX:-${HOME:?install.sh: error: HOME is not set; set PREFIX to where bin/ should go}/.local}
  bindir="$prefix/bin"

  command -v tar >/dev/null 2>&1 || die "needs tar to unpack $asset; install tar"
  command -v gzip >/dev/null 2>&1 || die "needs gzip to unpack $asset; install gzip"

  tmp=$(mktemp -d 2>/dev/null || mktemp -d -t legate-jupyter) || die "cannot create a temporary directory"
  # shellcheck disable=SC2064 # expand $tmp now: it is local to this run
  trap "rm -rf '$tmp'" EXIT
  trap 'exit 1' HUP INT TERM

  say "downloading $url"
  download "$url" "$tmp/$asset"
  download "$url.sha256" "$tmp/$asset.sha256"

  # The .sha256 holds "HASH  NAME" (sha256sum's format); only the hash matters.
  expected=$(tr -d '\r' <"$tmp/$asset.sha256" | awk 'NR == 1 { print tolower($1) }')
  printf '%s' "$expected" | grep -Eq '^[0-9a-f]{64}$' ||
    die "$url.sha256 does not hold a SHA-256 checksum; refusing to install"
  actual=$(sha256_of "$tmp/$asset")
  [ "$actual" = "$expected" ] ||
    die "checksum mismatch for $asset (expected $expected, got $actual); the download is corrupt or tampered with, nothing was installed"
  say "checksum verified ($actual)"

  mkdir "$tmp/unpacked"
  gzip -dc "$tmp/$asset" | (cd "$tmp/unpacked" && tar -xf -) || die "cannot unpack $asset"
  [ -f "$tmp/unpacked/$NAME" ] || die "$asset holds no '$NAME' file; nothing was installed"

  mkdir -p "$bindir" 2>/dev/null || die "cannot create $bindir; set PREFIX to a directory you can write"
  [ -w "$bindir" ] || die "cannot write to $bindir; set PREFIX to a directory you can write (no root needed)"
  # Copy next to the target and rename: atomic, and safe while an old copy is running.
  # Run it there first (not from $tmp, which is often mounted noexec on clusters): a binary that
  # cannot run here, e.g. on a glibc older than it needs, must not replace a working one.
  new="$bindir/.$NAME.new.$$"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp' '$new'" EXIT
  cp "$tmp/unpacked/$NAME" "$new" || die "cannot write to $bindir"
  chmod 755 "$new"
  installed=$("$new" --version 2>&1) ||
    die "$asset does not run on this machine ($(echo "$installed" | head -n 1)); nothing was installed"
  mv -f "$new" "$bindir/$NAME" || die "cannot install $bindir/$NAME"
  say "installed $bindir/$NAME: $installed"

  case ":${PATH:-}:" in
  *":$bindir:"*) ;;
  *)
    say "$bindir is not on your PATH; add it, e.g.:"
    echo "  echo 'export PATH=\"$bindir:\$PATH\"' >> ~/.bashrc && . ~/.bashrc" >&2
    ;;
  esac
}

main "$@"
