#!/usr/bin/python3
# rtc-throughput.py: data-channel throughput, set-up time and memory of our
# stack (rtc-peer), aiortc and pion, each against itself over 127.0.0.1 in two
# processes, plus plain TCP over loopback for reference. Prints figures only;
# see bench/README.md.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(HERE)
RUN_PAIR = os.path.join(SOURCE_ROOT, "tests", "interop", "run-pair.py")


def parse_size(text):
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = text.strip().lower().rstrip("ib")
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)


def tcp_reference(nbytes, chunk=65536):
    """Send nbytes over a loopback TCP connection to a child process; MB/s."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    sink = subprocess.Popen(
        [sys.executable, "-c",
         "import socket,sys\n"
         "s=socket.create_connection(('127.0.0.1',%d))\n"
         "b=bytearray(1<<20);n=0\n"
         "while True:\n"
         "    r=s.recv_into(b)\n"
         "    if not r: break\n"
         "    n+=r\n"
         "print(n)\n" % port],
        stdout=subprocess.PIPE, text=True)
    conn, _ = srv.accept()
    buf = os.urandom(chunk)
    left = nbytes
    t0 = time.monotonic()
    while left > 0:
        n = min(left, chunk)
        conn.sendall(buf[:n] if n < chunk else buf)
        left -= n
    conn.shutdown(socket.SHUT_WR)
    out, _ = sink.communicate()
    el = time.monotonic() - t0
    conn.close()
    srv.close()
    if int(out.strip() or 0) != nbytes:
        raise RuntimeError("TCP reference: sink got %s bytes" % out.strip())
    return nbytes / el / 1e6


def build_pion(cache):
    out = os.path.join(cache, "pion-peer")
    env = dict(os.environ)
    env.setdefault("GOCACHE", os.path.join(cache, "go-cache"))
    subprocess.run(["sh", os.path.join(HERE, "pion-peer", "build.sh"), out],
                   check=True, env=env)
    return out


def run_pair(impl, args, env):
    cmd = [sys.executable, RUN_PAIR, "--offer", impl, "--answer", impl,
           "--bytes", str(args.bytes), "--timeout", str(args.timeout), "--json"]
    if args.chunk:
        cmd += ["--chunk", str(args.chunk)]
    if args.high_water:
        cmd += ["--high-water", str(args.high_water)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, env=env)
    if p.returncode != 0:
        tail = "\n".join(l for l in p.stderr.splitlines() if not l.startswith("# "))
        return None, "exit %d: %s" % (p.returncode, tail.strip()[-800:])
    return json.loads(p.stdout.strip().splitlines()[-1]), None


def main(argv):
    ap = argparse.ArgumentParser(description="data-channel throughput over loopback")
    ap.add_argument("--bytes", type=parse_size, default=1 << 30,
                    help="payload per run, e.g. 1G, 256M (default 1 GiB)")
    ap.add_argument("--impl", action="append", choices=["rtc", "aiortc", "pion"],
                    help="implementation(s) to measure (default: all available)")
    ap.add_argument("--runs", type=int, default=1, help="runs per pair (median shown)")
    ap.add_argument("--chunk", type=int, help="message size (default: the peers' own)")
    ap.add_argument("--high-water", type=parse_size,
                    help="buffered amount at which each sender pauses (default 1M); "
                         "it resumes at a quarter of it")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--rtc-peer", help="rtc-peer executable (or $RTC_PEER; "
                    "default BUILD/tests/interop/rtc-peer)")
    ap.add_argument("--build-dir", default=os.path.join(SOURCE_ROOT, "build"),
                    help="meson build directory holding tests/interop/rtc-peer")
    ap.add_argument("--pion-peer", help="pion-peer executable (or $PION_PEER; "
                    "default: built from bench/pion-peer)")
    ap.add_argument("--no-tcp", action="store_true", help="skip the TCP reference")
    args = ap.parse_args(argv)

    env = dict(os.environ)
    rtc = args.rtc_peer or env.get("RTC_PEER") or os.path.join(
        args.build_dir, "tests", "interop", "rtc-peer")
    impls = args.impl or ["rtc", "aiortc", "pion"]
    notes = []
    if "rtc" in impls:
        if os.access(rtc, os.X_OK):
            env["RTC_PEER"] = os.path.abspath(rtc)
        else:
            notes.append("rtc: no rtc-peer at %s (build it or pass --rtc-peer)" % rtc)
            impls = [i for i in impls if i != "rtc"]
    cache = tempfile.mkdtemp(prefix="rtc-bench-")
    if "pion" in impls:
        pion = args.pion_peer or env.get("PION_PEER")
        if not pion:
            try:
                pion = build_pion(cache)
            except (OSError, subprocess.CalledProcessError) as e:
                notes.append("pion: could not build pion-peer (%s)" % e)
                impls = [i for i in impls if i != "pion"]
        if pion:
            env["PION_PEER"] = os.path.abspath(pion)

    print("payload %d bytes (%.0f MiB), %d run(s) per pair, 127.0.0.1, two processes"
          % (args.bytes, args.bytes / 1048576, args.runs))
    rows = []
    for impl in impls:
        results = []
        for _ in range(args.runs):
            r, err = run_pair(impl, args, env)
            if r is None:
                notes.append("%s<->%s failed: %s" % (impl, impl, err))
                break
            results.append(r)
            sys.stderr.write("%s<->%s: %.2f MB/s\n" % (impl, impl, r[1]["mbps"]))
        if not results:
            continue
        recv = [r[1] for r in results]  # answerer receives
        send = [r[0] for r in results]
        rows.append((
            "%s <-> %s" % (impl, impl),
            statistics.median(x["mbps"] for x in recv),
            statistics.median(max(s["setup_ms"], r["setup_ms"])
                              for s, r in zip(send, recv)),
            max(x["max_rss_kib"] for x in send) / 1024,
            max(x["max_rss_kib"] for x in recv) / 1024,
        ))
    if not args.no_tcp:
        rows.append(("TCP loopback (reference)", tcp_reference(args.bytes), None, None, None))

    hdr = "%-26s %10s %10s %12s %12s" % ("pair", "MB/s", "setup ms", "send RSS MiB",
                                         "recv RSS MiB")
    print(hdr)
    print("-" * len(hdr))
    for name, mbps, setup, srss, rrss in rows:
        print("%-26s %10.1f %10s %12s %12s" % (
            name, mbps,
            "-" if setup is None else "%.0f" % setup,
            "-" if srss is None else "%.1f" % srss,
            "-" if rrss is None else "%.1f" % rrss))
    for n in notes:
        print("note: " + n)
    subprocess.run(["rm", "-rf", cache])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
