#!/usr/bin/env bash
# The history commands on versions kept in S3: real receivers fill the Ceph
# lab (that run-s3-suite.sh started, S3_LAB_* in the environment) with
# versions of a file and of a zipped folder, then --list, --verify,
# --restore and --prune work on the bucket, each a process of its own. The
# downloads go to a temporary folder of the test ($TMPDIR), which must be
# empty after every command, whether it succeeded, failed or was stopped.
# TAP output.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

app=${DISTRIBUTED_BACKUP:?}
if [ -z "${S3_LAB_ENDPOINT:-}" ]; then
  if [ "${CI:-}" = true ]; then
    echo "Bail out! S3_LAB_ENDPOINT is not set: run this test through run-s3-suite.sh"
    exit 1
  fi
  echo "1..0 # SKIP no S3 lab (run through tests/s3/run-s3-suite.sh)"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/test-s3-history.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
status_and() { local want=$1; shift; [ "$status" = "$want" ] && "$@"; } # status_and N CMD...

tool=${S3_LAB_TOOL:?}
keys() { "$tool" keys "$bucket" "$1"; }
get() { "$tool" get "$bucket" "$1" "$2"; }
put() { "$tool" put "$bucket" "$1" "$2"; }

bucket="hist-$$-$RANDOM"
"$tool" mkbucket "$bucket" || { echo "Bail out! cannot create bucket $bucket"; exit 1; }

sig="$work/signaling"
downloads="$work/tmp"
mkdir -p "$sig" "$downloads" "$work/src"
export DISTRIBUTED_BACKUP_VAULT_KEY="$work/vault.key"
common=(--signaling "$sig" --ice-address 127.0.0.1 -S '' --timeout 30 -q --no-progress)
s3opts=(--s3-endpoint "$S3_LAB_ENDPOINT" --s3-region "$S3_LAB_REGION" --s3-path-style)
session=0

# One backup of "$@" (the sender's options) into s3://BUCKET/backups, -v 3.
backup() {
  local receiver status
  session=$((session + 1))
  AWS_ACCESS_KEY_ID=$S3_LAB_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_LAB_SECRET_KEY \
    "$app" "${common[@]}" -u "hist-$$-$session" -d "s3://$bucket/backups" -v 3 "${s3opts[@]}" \
    2>"$work/receiver.err" &
  receiver=$!
  pids+=("$receiver")
  "$app" "${common[@]}" -u "hist-$$-$session" "$@" 2>"$work/sender.err"
  status=$?
  wait "$receiver" || status=1
  [ $status = 0 ] || cat "$work/receiver.err" "$work/sender.err" >&2
  return $status
}

# A history command: the lab's keys, downloads in $downloads; standard
# output in $work/out, standard error in $work/err; returns its status.
hist() {
  TMPDIR=$downloads AWS_ACCESS_KEY_ID=$S3_LAB_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_LAB_SECRET_KEY \
    "$app" --no-progress "${s3opts[@]}" "$@" >"$work/out" 2>"$work/err"
}
no_download_left() { [ -z "$(ls -A "$downloads")" ]; }
one_error_line() { # one_error_line PATTERN: standard error is one line holding PATTERN
  [ "$(wc -l <"$work/err")" = 1 ] && grep -q -- "$1" "$work/err" \
    || { cat "$work/err" >&2; return 1; }
}

# --- the versions: four of a file (-v 3 keeps three), two of a folder
"$app" -e -p "$work/pass" -1 "inner secret" -2 "outer secret" || {
  echo "Bail out! cannot write the password file"
  exit 1
}
mkdir -p "$work/src/docs/sub"
head -c 300000 /dev/urandom > "$work/src/docs/sub/data.bin"
all_backed_up=true
for i in 1 2 3 4; do
  echo "version $i" > "$work/src/notes.txt"
  backup -s "$work/src/notes.txt" || all_backed_up=false
  if [ $i -le 2 ]; then
    echo "report $i" > "$work/src/docs/report.txt"
    backup -z -s "$work/src/docs" -o docs.zip -p "$work/pass" || all_backed_up=false
  fi
done
check "setup: six backups received into the bucket" $all_backed_up
versions() { keys "$1" | grep -E '/[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[^/]+$'; }
mapfile -t notes < <(versions backups/notes.txt/)   # oldest first
mapfile -t docs < <(versions backups/docs.zip/)
check "setup: -v 3 kept three versions of notes.txt" [ "${#notes[@]}" = 3 ]
check "setup: two versions of docs.zip" [ "${#docs[@]}" = 2 ]
newest_notes=${notes[2]:-none}
newest_docs=${docs[1]:-none}
origin=${newest_notes##*Z-}

# Objects that are not versions: never listed, never pruned.
echo "not a version" > "$work/stray.txt"
put backups/docs.zip/notes "$work/stray.txt"
put backups/readme.txt "$work/stray.txt"

# --- --list of a prefix: every version, with its origin, newest first
hist --list "s3://$bucket/backups/"; status=$?
check "list prefix: succeeds" [ $status = 0 ]
check "list prefix: one line per version" [ "$(wc -l <"$work/out")" = 5 ]
expected=$(for k in "${docs[1]}" "${docs[0]}" "${notes[2]}" "${notes[1]}" "${notes[0]}"; do
  echo "s3://$bucket/$k"; done)
check "list prefix: by name, the newest first" \
  [ "$(awk '{ print $NF }' "$work/out")" = "$expected" ]
check "list prefix: name, time, size and origin" \
  grep -Eq "^notes\.txt  [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} +10  from $origin  s3://" "$work/out"
check "list prefix: the count on standard error" grep -q "5 versions under s3://$bucket/backups/" \
  "$work/err"
cp "$work/out" "$work/listing"
hist --list "s3://$bucket/backups"; status=$?
check "list: a location that is no object lists the prefix" \
  status_and 0 cmp -s "$work/out" "$work/listing"
hist --list "s3://$bucket"; status=$?
check "list: the whole bucket" status_and 0 cmp -s "$work/out" "$work/listing"
hist --list "s3://$bucket/backups/notes.txt/"
check "list: the versions of one name" [ "$(wc -l <"$work/out")" = 3 ]
hist --list "s3://$bucket/nothing/here"; status=$?
check "list: nothing there fails with one line" \
  status_and 1 one_error_line "no such object, and no versions under it"

# --- one version: --list, --verify, --restore, byte for byte
hist --list "s3://$bucket/$newest_notes"; status=$?
check "list key: a plain file" status_and 0 grep -Eq -- '-rw------- +10 .* notes\.txt$' \
  "$work/out"
hist --verify "s3://$bucket/$newest_notes"; status=$?
check "verify key: a plain file" status_and 0 grep -q "notes.txt: a plain file" "$work/out"
hist --restore "s3://$bucket/$newest_notes" -d "$work/r1"; status=$?
echo "version 4" > "$work/expected.txt"
check "restore key: succeeds" [ $status = 0 ]
check "restore key: the newest, under its name" cmp -s "$work/r1/notes.txt" "$work/expected.txt"
hist --restore "s3://$bucket/${notes[0]}" -d "$work/r1" --force
echo "version 2" > "$work/expected.txt"
check "restore key: an older version" cmp -s "$work/r1/notes.txt" "$work/expected.txt"
check "restore key: no download left" no_download_left

hist --list "s3://$bucket/$newest_docs" -p "$work/pass"; status=$?
check "list zip: succeeds" [ $status = 0 ]
check "list zip: its entries" grep -q "report.txt" "$work/out"
check "list zip: the nested ones too" grep -q "sub/data.bin" "$work/out"
hist --verify "s3://$bucket/$newest_docs" -p "$work/pass"; status=$?
check "verify zip: every checksum matches" status_and 0 grep -q "OK" "$work/out"
hist --restore "s3://$bucket/$newest_docs" -p "$work/pass" -d "$work/r2"; status=$?
check "restore zip: succeeds" [ $status = 0 ]
check "restore zip: the folder byte for byte" diff -r "$work/src/docs" "$work/r2"
printf 'report 1\n' > "$work/expected.txt"
hist --restore "s3://$bucket/${docs[0]}" -p "$work/pass" -d "$work/r2old"
check "restore zip: the older version" cmp -s "$work/r2old/report.txt" "$work/expected.txt"
check "restore zip: no download left" no_download_left

# --- failures: one clear line each, nothing written, no download left
missing="backups/notes.txt/20000101T000000.000000Z-nobody"
hist --restore "s3://$bucket/$missing" -d "$work/r3"; status=$?
check "missing key: fails with one line" status_and 1 one_error_line "no such object"
check "missing key: nothing written" [ ! -e "$work/r3" ]
hist --restore "s3://$bucket/backups/notes.txt" -d "$work/r3"; status=$?
check "a name, not a version: says how many it holds" \
  status_and 1 one_error_line "is not a version but holds 3"
hist --verify "s3://$bucket/backups/"; status=$?
check "a prefix to --verify: refused" status_and 1 one_error_line "names a prefix"
TMPDIR=$downloads AWS_ACCESS_KEY_ID=$S3_LAB_ACCESS_KEY AWS_SECRET_ACCESS_KEY=wrong \
  "$app" "${s3opts[@]}" --verify "s3://$bucket/$newest_notes" >/dev/null 2>"$work/err"
status=$?
check "bad secret key: one line" status_and 1 one_error_line "wrong secret key"
TMPDIR=$downloads AWS_ACCESS_KEY_ID=nosuchkey AWS_SECRET_ACCESS_KEY=wrong \
  "$app" "${s3opts[@]}" --list "s3://$bucket/backups/" >/dev/null 2>"$work/err"
status=$?
check "unknown access key: one line" status_and 1 one_error_line "unknown access key"
hist --restore "s3://$S3_LAB_OTHER_BUCKET/some/key" -d "$work/r3"; status=$?
check "another user's bucket: access denied" status_and 1 one_error_line "access denied"
TMPDIR=$downloads AWS_ACCESS_KEY_ID=$S3_LAB_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_LAB_SECRET_KEY \
  "$app" --s3-endpoint http://127.0.0.1:1 --s3-path-style --verify "s3://$bucket/$newest_notes" \
  >/dev/null 2>"$work/err"
status=$?
check "unreachable endpoint: one line" status_and 1 one_error_line "cannot reach"
check "failures: no download left" no_download_left
check "failures: nothing restored" [ ! -e "$work/r3" ]

# A changed body under the key of the newest docs.zip: verifying fails, and
# a restore leaves the target as it was.
get "$newest_docs" "$work/docs.zip"
size=$(stat -c %s "$work/docs.zip")
cp "$work/docs.zip" "$work/bad.zip"
printf 'XXXXXXXXXXXXXXXX' | dd of="$work/bad.zip" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
put "$newest_docs" "$work/bad.zip"
mkdir -p "$work/r4"
echo "mine" > "$work/r4/keep.txt"
hist --verify "s3://$bucket/$newest_docs" -p "$work/pass"; status=$?
check "corrupt object: --verify fails with one line" status_and 1 one_error_line "damaged"
hist --restore "s3://$bucket/$newest_docs" -p "$work/pass" -d "$work/r4"; status=$?
check "corrupt object: --restore fails with one line" \
  status_and 1 one_error_line "nothing was restored"
check "corrupt object: the target is untouched" \
  [ "$(cd "$work/r4" && find . | sort | tr '\n' ' ')" = ". ./keep.txt " ]
hist --restore "s3://$bucket/$newest_docs" -p "$work/pass" -d "$work/r5"
check "corrupt object: a new target is not even made" [ ! -e "$work/r5" ]
check "corrupt object: no download left" no_download_left
put "$newest_docs" "$work/docs.zip"

# --- a signal during a download: exit 128 + its number, no download left
head -c 67108864 /dev/urandom > "$work/big.bin"
big_key="backups/big.bin/20240102T030405.000000Z-lab"
put "$big_key" "$work/big.bin"
TMPDIR=$downloads AWS_ACCESS_KEY_ID=$S3_LAB_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_LAB_SECRET_KEY \
  "$app" --no-progress "${s3opts[@]}" --restore "s3://$bucket/$big_key" -d "$work/r6" \
  >/dev/null 2>"$work/err" &
pid=$!
pids+=("$pid")
for _ in $(seq 1 20000); do
  compgen -G "$downloads/distributed-backup-*/big.bin" >/dev/null && break
done
kill -STOP "$pid" 2>/dev/null
check "signal: the download was under way" [ -n "$(ls -A "$downloads")" ]
check "signal: its file is private" \
  [ "$(stat -c %a "$downloads"/distributed-backup-*/big.bin 2>/dev/null)" = 600 ]
kill -INT "$pid" 2>/dev/null
kill -CONT "$pid" 2>/dev/null
wait "$pid"; status=$?
check "signal: exit status 130" [ $status = 130 ]
check "signal: no download left" no_download_left
check "signal: nothing restored" [ ! -e "$work/r6/big.bin" ]
hist --restore "s3://$bucket/$big_key" -d "$work/r6"; status=$?
check "big: restored byte for byte" status_and 0 cmp -s "$work/r6/big.bin" "$work/big.bin"

# --- a download that does not fit: a 1 MiB file system as $TMPDIR, in a
# mount namespace of its own
if unshare -m --propagation private true 2>/dev/null; then
  TMPDIR=/nonexistent AWS_ACCESS_KEY_ID=$S3_LAB_ACCESS_KEY \
    AWS_SECRET_ACCESS_KEY=$S3_LAB_SECRET_KEY unshare -m --propagation private \
    sh -c 'mount -t tmpfs -o size=1m tmpfs "$0" || exit 98; TMPDIR=$0 "$@"; s=$?; \
      [ -z "$(ls -A "$0")" ] || s=99; exit $s' \
    "$downloads" "$app" "${s3opts[@]}" --verify "s3://$bucket/$big_key" >/dev/null 2>"$work/err"
  status=$?
  check "disk full: fails with one line, nothing left" status_and 1 one_error_line "No room in"
else
  ok "disk full # SKIP no mount namespace here"
fi
rm -f "$work/big.bin"

# --- --prune: --dry-run changes nothing; -v and --keep-last remove exactly
# the older versions
mapfile -t before < <(keys backups/)
hist --prune --dry-run -d "s3://$bucket/backups" --keep-last 1; status=$?
check "dry run: succeeds" [ $status = 0 ]
check "dry run: one keep line per name" [ "$(grep -c '^keep ' "$work/out")" = 3 ]
check "dry run: one remove line per older version" [ "$(grep -c '^remove ' "$work/out")" = 3 ]
check "dry run: the folder prune's wording" \
  grep -q "^keep    $newest_notes  .*  from $origin$" "$work/out"
check "dry run: its summary" grep -q "Dry run: 3 of 6 versions would be removed" "$work/err"
mapfile -t after < <(keys backups/)
check "dry run: nothing deleted" [ "${before[*]}" = "${after[*]}" ]

hist --prune -d "s3://$bucket/backups" -v 2; status=$?
mapfile -t after < <(keys backups/)
expected=("$big_key" "${docs[0]}" "${docs[1]}" backups/docs.zip/notes "${notes[1]}" "${notes[2]}"
  backups/readme.txt)
check "prune -v 2: succeeds" [ $status = 0 ]
check "prune -v 2: the two newest of each name remain, and the other objects" [ "${after[*]}" = "${expected[*]}" ]
check "prune -v 2: reports what it removed" grep -q "^removed ${notes[0]}  " "$work/out"

hist --prune -d "s3://$bucket/backups/" --keep-last 1 -q; status=$?
mapfile -t after < <(keys backups/)
expected=("$big_key" "${docs[1]}" backups/docs.zip/notes "${notes[2]}" backups/readme.txt)
check "prune --keep-last 1: succeeds" [ $status = 0 ]
check "prune --keep-last 1: -q prints nothing" [ ! -s "$work/out" -a ! -s "$work/err" ]
check "prune --keep-last 1: exactly the newest remain" [ "${after[*]}" = "${expected[*]}" ]
check "prune: no download left" no_download_left

# --- the options, one clear error each
usage() { # usage PATTERN ARGS...: a usage error (2) holding PATTERN, one line
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$app" "$@" >/dev/null 2>"$work/err"
  [ $? = 2 ] && one_error_line "$1"
}
check "usage: --list s3:// without an endpoint" usage "needs --s3-endpoint" \
  --list "s3://$bucket/backups/"
check "usage: --restore s3:// without keys" usage "needs the S3 keys" \
  --restore "s3://$bucket/$newest_notes" -d "$work/r7" --s3-endpoint "$S3_LAB_ENDPOINT"
check "usage: --prune s3:// without keys" usage "needs the S3 keys" \
  --prune -d "s3://$bucket/backups" -v 1 --s3-endpoint "$S3_LAB_ENDPOINT"
check "usage: --s3-endpoint with a local archive" usage "only used with an s3://" \
  --list "$work/docs.zip" --s3-endpoint "$S3_LAB_ENDPOINT"
check "usage: restoring into s3://" usage "writes into a folder" \
  --restore "s3://$bucket/$newest_notes" -d "s3://$bucket/x" --s3-endpoint "$S3_LAB_ENDPOINT"

echo "1..$n"
[ "$failed" = 0 ]
