#!/usr/bin/env bash
# Receivers of every paired device (--all-devices) into the Ceph lab that
# run-s3-suite.sh started (S3_LAB_* in the environment): each "machine" is a
# configuration folder of its own (XDG_CONFIG_HOME: its identity and paired
# devices), devices are paired with --invite/--pair through a signaling
# folder, every process talks over 127.0.0.1 only. s3-lab-tool looks into
# the bucket. TAP output.
#
#   - 20 senders at once into one receiver with --max-transfers 4, one of
#     them a zipped folder: every backup stored byte for byte under its
#     device's prefix, no upload left, the receiver's peak memory shown;
#   - a device paired while that receiver runs is served without a restart;
#   - two receivers of their own devices sharing one prefix, retention (-v 1)
#     running on both while the other writes: nothing of one lost to the other;
#   - --quota per device: a backup too large refused, a small one stored;
#   - SIGTERM stops a receiver cleanly (status 143), no upload left.
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

work=$(mktemp -d "${TMPDIR:-/tmp}/test-s3-pool.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ "${S3_POOL_KEEP:-0}" = 1 ]; then echo "# kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else not_ok "$what"; fi; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

tool=${S3_LAB_TOOL:?}
keys() { "$tool" keys "$bucket" "$1"; }           # keys PREFIX: one a line
uploads() { "$tool" uploads "$bucket" "$1"; }     # unfinished uploads under PREFIX
get() { "$tool" get "$bucket" "$1" "$2"; }        # get KEY FILE

bucket="pool-$$-$RANDOM"
"$tool" mkbucket "$bucket" || { echo "Bail out! cannot create bucket $bucket"; exit 1; }

sig="$work/signaling"
mkdir -p "$sig" "$work/src" "$work/got" "$work/log"
loop=(--ice-address 127.0.0.1 --stun= --timeout 60)
s3opts=(--s3-endpoint "$S3_LAB_ENDPOINT" --s3-region "$S3_LAB_REGION" --s3-path-style)

# on MACHINE ARGS...: the app as MACHINE (its own configuration and state;
# no session bus, so the keys stay in key.pem). on_bg does the same in the
# background and sets $last_pid (the app's own pid: env executes it).
machine_env() {
  echo "XDG_CONFIG_HOME=$work/m/$1" "XDG_STATE_HOME=$work/m/$1/state" \
    "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent" LC_ALL=C.UTF-8 \
    "TMPDIR=$work/m/$1/tmp"
}
on() {
  local m=$1; shift
  mkdir -p "$work/m/$m/tmp"
  # shellcheck disable=SC2046 # one word per assignment
  env $(machine_env "$m") "$app" "$@"
}
on_bg() {
  local m=$1; shift
  mkdir -p "$work/m/$m/tmp"
  # shellcheck disable=SC2046
  env $(machine_env "$m") "$app" "$@" &
  last_pid=$!
  pids+=("$last_pid")
}

# pair RECEIVER RECEIVER-NAME SENDER: the receiver invites, the sender (a
# machine named as its device) opens the link from standard input.
pair() {
  local r=$1 rname=$2 s=$3 inviter link status
  on_bg "$r" --invite --device-name "$rname" --signaling "$sig" "${loop[@]}" \
    >"$work/log/link.$s" 2>"$work/log/invite.$s.err"
  inviter=$last_pid
  for _ in $(seq 1 200); do
    grep -q '^distributed-backup:pair?' "$work/log/link.$s" && break
    kill -0 "$inviter" 2>/dev/null || break
    sleep 0.05
  done
  link=$(grep -m1 '^distributed-backup:pair?' "$work/log/link.$s")
  on "$s" --pair - --device-name "$s" "${loop[@]}" <<<"$link" >/dev/null \
    2>"$work/log/pair.$s.err"
  status=$?
  wait "$inviter" || status=1
  [ $status = 0 ] || cat "$work/log/invite.$s.err" "$work/log/pair.$s.err" >&2
  return $status
}

# receive MACHINE PREFIX LOG [options...]: an --all-devices receiver into
# s3://BUCKET/PREFIX in the background; its pid in $last_pid.
receive() {
  local m=$1 prefix=$2 log=$3; shift 3
  AWS_ACCESS_KEY_ID=$S3_LAB_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_LAB_SECRET_KEY \
    on_bg "$m" --all-devices -d "s3://$bucket/$prefix" "${s3opts[@]}" "${loop[@]}" \
    --no-announce "$@" >"$log" 2>&1
}

# wait_serving LOG COUNT: until the receiver says it receives from COUNT
# devices (30 s at most).
wait_serving() {
  for _ in $(seq 1 300); do
    [ "$(grep -c '^Receiving from “' "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  cat "$1" >&2
  return 1
}

# send MACHINE RECEIVER-NAME ARGS...: one backup to the paired receiver.
send() {
  local m=$1 r=$2; shift 2
  on "$m" --device "$r" "${loop[@]}" -q --no-progress "$@" 2>"$work/log/send.$m.err"
}

# stored PREFIX NAME FILE: exactly one version of NAME under PREFIX, a key
# that holds its time and origin, with the bytes of FILE.
stored() {
  local prefix=$1 name=$2 file=$3 found
  mapfile -t found < <(keys "$prefix$name/")
  if [ "${#found[@]}" != 1 ]; then
    echo "# $prefix$name/: ${#found[@]} versions" >&2
    return 1
  fi
  grep -Eq "^${prefix//./\\.}${name//./\\.}/[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[A-Za-z0-9._-]+\$" \
    <<<"${found[0]}" || { echo "# unexpected key ${found[0]}" >&2; return 1; }
  get "${found[0]}" "$work/got/object" && cmp -s "$file" "$work/got/object"
}

# stop PID: SIGTERM, then its exit status (as the shell reports a signal)
# within 20 s, else 255 and a kill.
stop() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    wait "$pid"
    return 255
  fi
  wait "$pid"
}

# peak_rss PID: VmHWM in kB; cpu_ms PID: user + system time in ms.
peak_rss() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
cpu_ms() {
  local tick
  tick=$(getconf CLK_TCK)
  # Fields 14 and 15 of /proc/PID/stat, after the command name in parentheses.
  sed 's/^.*) //' "/proc/$1/stat" | awk -v t="$tick" '{ print int(($12 + $13) * 1000 / t) }'
}

# No warning or critical message in a log (G_DEBUG=fatal-warnings would
# have stopped the process anyway).
quiet_log() { ! grep -Eq 'CRITICAL|WARNING|assertion' "$1" || { cat "$1" >&2; return 1; }; }

# ==== 20 senders at once into one receiver, --max-transfers 4 ================
senders=20
t=$(now)
for i in $(seq 1 "$senders"); do
  pair recv Pool "s$i" &
done
all_paired=true
for job in $(jobs -p); do wait "$job" || all_paired=false; done
echo "# pairing $senders senders at once with one inviting machine: $(since "$t") s"
check "pool: $senders senders paired at once with one receiver" $all_paired
check "pool: the receiver lists them all" \
  [ "$(on recv --devices 2>/dev/null | grep -c '^s[0-9]')" = "$senders" ]

# Files of 1.6 to 3.8 MB, each of its own size, and three of 9 to 19 MB
# that go in parts (multipart uploads of 8 MiB parts); the last sender zips
# a folder twice instead.
for i in $(seq 1 $((senders - 1))); do
  case $i in
  1 | 2 | 3) size=$((4000000 + i * 5000000 + RANDOM)) ;;
  *) size=$((1000000 + i * 147000 + RANDOM)) ;;
  esac
  head -c "$size" /dev/urandom >"$work/src/file$i.bin"
done
mkdir -p "$work/src/docs/sub/empty"
head -c 2500000 /dev/urandom >"$work/src/docs/sub/photo.raw"
seq 1 50000 >"$work/src/docs/numbers.txt"
echo "notes" >"$work/src/docs/sub/notes.txt"
on "s$senders" -e -p "$work/pass" -1 "inner secret" -2 "outer secret" \
  || { echo "Bail out! cannot write the password file"; exit 1; }

G_MESSAGES_DEBUG=Backup receive recv pool/ "$work/log/recv.err" --max-transfers 4
recv=$last_pid
check "pool: the receiver serves every device" wait_serving "$work/log/recv.err" "$senders"

t=$(now)
declare -A sender_pid=()
for i in $(seq 1 $((senders - 1))); do
  send "s$i" Pool -s "$work/src/file$i.bin" &
  sender_pid[$i]=$!
done
send "s$senders" Pool -z -s "$work/src/docs" -o docs.zip -p "$work/pass" &
sender_pid[$senders]=$!
failures=()
for i in $(seq 1 "$senders"); do
  wait "${sender_pid[$i]}" || failures+=("s$i")
done
wall=$(since "$t")
total=$(cat "$work"/src/file*.bin | wc -c)
echo "# $senders backups ($((total / 1000000)) MB and a zipped folder) in $wall s"
check "pool: every sender exits 0" [ "${#failures[@]}" = 0 ]
for s in "${failures[@]}"; do cat "$work/log/send.$s.err" >&2; done

all_stored=true
for i in $(seq 1 $((senders - 1))); do
  stored "pool/s$i/" "file$i.bin" "$work/src/file$i.bin" \
    || { echo "# s$i: not stored as sent" >&2; all_stored=false; }
done
check "pool: every file stored byte for byte under its device's prefix" $all_stored
check "pool: nothing else under the prefix" \
  [ "$(keys pool/ | grep -cv '^pool/s[0-9]*/\(file[0-9]*\.bin\|docs\.zip\)/')" = 0 ]
mapfile -t zips < <(keys "pool/s$senders/docs.zip/")
check "pool: the zipped folder stored once" [ "${#zips[@]}" = 1 ]
AWS_ACCESS_KEY_ID=$S3_LAB_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_LAB_SECRET_KEY \
  on "s$senders" --restore "s3://$bucket/${zips[0]:-none}" -p "$work/pass" -d "$work/restored" \
  "${s3opts[@]}" --no-progress -q 2>"$work/log/restore.err"
check "pool: the zipped folder restores to the same files" diff -r "$work/src/docs" "$work/restored"
check "pool: no upload left" [ "$(uploads pool/)" = 0 ]
# The receiver's debug log (one main thread, in order): a session takes its
# slot as its reception begins and gives it back when it ends.
most=$(awk '/: receiver waiting → receiving$/ { if (++now > most) most = now }
  /: receiver (receiving|committing|stored) → (done|failed)$/ { now-- }
  END { print most + 0 }' "$work/log/recv.err")
waited=$(grep -c 'every slot (4) is taken' "$work/log/recv.err")
echo "# $waited sessions waited for a slot; at most $most receptions at once"
check "pool: senders waited for a slot" [ "$waited" -gt 0 ]
check "pool: never more than 4 receptions at once, and 4 at some point" [ "$most" = 4 ]

# ==== a device paired while the receiver runs =================================
# The running receiver holds no lock on its paired devices: the same machine
# invites meanwhile.
check "late: paired while the receiver runs" pair recv Pool late
check "late: the receiver serves it without a restart" \
  wait_serving "$work/log/recv.err" $((senders + 1))
head -c 1500000 /dev/urandom >"$work/src/late.bin"
send late Pool -s "$work/src/late.bin"; status=$?
check "late: its backup succeeds" [ $status = 0 ]
check "late: stored byte for byte under its prefix" stored pool/late/ late.bin "$work/src/late.bin"
check "late: the receiver still runs" kill -0 "$recv"

rss=$(peak_rss "$recv")
cpu=$(cpu_ms "$recv")
echo "# receiver of $senders senders: peak RSS (VmHWM) $rss kB, CPU $cpu ms"

# SIGTERM while a backup goes into a multipart upload (its sender held
# still with SIGSTOP once the upload has begun, so that it cannot end
# first): the upload is aborted before the process exits.
head -c 40000000 /dev/urandom >"$work/src/cut.bin"
on_bg s1 --device Pool "${loop[@]}" -q --no-progress -s "$work/src/cut.bin" \
  2>"$work/log/send.cut.err"
cut_sender=$last_pid
for _ in $(seq 1 400); do
  [ "$(uploads pool/s1/cut.bin/)" != 0 ] && break
  sleep 0.02
done
kill -STOP "$cut_sender"
check "stop: an upload was under way" [ "$(uploads pool/s1/cut.bin/)" != 0 ]
stop "$recv"; status=$?
kill -CONT "$cut_sender"
check "stop: SIGTERM stops the receiver, status 143" [ $status = 143 ]
check "stop: no upload left once it has exited" [ "$(uploads pool/)" = 0 ]
check "stop: nothing stored of the cut backup" [ -z "$(keys pool/s1/cut.bin/)" ]
wait "$cut_sender"; status=$?
check "stop: its sender fails" [ $status != 0 ]
check "stop: the other versions are still there" \
  stored "pool/s$((senders - 2))/" "file$((senders - 2)).bin" "$work/src/file$((senders - 2)).bin"
check "pool: no warning from the receiver" quiet_log "$work/log/recv.err"

# ==== two receivers, one shared prefix, retention on both ======================
# Device names that are prefixes of each other across the two receivers.
shared_ok=true
for s in pc1 pc2; do pair recvA RecvA "$s" || shared_ok=false; done
for s in pc10 pc20; do pair recvB RecvB "$s" || shared_ok=false; done
check "shared: two receivers, two senders each, paired" $shared_ok
receive recvA shared/ "$work/log/recvA.err" -v 1
recvA=$last_pid
receive recvB shared/ "$work/log/recvB.err" -v 1
recvB=$last_pid
both_serve() { wait_serving "$work/log/recvA.err" 2 && wait_serving "$work/log/recvB.err" 2; }
check "shared: both serve their devices" both_serve

# round ROUND: each sender backs up data.bin (new bytes), all at once.
round() {
  local r=$1 s rs status=0 p=()
  for s in pc1 pc2 pc10 pc20; do
    head -c $((2000000 + RANDOM * 20)) /dev/urandom >"$work/src/$s.$r"
    mkdir -p "$work/src/$s-data"
    cp "$work/src/$s.$r" "$work/src/$s-data/data.bin"
  done
  for s in pc1 pc2 pc10 pc20; do
    case $s in pc1 | pc2) rs=RecvA ;; *) rs=RecvB ;; esac
    send "$s" "$rs" -s "$work/src/$s-data/data.bin" &
    p+=($!)
  done
  for pid in "${p[@]}"; do wait "$pid" || status=1; done
  return $status
}
every_device_has() { # every_device_has ROUND: one version each, that round's bytes
  local s ok=0
  for s in pc1 pc2 pc10 pc20; do
    stored "shared/$s/" data.bin "$work/src/$s.$1" || { echo "# $s: round $1 not kept" >&2; ok=1; }
  done
  return $ok
}
check "shared: round 1, all four backups succeed" round 1
check "shared: round 1, each under its own device's prefix" every_device_has 1
check "shared: round 2, all four backups succeed" round 2
check "shared: round 2, every device keeps its newest version and only it" every_device_has 2
check "shared: four versions under the prefix in all" [ "$(keys shared/ | wc -l)" = 4 ]
check "shared: no upload left" [ "$(uploads shared/)" = 0 ]
stop "$recvA"; statusA=$?
stop "$recvB"; statusB=$?
check "shared: SIGTERM stops both receivers, status 143" [ "$statusA.$statusB" = 143.143 ]
both_quiet() { quiet_log "$work/log/recvA.err" && quiet_log "$work/log/recvB.err"; }
check "shared: no warning from either receiver" both_quiet

# ==== --quota per device ======================================================
check "quota: paired" pair recvQ Quota q1
receive recvQ quota/ "$work/log/recvQ.err" --quota 3M
recvQ=$last_pid
check "quota: the receiver serves the device" wait_serving "$work/log/recvQ.err" 1
head -c 4000000 /dev/urandom >"$work/src/big.bin"
head -c 1000000 /dev/urandom >"$work/src/small.bin"
send q1 Quota -s "$work/src/big.bin"; status=$?
check "quota: a 4 MB backup fails" [ $status != 0 ]
one_quota_line() { [ "$(wc -l <"$1")" = 1 ] && grep -qi quota "$1"; }
check "quota: the sender says why, in one line" one_quota_line "$work/log/send.q1.err"
cp "$work/log/send.q1.err" "$work/log/send.q1.big.err"
check "quota: nothing of it in the bucket" [ "$(keys quota/ | wc -l).$(uploads quota/)" = 0.0 ]
send q1 Quota -s "$work/src/small.bin"; status=$?
check "quota: a 1 MB backup succeeds" [ $status = 0 ]
check "quota: stored byte for byte" stored quota/q1/ small.bin "$work/src/small.bin"
check "quota: nothing else stored" [ "$(keys quota/ | wc -l)" = 1 ]
stop "$recvQ"; status=$?
check "quota: SIGTERM stops the receiver, status 143" [ $status = 143 ]
[ "$failed" = 0 ] || { echo "# the refused sender said:"; sed 's/^/#   /' "$work/log/send.q1.big.err"; }

echo "1..$n"
[ "$failed" = 0 ]
