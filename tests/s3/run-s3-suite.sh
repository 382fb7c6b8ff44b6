#!/usr/bin/env bash
# run-s3-suite.sh TEST-PROGRAM...: starts the Ceph lab once (ceph-lab.sh),
# runs each GLib test program against it (TAP on stdout), stops the lab.
#
# When Ceph is not installed it prints a TAP skip, or fails under CI=true
# (CI installs every prerequisite). When the lab cannot start it fails.
# S3_LAB_KEEP=1 keeps the lab's directory (logs) after the run.
#
# SPDX-License-Identifier: GPL-3.0-or-later
set -uo pipefail

lab_sh=${CEPH_LAB_SH:-$(dirname "$0")/ceph-lab.sh}
[ $# -gt 0 ] || { echo "usage: $0 TEST-PROGRAM..." >&2; exit 2; }

lab_dir=$(mktemp -d /tmp/ceph-lab.XXXXXX) || exit 1
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  "$lab_sh" stop "$lab_dir" >&2 || true
  if [ "${S3_LAB_KEEP:-0}" = 1 ]; then
    echo "# lab kept in $lab_dir" >&2
  else
    rm -rf "$lab_dir"
  fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

"$lab_sh" start "$lab_dir" >"$lab_dir.start.log" 2>&1
rc=$?
start_log=$(cat "$lab_dir.start.log")
rm -f "$lab_dir.start.log"
if [ $rc -eq 77 ]; then
  if [ "${CI:-}" = true ]; then
    echo "Bail out! Ceph is not installed, and CI must run the S3 tests: $start_log"
    exit 1
  fi
  echo "1..0 # SKIP Ceph (ceph-mon, ceph-osd, radosgw) is not installed"
  exit 0
fi
if [ $rc -ne 0 ]; then
  echo "$start_log" >&2
  echo "Bail out! the Ceph lab did not start (see the log above)"
  exit 1
fi
echo "# $(echo "$start_log" | grep '^ceph-lab: up')"

set -a
# shellcheck disable=SC1091
. "$lab_dir/env"
set +a
# libcurl honours http_proxy: never for the lab on the loopback.
export no_proxy="127.0.0.1,localhost,.localhost${no_proxy:+,$no_proxy}"
export NO_PROXY="$no_proxy"

status=0
for program in "$@"; do
  "$program" || status=1
done
exit $status
