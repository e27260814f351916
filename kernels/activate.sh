#@ The launch script's pieces for activating an environment (src/environment/script.ts picks
#@ them by the names after '#@@' and fills in the @NAMES@, each value already shell-quoted).
#@ Every piece runs under dash and bash alike; what needs bash runs only once the script has
#@ re-executed itself under bash. Names start with lj_ so that sourced scripts do not meet them.
#@@ bash
# The environment's activation scripts are written for bash ([[ ]], set -o pipefail): run under
# bash when there is one to run, and stay in this shell otherwise.
if [ -z "${BASH_VERSION:-}" ]; then
  lj_need=@NEED_BASH@
  for lj_s in @SCRIPT_GLOBS@; do
    if [ -e "$lj_s" ]; then lj_need=1; fi
    break
  done
  if [ -n "$lj_need" ]; then
    lj_ifs=$IFS
    IFS=:
    for lj_d in /bin /usr/bin $PATH; do
      if [ -x "$lj_d/bash" ]; then IFS=$lj_ifs; exec "$lj_d/bash" "$0" "$@"; fi
    done
    IFS=$lj_ifs
    printf 'legate-jupyter kernel: %s\n' @NO_BASH@ >&2
    exit 1
  fi
fi
#@@ start
lj_prefix=@PREFIX@
lj_rank=
if [ "${1:-}" = --rank ]; then lj_rank=1; shift 2; fi
connection_file=${1:?usage: launch.sh CONNECTION_FILE}
warn() {
  printf 'legate-jupyter kernel: warning: %s\n' "$*" >&2
}
# lj_path_drop NAME DIR: DIR removed from the colon-separated list in the variable NAME.
lj_path_drop() {
  eval "lj_rest=\${$1:-}:"
  lj_kept=
  while [ -n "$lj_rest" ]; do
    lj_seg=${lj_rest%%:*}
    lj_rest=${lj_rest#*:}
    if [ "$lj_seg" != "$2" ]; then lj_kept=${lj_kept:+$lj_kept:}$lj_seg; fi
  done
  eval "$1=\$lj_kept"
}
#@@ sourcing
# A script that called exit left the shell: the shell came back here with what is left to run.
lj_resuming=
lj_remaining=
if [ -n "${__LEGATE_JUPYTER_RESUME+x}" ]; then
  lj_resuming=1
  lj_remaining=$__LEGATE_JUPYTER_RESUME
  unset __LEGATE_JUPYTER_RESUME
fi
lj_nl='
'
# Shell options as they were before a sourced script changed them (set -eo pipefail, set -u).
lj_reset() {
  set +e +u +f +a
  if [ -n "${BASH_VERSION:-}" ]; then set +o pipefail; fi
}
lj_exited() {
  lj_rc=$?
  exec 1>&8 8>&-
  if [ -z "$lj_current" ]; then exit "$lj_rc"; fi
  if [ "$lj_current" = "$lj_source" ]; then
    fail "--source $lj_current exited (status $lj_rc) instead of returning; the kernel did not start"
  fi
  warn "activation script $lj_current exited (status $lj_rc) instead of returning; the others still run"
  __LEGATE_JUPYTER_RESUME=$lj_remaining
  export __LEGATE_JUPYTER_RESUME
  exec "$BASH" "$0" ${lj_rank:+--rank -f} "$connection_file"
}
lj_current=
lj_source=
#@@ source
lj_source=@SOURCE@
if [ -n "$lj_source" ]; then
  lj_current=$lj_source
  exec 8>&1 1>&2
  trap lj_exited EXIT
  . "$lj_source" || warn "--source $lj_source returned status $?"
  trap - EXIT
  exec 1>&8 8>&-
  lj_current=
  lj_reset
fi
#@@ check
if [ ! -d "$lj_prefix" ] || [ ! -x @PYTHON@ ]; then
  fail @GONE@
fi
#@@ stale
for lj_f in @STAMPS@; do
  if [ "$lj_f" -nt "$0" ]; then
    warn @STALE@
    break
  fi
done
#@@ switch
# Leave the environment Jupyter runs in, as activating another one in a terminal does.
if [ -n "${@OTHER@:-}" ] && [ "$@OTHER@" != "$lj_prefix" ]; then
  lj_path_drop PATH "$@OTHER@/bin"
fi
case ":${PATH:-}:" in *":$lj_prefix/bin:"*) lj_path_drop PATH "$lj_prefix/bin" ;; esac
#@@ vars
# The variables of env_vars.d/*.json (in name order) and then of conda-meta/state, as they are
# at this start: awk reads the JSON (kernels/env_vars.awk) and prints quoted export, unset and
# warn commands, and lj_read=1 last. Without awk, the values read at install. Where there is
# neither file, nothing runs.
lj_any=
for lj_f in @STATE@ @VARS_GLOB@; do
  if [ -f "$lj_f" ]; then lj_any=1; break; fi
done
if [ -n "$lj_any" ]; then
  # awk is looked for as a file (bash's command -v also names one it cannot run).
  lj_awk=
  lj_ifs=$IFS
  IFS=:
  for lj_d in $PATH /usr/bin; do
    if [ -n "$lj_d" ] && [ -f "$lj_d/awk" ] && [ -x "$lj_d/awk" ]; then lj_awk=$lj_d/awk; break; fi
  done
  IFS=$lj_ifs
  lj_status=none
  if [ -n "$lj_awk" ]; then
    lj_vars=$(
      LC_ALL=C
      export LC_ALL
      if [ -f @STATE@ ]; then set -- @STATE@; else set -- ""; fi
      for lj_f in @VARS_GLOB@; do
        if [ -f "$lj_f" ]; then set -- "$@" "$lj_f"; fi
      done
      exec "$lj_awk" @PROGRAM@ "$@"
    )
    lj_status=$?
  fi
  if [ "$lj_status" = 0 ] && [ "${lj_vars%lj_read=1}" != "$lj_vars" ]; then
    eval "$lj_vars"
  else
    if [ "$lj_status" = none ]; then
      warn @NO_AWK@
    else
      warn "$lj_awk could not read "@FILES@": it exited with status $lj_status, so the values read at install are used"
    fi
@INSTALLED@  fi
fi
#@@ scripts
# activate.d/*.sh in name order (as conda sorts them), each one's stdout sent to stderr, its
# failure or exit reported, and the shell's options restored after it.
if [ -n "${BASH_VERSION:-}" ]; then
  if [ -z "$lj_resuming" ]; then
    lj_lc=${LC_ALL-lj_unset}
    LC_ALL=C
    for lj_s in @SCRIPT_GLOBS@ @SCRIPTS@; do
      if [ -e "$lj_s" ]; then lj_remaining=$lj_remaining$lj_s$lj_nl; fi
    done
    if [ "$lj_lc" = lj_unset ]; then unset LC_ALL; else LC_ALL=$lj_lc; fi
  fi
  exec 8>&1 1>&2
  while [ -n "$lj_remaining" ]; do
    lj_current=${lj_remaining%%"$lj_nl"*}
    lj_remaining=${lj_remaining#*"$lj_nl"}
    trap lj_exited EXIT
    . "$lj_current" || warn "activation script $lj_current failed (status $?); the kernel starts anyway"
    lj_reset
  done
  trap - EXIT
  lj_current=
  exec 1>&8 8>&-
fi
