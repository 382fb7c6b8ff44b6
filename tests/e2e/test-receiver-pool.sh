#!/usr/bin/env bash
# One receiver for every paired device (--all-devices): real processes, each
# "machine" a configuration folder of its own, a directory signaling store,
# ICE pinned to 127.0.0.1, no STUN. Checks concurrent backups into one folder
# per device with a limit on transfers at once, a device paired and one
# forgotten while the receiver runs, the quota, and the option errors.
# TAP output.
set -u

app=${DISTRIBUTED_BACKUP:?}
work=$(mktemp -d "${TMPDIR:-/tmp}/test-receiver-pool.XXXXXX")
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

sig="$work/signaling"
dst="$work/dst"
mkdir -p "$sig" "$dst"
loop=(--ice-address 127.0.0.1 -S '' --no-progress)

on() { # on MACHINE ARGS...: runs the program as that machine
  local machine=$1; shift
  mkdir -p "$work/$machine"
  XDG_CONFIG_HOME="$work/$machine" XDG_STATE_HOME="$work/$machine/state" \
    DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent LC_ALL=C.UTF-8 "$app" "$@"
}

pair() { # pair SENDER: the sender pairs with the receiver machine "server"
  local who=$1 link="" p
  ( exec env XDG_CONFIG_HOME="$work/server" XDG_STATE_HOME="$work/server/state" \
      DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent LC_ALL=C.UTF-8 \
      "$app" --invite --device-name Server --signaling "$sig" "${loop[@]}" --timeout 30 ) \
    >"$work/invite.$who" 2>"$work/invite.$who.err" &
  p=$!
  for _ in $(seq 100); do
    link=$(grep -o 'distributed-backup:pair?[^ ]*' "$work/invite.$who" 2>/dev/null | head -1)
    [ -n "$link" ] && break
    sleep 0.1
  done
  on "$who" --pair "$link" --device-name "$who" "${loop[@]}" --timeout 30 >/dev/null \
    2>"$work/pair.$who.err"
  wait "$p"
}

serve() { # serve ARGS...: the receiver of every device, in the background
  ( exec env XDG_CONFIG_HOME="$work/server" XDG_STATE_HOME="$work/server/state" \
      DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent LC_ALL=C.UTF-8 G_MESSAGES_DEBUG=Backup \
      "$app" --all-devices -d "$dst" "${loop[@]}" --no-announce "$@" ) \
    >"$work/server.log" 2>"$work/server.err" &
  server=$!
  pids+=("$server")
}

stop_server() {
  kill -TERM "$server" 2>/dev/null
  wait "$server"
  server_status=$?
}

send() { # send DEVICE ARGS...: a backup to the server, in the foreground
  local who=$1; shift
  on "$who" --device Server "${loop[@]}" --timeout 60 -q "$@" 2>"$work/send.$who.err"
}

wait_for() { # wait_for PATTERN FILE: up to 30 s
  for _ in $(seq 300); do grep -q "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}

one_line() { [ "$(wc -l <"$1")" = 1 ]; }
no_parts() { [ -z "$(find "$dst" -name '.*' -type f)" ]; }

# --- option errors, before any identity exists
on server --all-devices "${loop[@]}" 2>"$work/e1"; s1=$?
check "--all-devices without -d: exit 2, one line" [ "$s1" = 2 ]
check "--all-devices without -d: says -d" grep -q -- "-d DIR" "$work/e1"
on server --all-devices -d "$dst" "${loop[@]}" 2>"$work/e2"; s2=$?
check "--all-devices without an identity: exit 2, one line" \
  [ "$s2" = 2 ] && one_line "$work/e2" && grep -q "no identity" "$work/e2"
on server -d "$dst" -u x-1 --max-transfers 3 "${loop[@]}" 2>"$work/e3"; s3=$?
check "--max-transfers without --all-devices is refused" \
  [ "$s3" = 2 ] && grep -q -- "--max-transfers is only used with --all-devices" "$work/e3"
on server --all-devices -d "$dst" --max-transfers 0 2>"$work/e4"; s4=$?
check "--max-transfers 0 is refused" [ "$s4" = 2 ] && one_line "$work/e4"
on server --all-devices -d "$dst" --quota 5X 2>"$work/e5"; s5=$?
check "--quota 5X is refused" [ "$s5" = 2 ] && grep -q "is not a size" "$work/e5"
on server -s "$work" --quota 5M -u x-1 2>"$work/e6"; s6=$?
check "--quota when sending is refused" [ "$s6" = 2 ] && one_line "$work/e6"

# --- three devices, one transfer at a time
for who in alpha beta gamma; do pair "$who"; done
check "three devices paired" [ "$(on server --devices 2>/dev/null | grep -c /signaling)" = 3 ]
on server --all-devices -d "$dst" -u x-1 2>"$work/e7"; s7=$?
check "-u with --all-devices is refused" [ "$s7" = 2 ] && one_line "$work/e7"

for who in alpha beta gamma; do head -c 8000000 /dev/urandom >"$work/$who.bin"; done
serve --max-transfers 1
wait_for "Receiving from “gamma”" "$work/server.err"
spids=()
for who in alpha beta gamma; do send "$who" -s "$work/$who.bin" & spids+=($!); done
statuses=()
for p in "${spids[@]}"; do wait "$p"; statuses+=($?); done
check "three senders at once: all succeed" [ "${statuses[*]}" = "0 0 0" ]
for who in alpha beta gamma; do
  check "$who: stored byte for byte in its own folder" cmp -s "$work/$who.bin" "$dst/$who/$who.bin"
done
# The receiver's debug log (GLib writes it on standard output).
check "the others waited for the one slot" grep -q "every slot (1) is taken" "$work/server.log"
check "never two transfers at once" \
  grep -q "admitted (1 of 1 slots taken)" "$work/server.log" \
  && ! grep -q "admitted ([2-9] of" "$work/server.log"
check "the receiver says what it stored" \
  [ "$(grep -c '^Received .* from “' "$work/server.err")" = 3 ]

# --- a device paired while the receiver runs, one forgotten
pair delta
check "delta paired while the receiver runs" grep -q "Paired with" "$work/invite.delta.err"
check "the receiver serves delta without a restart" wait_for "Receiving from “delta”" "$work/server.err"
head -c 300000 /dev/urandom >"$work/delta.bin"
send delta -s "$work/delta.bin"; sd=$?
check "delta's backup lands" [ "$sd" = 0 ] && cmp -s "$work/delta.bin" "$dst/delta/delta.bin"
on server --unpair gamma 2>/dev/null
check "gamma forgotten: the receiver says so" \
  wait_for "No longer receiving from “gamma”" "$work/server.err"
before=$(ls "$dst/gamma" | wc -l)
on gamma --device Server "${loop[@]}" --timeout 5 -q -s "$work/gamma.bin" 2>"$work/send.gamma.err"
sg=$?
check "gamma's next backup is not received" [ "$sg" != 0 ] && [ "$(ls "$dst/gamma" | wc -l)" = "$before" ]
stop_server
check "SIGTERM stops the receiver (143)" [ "$server_status" = 143 ]
check "no partial file left" no_parts

# --- the quota of each device (8 MB kept by alpha and beta already)
serve --quota 12M -v 1
wait_for "Receiving from “alpha”" "$work/server.err"
head -c 5000000 /dev/urandom >"$work/big.bin"
send alpha -s "$work/big.bin"; sa=$?
check "a backup beyond the quota fails" [ "$sa" != 0 ]
check "the sender is told of the quota in one line" \
  one_line "$work/send.alpha.err" && grep -q "quota of 12.0 MB" "$work/send.alpha.err"
check "nothing of it is stored, the earlier version is intact" \
  [ ! -e "$dst/alpha/big.bin" ] && cmp -s "$work/alpha.bin" "$dst/alpha/alpha.bin"
head -c 3000000 /dev/urandom >"$work/small.bin"
send alpha -s "$work/small.bin"; sa2=$?
check "a backup within the quota is stored" [ "$sa2" = 0 ] && cmp -s "$work/small.bin" "$dst/alpha/small.bin"
# A zipped folder has no size in advance: it is stopped when it grows past.
mkdir -p "$work/tree"
head -c 6000000 /dev/urandom >"$work/tree/a"
head -c 4000000 /dev/urandom >"$work/tree/b"
on beta -e -p "$work/pw" -1 one -2 two 2>/dev/null
send beta -z -s "$work/tree" -o tree.zip -p "$work/pw"; sb=$?
check "a folder growing past the quota fails" [ "$sb" != 0 ] && grep -q "grew past" "$work/send.beta.err"
check "nothing of the folder is stored" [ ! -e "$dst/beta/tree.zip" ] && no_parts
stop_server
# With the quota already taken, a folder (no size in advance) is refused at once.
serve --quota 1M -v 1
wait_for "Receiving from “beta”" "$work/server.err"
send beta -z -s "$work/tree" -o tree.zip -p "$work/pw"; sb=$?
check "a folder with the quota already full fails in one line" \
  [ "$sb" != 0 ] && one_line "$work/send.beta.err" \
  && grep -q "already fill the receiver's quota of 1.0 MB" "$work/send.beta.err"
check "nothing of that folder is stored" [ ! -e "$dst/beta/tree.zip" ] && no_parts
stop_server

# --- the same from a profile file (as the systemd unit runs it)
cat >"$work/pool.conf" <<CONF
[Profile]
role=receive
destination=$dst
all-devices=true
max-transfers=2
quota=50M
ice-addresses=127.0.0.1
stun-servers=
CONF
( exec env XDG_CONFIG_HOME="$work/server" XDG_STATE_HOME="$work/server/state" \
    DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent LC_ALL=C.UTF-8 \
    "$app" --config "$work/pool.conf" --no-announce --no-progress ) 2>"$work/server.err" &
server=$!
pids+=("$server")
check "a profile file serves every device" wait_for "Receiving from “delta”" "$work/server.err"
check "with its limit" grep -q "at most 2 backups at once" "$work/server.err"
head -c 200000 /dev/urandom >"$work/delta2.bin"
send delta -s "$work/delta2.bin"; sd2=$?
check "a backup through the profile file lands" \
  [ "$sd2" = 0 ] && cmp -s "$work/delta2.bin" "$dst/delta/delta2.bin"
stop_server
on server --config "$work/pool.conf" --all-devices 2>"$work/e8"; s8=$?
check "--all-devices cannot be added to a profile file" [ "$s8" = 2 ] && one_line "$work/e8"
sed -i 's/^max-transfers=2/max-transfers=0/' "$work/pool.conf"
on server --config "$work/pool.conf" 2>"$work/e9"; s9=$?
check "a profile file's max-transfers=0 is refused" [ "$s9" = 2 ] && grep -q "max-transfers" "$work/e9"

echo "1..$n"
[ "$failed" = 0 ]
