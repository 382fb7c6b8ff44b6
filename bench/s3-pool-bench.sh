#!/usr/bin/env bash
# s3-pool-bench.sh: many senders at once into one --all-devices receiver
# that stores into S3 (the Ceph lab of tests/s3/ceph-lab.sh)
#
# Usage: bench/s3-pool-bench.sh [BUILD_DIR]     (default: build)
#
# Starts the lab (one monitor, one memstore OSD, one radosgw on 127.0.0.1),
# pairs SENDERS sender "machines" (each its own XDG_CONFIG_HOME) with one
# receiver machine, starts the receiver (--all-devices -d s3://BUCKET/bench/
# --max-transfers MAX_TRANSFERS), then every sender at once, each sending a
# file of SIZE_MB MiB (the same random bytes for all). Every process talks
# over 127.0.0.1 only (--ice-address 127.0.0.1, no STUN, folder signaling).
# Prints the total wall time (first sender started to last sender exited),
# the total throughput, the per-sender throughput (min/median/max) of each
# reception (from its slot being taken to the object being stored, from
# the receiver's debug log) and each sender's wall time (start to exit, the
# wait for a slot included), the receiver's peak RSS (VmHWM) and CPU time
# per MB, and the lab's. Checks that every sender succeeded, that one
# object per sender is in the bucket and no upload is left, and compares
# one object (every one with BENCH_VERIFY=all) with the source.
#
# Environment: SENDERS (default 20), SIZE_MB (default 64), MAX_TRANSFERS
# (default 4), BENCH_TMPDIR (default /tmp; holds the source file),
# BENCH_VERIFY (one or all), S3_LAB_KEEP=1 keeps the lab's directory (logs).
# The OSD keeps objects in memory: the lab is started with room for what
# the run stores (CEPH_ARGS=--memstore_device_bytes=…), 1.5 × SENDERS ×
# SIZE_MB MiB + 512 MiB, which the machine must have free.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
app="$build/src/distributed-backup"
tool="$build/tests/s3/s3-lab-tool"
for f in "$app" "$tool"; do
  if [ ! -x "$f" ]; then
    echo "s3-pool-bench: $f not found: build the project first (ninja -C $build)" >&2
    exit 1
  fi
done
app=$(cd "$(dirname "$app")" && pwd)/distributed-backup
tool=$(cd "$(dirname "$tool")" && pwd)/s3-lab-tool
lab_sh="$here/../tests/s3/ceph-lab.sh"

senders=${SENDERS:-20}
size_mb=${SIZE_MB:-64}
max_transfers=${MAX_TRANSFERS:-4}
for v in "$senders" "$size_mb" "$max_transfers"; do
  case $v in '' | *[!0-9]* | 0) echo "s3-pool-bench: SENDERS, SIZE_MB and MAX_TRANSFERS are positive integers" >&2; exit 2 ;; esac
done
size=$((size_mb * 1024 * 1024))
total=$((senders * size))
capacity=$((total * 3 / 2 + 512 * 1024 * 1024))
avail=$(($(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) * 1024))
if [ "$capacity" -gt $((avail * 3 / 4)) ]; then
  echo "s3-pool-bench: the lab would need $((capacity >> 20)) MiB of memory, $((avail >> 20)) MiB available: lower SENDERS or SIZE_MB" >&2
  exit 1
fi

tmp=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/s3-pool-bench.XXXXXX") || exit 1
# Admin sockets are Unix sockets: the lab's directory stays short.
lab=$(mktemp -d /tmp/ceph-lab.XXXXXX) || exit 1
pids=()
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  "$lab_sh" stop "$lab" >/dev/null 2>&1 || true
  if [ "${S3_LAB_KEEP:-0}" = 1 ]; then
    echo "lab kept in $lab, logs of the run in $tmp" >&2
  else
    rm -rf "$lab" "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

now() { date +%s.%N; }

echo "CPU: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "Starting the Ceph lab in $lab (memstore of $((capacity >> 20)) MiB) ..."
if ! CEPH_ARGS="--memstore_device_bytes=$capacity" "$lab_sh" start "$lab" >"$tmp/lab.log" 2>&1; then
  cat "$tmp/lab.log" >&2
  echo "s3-pool-bench: the lab did not start" >&2
  exit 1
fi
grep '^ceph-lab: up' "$tmp/lab.log"
set -a
# shellcheck disable=SC1091
. "$lab/env"
set +a
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost"
bucket="bench-$$"
"$tool" mkbucket "$bucket" || exit 1

loop=(--ice-address 127.0.0.1 --stun= --timeout 300)
s3opts=(--s3-endpoint "$S3_LAB_ENDPOINT" --s3-region "$S3_LAB_REGION" --s3-path-style)
sig="$tmp/signaling"
mkdir -p "$sig" "$tmp/log" "$tmp/t"

# on MACHINE ARGS...: the app with MACHINE's configuration and state, no
# session bus (keys in key.pem); on_bg in the background, pid in $last_pid.
on() {
  local m=$1; shift
  env XDG_CONFIG_HOME="$tmp/m/$m" XDG_STATE_HOME="$tmp/m/$m/state" \
    DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent LC_ALL=C.UTF-8 "$app" "$@"
}
on_bg() {
  local m=$1; shift
  env XDG_CONFIG_HOME="$tmp/m/$m" XDG_STATE_HOME="$tmp/m/$m/state" \
    DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent LC_ALL=C.UTF-8 "$app" "$@" &
  last_pid=$!
  pids+=("$last_pid")
}
pair() { # pair SENDER: with the machine "recv"
  local s=$1 inviter link status
  on_bg recv --invite --device-name Bench --signaling "$sig" "${loop[@]}" \
    >"$tmp/log/link.$s" 2>"$tmp/log/invite.$s.err"
  inviter=$last_pid
  for _ in $(seq 1 400); do
    grep -q '^distributed-backup:pair?' "$tmp/log/link.$s" && break
    kill -0 "$inviter" 2>/dev/null || break
    sleep 0.05
  done
  link=$(grep -m1 '^distributed-backup:pair?' "$tmp/log/link.$s")
  on "$s" --pair - --device-name "$s" "${loop[@]}" <<<"$link" >/dev/null 2>"$tmp/log/pair.$s.err"
  status=$?
  wait "$inviter" || status=1
  [ $status = 0 ] || cat "$tmp/log/invite.$s.err" "$tmp/log/pair.$s.err" >&2
  return $status
}
# cpu_ticks PID...: user + system time of the processes, in clock ticks.
cpu_ticks() {
  local p sum=0 t
  for p in "$@"; do
    t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}
tick=$(getconf CLK_TCK)

echo "Pairing $senders senders ..."
t=$(now)
for i in $(seq 1 "$senders"); do pair "s$i" & done
paired=true
for job in $(jobs -p); do wait "$job" || paired=false; done
$paired || { echo "s3-pool-bench: pairing failed" >&2; exit 1; }
echo "Paired in $(awk -v a="$t" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s"

echo "Writing $size_mb MiB of random data ..."
head -c "$size" /dev/urandom >"$tmp/data.bin"
for i in $(seq 1 "$senders"); do ln "$tmp/data.bin" "$tmp/s$i.bin"; done

G_MESSAGES_DEBUG=Backup AWS_ACCESS_KEY_ID=$S3_LAB_ACCESS_KEY \
  AWS_SECRET_ACCESS_KEY=$S3_LAB_SECRET_KEY \
  on_bg recv --all-devices -d "s3://$bucket/bench/" "${s3opts[@]}" "${loop[@]}" --no-announce \
  --max-transfers "$max_transfers" >"$tmp/log/recv.log" 2>&1
recv=$last_pid
for _ in $(seq 1 600); do
  [ "$(grep -c '^Receiving from “' "$tmp/log/recv.log")" -ge "$senders" ] && break
  kill -0 "$recv" 2>/dev/null || break
  sleep 0.1
done
if [ "$(grep -c '^Receiving from “' "$tmp/log/recv.log")" -lt "$senders" ]; then
  cat "$tmp/log/recv.log" >&2
  echo "s3-pool-bench: the receiver does not serve every device" >&2
  exit 1
fi

# A first backup, not timed: radosgw creates its pools on the first
# object and the first multipart upload, which takes seconds.
head -c $((9 * 1024 * 1024)) /dev/urandom >"$tmp/warmup.bin"
if ! on s1 --device Bench "${loop[@]}" -q --no-progress -s "$tmp/warmup.bin" \
  2>"$tmp/log/warmup.err"; then
  cat "$tmp/log/warmup.err" >&2
  echo "s3-pool-bench: the first backup failed" >&2
  exit 1
fi

lab_pids=()
for f in "$lab"/run/*.pid; do lab_pids+=("$(cat "$f")"); done
recv_cpu0=$(cpu_ticks "$recv")
lab_cpu0=$(cpu_ticks "${lab_pids[@]}")

echo "Sending: $senders × $size_mb MiB at once, --max-transfers $max_transfers ..."
t0=$(now)
sender_jobs=()
for i in $(seq 1 "$senders"); do
  (
    start=$(now)
    on "s$i" --device Bench "${loop[@]}" -q --no-progress -s "$tmp/s$i.bin" \
      2>"$tmp/log/send.s$i.err"
    echo "$? $start $(now)" >"$tmp/t/s$i"
  ) &
  sender_jobs+=($!)
done
wait "${sender_jobs[@]}"
t1=$(now)
recv_cpu1=$(cpu_ticks "$recv")
lab_cpu1=$(cpu_ticks "${lab_pids[@]}")
rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$recv/status")
kill -TERM "$recv"
wait "$recv"
recv_status=$?

failures=0
for i in $(seq 1 "$senders"); do
  read -r status _ <"$tmp/t/s$i"
  if [ "$status" != 0 ]; then
    failures=$((failures + 1))
    echo "s$i failed: $(cat "$tmp/log/send.s$i.err")" >&2
  fi
done
stored=$("$tool" keys "$bucket" bench/ | grep -vc '/warmup\.bin/')
left=$("$tool" uploads "$bucket" bench/)
verified=0
mismatched=0
while read -r key; do
  if "$tool" get "$bucket" "$key" "$tmp/got.bin" && cmp -s "$tmp/data.bin" "$tmp/got.bin"; then
    verified=$((verified + 1))
  else
    mismatched=$((mismatched + 1))
  fi
  rm -f "$tmp/got.bin"
  [ "${BENCH_VERIFY:-one}" = all ] || break
done < <("$tool" keys "$bucket" bench/ | grep -v '/warmup\.bin/')

# Per reception, from the receiver's debug log: slot taken (waiting →
# receiving) to object stored (committing → stored), times of day in ms.
per_reception=$(awk -v size="$size" '
  function secs(s,  a) { split(s, a, ":"); return a[1] * 3600 + a[2] * 60 + a[3] }
  match($0, /Backup-DEBUG: [0-9:.]+: session [^:]+: receiver /) {
    n = split(substr($0, RSTART, RLENGTH), f, " ")
    t = secs(substr(f[2], 1, length(f[2]) - 1)); id = f[4]
  }
  / receiver waiting → receiving$/ { if (++seen > 1) start[id] = t } # not the warm-up
  / receiver committing → stored$/ && (id in start) {
    d = t - start[id]; if (d < 0) d += 86400
    if (d > 0) print size / d / 1e6
  }' "$tmp/log/recv.log" | sort -g)
per_sender=$(for i in $(seq 1 "$senders"); do
  read -r _ a b <"$tmp/t/s$i"
  awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f\n", b - a }'
done | sort -g)
stats() { # min/median/max of the numbers on standard input, sorted
  awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "-"; exit }
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.1f / %.1f / %.1f\n", v[1], m, v[NR] }'
}

wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
mb=$(awk -v t="$total" 'BEGIN { printf "%.1f", t / 1e6 }')
echo
echo "senders: $senders × $size_mb MiB ($mb MB), --max-transfers $max_transfers, build $build"
echo "total wall time: $wall s (first sender started to last sender exited)"
awk -v t="$total" -v w="$wall" 'BEGIN { printf "total throughput: %.1f MB/s\n", t / 1e6 / w }'
echo "per-sender throughput, each reception (min / median / max): $(stats <<<"$per_reception") MB/s"
echo "per-sender wall time, start to exit, wait included (min / median / max): $(stats <<<"$per_sender") s"
awk -v k="$rss" 'BEGIN { printf "receiver peak RSS (VmHWM): %.1f MiB\n", k / 1024 }'
awk -v c=$((recv_cpu1 - recv_cpu0)) -v hz="$tick" -v m="$mb" \
  'BEGIN { printf "receiver CPU (user + system): %.2f s, %.1f ms/MB\n", c / hz, c / hz * 1000 / m }'
awk -v c=$((lab_cpu1 - lab_cpu0)) -v hz="$tick" -v m="$mb" \
  'BEGIN { printf "lab CPU (ceph-mon, ceph-osd, radosgw): %.2f s, %.1f ms/MB\n", c / hz, c / hz * 1000 / m }'
echo "senders failed: $failures; objects stored: $stored of $senders; uploads left: $left;" \
  "objects compared: $verified identical, $mismatched different; receiver exit status on SIGTERM: $recv_status"
[ "$failures" = 0 ] && [ "$stored" = "$senders" ] && [ "$left" = 0 ] && [ "$mismatched" = 0 ] \
  && [ "$recv_status" = 143 ]
