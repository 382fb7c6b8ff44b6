#!/bin/sh
# The link emulator's self-test (meson test wan-linkem-tcp), with TCP
# (tests/lab/lab-tcp) from peer a to peer b:
#  1. 40 ms RTT, 1 % random loss each way, CUBIC: 4 MiB arrive byte for
#     byte, and the sender's smoothed RTT is at least 40 ms;
#  2. a 100 Mbit/s rate limit: 16 MiB arrive, at no more than 100 Mbit/s;
#  3. the unimpaired path with 1,200-byte packets: 512 MiB arrive; the rate
#     is printed, not asserted (the machine may be busy): it shows that
#     linkem is not what limits the other measurements.
# Needs root; 77 (skip) where the lab cannot be built.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu
: "${LAB_SH:?}" "${LAB_TCP:?}" "${LINKEM:?}"

# One transfer of $LAB_BYTES with $LAB_CC; prints the two JSON lines.
# shellcheck disable=SC2016
transfer='
  "$LAB_SH" b "$LAB_TCP" --listen "$LAB_ADDR_B:5201" --bytes "$LAB_BYTES" \
    >"$LAB_DIR/recv.json" 2>"$LAB_DIR/recv.err" &
  recv=$!
  timeout 60 "$LAB_SH" a "$LAB_TCP" --connect "$LAB_ADDR_B:5201" --bytes "$LAB_BYTES" \
    --cc "$LAB_CC" >"$LAB_DIR/send.json" || { cat "$LAB_DIR/recv.err" >&2; exit 1; }
  wait "$recv" || { cat "$LAB_DIR/recv.err" >&2; exit 1; }
  cat "$LAB_DIR/send.json" "$LAB_DIR/recv.json"
'
field () { # field NAME LINE
  printf '%s\n' "$2" | sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p"
}
step () { # step NAME LINKEM-OPTIONS...: runs $transfer in a lab; sets $send and $recv
  name=$1
  shift
  status=0
  out=$("$LAB_SH" run "$@" -- sh -c "$transfer") || status=$?
  if [ "$status" = 77 ]; then
    exit 77
  fi
  if [ "$status" != 0 ]; then
    echo "FAIL: $name: the transfer failed (status $status)" >&2
    exit 1
  fi
  send=$(printf '%s\n' "$out" | grep '"role":"sender"')
  recv=$(printf '%s\n' "$out" | grep '"role":"receiver"')
  echo "$name: $recv (sender: $(field cc "$send"), rtt_ms $(field rtt_ms "$send"), retrans $(field retrans "$send"))"
  if [ "$(field ok "$recv")" != true ]; then
    echo "FAIL: $name: the bytes differ" >&2
    exit 1
  fi
}

export LAB_CC=cubic LAB_BYTES=4194304
step "40 ms RTT, 1 % loss" --delay 20 --loss 1 --seed 7
rtt=$(field rtt_ms "$send")
if [ "${rtt%.*}" -lt 40 ] || [ "${rtt%.*}" -gt 400 ]; then
  echo "FAIL: the smoothed RTT is $rtt ms, not about 40 ms" >&2
  exit 1
fi
if [ "$(field retrans "$send")" = 0 ]; then
  echo "FAIL: TCP retransmitted nothing through 1 % loss" >&2
  exit 1
fi

export LAB_BYTES=16777216
step "100 Mbit/s" --delay 5 --rate 100mbit
mbit=$(field mbit_s "$recv")
if [ "${mbit%.*}" -ge 101 ]; then
  echo "FAIL: $mbit Mbit/s through a 100 Mbit/s limit" >&2
  exit 1
fi

export LAB_BYTES=536870912
step "unimpaired, 1,200-byte packets" --mtu 1200
echo "PASS"
