#!/bin/sh
# Installs what the program and its tests need on a fresh Debian machine, and nothing twice:
# Deno from the npm registry, and the Debian packages listed in .ci/apt-packages for this Debian
# release (with --run: only Jupyter and ipykernel, enough to install and use a kernel). Safe to
# run again.
set -eu
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--run" ]; then
  # `jupyter` comes from jupyter-core, `jupyter kernelspec` from jupyter-client (Debian 12 and 13).
  packages="jupyter-core jupyter-client jupyter-notebook python3-ipykernel"
else
  packages=$(sh scripts/apt-packages.sh)
fi
DENO_VERSION=2.9.6

need_deno=""
if ! command -v deno >/dev/null 2>&1 || [ "$(deno --version | sed -n '1s/^deno \([^ ]*\).*/\1/p')" != "$DENO_VERSION" ]; then
  need_deno=1
  # Deno comes from the npm registry; a bare Debian has no npm.
  command -v npm >/dev/null 2>&1 || packages="$packages npm"
fi

missing=""
for pkg in $packages; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: these Debian packages are missing:$missing; install them as root (apt-get install$missing)" >&2
    exit 1
  fi
  echo "setup: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >&2
fi

if [ -n "$need_deno" ]; then
  echo "setup: installing deno $DENO_VERSION from the npm registry" >&2
  npm install --global --silent "deno@$DENO_VERSION" >&2
fi
