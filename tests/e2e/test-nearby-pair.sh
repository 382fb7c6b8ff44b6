#!/usr/bin/env bash
# test-nearby-pair.sh: two devices of one local network pair by confirming
# a verification code (--invite-nearby, --pair-nearby), then back up with
# each other through the signaling server the receiver announces; a third
# device of the same network sees them but can neither pair nor receive.
#
# Three machines of nearby-lab.sh (network namespaces, each with its own
# system bus and avahi-daemon, on one bridge):
#
#   A (10.77.0.1)  --invite-nearby, then a receiver with --device nearby-b
#   B (10.77.0.2)  --pair-nearby nearby-a, then a sender with --device nearby-a
#   C (10.77.0.3)  the onlooker: --nearby, --pair-nearby, a spoofed
#                  announcement of A with its own server and receiver
#   D (10.77.0.4)  the desktop application's "Pair With a Device Nearby"
#                  (tests/gui/test-gui-nearby.c under Xvfb), when built:
#                  it joins A's --invite-nearby, B's --pair-nearby joins
#                  it, and its user refuses C's code; while it runs, the
#                  application announces D (avahi-browse on C) (with
#                  NEARBY_SCREENSHOT_DIR, it renders its window there)
#
# The users' answers go to standard input through FIFOs. Checks: both show
# the same code and store each other (fingerprint, "nearby:", one session
# id); B's file reaches A byte for byte; C lists A and B; C cannot pair
# while A does not invite, nor when A's user refuses the code (nothing
# stored on either side); C announcing itself as A, with B's session id,
# is refused by B for its certificate and receives nothing; with A gone,
# B says the device is not reachable.
#
# Needs root, avahi-daemon and avahi-publish-service (and for D, xvfb-run
# and dbus-run-session): exits 77 (skipped)
# otherwise, or fails when CI=true. Output: TAP lines.
set -u

if ! command -v avahi-publish-service >/dev/null; then
  if [ "${CI:-}" = "true" ]; then
    echo "Bail out! avahi-publish-service is missing (avahi-utils), and CI=true requires every test to run"
    exit 1
  fi
  echo "1..0 # SKIP avahi-publish-service is not installed (avahi-utils)"
  exit 77
fi
server=${DISTRIBUTED_BACKUP_SERVER:?}

LAB_NAME=test-nearby-pair
. "$(dirname "$0")/nearby-lab.sh"

start_machines a:1 b:2 c:3 d:4

show() { for f in "$@"; do echo "# --- $f"; diag "$work/$f"; done; }
fingerprint_of() { # fingerprint_of ID
  on "$1" "$app" --devices 2>&1 >/dev/null \
    | sed -n 's/^This device’s certificate fingerprint: \([0-9A-F:]*\)$/\1/p'
}
for id in a b c d; do
  on "$id" "$app" --nearby --no-announce --timeout 1 >/dev/null 2>&1 # its certificate
done
fp_a=$(fingerprint_of a)
fp_b=$(fingerprint_of b)
fp_c=$(fingerprint_of c)
fp_d=$(fingerprint_of d)
check "each machine has its own certificate" \
  [ ${#fp_a} = 95 ] && [ ${#fp_b} = 95 ] && [ ${#fp_c} = 95 ] && [ "$fp_a" != "$fp_b" ] \
  && [ "$fp_b" != "$fp_c" ]

# --- pairing runs: each reads its user's answer from a FIFO

declare -A pairing_pid answer_fd
# start_pairing ID NAME OPTIONS...: a pairing on ID in the background; its
# answers go through the FIFO $work/NAME.in (held open here, so that the
# pairing's reader neither waits to open it nor sees its end), output in
# NAME.out/.err.
start_pairing() {
  local id=$1 name=$2 fd; shift 2
  mkfifo "$work/$name.in"
  exec {fd}<>"$work/$name.in"
  answer_fd[$name]=$fd
  ( on "$id" "$app" "$@" --ice-address "${addr[$id]}" -S '' <"$work/$name.in" \
      >"$work/$name.out" 2>"$work/$name.err"
    echo $? >"$work/$name.status" ) &
  pairing_pid[$name]=$!
  pids+=("$!")
}
answer() { # answer NAME TEXT: one line to NAME's standard input
  printf '%s\n' "$2" >&"${answer_fd[$1]}"
}
code_of() { # the code NAME shows, "123 456"
  sed -n 's/^Verification code: \([0-9]\{3\} [0-9]\{3\}\)$/\1/p' "$work/$1.err"
}
shows_code() { [ -n "$(code_of "$1")" ]; }
finish_pairing() { wait "${pairing_pid[$1]}"; } # (not in a subshell: its child)
status_of() { cat "$work/$1.status"; }
devices_of() { on "$1" "$app" --devices 2>/dev/null; }
session_of() { # session_of ID DEVICE: the session id ID keeps for DEVICE
  sed -n "/^\[Device $2\]/,/^\[/s/^session-id=//p" \
    "$work/$1/config/distributed-backup/device/paired.conf" 2>/dev/null
}

start_pairing a inv1 --invite-nearby --timeout 60
wait_for 20 grep -q "waits on the local network" "$work/inv1.err" \
  || { show inv1.err; bail "A does not wait for a device"; }
# A's announcement probes its name for about a second.
sleep 2
start_pairing b join1 --pair-nearby nearby-a --timeout 20
if wait_for 40 shows_code inv1 && wait_for 10 shows_code join1; then
  ok "both devices show a verification code"
else
  not_ok "both devices show a verification code"
  show inv1.err join1.err
fi
check "the two codes are the same" [ -n "$(code_of inv1)" ] && [ "$(code_of inv1)" = "$(code_of join1)" ]
check "A is asked about B (its name and fingerprint)" \
  grep -qF "“nearby-b” ($fp_b) asks to pair." "$work/inv1.err"
check "B is asked about A" grep -qF "“nearby-a” ($fp_a) asks to pair." "$work/join1.err"
answer join1 y
answer inv1 yes
finish_pairing inv1
finish_pairing join1
check "A: paired (exit 0)" [ "$(status_of inv1)" = 0 ]
check "B: paired (exit 0)" [ "$(status_of join1)" = 0 ]
check "A says it paired with nearby-b" grep -qF "Paired with “nearby-b” ($fp_b)" "$work/inv1.err"
check "B says it paired with nearby-a" grep -qF "Paired with “nearby-a” ($fp_a)" "$work/join1.err"
check "A keeps B: name, fingerprint, the local network" \
  [ "$(devices_of a)" = "$(printf 'nearby-b\t%s\tnearby:\t-' "$fp_b")" ]
check "B keeps A: name, fingerprint, the local network" \
  [ "$(devices_of b)" = "$(printf 'nearby-a\t%s\tnearby:\t-' "$fp_a")" ]
session=$(session_of b nearby-a)
check "both keep one session id, derived from a shared secret" \
  [ -n "$session" ] && [ "$session" = "$(session_of a nearby-b)" ] \
  && [ "${session#device-}" != "$session" ]
[ $failed = 0 ] || show inv1.err join1.err

# --- a backup from B to A, A found through its announcement

head -c 3000000 /dev/urandom >"$work/b/payload.bin"
on_exec a "$app" -d "$work/a/dst" --device nearby-b --keep-listening \
  --ice-address 10.77.0.1 -S '' --timeout 600 --no-progress >"$work/a/receiver.log" 2>&1 &
receiver_a=$!
pids+=("$receiver_a")
sleep 2
on b "$app" -s "$work/b/payload.bin" --device nearby-a --ice-address 10.77.0.2 -S '' \
  --timeout 30 --no-progress >"$work/send1.log" 2>&1
check "B backs up to A (exit 0)" [ $? = 0 ]
check "A received B's file, byte for byte" cmp -s "$work/b/payload.bin" "$work/a/dst/payload.bin"
[ $failed = 0 ] || show send1.log a/receiver.log

# --- C, on the same network, sees A (the receiver) and B (looking too)
( on b "$app" --nearby --timeout 5 >/dev/null 2>&1 ) &
looking_b=$!
on c "$app" --nearby --timeout 5 >"$work/c-nearby.out" 2>"$work/c-nearby.err"
wait "$looking_b"
check "C lists A" grep -qF "$(printf 'nearby-a\t%s' "${fp_a:0:23}")" "$work/c-nearby.out"
check "C lists B" grep -qF "$(printf 'nearby-b\t%s' "${fp_b:0:23}")" "$work/c-nearby.out"

# --- C cannot pair with A while A does not invite
on c "$app" --pair-nearby nearby-a --timeout 4 --ice-address 10.77.0.3 -S '' \
  </dev/null >"$work/c-pair1.out" 2>"$work/c-pair1.err"
check "C: no pairing with a device that does not invite (exit 1)" [ $? = 1 ]
check "C: told that A does not accept to pair now" \
  grep -qF "The device “nearby-a” is on this network but does not accept to pair now" \
  "$work/c-pair1.err"
[ $failed = 0 ] || show c-pair1.err

# --- nor when A invites and A's user does not confirm C's code
start_pairing a inv2 --invite-nearby --timeout 60
wait_for 20 grep -q "waits on the local network" "$work/inv2.err"
sleep 2
start_pairing c join2 --pair-nearby nearby-a --timeout 20
wait_for 40 shows_code inv2 && wait_for 10 shows_code join2
check "A is asked about C" grep -qF "“nearby-c” ($fp_c) asks to pair." "$work/inv2.err"
answer join2 y
answer inv2 n
finish_pairing inv2
finish_pairing join2
check "A: not paired (exit 1)" [ "$(status_of inv2)" = 1 ]
check "C: not paired (exit 1)" [ "$(status_of join2)" = 1 ]
check "A: one clear line" \
  grep -qF "] $PROGRAM: The verification code was not confirmed; nothing was stored" "$work/inv2.err"
check "C: told that A refused" \
  grep -qF "The other device refused the pairing (the code was not confirmed); nothing was stored" \
  "$work/join2.err"
check "A still keeps B alone" \
  [ "$(devices_of a)" = "$(printf 'nearby-b\t%s\tnearby:\t-' "$fp_b")" ]
check "C keeps no device" [ -z "$(devices_of c)" ]
[ $failed = 0 ] || show inv2.err join2.err

# --- C poses as A: A's name and fingerprint announced for C's own server,
# and a receiver there with the session id B uses (as if it had leaked).
# B finds C, and refuses it for its certificate.
kill -TERM "$receiver_a"
wait "$receiver_a" 2>/dev/null
on_exec c "$server" --listen 10.77.0.3 --port 8099 >"$work/c-server.log" 2>&1 &
pids+=("$!")
wait_for 10 on c bash -c 'exec 3<>/dev/tcp/10.77.0.3/8099' 2>/dev/null \
  || bail "C's signaling server does not listen"
fp_a_hex=$(printf '%s' "$fp_a" | tr -d ':' | tr 'A-F' 'a-f')
on_exec c avahi-publish-service "nearby-a" _distributed-backup._tcp 8099 \
  v=1 "fp=$fp_a_hex" name=nearby-a sig=1 >"$work/c-publish.log" 2>&1 &
pids+=("$!")
mkdir -p "$work/c/dst"
on_exec c "$app" -d "$work/c/dst" -u "$session" --signaling http://10.77.0.3:8099/ \
  --keep-listening --ice-address 10.77.0.3 -S '' --timeout 600 --no-progress \
  >"$work/c-receiver.log" 2>&1 &
pids+=("$!")
sleep 3
on b "$app" -s "$work/b/payload.bin" --device nearby-a --ice-address 10.77.0.2 -S '' \
  --timeout 20 --no-progress >"$work/send2.log" 2>&1
check "B refuses C posing as A (exit 1)" [ $? = 1 ]
check "B says who it expected" \
  grep -qF "Refused a peer that is not the paired device “nearby-a”" "$work/send2.log"
check "C received nothing" [ -z "$(ls -A "$work/c/dst")" ]
[ $failed = 0 ] || show send2.log c-receiver.log c-publish.log

# --- with nobody announcing A, B says A is not reachable
pkill -f "avahi-publish-service nearby-a" 2>/dev/null
sleep 2
on b "$app" -s "$work/b/payload.bin" --device nearby-a --ice-address 10.77.0.2 -S '' \
  --timeout 3 --no-progress >"$work/send3.log" 2>&1
check "A gone: B fails (exit 1)" [ $? = 1 ]
check "A gone: one clear line" \
  grep -qxF "$PROGRAM: The paired device “nearby-a” is not on the local network: it did not announce itself within 3 s" \
  "$work/send3.log"
[ $failed = 0 ] || show send3.log

# --- the desktop application on D (not in a build without it)

# gui NAME MODE PEER ANSWER: test-gui-nearby on D in the background, on an
# X server and a session bus of its own; the code it shows in NAME.code.
declare -A gui_pid
gui() {
  local name=$1; shift
  ( on d xvfb-run -a -s "-screen 0 1024x768x24" dbus-run-session \
      --config-file="$GUI_SESSION_BUS_CONF" -- env NO_AT_BRIDGE=1 GDK_DEBUG=gl-disable \
      ${NEARBY_SCREENSHOT_DIR:+SCREENSHOT_DIR="$NEARBY_SCREENSHOT_DIR"} \
      "$GUI_NEARBY_TEST" "$@" "$work/$name.code" 10.77.0.4 >"$work/$name.out" 2>"$work/$name.err"
    echo $? >"$work/$name.status" ) &
  gui_pid[$name]=$!
  pids+=("$!")
}
gui_code() { cat "$work/$1.code" 2>/dev/null; }
has_code() { [ -s "$work/$1.code" ]; }

if [ -z "${GUI_NEARBY_TEST:-}" ]; then
  echo "ok $((n + 1)) # SKIP no desktop application in this build"
  n=$((n + 1))
else
  # D's window joins A, which invites from the command line.
  start_pairing a inv3 --invite-nearby --timeout 90
  wait_for 20 grep -q "waits on the local network" "$work/inv3.err"
  sleep 2
  gui g1 join nearby-a pair
  wait_for 90 has_code g1 && wait_for 10 shows_code inv3
  # While it runs, the application announces D plainly (port 9, no
  # server), and its window announces D ready to pair.
  on c avahi-browse -rtp _distributed-backup._tcp >"$work/c-browse.out" 2>&1
  check "GUI: the running application announces this device" \
    grep -qE '^=;[^;]*;IPv4;[^;]*;_distributed-backup._tcp;local;[^;]*;10\.77\.0\.4;9;.*"name=nearby-d"' \
    "$work/c-browse.out"
  check "GUI: its window announces it ready to pair" \
    grep -qE '^=;[^;]*;IPv4;[^;]*;_distributed-backup._tcp;local;[^;]*;10\.77\.0\.4;[0-9]+;.*"pair=1"' \
    "$work/c-browse.out"
  check "GUI joining: the window and A show the same code" \
    [ -n "$(gui_code g1)" ] && [ "$(gui_code g1)" = "$(code_of inv3)" ]
  answer inv3 y
  finish_pairing inv3
  wait "${gui_pid[g1]}"
  check "GUI joining: A paired (exit 0)" [ "$(status_of inv3)" = 0 ]
  check "GUI joining: the window paired with A, toast and devices file" \
    [ "$(status_of g1)" = 0 ] && grep -qxF "paired with nearby-a ($fp_a)" "$work/g1.out"
  check "GUI joining: A keeps D" grep -qF "$(printf 'nearby-d\t%s\tnearby:' "$fp_d")" \
    <(devices_of a)
  [ $failed = 0 ] || show g1.out g1.err inv3.err

  # D's window waits; B asks from the command line.
  gui g2 invite nearby-b pair
  sleep 4
  start_pairing b join3 --pair-nearby nearby-d --timeout 30
  wait_for 90 has_code g2 && wait_for 10 shows_code join3
  check "GUI inviting: the window and B show the same code" \
    [ -n "$(gui_code g2)" ] && [ "$(gui_code g2)" = "$(code_of join3)" ]
  answer join3 y
  finish_pairing join3
  wait "${gui_pid[g2]}"
  check "GUI inviting: B paired (exit 0)" [ "$(status_of join3)" = 0 ]
  check "GUI inviting: the window paired with B" \
    [ "$(status_of g2)" = 0 ] && grep -qxF "paired with nearby-b ($fp_b)" "$work/g2.out"
  check "GUI inviting: B keeps D" grep -qF "$(printf 'nearby-d\t%s\tnearby:' "$fp_d")" \
    <(devices_of b)
  [ $failed = 0 ] || show g2.out g2.err join3.err

  # D's user refuses C's code: C is told, nothing stored on either side.
  gui g3 invite nearby-c cancel
  sleep 4
  start_pairing c join4 --pair-nearby nearby-d --timeout 30
  wait_for 90 has_code g3 && wait_for 10 shows_code join4
  answer join4 y
  finish_pairing join4
  wait "${gui_pid[g3]}"
  check "GUI refusing: the window ends quietly, nothing stored" \
    [ "$(status_of g3)" = 0 ] && grep -qxF "refused nearby-c, nothing stored" "$work/g3.out"
  check "GUI refusing: C is told (exit 1), keeps nothing" \
    [ "$(status_of join4)" = 1 ] && grep -qF "The other device refused the pairing" \
    "$work/join4.err" && [ -z "$(devices_of c)" ]
  [ $failed = 0 ] || show g3.out g3.err join4.err
fi

echo "1..$n"
[ $failed = 0 ]
