#!/bin/sh
# Prints this machine's Debian major release (12, 13, ...) from /etc/debian_version, which holds
# "12.11" on a release and a codename such as "trixie/sid" on testing; exits 1 when unknown.
set -eu
v=$(cat "${DEBIAN_VERSION_FILE:-/etc/debian_version}" 2>/dev/null) || { echo "not Debian: no /etc/debian_version" >&2; exit 1; }
case $v in
  [0-9]*) echo "${v%%.*}" ;;
  bookworm*) echo 12 ;;
  trixie*) echo 13 ;;
  forky*) echo 14 ;;
  *) echo "unknown Debian release '$v' in /etc/debian_version" >&2; exit 1 ;;
esac
