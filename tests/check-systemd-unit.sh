#!/bin/sh
# check-systemd-unit.sh UNIT.in PROGRAM: the receiver's systemd unit, with
# @bindir@ pointing at PROGRAM's directory, passes `systemd-analyze verify`
# without a single remark (unknown keys and bad values are only warnings
# there, hence the check of the output too).
set -eu
unit_in=${1:?usage: check-systemd-unit.sh UNIT.in PROGRAM}
program=${2:?usage: check-systemd-unit.sh UNIT.in PROGRAM}
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIP: systemd-analyze is not installed" >&2
  exit 77
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/unit.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -m 700 "$work/run" "$work/config"
name=$(basename "$unit_in" .in)
sed "s|@bindir@|$(dirname "$program")|g" "$unit_in" > "$work/$name"
if grep -q '@[a-z]*@' "$work/$name"; then
  echo "FAIL: an unsubstituted variable is left in $name" >&2
  exit 1
fi
instance=$(echo "$name" | sed 's/@\.service$/@check.service/')
cp "$work/$name" "$work/$instance"
status=0
XDG_RUNTIME_DIR=$work/run XDG_CONFIG_HOME=$work/config \
  systemd-analyze --user verify --man=no "$work/$instance" >"$work/out" 2>&1 || status=$?
cat "$work/out"
if [ "$status" != 0 ] || [ -s "$work/out" ]; then
  echo "FAIL: systemd-analyze verify: status $status" >&2
  exit 1
fi
echo "PASS: $name"
