set -u

# D-HH:MM:SS, H:MM:SS, M:SS or M (Slurm's duration forms) in seconds; nothing for
# UNLIMITED, N/A and other words.
lj_duration() {
  local t=$1 d=0 h=0 m=0 s=0 days=0 IFS=:
  case $t in '' | *[!0-9:-]*) return 0 ;; esac
  case $t in *-*) days=1 d=${t%%-*} t=${t#*-} ;; esac
  set -- $t
  case $#:$days in
    1:0) m=$1 ;;
    2:0) m=$1 s=$2 ;;
    1:1) h=$1 ;;
    2:1) h=$1 m=$2 ;;
    3:*) h=$1 m=$2 s=$3 ;;
    *) return 0 ;;
  esac
  echo $((((10#$d * 24 + 10#$h) * 60 + 10#$m) * 60 + 10#$s))
}

# Announces in this log, {{WARN_MINUTES}} minutes before the time limit, that the job is about
# to end. It asks again at least every 5 minutes so that a limit an admin extends is followed;
# it stops quietly when the limit is unknown.
lj_watch_time_limit() {
  local left nap lj_nap_pid=
  trap 'kill $lj_nap_pid 2>/dev/null; exit 0' TERM
  while left=$(lj_time_left) && [ -n "$left" ]; do
    if [ "$left" -le {{WARN_SECONDS}} ]; then
      echo "legate-jupyter: [$(date '+%F %T')] this job reaches its time limit in about $(((left + 59) / 60)) min: save your notebooks"
      return 0
    fi
    nap=$((left - {{WARN_SECONDS}}))
    [ "$nap" -gt 300 ] && nap=300
    sleep "$nap" &
    lj_nap_pid=$!
    wait "$lj_nap_pid"
  done
}

{{UMASK}}
echo "legate-jupyter: job ${lj_job_id:-?} on $(hostname) started $(date '+%F %T')"
lj_watch_time_limit &
lj_watcher=$!
trap 'kill "$lj_watcher" 2>/dev/null' EXIT
{{WORKDIR}}
{{PRE_STEP}}
# In the background, so that this shell can wait for it: the scheduler's SIGTERM reaches every
# process of the job, and the job must not end (and be killed) before the server has shut its
# kernels down.
{{COMMAND}} &
lj_main=$!
trap : TERM INT HUP
while :; do
  wait "$lj_main"
  lj_status=$?
  # A trapped signal ends 'wait' early; wait again until the server has really exited.
  kill -0 "$lj_main" 2>/dev/null || break
done
echo "legate-jupyter: job ${lj_job_id:-?} ended $(date '+%F %T') with status $lj_status"
exit "$lj_status"
