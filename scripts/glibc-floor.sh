#!/bin/sh
# Prints the oldest glibc a Linux executable can run on: the highest GLIBC_x.y symbol version it
# requires from its dynamic libraries. With MAX, fails when that floor is above MAX.
#
# Usage: sh scripts/glibc-floor.sh BINARY [MAX]     e.g. glibc-floor.sh dist/legate-jupyter 2.28
# HPC login nodes run old distributions (RHEL 8 has glibc 2.28), so the release checks every Linux
# binary against 2.28. Reads the dynamic symbol table with readelf (binutils), which reads any
# architecture's ELF files, so an x86_64 machine checks the aarch64 binary too; objdump -T, which
# may know only its own architecture, is the fallback.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "glibc-floor: error: usage: sh scripts/glibc-floor.sh BINARY [MAX]" >&2
  exit 2
fi
binary=$1
max=${2:-}
if [ -n "$max" ] && ! printf '%s' "$max" | grep -Eq '^[0-9]+(\.[0-9]+)*$'; then
  echo "glibc-floor: error: MAX must be a version like 2.28, not '$max'" >&2
  exit 2
fi
[ -f "$binary" ] || {
  echo "glibc-floor: error: no such file: $binary" >&2
  exit 2
}

if command -v readelf >/dev/null 2>&1; then
  tool=readelf
  symbols=$(readelf --dyn-syms -W "$binary" 2>/dev/null) || {
    echo "glibc-floor: error: $binary is not an ELF executable readelf can read" >&2
    exit 1
  }
elif command -v objdump >/dev/null 2>&1; then
  tool=objdump
  symbols=$(objdump -T "$binary" 2>/dev/null) || {
    echo "glibc-floor: error: $binary is not an ELF executable objdump can read" >&2
    exit 1
  }
else
  echo "glibc-floor: error: needs readelf or objdump; install binutils (apt-get install binutils)" >&2
  exit 1
fi

# Symbol versions look like GLIBC_2.17 (objdump: "(GLIBC_2.17)", readelf: "@GLIBC_2.17 (3)").
# sort -V puts the highest last; GLIBC_PRIVATE is not a release and is left out.
floor=$(printf '%s\n' "$symbols" | grep -oE 'GLIBC_[0-9]+(\.[0-9]+)+' | sed 's/^GLIBC_//' |
  sort -u -V | tail -n 1)
if [ -z "$floor" ]; then
  echo "glibc-floor: error: $binary requires no versioned glibc symbol (static, or not linked against glibc)" >&2
  exit 1
fi
echo "$floor"

if [ -n "$max" ]; then
  highest=$(printf '%s\n%s\n' "$floor" "$max" | sort -V | tail -n 1)
  if [ "$highest" != "$max" ]; then
    # The symbols that set the floor: readelf writes "name@GLIBC_2.x (n)", objdump "(GLIBC_2.x) name".
    if [ "$tool" = readelf ]; then
      needs=$(printf '%s\n' "$symbols" | grep -oE "[A-Za-z0-9_.]+@@?GLIBC_$floor( |$)" | sed 's/@.*//')
    else
      needs=$(printf '%s\n' "$symbols" | grep -E "GLIBC_$floor([^0-9.]|$)" | awk '{print $NF}')
    fi
    needs=$(printf '%s\n' "$needs" | sort -u | head -n 5 | tr '\n' ' ' | sed 's/ $//')
    echo "glibc-floor: error: $binary needs glibc $floor, above the allowed $max (symbols: $needs)" >&2
    exit 1
  fi
fi
