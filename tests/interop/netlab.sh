#!/bin/sh
# netlab.sh MODE OFFER_IMPL ANSWER_IMPL [BYTES]
#
# Two data-channel peers, each behind its own NAT, connect through coturn in a
# "public" network built from network namespaces of its own:
#
#   host A (10.201.1.2) -- router A [MASQUERADE] 10.200.0.2 --+
#                                                              +-- bridge 10.200.0.1 (coturn)
#   host B (10.201.2.2) -- router B [MASQUERADE] 10.200.0.3 --+
#
# MODE stun:     coturn --stun-only; the peers connect through server-reflexive
#                candidates (host addresses are not routable between the sites).
# MODE turn-udp: coturn as TURN server; the routers drop everything between
#                their WAN addresses, so only the relay connects the peers.
# MODE turn-tcp: the same with TURN over TCP; the offerer is relay-only.
# Controls, which pass only when the peers FAIL to connect:
# MODE no-stun:  the stun topology, no server given to the peers;
# MODE no-relay: the turn topology, only STUN given to the peers.
# MODE small-mtu: the stun topology with a 1,200-byte MTU on every link.
#
# Routers drop unsolicited NEW inbound packets on their WAN side. Nothing is
# created in or connected to the initial network namespace. Needs root (exit 77
# otherwise) plus ip, iptables and turnserver. Everything is torn down on exit.
#
# IMPL is rtc, aiortc or pion (RTC_PEER / PION_PEER name the executables).
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

mode=${1:?usage: netlab.sh stun|turn-udp|turn-tcp OFFER_IMPL ANSWER_IMPL [BYTES]}
offer_impl=${2:?missing OFFER_IMPL}
answer_impl=${3:?missing ANSWER_IMPL}
bytes=${4:-4194304}
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-/usr/bin/python3}

case $mode in
  stun|turn-udp|turn-tcp|no-stun|no-relay|small-mtu) ;;
  *) echo "netlab.sh: unknown mode '$mode'" >&2; exit 2 ;;
esac

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: the NAT lab needs root (network namespaces)" >&2
  exit 77
fi
for tool in ip iptables turnserver; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIP: $tool is not installed" >&2
    exit 77
  fi
done

run=nl$$$(od -An -N2 -tx2 /dev/urandom | tr -d ' ')
pub=$run-pub
ra=$run-ra
rb=$run-rb
ha=$run-ha
hb=$run-hb
work=$(mktemp -d "${TMPDIR:-/tmp}/netlab.XXXXXX")
turn_pid=

cleanup () {
  status=$?
  trap - EXIT INT TERM
  if [ -n "$turn_pid" ]; then
    kill "$turn_pid" 2>/dev/null || true
    wait "$turn_pid" 2>/dev/null || true
  fi
  for ns in $ha $hb $ra $rb $pub; do
    ip netns pids "$ns" 2>/dev/null | while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  if [ "$status" != 0 ] && [ -s "$work/turnserver.log" ]; then
    echo "--- turnserver log (last lines) ---" >&2
    tail -n 40 "$work/turnserver.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for ns in $pub $ra $rb $ha $hb; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
done

# Public segment: a bridge in $pub, the routers' WAN ports attached to it.
ip -n "$pub" link add br0 type bridge
ip -n "$pub" addr add 10.200.0.1/24 dev br0
ip -n "$pub" link set br0 up
# Like the Internet, the public side silently loses private destinations
# (coturn closes an allocation whose relayed send fails with an error).
ip -n "$pub" link add void type veth peer name void-end
ip -n "$pub" link set void arp off up
ip -n "$pub" link set void-end up
ip -n "$pub" route add default dev void

site () { # site ROUTER HOST WAN_ADDR LAN_NET BRIDGE_PORT
  r=$1 h=$2 wan=$3 lan=$4 port=$5
  ip -n "$r" link add wan type veth peer name "$port" netns "$pub"
  ip -n "$pub" link set "$port" master br0 up
  ip -n "$r" addr add "$wan/24" dev wan
  ip -n "$r" link set wan up
  ip -n "$r" route add default via 10.200.0.1
  ip -n "$r" link add lan type veth peer name eth0 netns "$h"
  ip -n "$r" addr add "$lan.1/24" dev lan
  ip -n "$r" link set lan up
  ip -n "$h" addr add "$lan.2/24" dev eth0
  ip -n "$h" link set eth0 up
  ip -n "$h" route add default via "$lan.1"
  ip netns exec "$r" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$r" iptables -t nat -A POSTROUTING -o wan -j MASQUERADE
  ip netns exec "$r" iptables -A FORWARD -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  ip netns exec "$r" iptables -A FORWARD -i wan -j DROP
  ip netns exec "$r" iptables -A INPUT -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  ip netns exec "$r" iptables -A INPUT -i wan -j DROP
}
site "$ra" "$ha" 10.200.0.2 10.201.1 port-a
site "$rb" "$hb" 10.200.0.3 10.201.2 port-b

if [ "$mode" = small-mtu ]; then
  # A path that takes 1,200-byte IP packets only (some tunnels): our
  # 1,265-byte datagrams must go out one by one, fragmented, since UDP
  # segmentation offload refuses a segment larger than the path.
  for ns in $ha $ra $rb $hb; do
    for dev in $(ip -n "$ns" -o link show | sed -n 's/^[0-9]*: \([a-z0-9]*\)[@:].*/\1/p'); do
      [ "$dev" = lo ] || ip -n "$ns" link set "$dev" mtu 1200
    done
  done
  for dev in port-a port-b br0; do
    ip -n "$pub" link set "$dev" mtu 1200
  done
fi

if [ "$mode" != stun ] && [ "$mode" != no-stun ] && [ "$mode" != small-mtu ]; then
  # The two sites cannot reach each other: only the relay joins them.
  ip netns exec "$ra" iptables -I FORWARD -d 10.200.0.3 -j DROP
  ip netns exec "$rb" iptables -I FORWARD -d 10.200.0.2 -j DROP
fi

turn_args="-c /dev/null -n --no-cli --no-tls --no-dtls --simple-log --log-file stdout
  --listening-ip 10.200.0.1 --relay-ip 10.200.0.1 --listening-port 3478
  --pidfile $work/turnserver.pid --userdb $work/turndb --no-rfc5780 --no-software-attribute ${NETLAB_TURN_ARGS:-}"
if [ "$mode" = stun ] || [ "$mode" = no-stun ] || [ "$mode" = no-relay ] || [ "$mode" = small-mtu ]; then
  turn_args="$turn_args --stun-only --no-auth"
else
  turn_args="$turn_args --lt-cred-mech --user u:p --realm test --min-port 49152 --max-port 49252"
fi
# shellcheck disable=SC2086
ip netns exec "$pub" stdbuf -oL turnserver -v $turn_args >"$work/turnserver.log" 2>&1 &
turn_pid=$!

# Wait until coturn listens (UDP and TCP 3478).
i=0
until ip netns exec "$pub" ss -Hlun 2>/dev/null | grep -q '10.200.0.1:3478'; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 "$turn_pid" 2>/dev/null; then
    echo "FAIL: turnserver did not start" >&2
    exit 1
  fi
  sleep 0.1
done

expect_fail=
default_timeout=30
case $mode in
  no-stun)
    expect_fail=1
    default_timeout=10
    offer_args="--bind 10.201.1.2"
    answer_args="--bind 10.201.2.2" ;;
  no-relay)
    expect_fail=1
    default_timeout=10
    offer_args="--bind 10.201.1.2 --stun 10.200.0.1:3478"
    answer_args="--bind 10.201.2.2 --stun 10.200.0.1:3478" ;;
  stun|small-mtu)
    offer_args="--bind 10.201.1.2 --stun 10.200.0.1:3478"
    answer_args="--bind 10.201.2.2 --stun 10.200.0.1:3478" ;;
  turn-udp)
    offer_args="--bind 10.201.1.2 --turn turn:u:p@10.200.0.1:3478"
    answer_args="--bind 10.201.2.2 --turn turn:u:p@10.200.0.1:3478" ;;
  turn-tcp)
    offer_args="--bind 10.201.1.2 --turn turn:u:p@10.200.0.1:3478?transport=tcp --relay-only"
    answer_args="--bind 10.201.2.2 --turn turn:u:p@10.200.0.1:3478?transport=tcp" ;;
esac

if [ -n "${NETLAB_HOLD:-}" ]; then
  # Debugging aid: keep the lab up and print its namespaces.
  echo "netlab: $pub $ra $rb $ha $hb work=$work" >&2
  sleep "$NETLAB_HOLD"
fi
status=0
"$python" "$here/run-pair.py" --offer "$offer_impl" --answer "$answer_impl" \
  --bind none --bytes "$bytes" --timeout "${NETLAB_TIMEOUT:-$default_timeout}" \
  --offer-netns "$ha" --answer-netns "$hb" \
  --offer-args "$offer_args" --answer-args "$answer_args" 2>"$work/pair.log" || status=$?
cat "$work/pair.log" >&2

if [ -n "$expect_fail" ]; then
  if [ "$status" = 0 ]; then
    echo "FAIL: the peers connected although the lab should have kept them apart" >&2
    exit 1
  fi
  if [ "$status" = 77 ]; then
    exit 77
  fi
  # Only a failure to connect counts, not a crash or a usage error.
  if ! grep -a -q -i 'timed out\|connection failed\|ICE failed' "$work/pair.log"; then
    echo "FAIL: the peers failed, but not by failing to connect" >&2
    exit 1
  fi
  echo "PASS: the peers could not connect, as expected ($mode)" >&2
  exit 0
fi

if [ "$status" = 0 ] && [ "$mode" != stun ] && [ "$mode" != small-mtu ]; then
  # The payload must have crossed the relay: coturn logs the allocations.
  if ! grep -a -q 'ALLOCATE processed, success' "$work/turnserver.log"; then
    echo "FAIL: coturn logged no allocation" >&2
    exit 1
  fi
fi
exit $status
