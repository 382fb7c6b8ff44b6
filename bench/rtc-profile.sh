#!/bin/sh
# rtc-profile.sh: CPU cost of our data-channel stack, per process, over
# 127.0.0.1. Runs one sender and one receiver (tests/interop/rtc-peer) and
# prints, for each side, MB/s, set-up time, peak RSS and the CPU time spent
# per MB of payload (user + system, from /usr/bin/time), the figure that
# stays comparable when other work shares the machine. Prints figures only.
#
#   bench/rtc-profile.sh [-n BYTES] [-r RUNS] [-w BYTES] [-s] [-p] RTC_PEER...
#
#   -n BYTES  payload per run (default 268435456)
#   -r RUNS   runs per executable (default 3)
#   -w BYTES  the sender pauses above this buffered amount and resumes at a
#             quarter of it (default: the peer's own, 1048576, as
#             bench/rtc-throughput.py)
#   -s        also count system calls of each side (strace -c; slows it down)
#   -p        also record a profile of each side (perf record -e cpu-clock)
#             and print the shared objects and symbols that cost most
#
# Several RTC_PEER executables (say, before and after a change) are measured
# in turn, in the same conditions.
#
# SPDX-License-Identifier: GPL-3.0-or-later

set -eu

bytes=268435456
runs=3
high_water=
syscalls=0
profile=0
while getopts n:r:w:sp opt; do
  case $opt in
  n) bytes=$OPTARG ;;
  r) runs=$OPTARG ;;
  w) high_water=$OPTARG ;;
  s) syscalls=1 ;;
  p) profile=1 ;;
  *) echo "usage: $0 [-n BYTES] [-r RUNS] [-w BYTES] [-s] [-p] RTC_PEER..." >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
if [ $# -eq 0 ]; then
  echo "usage: $0 [-n BYTES] [-r RUNS] [-w BYTES] [-s] [-p] RTC_PEER..." >&2
  exit 2
fi
for tool in /usr/bin/time python3; do
  command -v $tool >/dev/null || { echo "$0: $tool is needed" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/rtc-profile-XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

# wrap SIDE: the command prefix for one side
wrap () {
  if [ $syscalls = 1 ]; then
    echo "strace -f -c -o $work/$1.strace"
  elif [ $profile = 1 ]; then
    echo "perf record -q -e cpu-clock -F 1999 -o $work/$1.perf"
  fi
}

summary () {
  python3 - "$work" "$bytes" <<'EOF'
import json, sys
work, nbytes = sys.argv[1], int(sys.argv[2])
mb = nbytes / 1e6
row = {}
for side in ("offer", "answer"):
    try:
        res = json.loads(open("%s/%s.out" % (work, side)).read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        res = {}
    cpu = open("%s/%s.time" % (work, side)).read().split()
    user, system = float(cpu[-2]), float(cpu[-1])
    row[side] = (res, user, system)
if not row["answer"][0].get("mbps"):
    print("  run failed:", open(work + "/answer.err").read().strip()[-300:],
          open(work + "/offer.err").read().strip()[-300:])
    sys.exit(0)
o, a = row["offer"], row["answer"]
print("  %7.1f MB/s  setup %4.0f ms  RSS send %5.1f / recv %5.1f MiB  "
      "CPU ms/MB send %5.2f (user %.2f sys %.2f) / recv %5.2f (user %.2f sys %.2f)" % (
          a[0]["mbps"], max(o[0]["setup_ms"], a[0]["setup_ms"]),
          o[0]["max_rss_kib"] / 1024, a[0]["max_rss_kib"] / 1024,
          (o[1] + o[2]) * 1000 / mb, o[1] * 1000 / mb, o[2] * 1000 / mb,
          (a[1] + a[2]) * 1000 / mb, a[1] * 1000 / mb, a[2] * 1000 / mb))
EOF
}

for peer in "$@"; do
  echo "$peer: $bytes bytes, $runs run(s)"
  i=0
  while [ $i -lt "$runs" ]; do
    i=$((i + 1))
    rm -f "$work"/*.json
    # shellcheck disable=SC2046
    /usr/bin/time -f "%U %S" -o "$work/answer.time" $(wrap answer) "$peer" --role answer \
      --local-sdp "$work/answer.json" --remote-sdp "$work/offer.json" --bind 127.0.0.1 \
      --receive --timeout 300 >"$work/answer.out" 2>"$work/answer.err" &
    receiver=$!
    # shellcheck disable=SC2046
    /usr/bin/time -f "%U %S" -o "$work/offer.time" $(wrap offer) "$peer" --role offer \
      --local-sdp "$work/offer.json" --remote-sdp "$work/answer.json" --bind 127.0.0.1 \
      --send-bytes "$bytes" ${high_water:+--high-water "$high_water"} --timeout 300 >"$work/offer.out" 2>"$work/offer.err" || true
    wait $receiver || true
    summary
    if [ $syscalls = 1 ]; then
      for side in offer answer; do
        echo "  system calls, $side:"
        sed -n '3,8p' "$work/$side.strace" | sed 's/^/    /'
      done
    fi
    if [ $profile = 1 ]; then
      for side in offer answer; do
        echo "  profile, $side (shared objects, then symbols):"
        perf report -i "$work/$side.perf" --sort dso --stdio 2>/dev/null \
          | grep -v '^#' | grep -v '^$' | head -8 | sed 's/^/    /'
        perf report -i "$work/$side.perf" --sort sym --stdio 2>/dev/null \
          | grep -v '^#' | grep -v '^$' | head -15 | sed 's/^/    /'
      done
    fi
  done
done
