#!/usr/bin/env python3
# backup-bench.py: a whole backup of one file between two processes on this
# machine, as a user runs it: pairing through a distributed-backup-server on
# 127.0.0.1, ICE on 127.0.0.1, the transfer, the integrity check and the
# receiver's commit (fsync and rename). Prints figures; asserts nothing.
#
#   bench/backup-bench.py --build-dir BUILD [--bytes 1G] [--runs 3]
#
# Compared in the same run, when built (tests/legacy/legacy-tool): the
# pion-based stand-in of the original tool, which speaks the same signaling
# and framing. Each run checks the received file against the source
# (SHA-256); a run whose file differs is reported as failed, not timed.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import hashlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

API_KEY = "bench"


def parse_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text and text[-1].upper() in units:
        return int(float(text[:-1]) * units[text[-1].upper()])
    return int(text)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 20)
            if not block:
                return h.hexdigest()
            h.update(block)


def write_payload(path, size):
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n


class Server:
    def __init__(self, program):
        self.proc = subprocess.Popen(
            [program, "--port", "0", "--api-key", API_KEY],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        match = re.search(r"listening on (\S+)", line)
        if not match:
            self.stop()
            raise SystemExit("backup-bench: the signaling server did not start: %r" % line)
        self.url = match.group(1).rstrip("/")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)


def timed(argv, rss_file):
    """@argv under /usr/bin/time, which writes the peak RSS (KiB) of the
    program itself to @rss_file (measured from this process, the figure
    would include the interpreter's memory at fork time)."""
    return ["/usr/bin/time", "-q", "-f", "%M", "-o", rss_file] + argv


def wait_rss(proc, rss_file, timeout):
    """Waits for @proc; returns (status or None on timeout, peak RSS in KiB)."""
    try:
        status = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        status = None
    try:
        with open(rss_file) as f:
            rss = int(f.read().split()[-1])
    except (OSError, ValueError, IndexError):
        rss = 0
    return status, rss


def commands(impl, programs, server, session, timeout):
    if impl == "ours":
        base = [programs["ours"], "--signaling", server.url + "/", "-a", API_KEY,
                "--ice-address", "127.0.0.1", "-S", "", "--timeout", str(timeout), "-q",
                "--no-progress", "-u", session]
    else:
        base = [programs["legacy"], "-a", API_KEY, "--base-url", server.url,
                "--ice-address", "127.0.0.1", "-S", "", "--timeout", str(timeout), "-u", session]
    return base


def one_run(impl, programs, server, work, source, digest, size, index, timeout):
    dest = os.path.join(work, "%s-%d" % (impl, index))
    os.makedirs(dest)
    session = "bench-%s-%d-%d" % (impl, os.getpid(), index)
    base = commands(impl, programs, server, session, timeout)
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    r_file = os.path.join(work, "receiver.rss")
    s_file = os.path.join(work, "sender.rss")
    receiver = subprocess.Popen(timed(base + ["-d", dest], r_file), **quiet)
    time.sleep(0.5)  # the receiver is waiting when the sender starts
    start = time.monotonic()
    sender = subprocess.Popen(timed(base + ["-s", source], s_file), **quiet)
    r_status, r_rss = wait_rss(receiver, r_file, timeout + 30)
    elapsed = time.monotonic() - start
    s_status, s_rss = wait_rss(sender, s_file, 30)
    received = os.path.join(dest, os.path.basename(source))
    ok = (r_status == 0 and s_status == 0 and os.path.exists(received)
          and os.path.getsize(received) == size and sha256_file(received) == digest)
    if not ok:
        err = (receiver.stderr.read() + sender.stderr.read()).decode(errors="replace")
        print("%s run %d failed (receiver %s, sender %s): %s"
              % (impl, index + 1, r_status, s_status, err.strip()[-300:]), file=sys.stderr)
    receiver.stderr.close()
    sender.stderr.close()
    shutil.rmtree(dest, ignore_errors=True)
    return ok, elapsed, s_rss, r_rss


def main():
    p = argparse.ArgumentParser(description="a whole backup of one file between two processes")
    p.add_argument("--build-dir", required=True)
    p.add_argument("--bytes", default="1G")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--timeout", type=int, default=600)
    p.add_argument("--no-legacy", action="store_true")
    args = p.parse_args()

    size = parse_size(args.bytes)
    build = os.path.abspath(args.build_dir)
    programs = {
        "ours": os.path.join(build, "src", "distributed-backup"),
        "server": os.path.join(build, "src", "server", "distributed-backup-server"),
        "legacy": os.path.join(build, "tests", "legacy", "legacy-tool"),
    }
    for name in ("ours", "server"):
        if not os.access(programs[name], os.X_OK):
            raise SystemExit("backup-bench: %s is not built" % programs[name])
    if not os.access("/usr/bin/time", os.X_OK):
        raise SystemExit("backup-bench: /usr/bin/time is needed (Debian package time)")
    impls = ["ours"]
    if not args.no_legacy and os.access(programs["legacy"], os.X_OK):
        impls.append("legacy")

    work = tempfile.mkdtemp(prefix="backup-bench-", dir=os.environ.get("BENCH_TMPDIR"))
    server = None
    try:
        source = os.path.join(work, "payload.bin")
        write_payload(source, size)
        digest = sha256_file(source)
        server = Server(programs["server"])
        print("payload %d bytes, %d run(s) each, signaling through %s, ICE on 127.0.0.1"
              % (size, args.runs, server.url))
        rows = []
        for impl in impls:
            results = []
            for i in range(args.runs):
                ok, elapsed, s_rss, r_rss = one_run(impl, programs, server, work, source,
                                                    digest, size, i, args.timeout)
                if ok:
                    results.append((elapsed, s_rss, r_rss))
                    print("%s: %.2f s, %.1f MB/s, peak RSS %d / %d KiB"
                          % (impl, elapsed, size / elapsed / 1e6, s_rss, r_rss))
            rows.append((impl, results))
        names = {"ours": "this program", "legacy": "stand-in of the original (pion)"}
        print()
        print("%-34s %8s %8s %12s %12s" % ("backup, sender start to receiver exit", "s",
                                            "MB/s", "send RSS MiB", "recv RSS MiB"))
        print("-" * 78)
        for impl, results in rows:
            if not results:
                print("%-34s %8s" % (names[impl], "failed"))
                continue
            elapsed = statistics.median(r[0] for r in results)
            print("%-34s %8.2f %8.1f %12.1f %12.1f"
                  % (names[impl], elapsed, size / elapsed / 1e6,
                     max(r[1] for r in results) / 1024, max(r[2] for r in results) / 1024))
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
