# nearby-lab.sh: machines on one local network for the tests of
# discovery and pairing, sourced by test-nearby*.sh.
#
# Each "machine" is a network namespace with a mount and UTS namespace of
# its own (its host name is its device name; /run is a private tmpfs,
# where avahi-daemon keeps its pid file and socket), its own system bus (a
# dbus-daemon started from a configuration written here, its socket in the
# test's folder, DBUS_SYSTEM_BUS_ADDRESS naming it) and its own
# avahi-daemon, limited to its one link. The links meet on a bridge in a
# namespace of their own, on 10.77.0.0/24; nothing is configured outside
# these namespaces. Each machine has its own XDG_CONFIG_HOME, so its own
# device certificate.
#
# The sourcing script sets LAB_NAME (its temporary folder's prefix), then
# calls start_machines ID:NUMBER… (machine ID at 10.77.0.NUMBER), and uses
# on/on_exec, wait_for and the TAP helpers (ok, not_ok, check, diag, bail).
# Needs root and avahi-daemon: exits 77 (skipped) otherwise, or fails when
# CI=true. Everything started is stopped when the script exits.
set -u

app=${DISTRIBUTED_BACKUP:?}
PROGRAM=distributed-backup

reason=
if [ "$(id -u)" != 0 ]; then
  reason="needs root (network, mount and UTS namespaces)"
elif ! avahi=$(command -v avahi-daemon || command -v /usr/sbin/avahi-daemon); then
  reason="avahi-daemon is not installed"
fi
if [ -n "$reason" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "Bail out! $reason, and CI=true requires every test to run"
    exit 1
  fi
  echo "1..0 # SKIP $reason"
  exit 77
fi
for tool in ip unshare nsenter dbus-daemon dbus-send hostname; do
  if ! command -v "$tool" >/dev/null; then
    echo "Bail out! $tool is missing"
    exit 1
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/${LAB_NAME:-test-nearby}.XXXXXX")
chmod 755 "$work"
prefix="nb$$"
hub="${prefix}hub"
pids=()     # every process started, killed at the end
holders=()  # the process that holds each machine's namespaces
netns=()

cleanup() {
  local p ns
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  # Whatever still runs in the namespaces of this test, then the holders.
  for ns in "${netns[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
  done
  for p in "${pids[@]}" "${holders[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  wait 2>/dev/null
  for ns in "${netns[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  # NEARBY_KEEP=1 keeps the logs, to look at a failure.
  if [ -n "${NEARBY_KEEP:-}" ]; then echo "# kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
diag() { sed 's/^/# /' "$@"; }
bail() { echo "Bail out! $1"; exit 1; }

# wait_for SECONDS COMMAND...: until COMMAND succeeds.
wait_for() {
  local tries=$(($1 * 10)); shift
  while ! "$@"; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.1
  done
}

# --- the network: a bridge in the hub namespace, one veth pair per machine

ip netns add "$hub" || bail "cannot create a network namespace"
netns+=("$hub")
ip -n "$hub" link add br0 type bridge mcast_snooping 0 || bail "cannot create the bridge"
ip -n "$hub" link set br0 up

declare -A ns addr holder
setup_machine() { # setup_machine ID NUMBER
  local id=$1 number=$2 name="$prefix$1"
  local dir="$work/$id" ready="$work/$id/ready"
  ns[$id]=$name
  addr[$id]=10.77.0.$number
  ip netns add "$name" || bail "cannot create a network namespace"
  netns+=("$name")
  ip -n "$hub" link add "h$id" type veth peer name eth0 netns "$name" \
    || bail "cannot create the link of $id"
  ip -n "$hub" link set "h$id" master br0 up
  ip -n "$name" link set lo up
  ip -n "$name" addr add "${addr[$id]}/24" dev eth0
  ip -n "$name" link set eth0 up

  mkdir -p "$dir/config" "$dir/state" "$dir/cache" "$dir/runtime" "$dir/dst"
  chmod 700 "$dir/config" "$dir/runtime"
  : > "$dir/machine-info"
  # The holder: a private /run, the machine's host name (its device name),
  # no PRETTY_HOSTNAME of this host; it sleeps, holding the namespaces that
  # the commands below enter.
  ip netns exec "$name" unshare -m -u --propagation private sh -c '
    mount -t tmpfs -o mode=0755 nearby-run /run && mkdir /run/avahi-daemon &&
    { [ ! -e /etc/machine-info ] || mount --bind "$2" /etc/machine-info; } &&
    hostname "$1" && touch "$3" && exec sleep 100000' \
    sh "nearby-$id" "$dir/machine-info" "$ready" &
  holder[$id]=$!
  holders+=("$!")
  wait_for 10 test -e "$ready" || bail "the namespaces of $id are not ready"

  # Its own system bus: anything may talk to anything; nothing is activated.
  cat > "$dir/system.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$dir/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
EOF
  # Its own avahi-daemon, on its one link, IPv4 only, publishing nothing
  # but what clients ask for.
  cat > "$dir/avahi-daemon.conf" <<EOF
[server]
host-name=nearby-$id
domain-name=local
use-ipv4=yes
use-ipv6=no
allow-interfaces=eth0
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000

[wide-area]
enable-wide-area=no

[publish]
publish-hinfo=no
publish-workstation=no
publish-addresses=yes

[reflector]
enable-reflector=no
EOF
}

# on_exec ID COMMAND...: becomes COMMAND on machine ID, in its environment
# (called in the background, "on_exec … &", $! is COMMAND's pid).
on_exec() {
  local id=$1; shift
  local dir="$work/$id"
  exec nsenter -t "${holder[$id]}" -m -u -n -- env -u DBUS_SESSION_BUS_ADDRESS \
    DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/system_bus_socket" \
    XDG_CONFIG_HOME="${CONFIG_HOME:-$dir/config}" XDG_STATE_HOME="$dir/state" \
    XDG_CACHE_HOME="$dir/cache" XDG_RUNTIME_DIR="$dir/runtime" HOME="$dir" \
    LC_ALL=C.UTF-8 LANGUAGE= "$@"
}
# on ID COMMAND...: runs COMMAND on machine ID.
on() { ( on_exec "$@" ); }

start_bus() { # start_bus ID
  local dir="$work/$1"
  on_exec "$1" dbus-daemon --config-file="$dir/system.conf" --nofork --nopidfile \
    >"$dir/dbus.log" 2>&1 &
  pids+=("$!")
  wait_for 10 test -S "$dir/system_bus_socket" || bail "the bus of $1 did not start"
}

declare -A avahi_pid
start_avahi() { # start_avahi ID
  local dir="$work/$1"
  : > "$dir/avahi.log"
  on_exec "$1" "$avahi" -f "$dir/avahi-daemon.conf" --no-drop-root --no-chroot --no-rlimits \
    --no-proc-title >>"$dir/avahi.log" 2>&1 &
  avahi_pid[$1]=$!
  pids+=("$!")
  wait_for 20 grep -q "Server startup complete" "$dir/avahi.log"
}

# start_machines ID:NUMBER…: the machines, their buses and daemons.
start_machines() {
  local m id started=1
  for m in "$@"; do setup_machine "${m%%:*}" "${m##*:}"; done
  for m in "$@"; do start_bus "${m%%:*}"; done
  for m in "$@"; do start_avahi "${m%%:*}" || started=0; done
  if [ $started = 0 ]; then
    for m in "$@"; do diag "$work/${m%%:*}/avahi.log"; done
    bail "avahi-daemon did not start"
  fi
  ok "$# machines, each with its own bus and avahi-daemon"
}
