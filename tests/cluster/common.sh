# Shared by the scripts in tests/cluster/ (sourced, not run). Names, paths and small helpers of
# the four-host test cluster; see tests/cluster/README.md for the whole picture.

# One instance of the cluster per name: namespaces "$LJC-<host>", state under /tmp/$LJC.
LJC=${LJC:-ljc}
case $LJC in *[!a-z0-9]* | '') echo "cluster: LJC must be lower-case letters and digits, not '$LJC'" >&2; exit 2 ;; esac
D=${LJC_DIR:-/tmp/$LJC}
LJC_USER=${LJC_USER:-ljuser}
LJC_UID=${LJC_UID:-61011}
# Another user of the cluster (no laptop): whose jobs are nobody else's.
LJC_GUEST=${LJC_GUEST:-ljguest}
GUEST_UID=$((LJC_UID + 1))
NET=${LJC_NET:-10.77.0}
HOSTS="laptop login1 node1 node2"
CLUSTER_HOSTS="login1 node1 node2"
NODES="node1 node2"
HOME_DIR=$D/home/$LJC_USER
LAPTOP_HOME=$D/laptop-home/$LJC_USER
GUEST_HOME=$D/home/$LJC_GUEST

say() { echo "cluster[$LJC]: $*" >&2; }
die() { say "$*"; exit 1; }

addr_of() {
  case $1 in
    laptop) echo "$NET.100" ;;
    login1) echo "$NET.2" ;;
    node1) echo "$NET.11" ;;
    node2) echo "$NET.12" ;;
    *) return 1 ;;
  esac
}

ns_of() { echo "$LJC-$1"; }

# holder_pid HOST: the PID whose namespaces make up HOST, if it still runs.
holder_pid() {
  pid=$(cat "$D/run/$1.holder" 2>/dev/null) || return 1
  [ -n "$pid" ] || return 1
  # It must still be our holder: a process inside HOST's network namespace.
  [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" = "net:[$(stat -L -c %i "/run/netns/$(ns_of "$1")" 2>/dev/null)]" ] || return 1
  echo "$pid"
}

# in_host HOST CMD...: runs CMD as root inside HOST's namespaces (and its root directory: entering
# a mount namespace resets the root to the namespace's, which would leave a chroot).
in_host() {
  h=$1
  shift
  pid=$(holder_pid "$h") || die "host $h is not up"
  nsenter -t "$pid" -n -u -m -r --wd=/ -- "$@"
}

# pid_runs PIDFILE NAME: the PID in PIDFILE runs a program whose command line mentions NAME.
pid_runs() {
  p=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$p" ] && tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$2"
}

now() { date +%s.%N; }
since() { awk "BEGIN{printf \"%.2f\", $(now) - $1}"; }

# alive PID: PID runs and is not a zombie waiting for its parent (here often PID 1) to reap it.
alive() {
  s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  case $s in Z* | '') return 1 ;; esac
}
