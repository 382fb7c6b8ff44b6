#!/usr/bin/env bash
# Runs the end-of-file and close-race tests many times in a row (50 by
# default): an interrupted sender of the original framing, a browser-like
# sender that aborts right after closing its channel, and our sender to the
# original receiver in both start orders. Too long for the default suite
# (about 20 minutes for 50 rounds); run it after changing the session, the
# data channel or the SCTP transport.
#
#   build-aux/run-stress.sh [ROUNDS]
#
# Environment: BUILD_ROOT (default: _build under the source tree); the
# normal build there is set up and built first.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-50}
dir=${BUILD_ROOT:-$src/_build}/normal
tests=(
  legacy-interrupted-sender
  interop-aiortc-backup-abort-after-close
  legacy-ours-to-legacy
  legacy-ours-to-legacy-sender-first
)

if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" "$src" -Dwerror=true -Dbuildtype=debugoptimized >/dev/null
else
  meson setup "$dir" "$src" -Dwerror=true -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$dir" >/dev/null

status=0
for t in "${tests[@]}"; do
  echo "=== $t: $rounds rounds"
  passed=0
  failed=0
  for i in $(seq "$rounds"); do
    if meson test -C "$dir" --no-rebuild --num-processes 1 "$t" >"$dir/stress-$t.log" 2>&1; then
      passed=$((passed + 1))
    else
      failed=$((failed + 1))
      status=1
      cp "$dir/meson-logs/testlog.txt" "$dir/stress-$t-failure-$i.txt"
      echo "round $i failed: $dir/stress-$t-failure-$i.txt"
    fi
  done
  echo "$t: $passed passed, $failed failed"
done
exit $status
