#!/bin/sh
# test-lab-backup.sh [--outage SECONDS | --move SECONDS | --rebind] [--size BYTES] [--sender-lanes N]
#                    [--path-mtu BYTES]:
# a whole backup between
# two distributed-backup processes, the receiver in peer b and the sender in
# peer a of the WAN lab (lab.sh), over 40 ms RTT with 1 % loss and 1 %
# reordering each way. They pair through a signaling folder that both
# namespaces see (one file system), ICE only on the lab addresses, no STUN.
# With --outage, the link drops everything both ways for SECONDS once the
# receiver holds a third of the file. With --move, peer a moves to another
# address once the receiver holds a third: its old one is removed, and
# SECONDS later (a network coming up) it gets 10.201.3.2:
# the sender (ICE on every address of its namespace) and the receiver must
# restart ICE through the signaling folder and finish the same transfer
# over the new path, without starting it again. With --rebind, peer a's NAT
# mapping changes instead (linkem's "rebind": its packets arrive from new
# ports, and answers to the old ones are dropped), which only the sender
# notices by silence: the receiver must see its packets' new source and
# restart too. Passes when both exit 0 within their
# timeouts and the stored file is the one sent, over the 8 SCTP associations
# that two peers of this program run (the receiver's debug log says so),
# each of which acknowledges every packet on this long path. With
# --sender-lanes N the sender offers N (DISTRIBUTED_BACKUP_SCTP_LANES), as an
# older version offers 1: the pair runs N, and with 1 no bonded channel.
# Packets: the lab's devices take 1,500 bytes, so the path MTU probe finds
# 1,472-byte datagrams and SCTP sends packets larger than its base 1,200.
# With --path-mtu BYTES the link silently drops IP packets above BYTES while
# the devices still take 1,500 (a tunnel whose ICMP is lost): the probe
# finds nothing and SCTP keeps to 1,200.
# Needs root; 77 (skip) where the lab cannot be built.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

outage=
move=
rebind=
lanes=
path_mtu=
size=${LAB_BACKUP_SIZE:-4194304}
while [ $# -gt 0 ]; do
  case $1 in
    --outage) outage=$2; shift 2 ;;
    --move) move=$2; shift 2 ;;
    --rebind) rebind=1; shift ;;
    --size) size=$2; shift 2 ;;
    --sender-lanes) lanes=$2; shift 2 ;;
    --path-mtu) path_mtu=$2; shift 2 ;;
    *) echo "usage: test-lab-backup.sh [--outage SECONDS | --move SECONDS | --rebind] [--size BYTES] [--sender-lanes N] [--path-mtu BYTES]" >&2
       exit 2 ;;
  esac
done
: "${LAB_SH:?}" "${DISTRIBUTED_BACKUP:?}"
export LAB_OUTAGE="$outage" LAB_MOVE="$move" LAB_REBIND="$rebind" LAB_SIZE="$size" LAB_LANES="$lanes" LAB_PATH_MTU="$path_mtu"
if [ -n "$path_mtu" ]; then
  set -- --mtu "$path_mtu" --device-mtu 1500
else
  set --
fi

# shellcheck disable=SC2016
exec "$LAB_SH" run --delay 20 --loss 1 --reorder 1 "$@" -- sh -c '
  set -u
  app=$DISTRIBUTED_BACKUP
  w=$LAB_DIR
  mkdir "$w/signaling" "$w/src" "$w/dst"
  head -c "$LAB_SIZE" /dev/urandom > "$w/src/data.bin"
  common="--signaling $w/signaling --stun= --timeout 30 --no-progress -u lab-$$"
  start=$(date +%s)

  # GLib writes debug messages on standard output.
  G_MESSAGES_DEBUG="Backup Rtc" "$LAB_SH" b "$app" $common -q --ice-address "$LAB_ADDR_B" -d "$w/dst" \
    >"$w/receiver.log" 2>"$w/receiver.err" &
  receiver=$!
  if [ -n "$LAB_LANES" ]; then
    export DISTRIBUTED_BACKUP_SCTP_LANES="$LAB_LANES"
  fi
  # A sender that moves gathers on whatever its namespace has: only the
  # lab device, whose address changes.
  # It also tells on standard error how it reconnects (not quiet).
  sender_ice="-q --ice-address $LAB_ADDR_A"
  [ -z "$LAB_MOVE" ] || sender_ice=
  [ -z "$LAB_REBIND" ] || sender_ice="--ice-address $LAB_ADDR_A"
  G_MESSAGES_DEBUG=Backup "$LAB_SH" a "$app" $common $sender_ice -s "$w/src/data.bin" \
    >"$w/sender.log" 2>"$w/sender.err" &
  sender=$!

  if [ -n "$LAB_OUTAGE$LAB_MOVE$LAB_REBIND" ]; then
    # Once a third has arrived (the receiver writes a hidden .part file).
    third=$((LAB_SIZE / 3 / 1024))
    i=0
    until [ -n "$(find "$w/dst" -name "*.part" -size +"${third}"k 2>/dev/null)" ]; do
      i=$((i + 1))
      if [ $i -gt 600 ] || ! kill -0 "$sender" 2>/dev/null; then
        # An outage after the end would test nothing.
        echo "FAIL: the transfer did not get a third of the way" >&2
        kill "$sender" "$receiver" 2>/dev/null
        exit 1
      fi
      sleep 0.05
    done
    if [ -n "$LAB_REBIND" ]; then
      echo "peer a gets a new NAT mapping, $(($(date +%s) - start)) s after the start"
      "$LAB_SH" ctl rebind
    elif [ -n "$LAB_MOVE" ]; then
      echo "peer a loses its address, $(($(date +%s) - start)) s after the start"
      "$LAB_SH" b ip route add 10.201.3.0/24 dev lab-b
      "$LAB_SH" a ip addr del "$LAB_ADDR_A/24" dev lab-a
      sleep "$LAB_MOVE"
      echo "peer a gets 10.201.3.2, $(($(date +%s) - start)) s after the start"
      "$LAB_SH" a ip addr add 10.201.3.2/24 dev lab-a
      "$LAB_SH" a ip route replace 10.201.2.0/24 dev lab-a src 10.201.3.2
    else
      echo "link down for $LAB_OUTAGE s, $(($(date +%s) - start)) s after the start"
      "$LAB_SH" ctl "outage $LAB_OUTAGE"
    fi
  fi

  status=0
  wait "$sender" || status=$?
  echo "sender: exit $status after $(($(date +%s) - start)) s"
  rstatus=0
  wait "$receiver" || rstatus=$?
  echo "receiver: exit $rstatus after $(($(date +%s) - start)) s"
  for side in sender receiver; do
    if [ -s "$w/$side.err" ]; then
      echo "--- $side stderr"
      cat "$w/$side.err"
    fi
  done
  if [ "$status" != 0 ] || [ "$rstatus" != 0 ]; then
    echo "FAIL: a peer failed" >&2
    exit 1
  fi
  if ! cmp -s "$w/src/data.bin" "$w/dst/data.bin"; then
    echo "FAIL: the stored file differs from the one sent" >&2
    exit 1
  fi
  lanes=${LAB_LANES:-8}
  if [ "$lanes" = 1 ]; then
    if grep -q "SCTP associations" "$w/receiver.log"; then
      echo "FAIL: a sender offering one association got several" >&2
      exit 1
    fi
  elif ! grep -q ": $lanes SCTP associations" "$w/receiver.log"; then
    echo "FAIL: the receiver did not run $lanes SCTP associations:" >&2
    grep "SCTP associations" "$w/receiver.log" >&2
    exit 1
  fi
  # 40 ms is a long round trip: each association acknowledges every packet.
  prompt=$(grep -c "SCTP: a SACK for each packet" "$w/receiver.log" || true)
  if [ "$prompt" -lt "$lanes" ]; then
    echo "FAIL: $prompt of $lanes SCTP associations acknowledged every packet at 40 ms" >&2
    grep "SCTP: a SACK" "$w/receiver.log" >&2
    exit 1
  fi
  packet=$(sed -n "s/.*SCTP packets of up to \([0-9]*\) bytes.*/\1/p" "$w/receiver.log" | head -n 1)
  if [ -z "$packet" ]; then
    echo "FAIL: the receiver did not log its SCTP packet size" >&2
    exit 1
  fi
  if [ -n "$LAB_PATH_MTU" ] && [ "$packet" != 1200 ]; then
    echo "FAIL: SCTP packets of $packet bytes on a path that drops more than $LAB_PATH_MTU" >&2
    exit 1
  fi
  if [ -z "$LAB_PATH_MTU" ] && [ "$packet" -le 1200 ]; then
    echo "FAIL: SCTP packets of $packet bytes on a path of 1,500" >&2
    exit 1
  fi
  if [ -n "$LAB_MOVE$LAB_REBIND" ]; then
    for side in sender receiver; do
      if ! grep -q "ICE restart [0-9]*: the connection goes on over" "$w/$side.log"; then
        echo "FAIL: the $side did not go on over a restarted ICE path:" >&2
        grep -i "restart\|silent\|nothing from" "$w/$side.log" >&2
        exit 1
      fi
    done
    if ! grep -q "The connection was lost; looking for a new path" "$w/sender.err" \
       || ! grep -q "Connected again; the backup goes on" "$w/sender.err"; then
      echo "FAIL: the sender did not say that it lost and found the connection" >&2
      exit 1
    fi
    if [ -n "$LAB_MOVE" ] && ! grep -q "the connection goes on over 10.201.3.2:" "$w/sender.log"; then
      echo "FAIL: the sender did not move to its new address:" >&2
      grep "goes on over" "$w/sender.log" >&2
      exit 1
    fi
    # One run: the transfer went on; it was never started again.
    if [ "$(grep -c "data channel open" "$w/receiver.log")" != 1 ]; then
      echo "FAIL: the receiver saw more than one connection" >&2
      exit 1
    fi
    grep "ICE restart" "$w/sender.log" "$w/receiver.log"
  elif [ -n "$LAB_OUTAGE" ]; then
    # For the record: restarts tried while the link was down (the old path
    # or a new one carries on once it is back).
    grep -h "ICE restart" "$w/sender.log" "$w/receiver.log" || true
  fi
  # Both sides cleaned the signaling folder, restart files included.
  left=$(find "$w/signaling" -type f ! -name ".*" | head -n 5)
  if [ -n "$left" ]; then
    echo "FAIL: files left in the signaling folder: $left" >&2
    exit 1
  fi
  echo "PASS: $LAB_SIZE bytes stored intact over $lanes SCTP association(s), packets of up to $packet bytes"
'
