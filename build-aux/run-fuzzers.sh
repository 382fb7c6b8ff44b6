#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-Dfuzzing=true) and runs every
# target of tests/fuzz in turn, RUNS executions each, at the lowest CPU
# priority, one at a time. Run build-aux/install-deps.sh first (needs clang).
#
#   build-aux/run-fuzzers.sh [RUNS [TARGET...]]
#
# RUNS defaults to 10000000; TARGET defaults to every tests/fuzz/fuzz-*.c
# (sdp, dcep, signaling, frame, ...). Each target starts from its seed corpus
# in tests/fuzz/corpus/TARGET, which is only read; what the fuzzer adds goes
# to OUT_DIR/TARGET/corpus, and a crashing input to OUT_DIR/TARGET/ (the
# script then stops with a non-zero status). A dictionary
# tests/fuzz/TARGET.dict is used when there is one.
#
# Environment: BUILD_DIR (default: _build/fuzz under the source tree),
# OUT_DIR (default: BUILD_DIR/fuzz-runs).
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -euo pipefail

runs=${1:-10000000}
[ $# -gt 0 ] && shift
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/_build/fuzz}
out=${OUT_DIR:-$build/fuzz-runs}

case $runs in
  '' | *[!0-9]*)
    echo "run-fuzzers.sh: RUNS must be a number, not '$runs'" >&2
    exit 2
    ;;
esac

if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in "$src"/tests/fuzz/fuzz-*.c; do
    t=$(basename "$f" .c)
    t=${t#fuzz-}
    [ "$t" = replay ] || targets+=("$t")
  done
fi

if [ ! -f "$build/build.ninja" ]; then
  CC=clang nice -n 19 meson setup "$build" "$src" -Dfuzzing=true -Dgui=disabled >/dev/null
fi
nice -n 19 ninja -C "$build" "${targets[@]/#/tests/fuzz/fuzz-}" >/dev/null

# Warnings and criticals are findings too: each target aborts on them
# (tests/fuzz/fuzz-common.h), which libFuzzer reports and keeps the input of.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/tests/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

summary=()
for t in "${targets[@]}"; do
  seeds=$src/tests/fuzz/corpus/$t
  dir=$out/$t
  mkdir -p "$dir/corpus"
  args=(-runs="$runs" -print_final_stats=1 -artifact_prefix="$dir/")
  [ -f "$src/tests/fuzz/$t.dict" ] && args+=(-dict="$src/tests/fuzz/$t.dict")

  echo "=== fuzz-$t: $runs executions, seeds $seeds ($(find "$seeds" -type f | wc -l) files)"
  echo "    nice -n 19 $build/tests/fuzz/fuzz-$t ${args[*]} $dir/corpus $seeds"
  echo "    started $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  start=$(date +%s)
  if ! nice -n 19 "$build/tests/fuzz/fuzz-$t" "${args[@]}" "$dir/corpus" "$seeds" \
    >"$dir/log" 2>&1; then
    tail -n 40 "$dir/log"
    echo "=== fuzz-$t: FAILED after $(($(date +%s) - start)) s; see $dir/" >&2
    exit 1
  fi
  seconds=$(($(date +%s) - start))
  executed=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
  # libFuzzer's last "corp: UNITS/SIZE": the corpus it kept at the end.
  corpus=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$dir/log" | tail -n 1 | cut -d' ' -f2)
  summary+=("fuzz-$t: ${executed:-?} executions in $seconds s, corpus ${corpus:-?} (units/bytes), no finding")
  echo "    ${summary[-1]}"
done

echo "=== summary"
printf '%s\n' "${summary[@]}"
