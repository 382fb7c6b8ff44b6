#!/bin/sh
# test-lab-backup.sh [--outage SECONDS] [--size BYTES] [--sender-lanes N] [--path-mtu BYTES]:
# a whole backup between
# two distributed-backup processes, the receiver in peer b and the sender in
# peer a of the WAN lab (lab.sh), over 40 ms RTT with 1 % loss and 1 %
# reordering each way. They pair through a signaling folder that both
# namespaces see (one file system), ICE only on the lab addresses, no STUN.
# With --outage, the link drops everything both ways for SECONDS once the
# receiver holds a third of the file. Passes when both exit 0 within their
# timeouts and the stored file is the one sent, over the 8 SCTP associations
# that two peers of this program run (the receiver's debug log says so). With
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
lanes=
path_mtu=
size=${LAB_BACKUP_SIZE:-4194304}
while [ $# -gt 0 ]; do
  case $1 in
    --outage) outage=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --sender-lanes) lanes=$2; shift 2 ;;
    --path-mtu) path_mtu=$2; shift 2 ;;
    *) echo "usage: test-lab-backup.sh [--outage SECONDS] [--size BYTES] [--sender-lanes N] [--path-mtu BYTES]" >&2
       exit 2 ;;
  esac
done
: "${LAB_SH:?}" "${DISTRIBUTED_BACKUP:?}"
export LAB_OUTAGE="$outage" LAB_SIZE="$size" LAB_LANES="$lanes" LAB_PATH_MTU="$path_mtu"
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
  common="--signaling $w/signaling --stun= --timeout 30 -q --no-progress -u lab-$$"
  start=$(date +%s)

  # GLib writes debug messages on standard output.
  G_MESSAGES_DEBUG=Backup "$LAB_SH" b "$app" $common --ice-address "$LAB_ADDR_B" -d "$w/dst" \
    >"$w/receiver.log" 2>"$w/receiver.err" &
  receiver=$!
  if [ -n "$LAB_LANES" ]; then
    export DISTRIBUTED_BACKUP_SCTP_LANES="$LAB_LANES"
  fi
  "$LAB_SH" a "$app" $common --ice-address "$LAB_ADDR_A" -s "$w/src/data.bin" 2>"$w/sender.err" &
  sender=$!

  if [ -n "$LAB_OUTAGE" ]; then
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
    echo "link down for $LAB_OUTAGE s, $(($(date +%s) - start)) s after the start"
    "$LAB_SH" ctl "outage $LAB_OUTAGE"
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
  echo "PASS: $LAB_SIZE bytes stored intact over $lanes SCTP association(s), packets of up to $packet bytes"
'
