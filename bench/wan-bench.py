#!/usr/bin/python3
# wan-bench.py: goodput over emulated WAN paths (tests/lab: two network
# namespaces joined by linkem), of
#   ours       a whole backup of one file with the distributed-backup CLI
#              (receiver in peer b, sender in peer a, folder signaling),
#              timed from the receiver's data channel opening to the file
#              stored (SHA-256 checked, synced, renamed);
#   pion       pion/webrtc (bench/pion-peer), channel opening to close;
#   rtc        our stack without the backup layers (tests/interop/rtc-peer),
#              only with --impl rtc;
#   tcp-cubic, tcp-bbr
#              one TCP connection (tests/lab/lab-tcp), accept to end of stream;
# over every path of RTT × loss × rate. Prints a table; asserts nothing.
#
#   bench/wan-bench.py --build-dir BUILD [--quick] [--size 16M] [--impl ours ...]
#                      [--rtt 10,50,150] [--loss 0,0.1,1] [--rate 100mbit,1gbit] [--runs N]
#
# Needs root (network namespaces, TUN); see bench/README.md.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(HERE)
LAB_SH = os.path.join(SOURCE_ROOT, "tests", "lab", "lab.sh")
RUN_PAIR = os.path.join(SOURCE_ROOT, "tests", "interop", "run-pair.py")
IMPLS = ("ours", "ours-1", "pion", "rtc", "tcp-cubic", "tcp-bbr")


def parse_size(text):
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = text.strip().lower().rstrip("ib")
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)


def floats(text):
    return [float(x) for x in text.split(",") if x]


# --- inside one lab (lab.sh run ... -- wan-bench.py --inner ...) -----------------

def in_peer(side, argv):
    return ["ip", "netns", "exec", os.environ["LAB_NS_" + side.upper()]] + argv


def measure_tcp(args, cc):
    addr = os.environ["LAB_ADDR_B"] + ":5201"
    recv = subprocess.Popen(in_peer("b", [args.lab_tcp, "--listen", addr, "--bytes",
                                          str(args.size), "--cc", cc]),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        send = subprocess.run(in_peer("a", [args.lab_tcp, "--connect", addr, "--bytes",
                                            str(args.size), "--cc", cc]),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=args.timeout)
        out, _ = recv.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        recv.kill()
        recv.wait()
        return {"error": "timeout"}
    if send.returncode == 77:
        return {"error": "%s unavailable" % cc}
    try:
        r = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": "no result"}
    if not r.get("ok"):
        return {"error": "bytes differ"}
    return {"seconds": r["seconds"]}


def measure_ours(args, work, lanes=None):
    sig = os.path.join(work, "signaling")
    dst = os.path.join(work, "dst")
    for d in (sig, dst):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    session = "wan-bench-%d-%d" % (os.getpid(), time.monotonic_ns())
    common = [args.app, "--signaling", sig, "--stun=", "--timeout", "30", "-q",
              "--no-progress", "-u", session]
    env = dict(os.environ, G_MESSAGES_DEBUG="Backup")
    send_env = dict(os.environ)
    if lanes is not None:
        env["DISTRIBUTED_BACKUP_SCTP_LANES"] = send_env["DISTRIBUTED_BACKUP_SCTP_LANES"] = str(lanes)
    marks = {}

    def watch(stream):
        for line in stream:
            now = time.monotonic()
            if "data channel open" in line:
                marks.setdefault("open", now)
            elif re.search(r"DEBUG: [0-9:.]+: stored ", line):
                marks.setdefault("stored", now)
            elif "distributed-backup:" in line:
                marks.setdefault("error", line.strip())

    # CPU time and peak RSS of each process, as /usr/bin/time counts them.
    usage = {side: os.path.join(work, "usage-" + side) for side in ("send", "recv")}

    def timed(side):
        return ["/usr/bin/time", "-o", usage[side], "-f", "%U %S %M"]

    recv = subprocess.Popen(in_peer("b", timed("recv") + common
                                    + ["--ice-address", os.environ["LAB_ADDR_B"], "-d", dst]),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            encoding="utf-8", errors="replace", env=env)
    # GLib writes debug messages on standard output, errors on standard error.
    reader = threading.Thread(target=watch, args=(recv.stdout,), daemon=True)
    reader.start()
    send = subprocess.Popen(in_peer("a", timed("send") + common
                                    + ["--ice-address", os.environ["LAB_ADDR_A"],
                                       "-s", args.payload]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=send_env)
    try:
        rstatus = recv.wait(timeout=args.timeout)
        end = time.monotonic()
        sstatus = send.wait(timeout=15)
    except subprocess.TimeoutExpired:
        for p in (recv, send):
            p.kill()
            p.wait()
        return {"error": "timeout"}
    reader.join(timeout=5)
    received = os.path.join(dst, os.path.basename(args.payload))
    if rstatus != 0 or sstatus != 0 or "open" not in marks:
        return {"error": marks.get("error", "exit %s/%s" % (sstatus, rstatus))[:120]}
    if subprocess.run(["cmp", "-s", args.payload, received]).returncode != 0:
        return {"error": "file differs"}
    result = {"seconds": marks.get("stored", end) - marks["open"]}
    for side, path in usage.items():
        try:
            with open(path) as f:
                user, system, rss = f.read().split()[-3:]
            result["cpu_" + side] = float(user) + float(system)
            result["rss_" + side] = int(rss)
        except (OSError, ValueError):
            pass
    return result


def measure_pair(args, impl, work):
    env = dict(os.environ)
    env["PION_PEER"] = args.pion_peer or ""
    env["RTC_PEER"] = args.rtc_peer or ""
    cmd = [sys.executable, RUN_PAIR, "--offer", impl, "--answer", impl,
           "--bytes", str(args.size), "--timeout", str(args.timeout), "--json",
           "--bind", "none",
           "--offer-netns", os.environ["LAB_NS_A"], "--answer-netns", os.environ["LAB_NS_B"],
           "--offer-args=--bind " + os.environ["LAB_ADDR_A"],
           "--answer-args=--bind " + os.environ["LAB_ADDR_B"]]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env, timeout=args.timeout + 30, cwd=work)
    except subprocess.TimeoutExpired:
        return {"error": "timeout"}
    if p.returncode != 0:
        tail = [l for l in p.stderr.splitlines() if l.strip() and not l.startswith("# ")]
        return {"error": (tail[-1] if tail else "exit %d" % p.returncode)[:120]}
    offer, answer = json.loads(p.stdout.strip().splitlines()[-1])
    return {"seconds": answer["transfer_s"]}


def inner(args):
    work = tempfile.mkdtemp(prefix="wan-bench-", dir=os.environ.get("LAB_DIR"))
    # Runs interleave the implementations, so that a change of load on the
    # machine falls on all of them alike.
    for _ in range(args.runs):
        for impl in args.impl:
            if impl == "ours":
                r = measure_ours(args, work)
            elif impl == "ours-1":
                r = measure_ours(args, work, lanes=1)
            elif impl in ("pion", "rtc"):
                r = measure_pair(args, impl, work)
            else:
                r = measure_tcp(args, impl[4:])
            r["impl"] = impl
            print(json.dumps(r), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    return 0


# --- the driver ------------------------------------------------------------------

def rate_text(rate):
    return rate.replace("gbit", " Gbit/s").replace("mbit", " Mbit/s")


def main(argv):
    ap = argparse.ArgumentParser(description="goodput over emulated WAN paths")
    ap.add_argument("--build-dir", default=os.path.join(SOURCE_ROOT, "_build", "lab"),
                    help="meson build directory (with tests/lab and src built)")
    ap.add_argument("--quick", action="store_true",
                    help="RTT 10/50/150 ms × loss 0/1 %% × 100 Mbit/s, 4 MiB, 60 s cap")
    ap.add_argument("--size", type=parse_size, help="payload per run (default 16M; quick 4M)")
    ap.add_argument("--impl", action="append", choices=IMPLS,
                    help="what to measure (default: ours, pion, tcp-cubic, tcp-bbr)")
    ap.add_argument("--rtt", type=floats, help="RTTs in ms (default 10,50,150)")
    ap.add_argument("--loss", type=floats, help="loss each way in %% (default 0,0.1,1)")
    ap.add_argument("--rate", help="rates, comma-separated (default 100mbit,1gbit)")
    ap.add_argument("--runs", type=int, default=1,
                    help="runs per path and implementation, in one lab; the median is shown")
    ap.add_argument("--timeout", type=int, help="cap per run in seconds (default 120; quick 60)")
    ap.add_argument("--pion-peer", help="pion-peer executable (default: BUILD/tests/interop/"
                    "pion-peer, else built from bench/pion-peer)")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--payload", help=argparse.SUPPRESS)
    ap.add_argument("--app", help=argparse.SUPPRESS)
    ap.add_argument("--lab-tcp", help=argparse.SUPPRESS)
    ap.add_argument("--rtc-peer", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    args.size = args.size or (4 << 20 if args.quick else 16 << 20)
    args.timeout = args.timeout or (60 if args.quick else 120)
    if args.inner:
        return inner(args)

    build = os.path.abspath(args.build_dir)
    app = os.path.join(build, "src", "distributed-backup")
    linkem = os.path.join(build, "tests", "lab", "linkem")
    lab_tcp = os.path.join(build, "tests", "lab", "lab-tcp")
    rtc_peer = os.path.join(build, "tests", "interop", "rtc-peer")
    for path in (app, linkem, lab_tcp):
        if not os.access(path, os.X_OK):
            raise SystemExit("wan-bench: %s is not built" % path)
    if os.geteuid() != 0:
        raise SystemExit("wan-bench: needs root (network namespaces, TUN devices)")

    impls = args.impl or ["ours", "pion", "tcp-cubic", "tcp-bbr"]
    notes = []
    cache = tempfile.mkdtemp(prefix="wan-bench-", dir=os.environ.get("BENCH_TMPDIR"))
    pion = args.pion_peer or os.environ.get("PION_PEER")
    if "pion" in impls and not pion:
        built = os.path.join(build, "tests", "interop", "pion-peer")
        if os.access(built, os.X_OK):
            pion = built
        else:
            try:
                pion = os.path.join(cache, "pion-peer")
                env = dict(os.environ, GOCACHE=os.path.join(cache, "go-cache"))
                subprocess.run(["sh", os.path.join(HERE, "pion-peer", "build.sh"), pion],
                               check=True, env=env)
            except (OSError, subprocess.CalledProcessError) as e:
                notes.append("pion: could not build pion-peer (%s)" % e)
                impls = [i for i in impls if i != "pion"]
    if "tcp-bbr" in impls:
        with open("/proc/sys/net/ipv4/tcp_available_congestion_control") as f:
            if "bbr" not in f.read().split():
                subprocess.run(["modprobe", "tcp_bbr"], stderr=subprocess.DEVNULL)
    if "rtc" in impls and not os.access(rtc_peer, os.X_OK):
        notes.append("rtc: %s is not built" % rtc_peer)
        impls = [i for i in impls if i != "rtc"]

    rtts = args.rtt or [10, 50, 150]
    losses = args.loss or ([0, 1] if args.quick else [0, 0.1, 1])
    rates = (args.rate or ("100mbit" if args.quick else "100mbit,1gbit")).split(",")

    payload = os.path.join(cache, "payload.bin")
    with open(payload, "wb") as f:
        left = args.size
        while left > 0:
            f.write(os.urandom(min(left, 1 << 20)))
            left -= 1 << 20

    print("goodput in MB/s (10^6 bytes/s) of a %d-byte payload, peer a → peer b through "
          "linkem; per-run cap %d s; %s, %d cores"
          % (args.size, args.timeout, time.strftime("%Y-%m-%d"), os.cpu_count()), flush=True)
    rows = []
    try:
        for rate in rates:
            for rtt in rtts:
                for loss in losses:
                    lab = [LAB_SH, "run", "--delay", "%g" % (rtt / 2), "--loss", "%g" % loss,
                           "--rate", rate, "--"]
                    inner_cmd = [sys.executable, os.path.abspath(__file__), "--inner",
                                 "--size", str(args.size), "--timeout", str(args.timeout),
                                 "--runs", str(args.runs),
                                 "--payload", payload, "--app", app, "--lab-tcp", lab_tcp,
                                 "--rtc-peer", rtc_peer, "--pion-peer", pion or ""]
                    for i in impls:
                        inner_cmd += ["--impl", i]
                    env = dict(os.environ, LINKEM=linkem)
                    p = subprocess.run(lab + inner_cmd, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, env=env)
                    results = {}
                    for line in p.stdout.splitlines():
                        try:
                            r = json.loads(line)
                        except ValueError:
                            continue
                        results.setdefault(r["impl"], []).append(r)
                    if p.returncode == 77:
                        raise SystemExit("wan-bench: the lab cannot be built here: "
                                         + p.stderr.strip()[-200:])
                    cells = []
                    every = []
                    ours_runs = [r for r in results.get("ours", []) if "cpu_send" in r]
                    for impl in impls:
                        rates_seen = []
                        for r in results.get(impl, [{"error": "no result"}]):
                            if "seconds" in r and r["seconds"] > 0:
                                rates_seen.append(args.size / r["seconds"] / 1e6)
                            else:
                                notes.append("%s, %g ms, %g %%, %s: %s"
                                             % (impl, rtt, loss, rate, r.get("error")))
                        # A failed run counts as none: the median of what finished.
                        if rates_seen:
                            cells.append("%.2f" % statistics.median(rates_seen))
                        else:
                            cells.append("-")
                        every.append("%s=%s" % (impl, "/".join("%.2f" % x for x in rates_seen)))
                    if "ours" in impls:
                        # CPU per MB and peak RSS of a whole backup, both sides.
                        if ours_runs:
                            mb = args.size / 1e6
                            cells.append("%.1f / %.1f" % (
                                statistics.median(r["cpu_send"] for r in ours_runs) * 1e3 / mb,
                                statistics.median(r["cpu_recv"] for r in ours_runs) * 1e3 / mb))
                            cells.append("%.0f / %.0f" % (
                                max(r["rss_send"] for r in ours_runs) / 1024,
                                max(r["rss_recv"] for r in ours_runs) / 1024))
                        else:
                            cells += ["-", "-"]
                    row = (rate_text(rate), "%g" % rtt, "%g" % loss, cells)
                    rows.append(row)
                    print("  %s, RTT %s ms, loss %s %%: %s"
                          % (row[0], row[1], row[2], " ".join(every)),
                          file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)

    columns = list(impls)
    if "ours" in impls:
        columns += ["ours CPU ms/MB send / recv", "ours peak RSS MiB send / recv"]
    header = "| rate | RTT ms | loss % | " + " | ".join(columns) + " |"
    print(header)
    print("|" + " --- |" * (3 + len(columns)))
    for rate, rtt, loss, cells in rows:
        print("| %s | %s | %s | %s |" % (rate, rtt, loss, " | ".join(cells)))
    for n in notes:
        print("note: " + n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
