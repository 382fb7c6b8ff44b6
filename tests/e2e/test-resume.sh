#!/usr/bin/env bash
# Interrupted backups resume: a file whose link is cut halfway, and a
# folder backup whose two processes are killed halfway, each sent again,
# must be stored byte-identical while the second run sends only what the
# first one did not deliver (the sender reports how much it did not send
# again). Two real distributed-backup processes in a network namespace of
# this test (the link is cut with iptables there), directory signaling,
# ICE on 127.0.0.1, no STUN. TAP output.
#
# Sizes: RESUME_FILE_MB (default 1024) and RESUME_FOLDER_MB (default 300).
# Needs root, unshare and iptables; reports a TAP skip otherwise.
set -u

app=${DISTRIBUTED_BACKUP:?}
file_mb=${RESUME_FILE_MB:-1024}
folder_mb=${RESUME_FOLDER_MB:-300}

if [ -z "${RESUME_IN_NAMESPACE:-}" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || ! command -v iptables >/dev/null; then
    echo "1..0 # SKIP needs root, unshare and iptables"
    exit 0
  fi
  RESUME_IN_NAMESPACE=1 exec unshare -n "$0" "$@"
fi
ip link set lo up

work=$(mktemp -d "${TMPDIR:-/tmp}/test-resume.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
diag() { sed 's/^/# /' "$@"; }

sig="$work/signaling"
mkdir -p "$sig" "$work/dst" "$work/src"
export XDG_STATE_HOME="$work/state" XDG_CONFIG_HOME="$work/config"
common=(--signaling "$sig" --ice-address 127.0.0.1 -S '' --timeout 60 --no-progress)

receive() { # receive LOG
  "$app" "${common[@]}" -q -u "$uid" -d "$work/dst" 2>"$1" &
  receiver=$!
  pids+=("$receiver")
}

send() { # send LOG ARGS...
  local log=$1; shift
  "$app" "${common[@]}" -u "$uid" "$@" 2>"$log" &
  sender=$!
  pids+=("$sender")
}

# The size of what the receiver holds of NAME ("" until it exists).
kept_size() { stat -c %s "$work"/dst/."$1".*.resume.part 2>/dev/null | head -n 1; }

wait_for_half() { # wait_for_half NAME TOTAL_BYTES
  local size
  for _ in $(seq 1 6000); do
    size=$(kept_size "$1")
    [ -n "$size" ] && [ "$size" -ge $(($2 / 2)) ] && return 0
    sleep 0.02
  done
  return 1
}

# "its first 536.9 MB were not sent again" → bytes (the size has a
# no-break space before its unit).
resumed_bytes() {
  sed -n 's/^Resumed an interrupted transfer: its first \([0-9.]*\)\(\xc2\xa0\| \)\([kMGT]*B\|bytes\) were not sent again$/\1 \3/p' "$1" |
    awk '{ m = 1; if ($2 == "kB") m = 1e3; if ($2 == "MB") m = 1e6; if ($2 == "GB") m = 1e9;
           if ($2 == "TB") m = 1e12; printf "%d\n", $1 * m }'
}

# within A B PERCENT: |A - B| <= PERCENT % of B
within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= b * p / 100) }'; }

# --- a file; the link dies halfway
uid="resume-file-$$"
total=$((file_mb * 1024 * 1024))
head -c "$total" /dev/urandom > "$work/src/big.bin"
receive "$work/r1.err"
send "$work/s1.err" -s "$work/src/big.bin"
if wait_for_half big.bin "$total"; then
  iptables -w -I INPUT -j DROP
  at_cut=$(kept_size big.bin)
  wait "$sender"; sender_status=$?
  wait "$receiver"; receiver_status=$?
  iptables -w -D INPUT -j DROP
  check "file: both peers fail when the link dies" [ "$sender_status" = 1 ] && [ "$receiver_status" = 1 ]
  check "file: the receiver says what it keeps" grep -q "what arrived is kept" "$work/r1.err"
  kept=$(kept_size big.bin)
  check "file: nothing stored, the bytes that arrived kept hidden" \
    [ ! -e "$work/dst/big.bin" ] && [ -n "$kept" ] && [ "$kept" -ge "$at_cut" ]

  receive "$work/r2.err"
  send "$work/s2.err" -s "$work/src/big.bin"
  wait "$sender"; sender_status=$?
  wait "$receiver"; receiver_status=$?
  check "file: sent again, both succeed" [ "$sender_status" = 0 ] && [ "$receiver_status" = 0 ]
  check "file: stored byte-identical" cmp -s "$work/src/big.bin" "$work/dst/big.bin"
  resumed=$(resumed_bytes "$work/s2.err")
  diag "$work/s2.err"
  echo "# the link died after $at_cut of $total bytes; kept $kept; resumed ${resumed:-?}"
  check "file: the second run skipped what had arrived (reported)" \
    [ -n "$resumed" ] && within "$resumed" "$kept" 1
  check "file: ... roughly half" within "$resumed" $((total / 2)) 15
  check "file: nothing kept any more" [ -z "$(kept_size big.bin)" ]
else
  not_ok "file: the transfer reached half of the file"
  diag "$work/r1.err" "$work/s1.err"
fi
rm -f "$work/src/big.bin" "$work/dst/big.bin"

# --- a folder backup; both processes are killed halfway
uid="resume-folder-$$"
mkdir -p "$work/src/tree/a" "$work/src/tree/b"
per=$((folder_mb * 1024 * 1024 / 12))
for i in $(seq 1 6); do
  head -c "$per" /dev/urandom > "$work/src/tree/a/file-$i"
  head -c "$per" /dev/urandom > "$work/src/tree/b/file-$i"
done
"$app" -e -p "$work/pass" -1 inner-secret -2 outer-secret -q
receive "$work/r3.err"
send "$work/s3.err" -z -s "$work/src/tree" -o tree.zip -p "$work/pass"
archive=$((folder_mb * 1024 * 1024))
if wait_for_half tree.zip "$archive"; then
  kill -9 "$sender" "$receiver"
  wait "$sender" 2>/dev/null
  wait "$receiver" 2>/dev/null
  kept=$(kept_size tree.zip)
  check "folder: nothing stored after both were killed, what arrived kept hidden" \
    [ ! -e "$work/dst/tree.zip" ] && [ -n "$kept" ]
  rm -rf "$sig"/*

  receive "$work/r4.err"
  send "$work/s4.err" -z -s "$work/src/tree" -o tree.zip -p "$work/pass"
  wait "$sender"; sender_status=$?
  wait "$receiver"; receiver_status=$?
  check "folder: sent again, both succeed" [ "$sender_status" = 0 ] && [ "$receiver_status" = 0 ]
  resumed=$(resumed_bytes "$work/s4.err")
  size=$(stat -c %s "$work/dst/tree.zip" 2>/dev/null || echo 0)
  diag "$work/s4.err"
  echo "# kept $kept of an archive of $size bytes; resumed ${resumed:-?}"
  check "folder: the second run skipped what had arrived (reported)" \
    [ -n "$resumed" ] && within "$resumed" "$kept" 1
  check "folder: ... roughly half" within "$resumed" $((size / 2)) 15
  mkdir -p "$work/restored"
  "$app" --restore "$work/dst/tree.zip" -p "$work/pass" -d "$work/restored" -q 2>"$work/restore.err"
  check "folder: the stored archive restores to the very same tree" \
    diff -r "$work/src/tree" "$work/restored"
  diag "$work/restore.err"
  check "folder: nothing kept any more" [ -z "$(kept_size tree.zip)" ]
else
  not_ok "folder: the transfer reached half of the archive"
  diag "$work/r3.err" "$work/s3.err"
fi

echo "1..$n"
exit $((failed > 0))
