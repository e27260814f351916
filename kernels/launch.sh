#!/bin/sh
# The launch script of a Jupyter kernel, written by legate-jupyter @VERSION@.
# Jupyter runs it as `/bin/sh launch.sh CONNECTION_FILE` (see argv in kernel.json beside it).
# Re-create it with `legate-jupyter install --replace ...` rather than editing it by hand.
@START@

fail() {
  printf 'legate-jupyter kernel: %s\n' "$*" >&2
  exit 1
}

# Environment modules are a shell function that a non-interactive sh may not have yet.
load_module() {
  if ! command -v module >/dev/null 2>&1; then
    for init in "${MODULESHOME:-/nonexistent}/init/sh" /etc/profile.d/lmod.sh \
      /usr/share/lmod/lmod/init/sh /etc/profile.d/modules.sh /usr/share/Modules/init/sh; do
      if [ -r "$init" ]; then
        . "$init" >/dev/null 2>&1
        break
      fi
    done
  fi
  command -v module >/dev/null 2>&1 ||
    fail "cannot load module '$1': the 'module' command is not available on $(hostname)"
  module load "$1" || fail "'module load $1' failed"
}

@MODULES@
@EXPORTS@
@EXEC@
