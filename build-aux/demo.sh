#!/usr/bin/env bash
# The main job, on one machine: builds Distributed Backup, then backs up a
# folder from a sender to a receiver twice, as two machines would, and checks
# what arrived. The peers find each other through a folder on this machine
# (no account, no outside service) and connect over 127.0.0.1 only.
# Run build-aux/install-deps.sh first on a new machine.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/_build/demo}
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" "$src" -Dbuildtype=release -Dtests=false >/dev/null
fi
ninja -C "$build" >/dev/null
app="$build/src/distributed-backup"

work=$(mktemp -d "${TMPDIR:-/tmp}/distributed-backup-demo.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Something worth backing up: text, a sub-folder, an empty folder, binary data.
mkdir -p "$work/Documents/letters" "$work/Documents/empty" "$work/received" "$work/signaling"
for i in $(seq 1 50); do
  printf 'Letter %d\n%s\n' "$i" "$(seq 1 $((i * 40)) | tr '\n' ' ')" > "$work/Documents/letters/letter-$i.txt"
done
head -c 8M /dev/urandom > "$work/Documents/photo.raw"
ln -s letters/letter-1.txt "$work/Documents/latest-letter"

# 1. Encryption mode: the two zip passwords go into a password file (mode 0600).
"$app" -e -p="$work/passfile" -1=qwerty -2=asdfgh

# No STUN server (-S ''): both peers are on this machine, ICE uses 127.0.0.1.
common=(--signaling "$work/signaling" --ice-address 127.0.0.1 -S '' -u "demo-$$")

backup_once() {
  "$app" "${common[@]}" -d="$work/received" -v=2 &
  local receiver=$!
  pids+=("$receiver")
  # The sender may start before or after the receiver; here it starts at once.
  "$app" "${common[@]}" -s="$work/Documents" -z -o=documents.zip -p="$work/passfile"
  wait "$receiver"
}

echo "== First backup"
backup_once
echo "== Second backup (the first becomes documents.zip.1)"
echo "A new letter" > "$work/Documents/letters/letter-51.txt"
backup_once

echo "== Received:"
ls -l "$work/received"

# Check the newest version: outer level with password 2, inner with password 1.
mkdir -p "$work/check/outer" "$work/check/inner"
7zz x -y -bso0 -bsp0 -p"asdfgh" -o"$work/check/outer" "$work/received/documents.zip"
7zz x -y -bso0 -bsp0 -p"qwerty" -o"$work/check/inner" "$work/check/outer/Documents.zip"
if diff -r --no-dereference "$work/Documents" "$work/check/inner/Documents" >/dev/null 2>&1 \
   || diff -r --no-dereference "$work/Documents" "$work/check/inner" >/dev/null; then
  echo "== The newest version matches the source folder byte for byte."
else
  echo "== MISMATCH between the source folder and what was received" >&2
  exit 1
fi
