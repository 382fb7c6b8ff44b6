#!/usr/bin/env bash
# Builds Distributed Backup and runs the whole test suite twice: in a normal
# build and in an AddressSanitizer + UndefinedBehaviorSanitizer build, both
# with warnings as errors. Also checks that the headless build (-Dgui=disabled)
# compiles. The S3 suite (a Ceph cluster per test, about 3 minutes) runs in the
# sanitizer build only, where it also checks memory; with SANITIZE=0 it runs in
# the normal one. Run build-aux/install-deps.sh first on a new machine.
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
total_flaky=0
reports=()
testlog() { /usr/bin/python3 "$src/build-aux/testlog.py" "$@"; }

run_suite() {
  local name=$1 dir=$2; shift 2
  local -a only=("$@")
  local log=$dir/meson-logs/testlog.json
  echo "=== $name: building in $dir"
  if ! ninja -C "$dir" >"$dir/build.log" 2>&1; then
    tail -n 60 "$dir/build.log"
    echo "=== $name: build failed" >&2
    exit 1
  fi
  echo "=== $name: testing"
  rm -f "$log"
  meson test -C "$dir" --print-errorlogs --num-processes 2 "${only[@]}" "${test_args[@]}" || true
  if [ ! -f "$log" ]; then
    echo "=== $name: meson test wrote no log" >&2
    status=1
    return
  fi
  cp "$log" "$dir/meson-logs/testlog-first.json"

  local passed failed
  read -r passed failed < <(testlog count "$log")
  total_passed=$((total_passed + passed))

  # A test that failed is run once more, alone. If it passes then, the run
  # still passes, but the test is reported as flaky, with its first failure.
  local -a first_failures=()
  mapfile -t first_failures < <(testlog failed "$log")
  if [ ${#first_failures[@]} -gt 0 ]; then
    echo "=== $name: ${#first_failures[@]} test(s) failed; running them once more: ${first_failures[*]}"
    meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 1 "${first_failures[@]}" || true
    local again_passed again_failed
    read -r again_passed again_failed < <(testlog count "$log")
    total_passed=$((total_passed + again_passed))
    total_failed=$((total_failed + again_failed))
    if [ "$again_failed" != "0" ]; then
      status=1
      reports+=("$log FAILED")
    fi
    if [ "$again_passed" != "0" ]; then
      total_flaky=$((total_flaky + again_passed))
      cp "$log" "$dir/meson-logs/testlog-again.json"
      reports+=("$dir/meson-logs/testlog-first.json FLAKY $dir/meson-logs/testlog-again.json")
    fi
  fi

  # A skipped test is not a passed one: in CI every prerequisite is installed.
  if [ "${CI:-}" = "true" ]; then
    local -a skipped=()
    mapfile -t skipped < <(testlog skipped "$dir/meson-logs/testlog-first.json")
    if [ ${#skipped[@]} -gt 0 ]; then
      echo "=== $name: ${#skipped[@]} test(s) skipped; CI requires every test to run: ${skipped[*]}" >&2
      status=1
    fi
  fi
}

test_args=("$@")

setup "$build_root/normal" -Dwerror=true -Dbuildtype=debugoptimized
if [ "${SANITIZE:-1}" != "0" ] && [ ${#test_args[@]} -eq 0 ]; then
  run_suite normal "$build_root/normal" --no-suite s3
else
  run_suite normal "$build_root/normal"
fi

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

# The end of the output names every failed or flaky test with the end of
# its log, so that a truncated log still shows what failed.
for report in "${reports[@]}"; do
  # shellcheck disable=SC2086 # "LOG TAG [AGAIN_LOG]", no spaces in the paths
  testlog report $report
done

if [ $status -ne 0 ]; then
  echo "=== FAILED" >&2
fi
echo "$total_passed passed, $total_failed failed ($total_flaky passed only when run again)"
exit $status
