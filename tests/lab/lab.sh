#!/bin/sh
# lab.sh: two peers joined by an emulated WAN path (delay, jitter, loss, bursty
# loss, reordering, duplication, a rate limit, outages), for tests and benchmarks.
#
#   lab.sh run [LINKEM OPTION...] -- COMMAND [ARG...]
#       Builds the lab, runs COMMAND (in the initial namespace; it reaches the
#       peers through "lab.sh a|b"), tears everything down, exits with
#       COMMAND's status. 77 when the lab cannot be built here (not root, no
#       network namespaces, no TUN), so meson reports a skip.
#   lab.sh a|b COMMAND [ARG...]   run COMMAND in peer a or b (inside "run")
#   lab.sh ctl LINE               control the link (inside "run"):
#                                 "outage SECONDS", "down", "up", "rebind"
#
#   peer a (10.201.1.2, lab-a) ──┐                         ┌── peer b (10.201.2.2, lab-b)
#                                └─ TUN ── linkem ── TUN ─┘
#                                   router namespace (nothing else in it)
#
# linkem (tests/lab/linkem.c; $LINKEM names the executable) creates the two
# TUN devices in the router namespace and forwards between them; each device
# is then moved into its peer's namespace. LINKEM OPTIONs are linkem's
# (--delay MS is one way, so --delay 20 is a 40 ms RTT; see linkem --help);
# --mtu also sets the devices' MTU (default 1500), unless --device-mtu N (an
# option of lab.sh, not passed on) sets it apart: devices of 1500 bytes and
# --mtu 1400 make a path that silently drops what is larger than 1,400 bytes
# (a tunnel without ICMP), which only a probe can find.
#
# COMMAND sees LAB_NS_A, LAB_NS_B, LAB_NS_R (namespace names), LAB_ADDR_A,
# LAB_ADDR_B, LAB_DIR (a scratch directory removed at the end),
# LAB_LINKEM_PID and LAB_CONTROL (linkem's control FIFO). On exit linkem
# prints one line of counters per direction on stderr. Nothing is created in
# or connected to the initial namespace.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

case ${1:-} in
  a|b)
    side=$1
    shift
    if [ "$side" = a ]; then ns=${LAB_NS_A:?lab.sh a: not inside lab.sh run}; else ns=${LAB_NS_B:?lab.sh b: not inside lab.sh run}; fi
    exec ip netns exec "$ns" "$@" ;;
  ctl)
    shift
    printf '%s\n' "$*" > "${LAB_CONTROL:?lab.sh ctl: not inside lab.sh run}"
    exit 0 ;;
  run)
    shift ;;
  *)
    echo "usage: lab.sh run [LINKEM OPTION...] -- COMMAND... | lab.sh a|b COMMAND... | lab.sh ctl LINE" >&2
    exit 2 ;;
esac

# linkem's options, up to "--"; --mtu is also the devices' MTU.
quote () { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
mtu=1500
device_mtu=
linkem_args=
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  case $1 in
    --mtu=*) mtu=${1#--mtu=} ;;
    --mtu) mtu=${2:-} ;;
    --device-mtu)
      device_mtu=${2:-}
      shift 2
      continue ;;
  esac
  linkem_args="$linkem_args $(quote "$1")"
  shift
done
if [ $# -lt 2 ]; then
  echo "lab.sh run: missing '-- COMMAND'" >&2
  exit 2
fi
shift

skip () {
  echo "SKIP: $*" >&2
  exit 77
}
[ "$(id -u)" = 0 ] || skip "the WAN lab needs root (network namespaces, TUN devices)"
command -v ip >/dev/null 2>&1 || skip "ip (iproute2) is not installed"
# A fresh machine may not have loaded the TUN driver, or made its node, yet.
if [ ! -c /dev/net/tun ]; then
  modprobe tun 2>/dev/null || true
  if [ ! -c /dev/net/tun ]; then
    mkdir -p /dev/net && mknod -m 0666 /dev/net/tun c 10 200 2>/dev/null || true
  fi
fi
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
linkem=${LINKEM:-}
if [ -z "$linkem" ] || [ ! -x "$linkem" ]; then
  echo "lab.sh: \$LINKEM must name the linkem executable" >&2
  exit 2
fi

run=lab$$$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')
ns_a=$run-a
ns_b=$run-b
ns_r=$run-r
work=$(mktemp -d "${TMPDIR:-/tmp}/lab.XXXXXX")
linkem_pid=
cmd_pid=
made=

cleanup () {
  status=$?
  # Nothing may stop the teardown: not a signal, not a closed stderr.
  set +e
  trap - EXIT
  trap '' INT TERM PIPE
  if [ -n "$cmd_pid" ]; then
    kill -TERM "$cmd_pid" 2>/dev/null || true
  fi
  # linkem first (SIGTERM: it prints its counters), then whatever runs in a peer.
  if [ -n "$linkem_pid" ]; then
    kill -TERM "$linkem_pid" 2>/dev/null || true
    wait "$linkem_pid" 2>/dev/null || true
    [ -s "$work/linkem.log" ] && sed 's/^/# /' "$work/linkem.log" >&2
  fi
  for ns in $made; do
    ip netns pids "$ns" 2>/dev/null | while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for ns in $ns_r $ns_a $ns_b; do
  if ! ip netns add "$ns" 2>"$work/netns.err"; then
    skip "cannot create a network namespace: $(cat "$work/netns.err")"
  fi
  made="$made $ns"
  ip -n "$ns" link set lo up
done

mkfifo "$work/control"
eval "exec ip netns exec \"\$ns_r\" \"\$linkem\" --dev-a lab-a --dev-b lab-b --control \"\$work/control\" $linkem_args" \
  >"$work/linkem.out" 2>"$work/linkem.log" &
linkem_pid=$!
i=0
until grep -q '^ready$' "$work/linkem.out" 2>/dev/null; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 "$linkem_pid" 2>/dev/null; then
    st=0
    kill "$linkem_pid" 2>/dev/null || true
    wait "$linkem_pid" || st=$?
    linkem_pid=
    if [ "$st" = 77 ]; then
      skip "no TUN device can be made here: $(cat "$work/linkem.log")"
    fi
    echo "lab.sh: linkem did not start" >&2
    cat "$work/linkem.log" >&2
    exit 1
  fi
  sleep 0.05
done

peer () { # peer NS DEV ADDR OTHER_NET
  ip -n "$ns_r" link set "$2" netns "$1"
  ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" 2>/dev/null || true
  ip -n "$1" link set "$2" mtu "${device_mtu:-$mtu}" txqueuelen 10000 up
  ip -n "$1" addr add "$3/24" dev "$2"
  ip -n "$1" route add "$4" dev "$2"
  # Long fat paths (1 Gbit/s × 150 ms is 19 MB in flight) need big TCP windows.
  ip netns exec "$1" sysctl -qw net.ipv4.tcp_rmem="4096 131072 67108864" \
    net.ipv4.tcp_wmem="4096 16384 67108864" 2>/dev/null || true
}
peer "$ns_a" lab-a 10.201.1.2 10.201.2.0/24
peer "$ns_b" lab-b 10.201.2.2 10.201.1.0/24

export LAB_NS_A="$ns_a" LAB_NS_B="$ns_b" LAB_NS_R="$ns_r"
export LAB_ADDR_A=10.201.1.2 LAB_ADDR_B=10.201.2.2
export LAB_DIR="$work" LAB_LINKEM_PID="$linkem_pid" LAB_CONTROL="$work/control"
export LAB_SH="$self"

# In the background, so that a signal (meson's timeout) tears the lab down
# at once rather than after COMMAND; with the caller's standard input.
exec 3<&0
"$@" <&3 3<&- &
cmd_pid=$!
wait "$cmd_pid"
