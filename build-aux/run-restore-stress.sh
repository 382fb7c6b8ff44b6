#!/usr/bin/env bash
# Restores big double zips, in the sender's own format, and checks that
# memory stays constant: a folder with a 4.5 GiB sparse file (an entry past
# 4 GiB, zip64), and a folder of 70,000 entries (more than 65,535). Each is
# restored, listed and verified; the peak RSS of each run is printed and
# must stay under RSS_LIMIT_KIB. Too long for the default suite (several
# minutes, a few GiB of temporary disk for the sparse file's archive work).
#
#   build-aux/run-restore-stress.sh
#
# Environment: BUILD_ROOT (default: _build under the source tree; the
# normal build there is set up and built first), TMPDIR, RSS_LIMIT_KIB
# (default 65536).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
dir=${BUILD_ROOT:-$src/_build}/normal
limit=${RSS_LIMIT_KIB:-65536}

if [ -f "$dir/build.ninja" ]; then
  meson setup --reconfigure "$dir" "$src" -Dwerror=true -Dbuildtype=debugoptimized >/dev/null
else
  meson setup "$dir" "$src" -Dwerror=true -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$dir" src/distributed-backup tests/core/bench-archiver >/dev/null

app=$dir/src/distributed-backup
archiver=$dir/tests/core/bench-archiver
work=$(mktemp -d "${TMPDIR:-/tmp}/restore-stress.XXXXXX")
trap 'rm -rf "$work"' EXIT
failed=0

# measure LABEL COMMAND...: runs it, prints its time and peak RSS, fails
# the script when it fails or uses more than the limit.
measure() {
  local label=$1; shift
  local start end status rss
  start=$(date +%s.%N)
  set +e
  /usr/bin/time -f '%M' -o "$work/rss" "$@" >"$work/out" 2>"$work/err"
  status=$?
  set -e
  end=$(date +%s.%N)
  rss=$(tail -n 1 "$work/rss")
  printf '%-44s exit %d  %6.1f s  peak RSS %6d KiB\n' "$label" "$status" \
    "$(echo "$end - $start" | bc)" "$rss"
  if [ "$status" != 0 ]; then
    sed 's/^/    /' "$work/err"
    failed=1
  elif [ "$rss" -gt "$limit" ]; then
    echo "    more than $limit KiB"
    failed=1
  fi
}

# --- a 4.5 GiB sparse file (zip64 entry), plus small files around it
mkdir -p "$work/big/data"
truncate -s 4608M "$work/big/data/sparse.img"
printf 'tail\n' | dd of="$work/big/data/sparse.img" bs=1 seek=$((4608 * 1024 * 1024 - 5)) \
  conv=notrunc status=none
echo "small" > "$work/big/data/small.txt"
measure "archive: 4.5 GiB sparse file" "$archiver" "$work/big/data" "$work/big/backup.zip" p1 p2
measure "--verify: 4.5 GiB sparse file" "$app" --verify "$work/big/backup.zip" -1 p1 -2 p2 -q
measure "--list: 4.5 GiB sparse file" "$app" --list "$work/big/backup.zip" -1 p1 -2 p2
measure "--restore: 4.5 GiB sparse file" "$app" --restore "$work/big/backup.zip" -1 p1 -2 p2 \
  -d "$work/big/out" -q
if cmp -s "$work/big/data/sparse.img" "$work/big/out/sparse.img" \
   && cmp -s "$work/big/data/small.txt" "$work/big/out/small.txt"; then
  echo "    restored content identical; disk used by the restored file: $(du -k "$work/big/out/sparse.img" | cut -f1) KiB"
else
  echo "    restored content differs"
  failed=1
fi
rm -rf "$work/big"

# --- 70,000 entries
mkdir -p "$work/many/data"
(
  cd "$work/many/data"
  for d in $(seq 1 70); do
    mkdir "dir$d"
    for f in $(seq 1 999); do echo "$d $f" > "dir$d/f$f"; done
  done
)
measure "archive: 70,000 entries" "$archiver" "$work/many/data" "$work/many/backup.zip" p1 p2
measure "--verify: 70,000 entries" "$app" --verify "$work/many/backup.zip" -1 p1 -2 p2 -q
measure "--list: 70,000 entries" "$app" --list "$work/many/backup.zip" -1 p1 -2 p2
lines=$(wc -l < "$work/out")
[ "$lines" = 70000 ] || { echo "    --list printed $lines lines"; failed=1; }
measure "--restore: 70,000 entries" "$app" --restore "$work/many/backup.zip" -1 p1 -2 p2 \
  -d "$work/many/out" -q
if diff -r "$work/many/data" "$work/many/out" >/dev/null; then
  echo "    restored tree identical"
else
  echo "    restored tree differs"
  failed=1
fi

[ "$failed" = 0 ] && echo "restore stress: all passed"
exit "$failed"
