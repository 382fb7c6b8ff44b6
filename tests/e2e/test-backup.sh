#!/usr/bin/env bash
# End-to-end backups between two real distributed-backup processes on this
# machine: directory signaling store, ICE pinned to 127.0.0.1, no STUN.
# TAP output.
set -u

app=${DISTRIBUTED_BACKUP:?}
work=$(mktemp -d "${TMPDIR:-/tmp}/test-backup.XXXXXX")
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

sig="$work/signaling"
mkdir -p "$sig"
common=(--signaling "$sig" --ice-address 127.0.0.1 -S '' --timeout 30 -q --no-progress)
session=0
new_session() { session=$((session + 1)); uid="e2e-$$-$session"; }

receive() { # receive DEST VERSIONS [extra...]
  local dest=$1 versions=$2; shift 2
  "$app" "${common[@]}" -u "$uid" -d "$dest" -v "$versions" "$@" 2>"$work/receiver.err" &
  receiver=$!
  pids+=("$receiver")
}

send() { # send ARGS... (foreground)
  "$app" "${common[@]}" -u "$uid" "$@" 2>"$work/sender.err"
}

empty_dir() { [ -z "$(ls -A "$1")" ]; }

# --- a file, receiver first and sender first
mkdir -p "$work/src" "$work/dst"
head -c 5000000 /dev/urandom > "$work/src/data.bin"
new_session
receive "$work/dst" 1
send -s "$work/src/data.bin"; sender_status=$?
wait "$receiver"; receiver_status=$?
check "file: sender succeeds" [ "$sender_status" = 0 ]
check "file: receiver succeeds" [ "$receiver_status" = 0 ]
check "file: content identical" cmp -s "$work/src/data.bin" "$work/dst/data.bin"
check "file: signaling store left empty" empty_dir "$sig"

new_session
rm -f "$work/dst/data.bin"
( sleep 2; exec "$app" "${common[@]}" -u "$uid" -d "$work/dst" -v 1 2>"$work/receiver.err" ) &
receiver=$!
pids+=("$receiver")
send -s "$work/src/data.bin"; sender_status=$?
wait "$receiver"; receiver_status=$?
check "sender first: both succeed" [ "$sender_status" = 0 ] && [ "$receiver_status" = 0 ]
check "sender first: content identical" cmp -s "$work/src/data.bin" "$work/dst/data.bin"

# --- the seed's example: versions = 2 over three receptions
mkdir -p "$work/versions"
for i in 1 2 3; do
  echo "version $i" > "$work/src/notes.txt"
  new_session
  receive "$work/versions" 2
  send -s "$work/src/notes.txt"
  wait "$receiver"
done
check "versions: newest in notes.txt" grep -qx "version 3" "$work/versions/notes.txt"
check "versions: previous in notes.txt.1" grep -qx "version 2" "$work/versions/notes.txt.1"
check "versions: nothing else" [ "$(ls -A "$work/versions" | wc -l)" = 2 ]

# --- the largest -v the original accepts (a 16-bit number)
mkdir -p "$work/many"
new_session
receive "$work/many" 65535
send -s "$work/src/notes.txt"; sender_status=$?
wait "$receiver"; receiver_status=$?
check "-v 65535: both succeed" [ "$sender_status" = 0 ] && [ "$receiver_status" = 0 ]
check "-v 65535: file stored" grep -qx "version 3" "$work/many/notes.txt"

# --- a double-zipped folder with the password file
mkdir -p "$work/Documents/sub/empty" "$work/zips"
echo "hello" > "$work/Documents/sub/hello.txt"
head -c 300000 /dev/urandom > "$work/Documents/random.bin"
"$app" -e -p="$work/passfile" -1=qwerty -2=asdfgh
new_session
receive "$work/zips" 1
send -s="$work/Documents" -z -o=docs.zip -p="$work/passfile"; sender_status=$?
wait "$receiver"; receiver_status=$?
check "zip: both succeed" [ "$sender_status" = 0 ] && [ "$receiver_status" = 0 ]
mkdir -p "$work/x/outer" "$work/x/inner"
7zz x -y -bso0 -bse0 -bsp0 -pasdfgh -o"$work/x/outer" "$work/zips/docs.zip" >/dev/null 2>&1
7zz x -y -bso0 -bse0 -bsp0 -pqwerty -o"$work/x/inner" "$work/x/outer/Documents.zip" >/dev/null 2>&1
if [ -d "$work/x/inner/Documents" ]; then inner="$work/x/inner/Documents"; else inner="$work/x/inner"; fi
check "zip: both levels open and match the folder" diff -r "$work/Documents" "$inner"

# --- a sender interrupted mid-transfer changes nothing on the receiver
head -c 400000000 /dev/zero | tr '\0' 'x' > "$work/src/big.bin" 2>/dev/null || true
cp "$work/dst/data.bin" "$work/dst/big.bin"
before=$(sha256sum "$work/dst/big.bin" | cut -d' ' -f1)
new_session
receive "$work/dst" 1
"$app" "${common[@]}" -u "$uid" -s "$work/src/big.bin" 2>"$work/sender.err" &
sender=$!
pids+=("$sender")
# Interrupt once the transfer is under way (a temporary file exists).
for _ in $(seq 1 200); do
  ls -A "$work/dst" | grep -q '\.part$' && break
  sleep 0.05
done
kill -INT "$sender"
wait "$sender"; sender_status=$?
wait "$receiver"; receiver_status=$?
check "interrupted: sender exits non-zero" [ "$sender_status" != 0 ]
check "interrupted: receiver reports failure" [ "$receiver_status" != 0 ]
check "interrupted: old version untouched" [ "$(sha256sum "$work/dst/big.bin" | cut -d' ' -f1)" = "$before" ]
kept=$(ls -A "$work/dst" | grep '\.part$')
check "interrupted: what arrived is kept hidden, to resume" \
  [ "$(printf '%s\n' "$kept" | grep -cE '^\.big\.bin\.[0-9a-f]{32}\.resume\.part$')" = 1 ] \
  && [ "$(printf '%s\n' "$kept" | wc -l)" = 1 ]
check "interrupted: signaling store left empty" empty_dir "$sig"

# --- sending the same file again resumes where the interrupted transfer stopped
kept_bytes=$(stat -c %s "$work/dst/$kept")
receive "$work/dst" 1
"$app" --signaling "$sig" --ice-address 127.0.0.1 -S '' --timeout 30 --no-progress -u "$uid" \
  -s "$work/src/big.bin" 2>"$work/sender.err"; sender_status=$?
wait "$receiver"; receiver_status=$?
check "resumed: both succeed" [ "$sender_status" = 0 ] && [ "$receiver_status" = 0 ]
check "resumed: content identical" cmp -s "$work/src/big.bin" "$work/dst/big.bin"
check "resumed: the sender reports what it did not send again" \
  grep -q "^Resumed an interrupted transfer: its first .* were not sent again" "$work/sender.err"
check "resumed: nothing kept any more" [ -z "$(ls -A "$work/dst" | grep '\.part$')" ]
check "resumed: the interrupted transfer had delivered something" [ "$kept_bytes" -gt 0 ]

# --- a receiver nobody talks to gives up with one clear line; SIGTERM cleans up
new_session
"$app" "${common[@]}" -u "$uid" --timeout 2 -d "$work/dst" 2>"$work/timeout.err"
status=$?
check "timeout: non-zero exit" [ "$status" != 0 ]
check "timeout: one line on stderr" [ "$(wc -l < "$work/timeout.err")" = 1 ]
check "timeout: signaling store left empty" empty_dir "$sig"

new_session
receive "$work/dst" 1
sleep 1
check "waiting receiver left its ping" [ -n "$(ls -A "$sig")" ]
kill -TERM "$receiver"
wait "$receiver"
check "SIGTERM: signaling store cleaned" empty_dir "$sig"

# --- the receiver's disk fills up during the transfer: one clear line on
# each side, the version already there stays, nothing else is left. The
# destination is a 2 MiB tmpfs in a mount namespace of the receiver's own.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
  cat > "$work/full.sh" <<'SH'
dir=$1 out=$2; shift 2
mount -t tmpfs -o size=2m tmpfs "$dir" || exit 99
head -c 500000 /dev/urandom > "$dir/huge.bin"
sha256sum < "$dir/huge.bin" > "$out/full.before"
"$@"
status=$?
sha256sum < "$dir/huge.bin" > "$out/full.after"
ls -A "$dir" > "$out/full.list"
exit $status
SH
  mkdir -p "$work/small"
  head -c 3000000 /dev/urandom > "$work/src/huge.bin"
  new_session
  unshare -m sh "$work/full.sh" "$work/small" "$work" \
    "$app" "${common[@]}" -u "$uid" -d "$work/small" -v 2 2>"$work/receiver.err" &
  receiver=$!
  pids+=("$receiver")
  send -s "$work/src/huge.bin"; sender_status=$?
  wait "$receiver"; receiver_status=$?
  check "full disk: the receiver fails" [ "$receiver_status" != 0 ] && [ "$receiver_status" != 99 ]
  check "full disk: ... with one line about the space" \
    [ "$(wc -l < "$work/receiver.err")" = 1 ] && grep -qi "space" "$work/receiver.err"
  echo "# receiver: $(cat "$work/receiver.err")"
  check "full disk: the sender fails too" [ "$sender_status" != 0 ]
  echo "# sender: $(cat "$work/sender.err")"
  check "full disk: the stored version is untouched" cmp -s "$work/full.before" "$work/full.after"
  check "full disk: nothing else is left" [ "$(cat "$work/full.list")" = "huge.bin" ]
  check "full disk: signaling store left empty" empty_dir "$sig"
else
  n=$((n + 1))
  echo "ok $n - full disk # SKIP needs root and unshare (a tmpfs in a mount namespace)"
fi

# --- HTTPS signaling through our own server, with a certificate of its own:
# trusted with --signaling-ca, refused at once without it.
server_app=${DISTRIBUTED_BACKUP_SERVER:?}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -days 1 -keyout "$work/key.pem" -out "$work/cert.pem" \
  >/dev/null 2>&1
# LeakSanitizer crashes at exit on the thread-local data GnuTLS leaves in
# GLib's worker threads: the processes that speak HTTPS are checked for
# memory errors, not for leaks.
tls_env=(env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0")
"${tls_env[@]}" "$server_app" --port 0 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
  --api-key e2e-key >"$work/server.out" 2>"$work/server.err" &
server=$!
pids+=("$server")
url=
for _ in $(seq 1 100); do
  url=$(sed -n 's/^listening on \(https:[^ ]*\).*/\1/p' "$work/server.out")
  [ -n "$url" ] && break
  sleep 0.1
done
check "https: the server listens" [ -n "$url" ]
https=(--signaling "$url" --ice-address 127.0.0.1 -S '' --timeout 30 -q --no-progress)

# The API key off the command line: from a file (receiver), from the
# environment (sender).
new_session
rm -f "$work/dst/data.bin"
printf 'e2e-key\n' > "$work/apikey"
"${tls_env[@]}" "$app" "${https[@]}" --signaling-ca "$work/cert.pem" --apikey-file "$work/apikey" \
  -u "$uid" -d "$work/dst" 2>"$work/receiver.err" &
receiver=$!
pids+=("$receiver")
"${tls_env[@]}" DISTRIBUTED_BACKUP_APIKEY=e2e-key "$app" "${https[@]}" \
  --signaling-ca "$work/cert.pem" -u "$uid" -s "$work/src/data.bin" 2>"$work/sender.err"
sender_status=$?
wait "$receiver"; receiver_status=$?
check "https: both succeed with --signaling-ca, --apikey-file and the environment" \
  [ "$sender_status" = 0 ] && [ "$receiver_status" = 0 ]
check "https: content identical" cmp -s "$work/src/data.bin" "$work/dst/data.bin"

new_session
"${tls_env[@]}" DISTRIBUTED_BACKUP_APIKEY=wrong-key "$app" "${https[@]}" \
  --signaling-ca "$work/cert.pem" -u "$uid" -d "$work/dst" 2>"$work/wrongkey.err"
status=$?
check "https: a wrong API key fails with one line saying so" \
  [ "$status" != 0 ] && [ "$(wc -l < "$work/wrongkey.err")" = 1 ] && grep -q "API key" "$work/wrongkey.err"

# --- a stray or hostile offer in the store is skipped with one line; the
# receiver keeps waiting and pairs with the genuine sender.
new_session
mkdir -p "$work/dst-garbage"
receive "$work/dst-garbage" 1
for _ in $(seq 100); do
  ls "$sig" | grep -q "^${uid}_ping_" && break
  sleep 0.1
done
garbage_sdp=$(printf '{"type":"offer","sdp":"v=0\\r\\nm=audio 9 RTP/AVP 0\\r\\n"}' | base64 -w0)
printf '{"type":"sdp","payload":"%s"}' "$garbage_sdp" > "$work/garbage.json"
mv "$work/garbage.json" "$sig/${uid}_sdp_6f1c2a9e-0000-4000-8000-000000000001.json"
sleep 1
send -s "$work/src/data.bin"; sender_status=$?
wait "$receiver"; receiver_status=$?
check "garbage offer: both succeed" [ "$sender_status" = 0 ] && [ "$receiver_status" = 0 ]
check "garbage offer: content identical" cmp -s "$work/src/data.bin" "$work/dst-garbage/data.bin"
check "garbage offer: the receiver says once that it skipped it" \
  [ "$(grep -c "Skipping signaling file" "$work/receiver.err")" = 1 ]

new_session
start=$(date +%s)
"${tls_env[@]}" "$app" "${https[@]}" -a e2e-key -u "$uid" -d "$work/dst" 2>"$work/untrusted.err"
status=$?
elapsed=$(( $(date +%s) - start ))
check "https: an untrusted certificate fails" [ "$status" != 0 ]
check "https: ... with one line saying so" \
  [ "$(wc -l < "$work/untrusted.err")" = 1 ] && grep -q "not trusted" "$work/untrusted.err"
check "https: ... at once, not after the timeout ($elapsed s)" [ "$elapsed" -lt 20 ]

"$app" "${https[@]}" -a e2e-key --signaling-ca "$work/missing.pem" -u "$uid" -d "$work/dst" \
  2>"$work/badca.err"
status=$?
check "https: a missing CA file is a usage error" [ "$status" = 2 ] && grep -q "signaling-ca" "$work/badca.err"
"$app" "${common[@]}" --signaling-ca "$work/cert.pem" -u "$uid" -d "$work/dst" 2>"$work/badca.err"
status=$?
check "https: --signaling-ca without an https server is a usage error" [ "$status" = 2 ]
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null

echo "1..$n"
exit $((failed > 0))
