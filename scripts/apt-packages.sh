#!/bin/sh
# Prints, one a line, the Debian packages of .ci/apt-packages that a Debian release needs.
#   sh scripts/apt-packages.sh [--release N] [--stack]
# --release N: the Debian major release (default: this machine's, read from /etc/debian_version);
# --stack: only the packages tagged "stack", which the other release's root holds for the
# Jupyter-facing tests run there (tests/stacks/root.sh).
# A tag "debian13" keeps a package off releases before 13, which do not package it.
set -eu
cd "$(dirname "$0")/.."
release="" stack=""
while [ $# -gt 0 ]; do
  case $1 in
    --release) release=$2; shift 2 ;;
    --stack) stack=1; shift ;;
    *) echo "apt-packages: unknown argument '$1'; use --release N or --stack" >&2; exit 2 ;;
  esac
done
if [ -z "$release" ]; then
  release=$(sh scripts/debian-release.sh)
fi
awk -v release="$release" -v stack="$stack" '
  /^[ \t]*(#|$)/ { next }
  {
    ok = 1; tagged = 0
    for (i = 2; i <= NF; i++) {
      if ($i == "stack") tagged = 1
      else if ($i ~ /^debian[0-9]+$/ && release + 0 < substr($i, 7) + 0) ok = 0
    }
    if (ok && (!stack || tagged)) print $1
  }' .ci/apt-packages
