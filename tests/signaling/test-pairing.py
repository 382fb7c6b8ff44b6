#!/usr/bin/env python3
# test-pairing.py: BackupPairing between real processes (pairing-peer, and
# legacy-peer.py that behaves like the original tool), through a directory
# store and through a real distributed-backup-server on 127.0.0.1.
#
#   test-pairing.py PAIRING-PEER GROUP
#
# GROUP: basic, race, edge, signals, legacy, malformed, late. Output: TAP.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = sys.argv[1]
GROUP = sys.argv[2]
LEGACY = os.path.join(HERE, "legacy-peer.py")
SERVER = os.environ.get("DISTRIBUTED_BACKUP_SERVER")
API_KEY = "test-key-" + uuid.uuid4().hex[:8]

results = []


def tap(ok, name, detail=""):
    results.append(ok)
    print("%s %d - %s" % ("ok" if ok else "not ok", len(results), name), flush=True)
    if not ok and detail:
        for line in str(detail).splitlines():
            print("# " + line, flush=True)


class Server:
    def __init__(self, *extra):
        self.proc = subprocess.Popen([SERVER, "--listen", "127.0.0.1", "--port", "0",
                                      "--api-key", API_KEY] + list(extra),
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:"), line
        self.url = line[len("listening on "):].rstrip("/")

    def names(self, pattern):
        req = urllib.request.Request(self.url + "/?search=" + pattern + "&sort=created:asc",
                                     headers={"Authorization": "Bearer " + API_KEY})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return [n["name"] for n in json.load(resp)["nodes"]]

    def upload(self, name, data):
        boundary = uuid.uuid4().hex
        body = (("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                 "Content-Type: application/json\r\n\r\n" % (boundary, name)).encode()
                + data + ("\r\n--%s--\r\n" % boundary).encode())
        req = urllib.request.Request(self.url + "/", data=body, method="POST", headers={
            "Authorization": "Bearer " + API_KEY,
            "Content-Type": "multipart/form-data; boundary=" + boundary})
        urllib.request.urlopen(req, timeout=30).read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class DirStoreUnderTest:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="pairing-test-")
        self.url = self.path

    def names(self, pattern):
        return sorted(n for n in os.listdir(self.path) if pattern in n)

    def all_files(self):
        return sorted(os.listdir(self.path))

    def upload(self, name, data):
        with open(os.path.join(self.path, name), "wb") as f:
            f.write(data)

    def stop(self):
        shutil.rmtree(self.path, ignore_errors=True)


class Peer:
    def __init__(self, store, session, label, legacy=False, candidates=1, expect=1,
                 timeout=30, extra=()):
        if legacy:
            cmd = [sys.executable, LEGACY]
        else:
            cmd = [PEER, "--poll-min", "200", "--poll-max", "1500"]
        cmd += ["--store", store.url, "--session", session, "--label", label,
                "--candidates", str(candidates), "--expect-candidates", str(expect),
                "--timeout", str(timeout)] + list(extra)
        if isinstance(store, Server):
            cmd += ["--api-key", API_KEY]
        self.label = label
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait(self, timeout=60):
        try:
            self.status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.status = "hung"
        self.reader.join(5)
        self.stderr = self.proc.stderr.read()
        self.proc.stderr.close()
        return self.status

    def value(self, key):
        for line in self.lines:
            if line.startswith(key + " "):
                return line[len(key) + 1:]
        return None

    def values(self, key):
        return [l[len(key) + 1:] for l in self.lines if l.startswith(key + " ")]

    def wait_for_line(self, prefix, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(l.startswith(prefix) for l in self.lines):
                return True
            time.sleep(0.05)
        return False

    def describe(self):
        return "%s: status %s\n%s\n%s" % (self.label, getattr(self, "status", "?"),
                                          "\n".join(self.lines), getattr(self, "stderr", ""))


def check_pair(a, b, store, session, cands_a=1, cands_b=1, legacy=()):
    """a and b ran to completion and exchanged with each other."""
    problems = []
    for p in (a, b):
        if p.status != 0:
            problems.append("%s exited %s" % (p.label, p.status))
    roles = {a.value("role"), b.value("role")}
    if roles != {"offerer", "answerer"}:
        problems.append("roles %s" % roles)
    for p, q, n in ((a, b, cands_b), (b, a, cands_a)):
        desc = p.value("remote-description")
        want = ("answer " if p.value("role") == "offerer" else "offer ") + q.label
        if desc != want:
            problems.append("%s got %r, wanted %r" % (p.label, desc, want))
        cands = p.values("remote-candidate")
        if len(cands) != n:
            problems.append("%s got %d candidates, wanted %d" % (p.label, len(cands), n))
        if p.label not in legacy and q.label not in legacy:
            ext = p.value("remote-extension")
            if ext is None or json.loads(ext)["ext"]["label"] != q.label:
                problems.append("%s got extension %r" % (p.label, ext))
        if p.label not in legacy and q.label in legacy and p.value("remote-extension"):
            problems.append("%s got an extension from the legacy peer" % p.label)
    left = [n for n in store.names(session)
            if any(p.value("instance") and p.value("instance") in n
                   for p in (a, b) if p.label not in legacy)]
    if left:
        problems.append("left in the store: %s" % left)
    return problems, "\n".join(problems + [a.describe(), b.describe()])


def stores():
    out = [("dir", DirStoreUnderTest)]
    if SERVER:
        out.append(("http", Server))
    return out


def pair(kind, store, order, cands=(1, 2), delay=0.5, legacy=()):
    session = str(uuid.uuid4())
    first, second = order
    a = Peer(store, session, first, legacy=first in legacy, candidates=cands[0], expect=cands[1])
    time.sleep(delay)
    b = Peer(store, session, second, legacy=second in legacy, candidates=cands[1], expect=cands[0])
    a.wait()
    b.wait()
    problems, detail = check_pair(a, b, store, session, cands[0], cands[1], legacy)
    return a, b, problems, detail


def group_basic():
    for kind, factory in stores():
        store = factory()
        try:
            a, b, problems, detail = pair(kind, store, ("A", "B"), (2, 1))
            tap(not problems and a.value("role") == "answerer", "%s: first A then B" % kind, detail)
            a, b, problems, detail = pair(kind, store, ("B", "A"), (1, 0))
            tap(not problems and a.value("role") == "answerer", "%s: first B then A" % kind, detail)
            tap(not store.names(""), "%s: store empty after success" % kind, store.names(""))
        finally:
            store.stop()


def group_race():
    for kind, factory in stores():
        store = factory()
        try:
            iterations = 6 if kind == "dir" else 4
            for i in range(iterations):
                a, b, problems, detail = pair(kind, store, ("A", "B"), (1, 1), delay=0)
                tap(not problems, "%s: simultaneous start %d" % (kind, i + 1), detail)
            # a peer that waits with its ping but never breaks the tie (as the
            # original tool does): the higher instance takes it after a grace period
            session = str(uuid.uuid4())
            ghost = "00000000-0000-0000-0000-000000000000"
            a = Peer(store, session, "A", timeout=20)
            seen = False
            deadline = time.monotonic() + 10
            while not seen and time.monotonic() < deadline:
                seen = bool(store.names(session + "_ping"))
                time.sleep(0.02)
            store.upload("%s_ping_%s.json" % (session, ghost), b"{\"type\":\"ping\"}")
            took = a.wait_for_line("peer ", 15)
            a.proc.send_signal(signal.SIGTERM)
            a.wait()
            tap(seen and took and a.value("role") == "offerer" and a.value("peer") == ghost
                and a.status == 143 and not store.names(session),
                "%s: a ping that never yields is taken after the grace period" % kind, a.describe())

            if kind == "dir":
                for i in range(3):
                    ok, detail = forced_tie(store)
                    tap(ok, "dir: both pings present, the tie-break pairs them %d" % (i + 1), detail)
            tap(not store.names(""), "%s: store empty after the races" % kind, store.names(""))
        finally:
            store.stop()


def forced_tie(store):
    """Both peers end up waiting with their pings in the store at once: A's
    ping is hidden while B looks, then put back while A is stopped."""
    session = str(uuid.uuid4())
    a = Peer(store, session, "A", timeout=20)
    ok = a.wait_for_line("instance")
    ping = os.path.join(store.path, "%s_ping_%s.json" % (session, a.value("instance")))
    hidden = os.path.join(store.path, ".hidden-ping")
    deadline = time.monotonic() + 10
    while not os.path.exists(ping) and time.monotonic() < deadline:
        time.sleep(0.02)
    a.proc.send_signal(signal.SIGSTOP)
    os.rename(ping, hidden)
    b = Peer(store, session, "B", timeout=20)
    ok = ok and b.wait_for_line("instance")
    while len(store.names(session + "_ping")) < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.rename(hidden, ping)
    a.proc.send_signal(signal.SIGCONT)
    a.wait()
    b.wait()
    problems, detail = check_pair(a, b, store, session)
    lower = min((a, b), key=lambda p: p.value("instance"))
    if lower.value("role") != "offerer":
        problems.append("the lower instance id did not become the offerer")
    return not problems and ok, detail


def group_edge():
    for kind, factory in stores():
        store = factory()
        try:
            # nobody shows up
            session = str(uuid.uuid4())
            start = time.monotonic()
            p = Peer(store, session, "alone", timeout=3)
            p.wait(30)
            took = time.monotonic() - start
            err = p.value("error") or ""
            tap(p.status == 2 and ("No peer showed up for session %s within 3 s" % session) in err
                and 2.5 < took < 15 and not store.names(session),
                "%s: gives up after the timeout, store clean (%.1f s)" % (kind, took), p.describe())

            # a third peer on the session
            session = str(uuid.uuid4())
            peers = [Peer(store, session, "P1", timeout=8)]
            time.sleep(0.3)
            peers.append(Peer(store, session, "P2", timeout=8))
            time.sleep(0.3)
            peers.append(Peer(store, session, "P3", timeout=8))
            for p in peers:
                p.wait(40)
            winners = [p for p in peers if p.status == 0]
            losers = [p for p in peers if p.status != 0]
            ok = len(winners) == 2 and len(losers) == 1 and losers[0].status == 2
            if ok:
                problems, detail = check_pair(winners[0], winners[1], store, session)
                ok = not problems
            tap(ok and not store.names(session), "%s: a third peer does not break the pair" % kind,
                "\n".join(p.describe() for p in peers))

            # a fourth peer pairs with the third
            session = str(uuid.uuid4())
            peers = [Peer(store, session, "Q%d" % i, timeout=15) for i in range(1, 5)]
            for p in peers:
                p.wait(40)
            ok = all(p.status == 0 for p in peers)
            partner = {}
            for p in peers:
                partner[p.label] = (p.value("remote-description") or " ?").split(" ")[1]
            ok = ok and all(partner.get(partner[l]) == l for l in partner)
            tap(ok and not store.names(session), "%s: four peers make two pairs %s" % (kind, partner),
                "\n".join(p.describe() for p in peers))
        finally:
            store.stop()


def group_signals():
    for kind, factory in stores():
        store = factory()
        try:
            for signame, expected in (("SIGINT", 130), ("SIGTERM", 143)):
                session = str(uuid.uuid4())
                p = Peer(store, session, "waiting", timeout=60)
                seen = False
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline and not seen:
                    seen = bool(store.names(session + "_ping"))
                    time.sleep(0.05)
                p.proc.send_signal(getattr(signal, signame))
                p.wait(20)
                tap(seen and p.status == expected and not store.names(session),
                    "%s: %s to a waiting peer → exit %d, store clean" % (kind, signame, expected),
                    p.describe() + "\nleft: %s" % store.names(session))
        finally:
            store.stop()

    if SERVER:
        # the server goes away while a peer waits
        server = Server()
        session = str(uuid.uuid4())
        p = Peer(server, session, "orphan", timeout=60)
        p.wait_for_line("instance")
        time.sleep(1.0)
        server.stop()
        start = time.monotonic()
        status = p.wait(30)
        took = time.monotonic() - start
        err = p.value("error") or ""
        tap(status == 1 and "signaling server" in err and took < 20,
            "http: server killed mid-pairing → clear error in %.1f s" % took, p.describe())


def group_legacy():
    for kind, factory in stores():
        store = factory()
        try:
            a, b, problems, detail = pair(kind, store, ("legacy", "ours"), (2, 1), delay=1.0,
                                          legacy=("legacy",))
            tap(not problems and b.value("role") == "offerer",
                "%s: original tool waits, we offer" % kind, detail)
            a, b, problems, detail = pair(kind, store, ("ours", "legacy"), (1, 3), delay=1.0,
                                          legacy=("legacy",))
            tap(not problems and a.value("role") == "answerer",
                "%s: we wait, original tool offers" % kind, detail)
        finally:
            store.stop()


def group_malformed():
    for kind, factory in stores():
        store = factory("--max-upload-size", "16M") if kind == "http" else factory()
        try:
            session = str(uuid.uuid4())
            junk = {
                session + "_garbage": b"{\"type\":\"ping\"}",
                session + "_sdp_evil1.json": b"this is not json",
                session + "_sdp_evil2.json": b"{\"type\":\"sdp\",\"payload\":\"@@@not base64@@@\"}",
                session + "_sdp_evil3.json": b"{\"type\":\"bogus\",\"payload\":\"e30=\"}",
                session + "_sdp_evil4.json": b"{\"type\":\"sdp\",\"payload\":\"eyJ0eXBlIjoib2ZmZXIifQ==\"}",
                session + "_sdp_big.json": b"{\"type\":\"sdp\",\"payload\":\"" + b"A" * (10 * 1024 * 1024) + b"\"}",
                session + "_candidate_evil5.json": b"{\"type\":\"candidate\"}",
            }
            for name, data in junk.items():
                store.upload(name, data)
            a = Peer(store, session, "A", candidates=1, expect=1)
            time.sleep(0.5)
            b = Peer(store, session, "B", candidates=1, expect=1)
            a.wait()
            b.wait()
            problems, detail = check_pair(a, b, store, session)
            tap(not problems, "%s: malformed files are skipped, the pairing succeeds" % kind, detail)
            tap("Skipping signaling file" in a.stderr + b.stderr,
                "%s: malformed files are reported" % kind, a.stderr + b.stderr)
        finally:
            store.stop()


def group_late():
    out = {}

    def run(kind, factory):
        store = factory()
        try:
            session = str(uuid.uuid4())
            a = Peer(store, session, "early", timeout=90, extra=["--poll-max", "8000"] if kind == "http" else [])
            time.sleep(30)
            b = Peer(store, session, "late", timeout=30)
            a.wait(90)
            b.wait(60)
            out[kind] = check_pair(a, b, store, session)
        finally:
            store.stop()

    threads = [threading.Thread(target=run, args=s) for s in stores()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for kind, _ in stores():
        problems, detail = out.get(kind, (["no result"], ""))
        tap(not problems, "%s: a second peer 30 s after the first" % kind, detail)


def main():
    if not SERVER or not os.access(SERVER, os.X_OK):
        print("# DISTRIBUTED_BACKUP_SERVER is not set: HTTP cases are left out")
    globals()["group_" + GROUP]()
    print("1..%d" % len(results), flush=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
