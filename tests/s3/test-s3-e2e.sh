#!/usr/bin/env bash
# Whole backups into S3: a real receiver process with -d s3://BUCKET/PREFIX
# and a sender over 127.0.0.1 (directory signaling, ICE pinned to the
# loopback, no STUN), against the Ceph lab that run-s3-suite.sh started
# (S3_LAB_* in the environment). Looks at the bucket with s3-lab-tool.
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

work=$(mktemp -d "${TMPDIR:-/tmp}/test-s3-e2e.XXXXXX")
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

tool=${S3_LAB_TOOL:?}
keys() { "$tool" keys "$bucket" "$1"; }           # keys PREFIX: one a line
uploads() { "$tool" uploads "$bucket" "$1"; }     # unfinished uploads under PREFIX
get() { "$tool" get "$bucket" "$1" "$2"; }        # get KEY FILE

bucket="e2e-$$-$RANDOM"
"$tool" mkbucket "$bucket" || { echo "Bail out! cannot create bucket $bucket"; exit 1; }

sig="$work/signaling"
mkdir -p "$sig" "$work/src"
common=(--signaling "$sig" --ice-address 127.0.0.1 -S '' --timeout 30 -q --no-progress)
s3opts=(--s3-endpoint "$S3_LAB_ENDPOINT" --s3-region "$S3_LAB_REGION" --s3-path-style)
session=0
new_session() { session=$((session + 1)); uid="s3-e2e-$$-$session"; }

receive() { # receive DEST VERSIONS [extra...] (background, keys from the environment)
  local dest=$1 versions=$2; shift 2
  AWS_ACCESS_KEY_ID=$S3_LAB_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_LAB_SECRET_KEY \
    "$app" "${common[@]}" -u "$uid" -d "$dest" -v "$versions" "${s3opts[@]}" "$@" \
    2>"$work/receiver.err" &
  receiver=$!
  pids+=("$receiver")
}
send() { "$app" "${common[@]}" -u "$uid" "$@" 2>"$work/sender.err"; }

# --- a file of three parts (8 MiB each), streamed into a multipart upload
head -c 20000000 /dev/urandom > "$work/src/data.bin"
new_session
receive "s3://$bucket/backups" 2
send -s "$work/src/data.bin"; sender_status=$?
wait "$receiver"; receiver_status=$?
check "multipart: sender succeeds" [ "$sender_status" = 0 ]
check "multipart: receiver succeeds" [ "$receiver_status" = 0 ]
mapfile -t found < <(keys "backups/data.bin/")
check "multipart: one version" [ "${#found[@]}" = 1 ]
check "multipart: key has the time and origin" \
  grep -Eq '^backups/data\.bin/[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[A-Za-z0-9._-]+$' <<<"${found[0]:-}"
get "${found[0]:-none}" "$work/got.bin"
check "multipart: object bytes identical" cmp -s "$work/src/data.bin" "$work/got.bin"
check "multipart: no upload left" [ "$(uploads backups/)" = 0 ]

# --- -v 2 over three receptions of a small file (one PUT each); the keys
# from a 0600 credentials file instead of the environment
printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$S3_LAB_ACCESS_KEY" \
  "$S3_LAB_SECRET_KEY" > "$work/keys"
chmod 600 "$work/keys"
for i in 1 2 3; do
  echo "version $i" > "$work/src/notes.txt"
  new_session
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
    "$app" "${common[@]}" -u "$uid" -d "s3://$bucket/backups" -v 2 "${s3opts[@]}" \
    --s3-credentials-file "$work/keys" 2>"$work/receiver.err" &
  receiver=$!
  pids+=("$receiver")
  send -s "$work/src/notes.txt"
  wait "$receiver" || cat "$work/receiver.err" >&2
done
mapfile -t found < <(keys "backups/notes.txt/")
check "versions: -v 2 keeps two" [ "${#found[@]}" = 2 ]
get "${found[1]:-none}" "$work/newest.txt"
get "${found[0]:-none}" "$work/older.txt"
check "versions: the newest is the last sent" grep -qx "version 3" "$work/newest.txt"
check "versions: then the one before" grep -qx "version 2" "$work/older.txt"
check "versions: data.bin untouched" [ "$(keys backups/data.bin/ | wc -l)" = 1 ]

# --- the options, one clear error each; nothing runs
usage() { # usage PATTERN ARGS...: fails with PATTERN on standard error
  local pattern=$1; shift
  if env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$app" "$@" \
    >/dev/null 2>"$work/usage.err"; then
    return 1
  fi
  grep -q -- "$pattern" "$work/usage.err" || { cat "$work/usage.err" >&2; return 1; }
}
check "usage: no endpoint" usage "needs --s3-endpoint" -d "s3://$bucket/x"
check "usage: no keys" usage 'AWS_ACCESS_KEY_ID' -d "s3://$bucket/x" --s3-endpoint "$S3_LAB_ENDPOINT"
chmod 644 "$work/keys"
check "usage: a credentials file others can read" usage "chmod 600" -d "s3://$bucket/x" \
  --s3-endpoint "$S3_LAB_ENDPOINT" --s3-credentials-file "$work/keys"
check "usage: --s3-endpoint with a folder" usage "only used with an s3://" \
  -d "$work" --s3-endpoint "$S3_LAB_ENDPOINT"
check "usage: a bad endpoint" usage "s3-endpoint" -d "s3://$bucket/x" --s3-endpoint "ftp://x"
check "usage: --prune of a bucket needs the keys" usage "needs the S3 keys" --prune \
  -d "s3://$bucket/x" -v 1 --s3-endpoint "$S3_LAB_ENDPOINT"

# --- a sender that stops half way: nothing in the bucket, no upload left
head -c 30000000 /dev/urandom > "$work/src/cut.bin"
new_session
receive "s3://$bucket/backups" 2 --timeout 60
"$app" "${common[@]}" -u "$uid" -s "$work/src/cut.bin" 2>"$work/cut.err" &
sender=$!
pids+=("$sender")
# Killed once the first part is on its way into a multipart upload.
for _ in $(seq 1 300); do
  [ "$(uploads backups/cut.bin/)" != 0 ] && break
  sleep 0.1
done
check "cut: the upload had begun" [ "$(uploads backups/cut.bin/)" != 0 ]
kill -9 "$sender" 2>/dev/null
wait "$receiver"; receiver_status=$?
check "cut: receiver fails" [ "$receiver_status" != 0 ]
check "cut: no version" [ "$(keys backups/cut.bin/ | wc -l)" = 0 ]
for _ in $(seq 1 100); do [ "$(uploads backups/)" = 0 ] && break; sleep 0.2; done
check "cut: no upload left" [ "$(uploads backups/)" = 0 ]

# --- a receiver killed half way: no version; its upload stays (another
# receiver may be writing) until the sweep finds it a day old
head -c 30000000 /dev/urandom > "$work/src/killed.bin"
new_session
receive "s3://$bucket/killed" 2 --timeout 60
"$app" "${common[@]}" -u "$uid" -s "$work/src/killed.bin" 2>"$work/killed.err" &
sender=$!
pids+=("$sender")
for _ in $(seq 1 300); do
  [ "$(uploads killed/killed.bin/)" != 0 ] && break
  sleep 0.1
done
check "receiver killed: the upload had begun" [ "$(uploads killed/killed.bin/)" != 0 ]
kill -9 "$receiver" 2>/dev/null
wait "$receiver" 2>/dev/null
wait "$sender"; sender_status=$?
check "receiver killed: the sender fails" [ "$sender_status" != 0 ]
check "receiver killed: no version" [ "$(keys killed/ | wc -l)" = 0 ]
new_session
receive "s3://$bucket/killed" 2 --timeout 2
wait "$receiver"
check "receiver killed: a new receiver leaves the young upload" [ "$(uploads killed/)" = 1 ]
check "receiver killed: the sweep of a day later aborts it" [ "$("$tool" sweep "$bucket" killed/)" = 1 ]
check "receiver killed: no upload left" [ "$(uploads killed/)" = 0 ]

# --- keys kept with --s3-save-keys (no Secret Service here: a private file)
kept() { # kept ARGS...: the program with a home of its own and no keys in the environment
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
    XDG_CONFIG_HOME="$work/keys-home" DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent \
    "$app" "$@"
}
mkdir -p "$work/keys-home"
kept --list "s3://$bucket/backups/" "${s3opts[@]}" >/dev/null 2>"$work/kept.err"; k0=$?
check "kept keys: none kept, none given: one line that names --s3-save-keys" \
  [ "$k0" = 2 ] && [ "$(wc -l <"$work/kept.err")" = 1 ] && grep -q -- "--s3-save-keys" "$work/kept.err"
AWS_ACCESS_KEY_ID=$S3_LAB_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_LAB_SECRET_KEY \
  XDG_CONFIG_HOME="$work/keys-home" DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent \
  "$app" --s3-save-keys 2>"$work/kept.err"; k1=$?
keyfile="$work/keys-home/distributed-backup/s3-keys"
check "kept keys: --s3-save-keys keeps them in a private file" \
  [ "$k1" = 0 ] && [ "$(stat -c %a "$keyfile")" = 600 ] && grep -q "only you can read" "$work/kept.err"
never_printed() { ! grep -q -- "$S3_LAB_SECRET_KEY" "$work/kept.err"; }
check "kept keys: the secret is never printed" never_printed
kept --list "s3://$bucket/backups/" "${s3opts[@]}" >"$work/kept.out" 2>"$work/kept.err"; k2=$?
check "kept keys: --list of the bucket works without keys given" \
  [ "$k2" = 0 ] && grep -q "s3://$bucket/backups/" "$work/kept.out"
kept --s3-forget-keys 2>/dev/null; k3=$?
check "kept keys: --s3-forget-keys removes them" [ "$k3" = 0 ] && [ ! -e "$keyfile" ]
kept --list "s3://$bucket/backups/" "${s3opts[@]}" >/dev/null 2>&1; k4=$?
check "kept keys: forgotten, the bucket is out of reach again" [ "$k4" = 2 ]
kept --s3-save-keys 2>"$work/kept.err"; k5=$?
check "kept keys: --s3-save-keys without keys is refused" [ "$k5" = 2 ] && [ ! -e "$keyfile" ]
AWS_ACCESS_KEY_ID=a AWS_SECRET_ACCESS_KEY=b kept --s3-save-keys -d "s3://$bucket/x" 2>/dev/null; k6=$?
check "kept keys: --s3-save-keys is used alone" [ "$k6" = 2 ] && [ ! -e "$keyfile" ]

echo "1..$n"
[ "$failed" = 0 ]
