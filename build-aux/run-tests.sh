#!/usr/bin/env bash
# Builds Distributed Backup and runs the whole test suite twice: in a normal
# build and in an AddressSanitizer + UndefinedBehaviorSanitizer build, both
# with warnings as errors. Also checks that the headless build (-Dgui=disabled)
# compiles. Run build-aux/install-deps.sh first on a new machine.
#
#   build-aux/run-tests.sh [meson test arguments...]
#
# Environment: BUILD_ROOT (default: _build under the source tree),
# SANITIZE=0 to skip the sanitizer build, CI=true to fail on skipped tests.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build_root=${BUILD_ROOT:-$src/_build}
mkdir -p "$build_root"

setup() {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$src" "$@" >/dev/null
  else
    meson setup "$dir" "$src" "$@" >/dev/null
  fi
}

status=0
total_passed=0
total_failed=0
failed_logs=()
run_suite() {
  local name=$1 dir=$2; shift 2
  echo "=== $name: building in $dir"
  if ! ninja -C "$dir" >"$dir/build.log" 2>&1; then
    tail -n 60 "$dir/build.log"
    echo "=== $name: build failed" >&2
    exit 1
  fi
  echo "=== $name: testing"
  if ! meson test -C "$dir" --print-errorlogs --num-processes 2 "${test_args[@]}"; then
    status=1
  fi
  if [ -f "$dir/meson-logs/testlog.json" ]; then
    local passed failed
    passed=$(grep -c '"result": "OK"' "$dir/meson-logs/testlog.json" || true)
    failed=$(grep -vc '"result": "OK"' "$dir/meson-logs/testlog.json" || true)
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    if [ "$failed" != "0" ]; then
      failed_logs+=("$dir/meson-logs/testlog.json")
    fi
  fi
  # A skipped test is not a passed one: in CI every prerequisite is installed.
  if [ "${CI:-}" = "true" ] && [ -f "$dir/meson-logs/testlog.json" ]; then
    local skipped
    skipped=$(grep -c '"result": "SKIP"' "$dir/meson-logs/testlog.json" || true)
    if [ "$skipped" != "0" ]; then
      echo "=== $name: $skipped test(s) skipped; CI requires every test to run" >&2
      grep '"result": "SKIP"' "$dir/meson-logs/testlog.json" | sed 's/.*"name": "\([^"]*\)".*/  skipped: \1/' >&2 || true
      status=1
    fi
  fi
}

test_args=("$@")

setup "$build_root/normal" -Dwerror=true -Dbuildtype=debugoptimized
run_suite normal "$build_root/normal"

if [ "${SANITIZE:-1}" != "0" ]; then
  setup "$build_root/sanitize" -Dwerror=true -Dbuildtype=debug \
    -Db_sanitize=address,undefined -Db_lundef=false
  run_suite sanitize "$build_root/sanitize"
fi

echo "=== headless: building with -Dgui=disabled"
setup "$build_root/headless" -Dwerror=true -Dgui=disabled -Dtests=false
if ! ninja -C "$build_root/headless" >"$build_root/headless/build.log" 2>&1; then
  tail -n 60 "$build_root/headless/build.log"
  echo "=== headless: build failed" >&2
  status=1
fi

# The end of the output names every failed test with the end of its log, so
# that a truncated log still shows what failed.
for log in "${failed_logs[@]}"; do
  /usr/bin/python3 - "$log" <<'PY'
import json, sys
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    test = json.loads(line)
    if test["result"] == "OK":
        continue
    print(f"=== {test['result']}: {test['name']} ({sys.argv[1]}, {test['duration']:.1f} s)")
    output = (test.get("stdout") or "") + (test.get("stderr") or "")
    for text in output.splitlines()[-40:]:
        print("    " + text[:300])
PY
done

if [ $status -ne 0 ]; then
  echo "=== FAILED" >&2
fi
echo "$total_passed passed, $total_failed failed"
exit $status
