#!/usr/bin/python3
# test-fault-matrix.py GROUP|CASE... [--legacy-tool PATH]: whole backups between real
# processes, each with one fault injected, against a receiver directory that
# already holds three known versions of the file (-v 3).
#
# Groups (one meson test each):
#   ours            our sender → our receiver (this project's framing: header,
#                   SHA-256 in the end message, acknowledgement), folder store
#   legacy-to-ours  the original tool (legacy-tool stand-in) as sender → our
#                   receiver, original framing, through our FILE.io server
#   ours-to-legacy  our sender → the stand-in as receiver, original framing
# "all" runs the three; a case name (see --list) runs one case.
#
# Faults: a peer killed with SIGKILL, SIGINT or SIGTERM while pairing (both
# peers have exchanged their descriptions, UDP is dropped so that ICE cannot
# connect yet), in the middle of the transfer, or (a receiver of ours with
# --keep-listening) after the backup completed; the link cut in the middle
# of the transfer (every UDP packet dropped); the link cut while our receiver,
# having stored and acknowledged the file, waits for the sender's close; the
# receiver's disk full (a 2 MiB tmpfs in a mount namespace of its own). A
# control case without a fault runs in each group.
#
# Every case runs in a network namespace of its own (unshare(CLONE_NEWNET) by
# the thread that runs the case; the processes it starts inherit it), with
# ICE on 127.0.0.1 and no STUN server. Our sender is paced by a token bucket
# (tc tbf) on that namespace's loopback; the stand-in paces itself
# (--send-rate). A fault "in the middle" is injected once the receiver holds
# at least 1 MiB of the 4 MiB file. Cases of one group run concurrently.
#
# Assertions: the versions stored before are byte-identical afterwards
# (SHA-256) and nothing else is visible unless the backup completed, in which
# case the new version is in place and the versions rotated; a receiver of
# ours that was not SIGKILLed leaves no temporary file, and the one a killed
# receiver left is hidden and removed by the next receiver that starts,
# except what a transfer between two peers of ours keeps to resume (one
# hidden ".data.bin.<id>.resume.part"); every
# process of ours that was not killed exits 0 with nothing on stderr when the
# backup completed, and otherwise 1 with exactly one error line; a process of
# ours stopped by SIGINT or SIGTERM exits 130 or 143 (the statuses the README
# documents) and prints no crash report; a sender of ours stopped by SIGINT or
# SIGTERM in the original framing aborts the association, so that the
# stand-in fails on the abort (never on a clean close, which is the end of
# the file to the original). The stand-in reproduces the
# original's weaknesses (it rotates versions before the new data is
# complete), so its directory is checked only where the original leaves it
# alone, and its exit status only where it tells something about our peer.
#
# Needs root (network and mount namespaces), util-linux (unshare, setpriv),
# iproute2 (ip, tc) and iptables; reports a TAP skip otherwise. Environment:
# DISTRIBUTED_BACKUP, DISTRIBUTED_BACKUP_SERVER, LEGACY_TOOL (or
# --legacy-tool); FAULT_KEEP=1 keeps the work directory of a failed run;
# FAULT_JOBS sets how many cases run at once (default 6).
#
# SPDX-License-Identifier: GPL-3.0-or-later

import ctypes
import glob
import hashlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import urllib.request

MIB = 1024 * 1024
SOURCE_SIZE = 4 * MIB        # the new version sent in every case
SEED_SIZE = 64 * 1024        # each version already stored
THRESHOLD = 1 * MIB          # "in the middle": the receiver holds this much
VERSIONS = 3
NAME = "data.bin"
API_KEY = "fault-matrix-key-0123456789"
SHAPE = ["tbf", "rate", "8mbit", "burst", "128kb", "latency", "2s"]  # about 1 MB/s
LEGACY_RATE = "1024"         # KiB/s, the stand-in's --send-rate
PAIRING_TIMEOUT = 30         # --timeout of every peer
STEP_BOUND = 45              # seconds a step of the harness may wait for a state
END_BOUND = 100              # seconds a process of ours may take to end by itself
LEGACY_END_BOUND = 15        # the same for the stand-in where it is not asserted

OURS = os.environ.get("DISTRIBUTED_BACKUP", "")
SERVER = os.environ.get("DISTRIBUTED_BACKUP_SERVER", "")
LEGACY = os.environ.get("LEGACY_TOOL", "")

CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)

# Output of a process of ours that is never a clean error line.
CRASH_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                 "runtime error:", "CRITICAL **", "WARNING **", "** ERROR", "Traceback",
                 "Segmentation fault", "panic:")
ERROR_LINE = re.compile(r"^distributed-backup: \S.*\w.*$")
# The receiver's temporary file: hidden, ".data.bin.XXXXXX….part".
PART = re.compile(r"^\." + re.escape(NAME) + r"\..+\.part$")
# What a receiver of ours keeps of a transfer from a sender of ours that was
# interrupted, to resume it: hidden, ".data.bin.<backup id>.resume.part".
RESUME_PART = re.compile(r"^\." + re.escape(NAME) + r"\.[0-9a-f]{32}\.resume\.part$")


# --- processes -----------------------------------------------------------------------

all_procs = []
all_procs_lock = threading.Lock()


def kill_all():
    with all_procs_lock:
        procs = list(all_procs)
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


work_top = None


def on_signal(signum, frame):
    kill_all()
    if work_top is not None:
        shutil.rmtree(work_top, ignore_errors=True)
    os._exit(128 + signum)


class Proc:
    """One process of a case; its output goes to files of the case. It runs in
    a session of its own and dies with the thread that started it."""

    def __init__(self, work, label, kind, argv, stdout=None):
        self.label = label
        self.kind = kind  # "ours", "legacy" or "server"
        self.sent_signal = None
        self.hung = False
        self.out_path = os.path.join(work, label + ".out")
        self.err_path = os.path.join(work, label + ".err")
        out = open(self.out_path, "w") if stdout is None else stdout
        with open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(
                ["setpriv", "--pdeathsig", "KILL", "--"] + argv,
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        if stdout is None:
            out.close()
        with all_procs_lock:
            all_procs.append(self.proc)

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc.poll() is None

    def send(self, signum):
        self.sent_signal = signum
        os.kill(self.proc.pid, signum)

    def wait(self, bound):
        """The exit status, or None when it did not end within BOUND seconds
        (it is killed then)."""
        try:
            return self.proc.wait(timeout=bound)
        except subprocess.TimeoutExpired:
            self.hung = True
            self.kill()
            return None

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def stderr(self):
        try:
            with open(self.err_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def lines(self):
        return [l for l in self.stderr().splitlines() if l.strip()]

    def status_text(self):
        rc = self.proc.returncode
        if rc is None:
            return "running"
        if self.hung:
            return "hung (killed by the test)"
        if rc < 0:
            return "killed by %s" % signal.Signals(-rc).name
        return "exit %d" % rc

    def report(self):
        text = self.stderr()
        if len(text) > 3000:
            text = "…" + text[-3000:]
        return "%s: %s, stderr:\n%s" % (self.label, self.status_text(), text.rstrip() or "(empty)")


def run(argv, check=True):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), p.returncode, p.stdout.strip()))
    return p.stdout


def enter_new_netns():
    """Moves the calling thread, and what it starts from now on, into a new
    network namespace whose loopback is up."""
    if libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise RuntimeError("unshare(CLONE_NEWNET): %s" % os.strerror(err))
    run(["ip", "link", "set", "lo", "up"])


def drop_udp(on):
    run(["iptables", "-w", "-I" if on else "-D", "INPUT", "-p", "udp", "-j", "DROP"])


def dropped_packets():
    """Packets counted by the DROP rule of drop_udp()."""
    out = run(["iptables", "-w", "-n", "-v", "-x", "-L", "INPUT"])
    for line in out.splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[2] == "DROP" and fields[3] in ("udp", "17"):
            return int(fields[0])
    return 0


def wait_until(pred, bound, watch=(), period=0.05):
    """Polls PRED until it holds; gives up after BOUND seconds or once a process
    of WATCH has ended."""
    end = time.monotonic() + bound
    while True:
        if pred():
            return True
        if time.monotonic() > end or any(not p.running() for p in watch):
            return pred()
        time.sleep(period)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --- signaling -----------------------------------------------------------------------

class Server:
    """distributed-backup-server on 127.0.0.1 of the case's namespace."""

    def __init__(self, work):
        self.proc = Proc(work, "server", "server",
                         [SERVER, "--listen", "127.0.0.1", "--port", "0", "--api-key", API_KEY],
                         stdout=subprocess.PIPE)
        pipe = self.proc.proc.stdout
        ready, _, _ = select.select([pipe], [], [], 15)
        line = pipe.readline().decode(errors="replace").strip() if ready else ""
        prefix = "listening on "
        if not line.startswith(prefix):
            raise RuntimeError("the signaling server did not start: %r\n%s"
                               % (line, self.proc.report()))
        self.url = line[len(prefix):].rstrip("/")

    def names(self, pattern):
        req = urllib.request.Request(
            self.url + "/?" + urllib.parse.urlencode({"search": pattern, "sort": "created:asc"}),
            headers={"Authorization": "Bearer " + API_KEY})
        with urllib.request.urlopen(req, timeout=5) as r:
            return [n["name"] for n in json.load(r).get("nodes", [])]


# --- cases ---------------------------------------------------------------------------

GROUPS = ("ours", "legacy-to-ours", "ours-to-legacy")
STOPPED_STATUS = {signal.SIGINT: 130, signal.SIGTERM: 143}
SIGNALS = (signal.SIGKILL, signal.SIGINT, signal.SIGTERM)


class Case:
    def __init__(self, group, fault, victim=None, signum=None, point=None):
        self.group = group
        self.fault = fault        # "control", "kill", "cut" or "full"
        self.victim = victim      # "sender" or "receiver" (kill)
        self.signum = signum
        self.point = point        # "pairing", "transfer" or "after" (kill, cut)
        self.tx = "legacy" if group == "legacy-to-ours" else "ours"
        self.rx = "legacy" if group == "ours-to-legacy" else "ours"
        if fault == "kill":
            self.name = "%s/%s-%s-%s" % (group, victim, signal.Signals(signum).name, point)
        elif fault == "cut":
            self.name = "%s/link-cut-%s" % (group, "after-store" if point == "after" else point)
        else:
            self.name = "%s/%s" % (group, "disk-full" if fault == "full" else fault)

    @property
    def completes(self):
        return self.fault == "control" or self.point == "after"

    def length(self):
        """A rough order for starting cases: the longest first."""
        if self.point == "pairing":
            return 3
        if self.fault == "cut" or self.signum == signal.SIGKILL:
            return 2
        return 1


def all_cases():
    cases = []
    for group in GROUPS:
        cases.append(Case(group, "control"))
        for victim in ("sender", "receiver"):
            points = ["pairing", "transfer"]
            if victim == "receiver" and group != "ours-to-legacy":
                points.append("after")
            for point in points:
                for signum in SIGNALS:
                    cases.append(Case(group, "kill", victim, signum, point))
        cases.append(Case(group, "cut", point="transfer"))
        if group == "ours":
            # Our receiver has stored the file and acknowledged it: a loss of
            # the link from then on is no failure of its backup.
            cases.append(Case(group, "cut", point="after"))
        if group != "ours-to-legacy":
            cases.append(Case(group, "full"))
    return cases


class Result:
    def __init__(self, case):
        self.case = case
        self.checks = []
        self.diags = []

    def check(self, what, cond, detail=""):
        self.checks.append((bool(cond), what, detail))
        return cond

    def diag(self, text):
        self.diags.extend(str(text).splitlines())


class Context:
    """What the cases of one run share: the executables, the content sent and
    the versions stored before."""

    def __init__(self, top):
        self.top = top
        self.source = os.path.join(top, NAME)
        with open(self.source, "wb") as f:
            f.write(os.urandom(SOURCE_SIZE))
        self.source_sha = sha256_file(self.source)
        self.seeds = os.path.join(top, "seeds")
        os.makedirs(self.seeds)
        self.seed_sha = {}
        for i, name in enumerate([NAME, NAME + ".1", NAME + ".2"]):
            path = os.path.join(self.seeds, name)
            with open(path, "wb") as f:
                f.write(("version %d\n" % (VERSIONS - 1 - i)).encode() + os.urandom(SEED_SIZE))
            self.seed_sha[name] = sha256_file(path)
        # After a completed backup with -v 3: the new one, then the two newest
        # versions of before; the oldest is dropped.
        self.rotated_sha = {NAME: self.source_sha, NAME + ".1": self.seed_sha[NAME],
                            NAME + ".2": self.seed_sha[NAME + ".1"]}


class Store:
    """What a receiver's directory holds: visible names with their SHA-256, and
    hidden names."""

    def __init__(self, visible, hidden):
        self.visible = visible
        self.hidden = hidden

    @staticmethod
    def read(path):
        visible, hidden = {}, []
        for name in sorted(os.listdir(path)):
            if name.startswith("."):
                hidden.append(name)
            else:
                full = os.path.join(path, name)
                visible[name] = sha256_file(full) if os.path.isfile(full) else "(not a file)"
        return Store(visible, hidden)

    @staticmethod
    def read_manifest(out):
        """The listing written by the disk-full wrapper once the receiver ended."""
        with open(os.path.join(out, "list")) as f:
            names = [l for l in f.read().splitlines() if l]
        sums = {}
        if os.path.exists(os.path.join(out, "sums")):
            with open(os.path.join(out, "sums")) as f:
                for line in f:
                    digest, name = line.rstrip("\n").split("  ", 1)
                    sums[name] = digest
        visible = {n: sums.get(n, "(no sum)") for n in names if not n.startswith(".")}
        return Store(visible, [n for n in names if n.startswith(".")])

    def describe(self, ctx):
        known = {v: "seed " + k for k, v in ctx.seed_sha.items()}
        known[ctx.source_sha] = "the new version"
        out = ["%s = %s" % (n, known.get(d, d[:16] + "…")) for n, d in self.visible.items()]
        return ", ".join(out + self.hidden) or "(empty)"


def stored_new_version(ctx, dst):
    path = os.path.join(dst, NAME)
    try:
        return os.path.getsize(path) == SOURCE_SIZE and sha256_file(path) == ctx.source_sha
    except OSError:
        return False


def partial_size(dst, rx):
    """Bytes of the new version the receiver holds so far."""
    try:
        if rx == "ours":
            return max((os.path.getsize(os.path.join(dst, n))
                        for n in os.listdir(dst) if PART.match(n)), default=0)
        # The original rotates first and writes the new version in place.
        return os.path.getsize(os.path.join(dst, NAME))
    except OSError:
        return 0


# Run in a new session of its own mount namespace: a 2 MiB tmpfs on DIR holding
# the seed versions, the receiver, then a listing of DIR into OUT.
FULL_WRAPPER = r'''
set -u
dir=$1 seeds=$2 out=$3
shift 3
mount -t tmpfs -o size=2m,mode=0700 tmpfs "$dir" || exit 99
cp "$seeds"/* "$dir"/ || exit 99
setpriv --pdeathsig KILL -- "$@"
status=$?
cd "$dir" && ls -A > "$out/list.tmp" && mv "$out/list.tmp" "$out/list"
for f in *; do [ -f "$f" ] && sha256sum -- "$f"; done > "$out/sums"
exit $status
'''


class Again(Exception):
    """The fault could not be placed where the case needs it: the attempt
    proves nothing either way and is made again."""


ATTEMPTS = 3


def run_case(ctx, case, res):
    try:
        enter_new_netns()
    except Exception:
        res.check("%s: the harness ran the case to the end" % case.name, False,
                  traceback.format_exc())
        return
    for attempt in range(1, ATTEMPTS + 1):
        work = tempfile.mkdtemp(prefix=case.name.replace("/", "-") + "-", dir=ctx.top)
        procs = []
        again = None
        try:
            run(["iptables", "-w", "-F", "INPUT"])
            run(["tc", "qdisc", "del", "dev", "lo", "root"], check=False)
            case_body(ctx, case, res, work, procs, last=attempt == ATTEMPTS)
        except Again as e:
            again = str(e)
        except Exception:
            res.check("%s: the harness ran the case to the end" % case.name, False,
                      traceback.format_exc())
        finally:
            for p in procs:
                p.kill()
            failed = any(not ok for ok, _, _ in res.checks)
            if failed and os.environ.get("FAULT_KEEP"):
                res.diag("work directory kept: " + work)
            else:
                shutil.rmtree(work, ignore_errors=True)
        if again is None:
            return
        res.diag("attempt %d: %s; once more" % (attempt, again))


def case_body(ctx, case, res, work, procs, last):
    dst = os.path.join(work, "dst")
    os.makedirs(dst)
    full_out = None
    if case.fault == "full":
        full_out = os.path.join(work, "full-out")
        os.makedirs(full_out)
    else:
        for name in ctx.seed_sha:
            shutil.copy(os.path.join(ctx.seeds, name), dst)

    if case.tx == "ours" and case.fault != "full":
        run(["tc", "qdisc", "add", "dev", "lo", "root"] + SHAPE)

    uid = "fault-%d-%s" % (os.getpid(), re.sub(r"[^A-Za-z0-9]+", "-", case.name))
    server = None
    if case.group == "ours":
        sig = os.path.join(work, "signaling")
        os.makedirs(sig)
        ours_sig = ["--signaling", sig]

        def ping_seen():
            return bool(glob.glob(os.path.join(sig, glob.escape(uid) + "_ping_*.json")))
    else:
        server = Server(work)
        procs.append(server.proc)
        ours_sig = ["--signaling", server.url + "/", "-a", API_KEY]

        def ping_seen():
            return any(n.startswith(uid + "_ping") for n in server.names(uid + "_ping"))

    def ours(label, args):
        return Proc(work, label, "ours",
                    [OURS] + ours_sig + ["--ice-address", "127.0.0.1", "-S", "",
                                         "--timeout", str(PAIRING_TIMEOUT), "-q", "--no-progress",
                                         "-u", uid] + args)

    def legacy(label, args):
        return Proc(work, label, "legacy",
                    [LEGACY, "-a", API_KEY, "--base-url", server.url, "--ice-address",
                     "127.0.0.1", "-S", "", "--timeout", "60", "--poll", "0.2", "-u", uid] + args)

    if case.point == "pairing":
        drop_udp(True)

    # The receiver first, as the original was used; the sender once the
    # receiver waits for it.
    if case.rx == "ours":
        rx_args = ["-v", str(VERSIONS)]
        if case.point == "after" and case.fault == "kill":
            rx_args.append("--keep-listening")
        if case.fault == "full":
            rx_args = ["-d", os.path.join(work, "full")] + rx_args
            os.makedirs(os.path.join(work, "full"))
            argv = ([OURS] + ours_sig + ["--ice-address", "127.0.0.1", "-S", "", "--timeout",
                                         str(PAIRING_TIMEOUT), "-q", "--no-progress", "-u", uid]
                    + rx_args)
            rx = Proc(work, "receiver", "ours",
                      ["unshare", "-m", "sh", "-c", FULL_WRAPPER, "full",
                       os.path.join(work, "full"), ctx.seeds, full_out] + argv)
        else:
            rx = ours("receiver", ["-d", dst] + rx_args)
    else:
        rx = legacy("receiver", ["-d", dst, "-v", str(VERSIONS)])
    procs.append(rx)
    if not wait_until(ping_seen, STEP_BOUND, [rx]):
        res.check("%s: the receiver waits for its peer" % case.name, False, rx.report())
        return

    if case.tx == "ours":
        tx = ours("sender", ["-s", ctx.source])
    else:
        tx = legacy("sender", ["-s", ctx.source, "--send-rate", LEGACY_RATE])
    procs.append(tx)
    sides = {"sender": tx, "receiver": rx}
    victim = sides.get(case.victim)

    # --- the fault
    premise = True
    if case.fault == "kill" and case.point == "pairing":
        # Both descriptions are out once connectivity checks flow (and are
        # dropped): the peers are pairing, not connected.
        seen = wait_until(lambda: dropped_packets() > 0, STEP_BOUND, [tx, rx], period=0.2)
        before = Store.read(dst)
        premise = res.check(
            "%s: fault injected while pairing (checks dropped, nothing received, both running)"
            % case.name,
            seen and tx.running() and rx.running() and before.visible == ctx.seed_sha
            and not before.hidden,
            "dropped %d, destination %s\n%s\n%s" % (dropped_packets(), before.describe(ctx),
                                                   tx.report(), rx.report()))
        if premise:
            victim.send(case.signum)
            victim.wait(END_BOUND if victim.kind == "ours" else LEGACY_END_BOUND)
        drop_udp(False)
    elif case.point == "transfer":
        under_way = wait_until(lambda: partial_size(dst, case.rx) >= THRESHOLD, STEP_BOUND,
                               [tx, rx])
        held = partial_size(dst, case.rx)
        premise = res.check(
            "%s: fault injected in the middle of the transfer (%d of %d bytes received)"
            % (case.name, held, SOURCE_SIZE),
            under_way and held < SOURCE_SIZE and tx.running() and rx.running(),
            "%s\n%s\n%s" % (Store.read(dst).describe(ctx), tx.report(), rx.report()))
        if premise:
            if case.fault == "cut":
                drop_udp(True)
            else:
                victim.send(case.signum)
    elif case.point == "after" and case.fault == "kill":
        # Our receiver keeps listening after the backup: once the sender is
        # done and the new version is in place, the backup is complete. (The
        # original sender may end before our receiver has stored the file.)
        tx_status = tx.wait(END_BOUND)
        stored = wait_until(lambda: stored_new_version(ctx, dst), STEP_BOUND, [rx])
        now = Store.read(dst)
        premise = res.check(
            "%s: the backup completed before the fault (sender exit 0, new version stored)"
            % case.name, tx_status == 0 and stored and rx.running(),
            "destination %s\n%s\n%s" % (now.describe(ctx), tx.report(), rx.report()))
        victim.send(case.signum)
    elif case.point == "after":
        # The receiver stores the file, acknowledges it and waits for the
        # sender to close the channel. The sender is stopped once the last
        # byte has reached the receiver (the end message follows it on the
        # wire), so that no close can come; once the new version is in
        # place the link is cut, and the sender continues.
        wait_until(lambda: partial_size(dst, "ours") >= SOURCE_SIZE - 512 * 1024,
                   STEP_BOUND, [tx, rx])
        wait_until(lambda: partial_size(dst, "ours") in (0, SOURCE_SIZE), STEP_BOUND,
                   [tx, rx], period=0.001)
        held = partial_size(dst, "ours")
        if tx.running():
            os.kill(tx.pid, signal.SIGSTOP)
        stored = wait_until(lambda: stored_new_version(ctx, dst), 10, [rx])
        waiting = stored and rx.running()
        if waiting:
            drop_udp(True)
        if tx.running():
            os.kill(tx.pid, signal.SIGCONT)
        detail = "sender stopped with %d bytes received; destination %s\n%s\n%s" % (
            held, Store.read(dst).describe(ctx), tx.report(), rx.report())
        if not waiting and not last:
            raise Again("the receiver was not left waiting for the sender's close ("
                        + detail.splitlines()[0] + ")")
        premise = res.check(
            "%s: the link is cut while the receiver, having stored the new version, waits "
            "for the sender's close" % case.name, waiting, detail)

    # --- the end of every process
    legacy_asserted = (case.fault == "control"
                       or (case.fault == "kill" and case.point == "after")
                       or (case.group == "ours-to-legacy" and case.victim == "sender"
                           and case.point == "transfer"))
    for p in (tx, rx):
        if p.kind == "ours":
            bound = END_BOUND
        else:
            bound = END_BOUND if legacy_asserted else LEGACY_END_BOUND
        if p.wait(bound) is None:
            res.diag("%s did not end within %d s and was killed%s" % (
                p.label, bound, "" if p.kind == "ours" else " (its status is not asserted here)"))
    for p in (tx, rx):
        res.diag("%s (%s): %s; %s" % (
            p.label, "this program" if p.kind == "ours" else "stand-in", p.status_text(),
            (p.lines() or ["(no stderr)"])[-1][:300]))

    if not premise:
        return

    # --- the receiver's directory
    if case.fault == "full":
        if not os.path.exists(os.path.join(full_out, "list")):
            res.check("%s: the receiver ran on a full 2 MiB tmpfs" % case.name, False, rx.report())
            return
        store = Store.read_manifest(full_out)
    else:
        store = Store.read(dst)
    store_is_ours = case.rx == "ours"
    if store_is_ours or case.point == "pairing" or case.fault == "control":
        if case.completes:
            res.check("%s: the new version is stored and the versions rotated (-v %d)"
                      % (case.name, VERSIONS),
                      store.visible == ctx.rotated_sha, store.describe(ctx))
        else:
            res.check("%s: every stored version byte-identical, nothing else visible" % case.name,
                      store.visible == ctx.seed_sha, store.describe(ctx))
    else:
        res.diag("the original receiver's directory (rotated before the data was complete, "
                 "as the original did): " + store.describe(ctx))
    # Between two peers of ours, a transfer interrupted after data arrived
    # leaves what arrived for a retry to resume from (unless the disk was
    # full): one hidden file, never a version.
    keeps = (case.group == "ours" and case.point == "transfer" and not case.completes
             and case.fault != "full")
    if store_is_ours:
        if keeps:
            res.check("%s: what arrived is kept hidden, to resume, and nothing else" % case.name,
                      len(store.hidden) == 1 and RESUME_PART.match(store.hidden[0]) is not None,
                      store.describe(ctx))
        if rx.sent_signal == signal.SIGKILL:
            res.check("%s: only hidden temporary files left by the killed receiver" % case.name,
                      all(PART.match(n) for n in store.hidden), store.describe(ctx))
            if store.hidden and case.fault != "full":
                # The next receiver removes what a dead one left, at start-up,
                # but keeps what may still resume.
                sweep = os.path.join(work, "sweep-signaling")
                os.makedirs(sweep)
                again = Proc(work, "next-receiver", "ours",
                             [OURS, "--signaling", sweep, "--ice-address", "127.0.0.1", "-S", "",
                              "--timeout", "2", "-q", "--no-progress", "-u", uid + "-next",
                              "-d", dst, "-v", str(VERSIONS)])
                again.wait(END_BOUND)
                later = Store.read(dst)
                resumable = [n for n in store.hidden if RESUME_PART.match(n)]
                res.check("%s: the next receiver removes the killed one's temporary file, keeps "
                          "what may resume, and keeps every version" % case.name,
                          sorted(later.hidden) == sorted(resumable)
                          and later.visible == store.visible,
                          "before: %s\nafter: %s\n%s" % (store.describe(ctx),
                                                          later.describe(ctx), again.report()))
        elif not keeps:
            res.check("%s: no temporary file left" % case.name, not store.hidden,
                      store.describe(ctx))

    # --- exit statuses and messages of our processes (statuses as the README
    # documents them: 1 for a failure at run time, 130 and 143 for SIGINT and
    # SIGTERM)
    for side, p in sides.items():
        if p.kind != "ours" or p.sent_signal == signal.SIGKILL:
            continue
        status = p.proc.returncode
        lines = p.lines()
        crash = [m for m in CRASH_MARKERS if m in p.stderr()]
        if isinstance(status, int) and status < 0 and -status != p.sent_signal:
            crash.append("died of " + signal.Signals(-status).name)
        if p.hung:
            crash.append("did not end by itself")
        if p.sent_signal is not None:
            name = signal.Signals(p.sent_signal).name
            what = "%s stopped by %s" % (side, name)
            expected = STOPPED_STATUS[p.sent_signal]
            res.check("%s: the %s exits %d" % (case.name, what, expected),
                      status == expected and not p.hung, p.report())
            if case.completes:
                res.check("%s: the %s reports no error for the completed backup"
                          % (case.name, what), not lines and not crash, p.report())
            else:
                res.check("%s: the %s prints no crash report and at most one line"
                          % (case.name, what), not crash and len(lines) <= 1, p.report())
            continue
        one = (len(lines) == 1 and ERROR_LINE.match(lines[0]) is not None and not crash
               and not p.hung)
        if case.fault == "cut" and case.point == "after" and side == "sender":
            # The cut may come before or after the receiver's acknowledgement
            # reached the sender: success without a word, or one error line.
            clean = status == 0 and not lines and not crash
            res.check("%s: the sender exits 0 silently (acknowledged) or 1 with one clear "
                      "error line (not acknowledged)" % case.name,
                      clean or (status == 1 and one), p.report())
            continue
        if case.completes:
            res.check("%s: the %s exits 0 with nothing on stderr" % (case.name, side),
                      status == 0 and not lines and not crash, p.report())
            continue
        res.check("%s: the %s exits 1" % (case.name, side), status == 1 and not p.hung,
                  p.report())
        if case.fault == "full" and side == "receiver":
            res.check("%s: the receiver prints one clear error line, about the space"
                      % case.name, one and "space" in lines[0].lower(), p.report())
        else:
            res.check("%s: the %s prints one clear error line" % (case.name, side), one,
                      p.report())

    # --- the stand-in, where its status tells something about our peer
    if case.fault == "control":
        legacy_side = ("sender" if case.tx == "legacy"
                       else "receiver" if case.rx == "legacy" else None)
        if legacy_side:
            p = sides[legacy_side]
            res.check("%s: the original %s succeeds" % (case.name, legacy_side),
                      p.proc.returncode == 0 and not p.hung, p.report())
    if case.group == "ours-to-legacy" and case.victim == "sender" and case.point == "transfer":
        # A clean close of the channel is the end of the file in the original
        # framing: an interrupted sender of ours must not produce one.
        res.check("%s: the original receiver does not take the interruption for the end "
                  "of the file" % case.name, rx.proc.returncode != 0 and not rx.hung, rx.report())
        if case.signum != signal.SIGKILL:
            # Stopped by a signal, our sender aborts the association (an
            # SCTP ABORT, never a stream reset, SHUTDOWN or close_notify):
            # the stand-in fails on the abort, or on the silence should the
            # ABORT be lost, never on something that followed a clean close
            # (which it would store when it wins the race with the end of
            # the connection).
            last = (rx.lines() or [""])[-1]
            res.check("%s: the original receiver sees the association aborted, not closed"
                      % case.name,
                      "abort" in last.lower() or re.search(r"connection (disconnected|failed)",
                                                           last) is not None, rx.report())


# --- running -------------------------------------------------------------------------

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0
        self.lock = threading.Lock()

    def line(self, ok, what, detail=""):
        self.n += 1
        if not ok:
            self.failed += 1
        print("%s %d - %s" % ("ok" if ok else "not ok", self.n, what), flush=True)
        if not ok:
            for l in str(detail).splitlines():
                print("#   " + l, flush=True)

    def result(self, res):
        with self.lock:
            for l in res.diags:
                print("# %s: %s" % (res.case.name, l), flush=True)
            for ok, what, detail in res.checks:
                self.line(ok, what, detail)

    def skip(self, what, reason):
        with self.lock:
            self.n += 1
            print("ok %d - %s # SKIP %s" % (self.n, what, reason), flush=True)

    def finish(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


def missing_prerequisite(cases):
    if os.geteuid() != 0:
        return "needs root: network and mount namespaces, iptables, tc"
    for tool, package in (("unshare", "util-linux"), ("setpriv", "util-linux"),
                          ("ip", "iproute2"), ("tc", "iproute2"), ("iptables", "iptables"),
                          ("mount", "mount"), ("sha256sum", "coreutils")):
        if shutil.which(tool) is None:
            return "%s is not installed (Debian package %s)" % (tool, package)
    for what, path in (("DISTRIBUTED_BACKUP", OURS), ("DISTRIBUTED_BACKUP_SERVER", SERVER)):
        if not path or not os.access(path, os.X_OK):
            return "%s is not executable: %r" % (what, path)
    # The namespace tools work here (a container may lack the qdisc or netfilter).
    failure = []

    def probe():
        try:
            enter_new_netns()
            run(["tc", "qdisc", "add", "dev", "lo", "root"] + SHAPE)
            drop_udp(True)
            dropped_packets()
        except Exception as e:
            failure.append(str(e))
    t = threading.Thread(target=probe)
    t.start()
    t.join()
    if failure:
        return "the network namespace tools do not work here: " + failure[0]
    return None


def main(argv):
    global LEGACY
    args = list(argv[1:])
    if "--legacy-tool" in args:
        i = args.index("--legacy-tool")
        LEGACY = args[i + 1] if i + 1 < len(args) else ""
        del args[i:i + 2]
    cases = all_cases()
    if args == ["--list"]:
        for c in cases:
            print(c.name)
        return 0
    if not args:
        print("usage: test-fault-matrix.py {all,%s,CASE...} [--legacy-tool PATH] | --list"
              % ",".join(GROUPS), file=sys.stderr)
        return 2
    chosen = []
    for a in args:
        picked = [c for c in cases if a == "all" or c.group == a or c.name == a]
        if not picked:
            print("test-fault-matrix.py: no case or group %r (see --list)" % a, file=sys.stderr)
            return 2
        chosen.extend(c for c in picked if c not in chosen)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    tap = Tap()
    reason = missing_prerequisite(chosen)
    if reason:
        tap.skip("fault matrix (%d cases)" % len(chosen), reason)
        return tap.finish()
    runnable = []
    for c in chosen:
        if "legacy" in c.group and (not LEGACY or not os.access(LEGACY, os.X_OK)):
            tap.skip(c.name, "the legacy-tool stand-in is not built (%s); it needs Go "
                     "(golang-go) and pion's sources (golang-github-pion-webrtc.v3-dev), and "
                     "is built with the legacy tests" % (LEGACY or "no path given"))
        else:
            runnable.append(c)

    global work_top
    top = work_top = tempfile.mkdtemp(prefix="test-fault-matrix-")
    try:
        ctx = Context(top)
        jobs = max(1, int(os.environ.get("FAULT_JOBS", "6")))
        slots = threading.Semaphore(jobs)
        threads = []
        started = time.monotonic()

        def worker(case):
            res = Result(case)
            try:
                run_case(ctx, case, res)
            finally:
                tap.result(res)
                slots.release()

        for case in sorted(runnable, key=lambda c: -c.length()):
            slots.acquire()
            t = threading.Thread(target=worker, args=(case,), daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            while t.is_alive():
                t.join(0.5)
        print("# %d cases in %.0f s" % (len(runnable), time.monotonic() - started), flush=True)
    finally:
        kill_all()
        if tap.failed and os.environ.get("FAULT_KEEP"):
            print("# work directory kept: " + top, flush=True)
        else:
            shutil.rmtree(top, ignore_errors=True)
        work_top = None
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
