#!/usr/bin/env bash
# test-nearby.sh: devices find each other on the local network (--nearby,
# and the announcement of a receiver that keeps listening), through real
# Avahi daemons.
#
# Three "machines" of nearby-lab.sh (network namespaces, each with its own
# system bus and avahi-daemon, on one bridge):
#
#   A (10.77.0.1)  distributed-backup -d DIR --keep-listening (announces)
#   B (10.77.0.2), C (10.77.0.3)  distributed-backup --nearby --timeout 5
#
# Checks: B and C list A (name, fingerprint as A's --devices says it,
# address) and each other, never themselves; --no-announce hides B; A's
# --nearby does not list A's own receiver; a second receiver with A's name
# is announced under another instance name and listed too; with A's
# avahi-daemon stopped, A's --nearby says so in one line and exits 1, and
# once the daemon is back, A's receiver (still running) is announced again.
#
# Needs root and avahi-daemon: exits 77 (skipped) otherwise, or fails when
# CI=true. Output: TAP lines (the exit status is what meson reads).
set -u

LAB_NAME=test-nearby
. "$(dirname "$0")/nearby-lab.sh"

start_machines a:1 b:2 c:3

# Each bus is a bus of its own: three different ids.
bus_id() {
  on "$1" dbus-send --system --print-reply=literal --dest=org.freedesktop.DBus \
    /org/freedesktop/DBus org.freedesktop.DBus.GetId | tr -d ' '
}
ids="$(bus_id a) $(bus_id b) $(bus_id c)"
check "three separate system buses" [ "$(echo "$ids" | tr ' ' '\n' | grep -c .)" = 3 ] \
  && [ "$(echo "$ids" | tr ' ' '\n' | sort -u | grep -c .)" = 3 ]

# --- A: a receiver that keeps listening, announced

mkdir -p "$work/signaling"
receive() { # receive ID LOG [options...]: a receiver on machine ID, in the background
  local id=$1 log=$2; shift 2
  on_exec "$id" "$app" -d "$work/$id/dst" --keep-listening -u "nearby-$$" \
    --signaling "$work/signaling" --ice-address "${addr[$id]}" -S '' --timeout 600 \
    --no-progress "$@" >"$log" 2>&1 &
  receiver=$!
  pids+=("$receiver")
}
receive a "$work/a/receiver.log"
receiver_a=$receiver
wait_for 20 test -s "$work/a/config/distributed-backup/device/key.pem" \
  || bail "A's receiver made no device certificate"

# The fingerprints, as --devices says them.
fingerprint_of() { # fingerprint_of ID
  on "$1" "$app" --devices 2>&1 >/dev/null \
    | sed -n 's/^This device’s certificate fingerprint: \([0-9A-F:]*\)$/\1/p'
}
on b "$app" --nearby --no-announce --timeout 1 >/dev/null 2>&1 # makes B's certificate
on c "$app" --nearby --no-announce --timeout 1 >/dev/null 2>&1
fp_a=$(fingerprint_of a)
fp_b=$(fingerprint_of b)
fp_c=$(fingerprint_of c)
check "--devices gives each machine's fingerprint" \
  [ ${#fp_a} = 95 ] && [ ${#fp_b} = 95 ] && [ ${#fp_c} = 95 ] && [ "$fp_a" != "$fp_b" ]
short() { echo "${1:0:23}"; }
line_a=$(printf 'nearby-a\t%s…\t10.77.0.1' "$(short "$fp_a")")
line_b=$(printf 'nearby-b\t%s…\t10.77.0.2' "$(short "$fp_b")")
line_c=$(printf 'nearby-c\t%s…\t10.77.0.3' "$(short "$fp_c")")

# nearby ID NAME [options...]: --nearby on machine ID, in the background;
# its output in $work/NAME.out and .err, its status in .status.
nearby() {
  local id=$1 name=$2; shift 2
  ( on "$id" "$app" --nearby --timeout 5 "$@" >"$work/$name.out" 2>"$work/$name.err"
    echo $? > "$work/$name.status" ) &
  pids+=("$!")
  looking+=("$!")
}
looking=()
# Waits for the --nearby runs started.
wait_looking() {
  local p
  for p in "${looking[@]}"; do wait "$p"; done
  looking=()
}
has_line() { grep -qxF -- "$2" "$work/$1.out"; }
lacks() { ! grep -qF -- "$2" "$work/$1.out"; }
status_is() { [ "$(cat "$work/$1.status")" = "$2" ]; }
show() { for f in "$@"; do echo "# --- $f"; diag "$work/$f"; done; }

# Give A's announcement its probing time (about a second).
sleep 2

# --- B and C look at the same time (each announced meanwhile)
nearby b b1
nearby c c1
wait_looking
check "B: --nearby succeeds" status_is b1 0
check "B lists A: name, fingerprint, address" has_line b1 "$line_a"
check "C lists A: name, fingerprint, address" has_line c1 "$line_a"
check "B lists C, which announces itself while it looks" has_line b1 "$line_c"
check "C lists B" has_line c1 "$line_b"
check "B does not list itself" lacks b1 "$(short "$fp_b")"
check "C does not list itself" lacks c1 "$(short "$fp_c")"
check "each device is listed once" \
  [ "$(grep -c . "$work/b1.out")" = 2 ] && [ "$(grep -c . "$work/c1.out")" = 2 ]
[ $failed = 0 ] || show b1.out b1.err c1.out c1.err a/avahi.log

# --- --no-announce: C does not see B
nearby b b2 --no-announce
nearby c c2
wait_looking
check "--no-announce: C lists A but not B" has_line c2 "$line_a" && lacks c2 "$(short "$fp_b")"
check "--no-announce: B still lists A" has_line b2 "$line_a"

# --- A's own --nearby does not list A's receiver (the same certificate).
# B and C have just stopped announcing: their goodbyes leave the caches
# within a second (RFC 6762, 10.1).
sleep 2
nearby a a1
wait_looking
check "A: --nearby succeeds" status_is a1 0
check "A does not list its own receiver" lacks a1 "$(short "$fp_a")"
check "A says it found no device" grep -qxF "No device found nearby" "$work/a1.err"

# --- a name taken: a second receiver named nearby-a (on C, its own
# certificate) is announced under another instance name, and listed
c2_dir="$work/c2"
mkdir -p "$c2_dir/config" "$c2_dir/dst"
chmod 700 "$c2_dir/config"
CONFIG_HOME="$c2_dir/config" on_exec c unshare -u sh -c 'hostname nearby-a && exec "$@"' sh \
  "$app" -d "$c2_dir/dst" --keep-listening -u "nearby-c2-$$" --signaling "$work/signaling" \
  --ice-address 10.77.0.3 -S '' --timeout 600 --no-progress >"$c2_dir/receiver.log" 2>&1 &
receiver_c2=$!
pids+=("$receiver_c2")
wait_for 20 test -s "$c2_dir/config/distributed-backup/device/key.pem"
fp_c2=$(CONFIG_HOME="$c2_dir/config" fingerprint_of c)
sleep 3
nearby b b3
wait_looking
check "two devices named nearby-a: both are listed" \
  has_line b3 "$line_a" \
  && has_line b3 "$(printf 'nearby-a\t%s…\t10.77.0.3' "$(short "$fp_c2")")"
[ $failed = 0 ] || show b3.out b3.err c/avahi.log c2/receiver.log
kill -TERM "$receiver_c2" 2>/dev/null
wait "$receiver_c2" 2>/dev/null

# --- A's avahi-daemon stops: A's --nearby says so; A's receiver goes on
kill -TERM "${avahi_pid[a]}"
wait "${avahi_pid[a]}"
check "A's avahi-daemon stops" [ $? = 0 ]
sleep 1
nearby a a2
nearby b b4
wait_looking
check "no daemon: A's --nearby exits 1" status_is a2 1
check "no daemon: one clear line" \
  [ "$(cat "$work/a2.err")" = "$PROGRAM: Cannot look for nearby devices: the Avahi daemon is not running" ]
check "no daemon: nothing listed" [ ! -s "$work/a2.out" ]
check "A's stopped daemon withdrew A" lacks b4 "$(short "$fp_a")"
check "A's receiver keeps running without the daemon" kill -0 "$receiver_a"
[ $failed = 0 ] || show a2.err b4.out

# --- the daemon comes back: A's receiver is announced again
start_avahi a || not_ok "A's avahi-daemon restarts"
found=0
for attempt in 1 2 3; do
  nearby b "b5-$attempt"
  wait_looking
  if has_line "b5-$attempt" "$line_a"; then found=1; break; fi
done
check "the daemon back: B lists A's receiver again" [ $found = 1 ]
[ $found = 1 ] || show a/receiver.log a/avahi.log "b5-$attempt.err"

# --- the receiver stops on SIGTERM as before
kill -TERM "$receiver_a"
wait "$receiver_a"
status=$?
check "A's receiver stops on SIGTERM (status 143)" [ "$status" = 143 ]
check "A's receiver printed nothing" [ ! -s "$work/a/receiver.log" ]
[ -s "$work/a/receiver.log" ] && show a/receiver.log

echo "1..$n"
[ $failed = 0 ]
