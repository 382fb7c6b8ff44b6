#!/usr/bin/env bash
# check-systemd-unit.sh UNIT.in PROGRAM: the receiver's systemd unit, with
# @bindir@ pointing at PROGRAM's directory,
# - passes `systemd-analyze verify` without a single remark (unknown keys
#   and bad values are only warnings there, hence the check of the output
#   too), with the timer that starts it if there is one (data/NAME.timer);
# - counts `systemctl stop` as a success: PROGRAM, started with the unit's
#   ExecStart= (on loopback, with a signaling folder of this test), is
#   stopped with SIGTERM once it waits for a peer, and its exit status is 0
#   or one of SuccessExitStatus=, so that the unit neither ends "failed"
#   nor restarts;
# - does not restart after bad input: PROGRAM given a missing password file
#   (a unit of settings in variables) or a profile with a bad value (a unit
#   of profiles, --config) exits with a status of RestartPreventExitStatus=.
set -eu
unit_in=${1:?usage: check-systemd-unit.sh UNIT.in PROGRAM}
program=${2:?usage: check-systemd-unit.sh UNIT.in PROGRAM}
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze is not installed" >&2
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/unit.XXXXXX")
pid=
cleanup() {
  if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -m 700 "$work/run" "$work/config"
name=$(basename "$unit_in" .in)
sed "s|@bindir@|$(dirname "$program")|g" "$unit_in" > "$work/$name"
if grep -q '@[a-z]*@' "$work/$name"; then
  echo "FAIL: an unsubstituted variable is left in $name" >&2
  exit 1
fi
instance=$(echo "$name" | sed 's/@\.service$/@check.service/')
cp "$work/$name" "$work/$instance"
verify=("$work/$instance")
# A timer that starts the unit (data/NAME.timer) is verified with it.
timer_in=$(dirname "$unit_in")/$(basename "$name" .service).timer
if [ -f "$timer_in" ]; then
  timer=$(basename "$instance" .service).timer
  cp "$timer_in" "$work/$timer"
  verify+=("$work/$timer")
fi
status=0
XDG_RUNTIME_DIR=$work/run XDG_CONFIG_HOME=$work/config \
  systemd-analyze --user verify --man=no "${verify[@]}" >"$work/out" 2>&1 || status=$?
cat "$work/out"
if [ "$status" != 0 ] || [ -s "$work/out" ]; then
  echo "FAIL: systemd-analyze verify: status $status" >&2
  exit 1
fi
echo "PASS: systemd-analyze verify ${verify[*]##*/}"

# The values of a list setting of the [Service] section, as systemd reads
# them: each line adds its words, an empty assignment clears the list.
service_list() {
  awk -v key="$1" '
    /^\[/ { section = $0; next }
    section == "[Service]" && index($0, key "=") == 1 {
      value = substr($0, length(key) + 2)
      if (value == "") { list = "" } else { list = list " " value }
    }
    END { print list }' "$work/$name"
}

# Whether the exit status $2 is among the words of $1.
in_list() {
  for word in $1; do
    [ "$word" = "$2" ] && return 0
  done
  return 1
}

success_statuses=$(service_list SuccessExitStatus)
prevent_statuses=$(service_list RestartPreventExitStatus)

# The ExecStart= command line of instance "check", with its settings (the
# configuration file's variables, or its profile) made for a receiver on
# loopback through a folder.
exec_start=$(sed -n 's/^ExecStart=//p' "$work/$name" | sed "s|%E|$work/config|g; s|%i|check|g")
if [ -z "$exec_start" ]; then
  echo "FAIL: no ExecStart= in $name" >&2
  exit 1
fi
mkdir -m 700 "$work/signaling" "$work/destination" "$work/config/distributed-backup"
SESSION=unit-check-$$
DESTINATION=$work/destination
VERSIONS=2
OPTIONS="--signaling $work/signaling --ice-address 127.0.0.1 --stun="
profile=$work/config/distributed-backup/check.conf
case $name in
  *-send@*)
    echo "a file to back up" > "$work/source.txt"
    role_keys="role=send
source=$work/source.txt" ;;
  *)
    role_keys="role=receive
destination=$DESTINATION
versions=$VERSIONS
keep-listening=true" ;;
esac
cat > "$profile" <<PROFILE
[Profile]
$role_keys
session-id=$SESSION
signaling=$work/signaling
stun-servers=
ice-addresses=127.0.0.1
PROFILE
eval "set -- $exec_start"
# The exit status is what is checked here, not memory.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
export XDG_CONFIG_HOME="$work/config" XDG_RUNTIME_DIR="$work/run"

"$@" 2>"$work/receiver.err" &
pid=$!
waited=0
while [ -z "$(ls -A "$work/signaling" | grep "^${SESSION}_ping_" || true)" ]; do
  if ! kill -0 "$pid" 2>/dev/null; then
    cat "$work/receiver.err" >&2
    echo "FAIL: the receiver of ExecStart= ended before waiting for a peer" >&2
    exit 1
  fi
  waited=$((waited + 1))
  if [ "$waited" -gt 600 ]; then
    echo "FAIL: the receiver of ExecStart= never waited for a peer" >&2
    exit 1
  fi
  sleep 0.1
done
kill -TERM "$pid"
stop_status=0
wait "$pid" || stop_status=$?
pid=
cat "$work/receiver.err"
if [ "$stop_status" != 0 ] && ! in_list "$success_statuses" "$stop_status"; then
  echo "FAIL: stopped with SIGTERM, the receiver exits with $stop_status, which" \
       "SuccessExitStatus= ($success_statuses) does not count as a success" >&2
  exit 1
fi
echo "PASS: systemctl stop: exit status $stop_status is a success"

OPTIONS="$OPTIONS -p $work/missing-password-file"
sed -i 's/^session-id=.*/session-id=not a session id/' "$profile"
eval "set -- $exec_start"
usage_status=0
"$@" 2>"$work/usage.err" || usage_status=$?
cat "$work/usage.err"
if ! in_list "$prevent_statuses" "$usage_status"; then
  echo "FAIL: with bad settings the receiver exits with $usage_status," \
       "not one of RestartPreventExitStatus= ($prevent_statuses): it would restart" \
       "for ever" >&2
  exit 1
fi
echo "PASS: bad input: exit status $usage_status prevents a restart"
echo "PASS: $name"
