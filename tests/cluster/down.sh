#!/bin/sh
# Takes the test cluster of tests/cluster/up.sh down and leaves nothing behind: every process
# in its namespaces (found with `ip netns pids`, so only what runs on its hosts) gets SIGTERM,
# then SIGKILL after 5 s; the namespaces are deleted (their private mounts go with their last
# process); the state directory, with the test user's homes, is removed. The machine's own
# processes, munged and Slurm are never signalled. Safe to run when nothing is up.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"

[ "$(id -u)" = 0 ] || die "down.sh must run as root"
t0=$(now)
namespaces=""
for h in $HOSTS sw; do
  ns=$(ns_of "$h")
  ip netns list 2>/dev/null | grep -q "^$ns\( \|\$\)" && namespaces="$namespaces $ns"
done

pids() {
  for ns in $namespaces; do ip netns pids "$ns" 2>/dev/null; done | grep -v "^$$\$" | sort -un
}
left=$(pids)
if [ -n "$left" ]; then
  # shellcheck disable=SC2086
  kill -TERM $left 2>/dev/null
  i=0
  while left=$(pids) && [ -n "$left" ] && [ "$i" -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  if [ -n "$left" ]; then
    say "SIGKILL to what ignored SIGTERM for 5s: $(echo $left)"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null
    i=0
    while [ -n "$(pids)" ] && [ "$i" -lt 50 ]; do
      sleep 0.1
      i=$((i + 1))
    done
  fi
fi
for ns in $namespaces; do ip netns del "$ns" 2>/dev/null || say "could not delete namespace $ns"; done

# The state directory, only where it is plainly ours.
case $D in
  /tmp/?* | /var/tmp/?*)
    if [ -f "$D/.ljc-cluster" ]; then
      if [ -n "${LJC_KEEP_LOGS:-}" ] && [ -d "$D/log" ]; then
        rm -rf "$LJC_KEEP_LOGS" && mkdir -p "$LJC_KEEP_LOGS" && cp -r "$D/log/." "$LJC_KEEP_LOGS/" &&
          say "logs kept in $LJC_KEEP_LOGS"
      fi
      rm -rf "$D"
    elif [ -e "$D" ]; then
      say "$D was not made by up.sh (no .ljc-cluster in it); left alone"
    fi
    ;;
  *) [ -e "$D" ] && say "$D is outside /tmp and /var/tmp; left alone" ;;
esac
[ -n "$namespaces" ] && say "down in $(since "$t0")s" || say "nothing was up"
exit 0
