#!/usr/bin/python3
# run-pair.py: run two data-channel peers (rtc, aiortc or pion) against each other
# through file signaling, and check that the receiver got exactly what the sender
# sent (byte count and SHA-256 of the two JSON result lines).
#
# Exit status: 0 pass, 1 fail, 77 skip (a peer is not available).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
IMPLS = ("rtc", "aiortc", "pion")
SKIP = 77


def peer_command(impl, args):
    if impl == "aiortc":
        if importlib.util.find_spec("aiortc") is None:
            return None, "aiortc is not installed"
        return [sys.executable, os.path.join(HERE, "aiortc-peer.py")], None
    path = args.rtc_peer if impl == "rtc" else args.pion_peer
    if not path:
        env = "RTC_PEER" if impl == "rtc" else "PION_PEER"
        path = os.environ.get(env)
    if not path or not os.access(path, os.X_OK):
        return None, "no %s peer executable (%s)" % (impl, path or "not built")
    return [path], None


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--offer", choices=IMPLS, required=True, help="offering peer")
    p.add_argument("--answer", choices=IMPLS, required=True, help="answering peer")
    p.add_argument("--opener", choices=["offer", "answer"], default="offer",
                   help="side that creates the data channel")
    p.add_argument("--sender", choices=["offer", "answer"], default="offer",
                   help="side that sends the payload")
    p.add_argument("--bytes", type=int, default=64 * 1024 * 1024)
    p.add_argument("--chunk", type=int)
    p.add_argument("--high-water", type=int)
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--bind", action="append",
                   help="address given to both peers (default 127.0.0.1); "
                        "'none' gives no --bind at all")
    p.add_argument("--offer-args", default="", help="extra arguments, offering side")
    p.add_argument("--answer-args", default="", help="extra arguments, answering side")
    p.add_argument("--offer-netns", help="run the offering peer in this network namespace")
    p.add_argument("--answer-netns", help="run the answering peer in this network namespace")
    p.add_argument("--rtc-peer", help="path of rtc-peer (or $RTC_PEER)")
    p.add_argument("--pion-peer", help="path of pion-peer (or $PION_PEER)")
    p.add_argument("--expect-direct-receive", action="store_true",
                   help="fail unless each rtc peer read the nominated pair's socket "
                        "itself (batched) until the end")
    p.add_argument("--json", action="store_true",
                   help="print the two result lines as one JSON array on stdout")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    return p.parse_args(argv)


def side_command(side, impl, args, work, cmd):
    other = "answer" if side == "offer" else "offer"
    c = list(cmd) + [
        "--role", side,
        "--local-sdp", os.path.join(work, side + ".json"),
        "--remote-sdp", os.path.join(work, other + ".json"),
        "--opener", "self" if args.opener == side else "peer",
        "--timeout", "%g" % args.timeout,
    ]
    binds = args.bind if args.bind else ["127.0.0.1"]
    for b in binds:
        if b != "none":
            c += ["--bind", b]
    if args.chunk:
        c += ["--chunk", str(args.chunk)]
    if args.high_water:
        c += ["--high-water", str(args.high_water)]
    if args.sender == side:
        c += ["--send-bytes", str(args.bytes)]
    else:
        c += ["--receive"]
    c += shlex.split(args.offer_args if side == "offer" else args.answer_args)
    ns = args.offer_netns if side == "offer" else args.answer_netns
    if ns:
        c = ["ip", "netns", "exec", ns] + c
    return c


def main(argv):
    args = parse_args(argv)
    cmds = {}
    for side in ("offer", "answer"):
        impl = getattr(args, side)
        cmd, why = peer_command(impl, args)
        if cmd is None:
            print("SKIP: %s" % why, file=sys.stderr)
            return SKIP
        cmds[side] = cmd

    work = tempfile.mkdtemp(prefix="rtc-pair-")
    procs = {}
    logs = {}
    try:
        for side in ("offer", "answer"):
            c = side_command(side, getattr(args, side), args, work, cmds[side])
            print("# %s: %s" % (side, " ".join(shlex.quote(x) for x in c)), file=sys.stderr)
            logs[side] = open(os.path.join(work, side + ".err"), "w+")
            procs[side] = subprocess.Popen(c, stdout=subprocess.PIPE, stderr=logs[side],
                                           text=True)
        deadline = time.monotonic() + args.timeout + 15
        outs = {}
        for side, p in procs.items():
            try:
                outs[side], _ = p.communicate(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                outs[side], _ = p.communicate()
                outs[side] = ""
        ok = True
        results = {}
        for side, p in procs.items():
            logs[side].seek(0)
            err = logs[side].read()
            if p.returncode != 0:
                ok = False
                print("FAIL: %s peer (%s) exited with %s" % (side, getattr(args, side),
                                                             p.returncode), file=sys.stderr)
            if err.strip():
                print("--- %s stderr ---\n%s" % (side, err.rstrip()[-6000:]), file=sys.stderr)
            lines = [l for l in outs[side].splitlines() if l.strip()]
            if len(lines) != 1:
                if p.returncode == 0:
                    ok = False
                    print("FAIL: %s peer printed %d lines on stdout, expected 1"
                          % (side, len(lines)), file=sys.stderr)
                continue
            try:
                results[side] = json.loads(lines[0])
            except ValueError:
                ok = False
                print("FAIL: %s peer printed no JSON: %r" % (side, lines[0][:200]),
                      file=sys.stderr)
        if not ok or len(results) != 2:
            return 1
        s = results[args.sender]
        r = results["answer" if args.sender == "offer" else "offer"]
        for res, side in ((results["offer"], "offer"), (results["answer"], "answer")):
            if res.get("impl") != getattr(args, side) or res.get("role") != side:
                print("FAIL: %s result names impl %r role %r" % (side, res.get("impl"),
                                                                res.get("role")),
                      file=sys.stderr)
                ok = False
        if s.get("direction") != "send" or r.get("direction") != "receive":
            print("FAIL: directions are %r/%r" % (s.get("direction"), r.get("direction")),
                  file=sys.stderr)
            ok = False
        if s.get("bytes") != args.bytes or r.get("bytes") != args.bytes:
            print("FAIL: sent %r bytes, received %r, expected %d"
                  % (s.get("bytes"), r.get("bytes"), args.bytes), file=sys.stderr)
            ok = False
        if not s.get("sha256") or s.get("sha256") != r.get("sha256"):
            print("FAIL: SHA-256 differs: sent %s, received %s"
                  % (s.get("sha256"), r.get("sha256")), file=sys.stderr)
            ok = False
        if args.expect_direct_receive:
            for side in ("offer", "answer"):
                res = results[side]
                if res.get("impl") == "rtc" and res.get("direct_receive") is not True:
                    print("FAIL: %s (rtc) did not receive directly on the nominated pair"
                          % side, file=sys.stderr)
                    ok = False
        if args.json:
            print(json.dumps([results["offer"], results["answer"]]))
        for side in ("offer", "answer"):
            print("# %s" % json.dumps(results[side]), file=sys.stderr)
        if ok:
            print("PASS: %s(offer) <-> %s(answer), opener %s, sender %s, %d bytes, %.2f MB/s"
                  % (args.offer, args.answer, args.opener, args.sender, args.bytes,
                     r.get("mbps", 0)), file=sys.stderr)
        return 0 if ok else 1
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        for f in logs.values():
            f.close()
        if args.keep:
            print("# work directory kept: %s" % work, file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
