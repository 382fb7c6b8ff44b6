#!/bin/sh
# archiver-bench.sh: times double, password-protected zips of one tree
#
# Usage: bench/archiver-bench.sh [BUILD_DIR]     (default: build)
#
# Generates a ~300 MiB tree once (2,000 text files of 1-43 KiB and four
# 64 MiB random files), then times, on that same tree, a double zip
# (inner archive of the tree, outer archive holding the inner one) made by:
#   7-Zip     7zz a -tzip -mem=AES256, both levels (defaults otherwise)
#   Info-ZIP  zip -r -P, then zip -P (ZipCrypto)
#   bsdtar    --options zip:encryption=aes256, both levels
#   ours      BackupArchiver (tests/core/bench-archiver), AES-256 and ZipCrypto
# and prints seconds, input MB/s, output size and peak RSS (/usr/bin/time).
# Then it archives a sparse 4.5 GiB file (Zip64 entry) to /dev/null to show
# that memory stays flat; set BENCH_SKIP_HUGE=1 to leave that out.
#
# Environment: BENCH_TMPDIR (default /tmp) for the tree and the archives
# (needs ~1 GiB); BENCH_BASELINE: another build's bench-archiver (say, of
# the previous commit) timed on the same tree in the same run, for a
# before/after comparison on a machine whose load varies; BENCH_RUNS
# (default 1): how many times each of ours is timed (every time is printed;
# the table keeps the fastest).
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
driver="$build/tests/core/bench-archiver"
if [ ! -x "$driver" ]; then
  echo "archiver-bench: $driver not found: build the project first (ninja -C $build)" >&2
  exit 1
fi
driver=$(cd "$(dirname "$driver")" && pwd)/bench-archiver
baseline=${BENCH_BASELINE:-}
if [ -n "$baseline" ] && [ ! -x "$baseline" ]; then
  echo "archiver-bench: BENCH_BASELINE=$baseline is not an executable" >&2
  exit 1
fi
runs=${BENCH_RUNS:-1}

for tool in 7zz bsdtar zip /usr/bin/time python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "archiver-bench: $tool is missing (Debian packages: 7zip libarchive-tools zip time)" >&2
    exit 1
  fi
done

tmp=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/archiver-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
src="$tmp/tree/data"
work="$tmp/work"
mkdir -p "$src" "$work"

echo "Generating the tree in $src ..."
python3 "$here/make-archiver-tree.py" "$src"
tree_bytes=$(find "$src" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
tree_files=$(find "$src" -type f | wc -l)
echo "Tree: $tree_files files, $tree_bytes bytes"
echo "CPU: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo

P1=inner-password-1
P2=outer-password-2
export P1 P2 src work driver baseline

# run NAME SHELL-COMMAND [N]: runs the command under /usr/bin/time, N times
# (default 1), and puts the fastest run into the table; the command writes
# $work/outer.zip.
results="$tmp/results"
: >"$results"
run() {
  name=$1
  best=
  i=0
  while [ "$i" -lt "${3:-1}" ]; do
    i=$((i + 1))
    rm -rf "$work" && mkdir -p "$work"
    sync
    if ! /usr/bin/time -f '%e %M %U %S' -o "$tmp/time" sh -c "$2" >"$tmp/log" 2>&1; then
      echo "archiver-bench: $name failed:" >&2
      cat "$tmp/log" >&2
      return 1
    fi
    read -r secs rss_kb user sys <"$tmp/time"
    echo "  $name: ${secs} s (CPU: user $user s, system $sys s)"
    if [ -z "$best" ] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$secs
      best_rss=$rss_kb
    fi
  done
  size=$(stat -c %s "$work/outer.zip")
  echo "$name|$best|$size|$best_rss" >>"$results"
}

echo "Timing double zips (outer archive in $work) ..."
run "7-Zip AES-256" \
  'cd "$src" && 7zz a -bd -tzip -mem=AES256 -p"$P1" "$work/data.zip" . >/dev/null &&
   cd "$work" && 7zz a -bd -tzip -mem=AES256 -p"$P2" outer.zip data.zip >/dev/null'
run "Info-ZIP ZipCrypto" \
  'cd "$src" && zip -q -r -P "$P1" "$work/data.zip" . &&
   cd "$work" && zip -q -P "$P2" outer.zip data.zip'
run "bsdtar AES-256" \
  'bsdtar -c -f "$work/data.zip" --format zip --options zip:encryption=aes256 --passphrase "$P1" -C "$src" . &&
   bsdtar -c -f "$work/outer.zip" --format zip --options zip:encryption=aes256 --passphrase "$P2" -C "$work" data.zip'
if [ -n "$baseline" ]; then
  run "baseline AES-256" '"$baseline" "$src" "$work/outer.zip" "$P1" "$P2" aes256' "$runs"
  run "baseline ZipCrypto" '"$baseline" "$src" "$work/outer.zip" "$P1" "$P2" zipcrypto' "$runs"
fi
run "ours AES-256" '"$driver" "$src" "$work/outer.zip" "$P1" "$P2" aes256' "$runs"
7zz t -bd -p"$P2" "$work/outer.zip" >/dev/null || { echo "archiver-bench: our archive does not test OK" >&2; exit 1; }
7zz x -bd -so -p"$P2" "$work/outer.zip" >"$work/inner.zip" &&
  7zz t -bd -p"$P1" "$work/inner.zip" >/dev/null ||
  { echo "archiver-bench: our inner archive does not test OK" >&2; exit 1; }
run "ours ZipCrypto" '"$driver" "$src" "$work/outer.zip" "$P1" "$P2" zipcrypto' "$runs"
unzip -tq -P "$P2" "$work/outer.zip" >/dev/null || { echo "archiver-bench: our ZipCrypto archive does not test OK" >&2; exit 1; }

echo
printf '%-22s %9s %9s %14s %12s\n' "double zip" "seconds" "MB/s" "output bytes" "peak RSS"
while IFS='|' read -r name secs size rss_kb; do
  mbs=$(awk -v b="$tree_bytes" -v s="$secs" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s; else print "-" }')
  printf '%-22s %9s %9s %14s %9s MiB\n' "$name" "$secs" "$mbs" "$size" "$((rss_kb / 1024))"
done <"$results"

if [ "${BENCH_SKIP_HUGE:-0}" != 1 ]; then
  echo
  huge="$tmp/huge/sparse"
  mkdir -p "$huge"
  truncate -s 4608M "$huge/sparse.bin"
  for off in 1 4095 4600; do
    dd if=/dev/urandom of="$huge/sparse.bin" bs=1M count=1 seek="$off" conv=notrunc status=none
  done
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$driver" "$huge" - "$P1" "$P2" >/dev/null 2>"$tmp/log"
  read -r secs rss_kb <"$tmp/time"
  echo "ours AES-256, one sparse 4.5 GiB file to /dev/null: $secs s, peak RSS $((rss_kb / 1024)) MiB"
fi
