#!/usr/bin/python3
# test-legacy.py CASE [LEGACY_TOOL]: compatibility with the original Go tool, played by
# legacy-tool (pion/webrtc v3), through our FILE.io-compatible server on
# 127.0.0.1. Every case starts its own server and kills every process it
# started on exit. TAP output.
#
# Environment: DISTRIBUTED_BACKUP, DISTRIBUTED_BACKUP_SERVER, and LEGACY_TOOL
# unless given as the second argument. LEGACY_KEEP=1 keeps the work directory
# of a failed case.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import base64
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

API_KEY = "legacy-test-key-0123456789"
PEER_TIMEOUT = 40  # seconds each peer may take, connection included
MIB = 1024 * 1024

LEGACY = os.environ.get("LEGACY_TOOL", "")
OURS = os.environ.get("DISTRIBUTED_BACKUP", "")
SERVER = os.environ.get("DISTRIBUTED_BACKUP_SERVER", "")

processes = []


def kill_all():
    for p in processes:
        if p.poll() is None:
            try:
                p.kill()
            except OSError:
                pass
    for p in processes:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def on_signal(signum, frame):
    kill_all()
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, what, cond, detail=""):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, what), flush=True)
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, what), flush=True)
            for line in str(detail).splitlines():
                print("#   " + line, flush=True)
        return cond

    def diag(self, text):
        for line in str(text).splitlines():
            print("# " + line, flush=True)

    def finish(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


class Server:
    def __init__(self, work):
        self.log = open(os.path.join(work, "server.log"), "w+")
        self.proc = subprocess.Popen(
            [SERVER, "--listen", "127.0.0.1", "--port", "0", "--api-key", API_KEY],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        processes.append(self.proc)
        line = self.proc.stdout.readline().strip()
        prefix = "listening on "
        if not line.startswith(prefix):
            raise RuntimeError("server did not start: %r" % line)
        self.url = line[len(prefix):].rstrip("/")

    def names(self, pattern):
        req = urllib.request.Request(
            self.url + "/?" + urllib.parse.urlencode({"search": pattern, "sort": "created:asc"}),
            headers={"Authorization": "Bearer " + API_KEY})
        with urllib.request.urlopen(req, timeout=5) as r:
            return [n["name"] for n in json.load(r).get("nodes", [])]

    def request(self, method, path, body=None, headers=None):
        h = {"Authorization": "Bearer " + API_KEY}
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=h)
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.read()

    def nodes(self, pattern):
        return json.loads(self.request(
            "GET", "/?" + urllib.parse.urlencode({"search": pattern, "sort": "created:asc"})))["nodes"]

    def upload(self, name, content):
        boundary = "legacy-test-boundary-7c1d"
        parts = []
        for field, value in (("expires", "10m"), ("maxDownloads", "1"), ("autoDelete", "true")):
            parts.append("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                         % (boundary, field, value))
        parts.append("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                     "Content-Type: application/json\r\n\r\n" % (boundary, name))
        body = "".join(parts).encode() + content + ("\r\n--%s--\r\n" % boundary).encode()
        self.request("POST", "/", body,
                     {"Content-Type": "multipart/form-data; boundary=" + boundary})

    def wait_ping(self, session, timeout=15):
        """Wait until a peer of SESSION has uploaded its ping (it is then the
        first peer, the one that waits as answerer)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(n.startswith(session + "_ping") for n in self.names(session + "_ping")):
                return True
            time.sleep(0.1)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Peer:
    """One run of legacy-tool or of our CLI, output kept in files."""

    def __init__(self, work, label, argv):
        self.label = label
        self.out_path = os.path.join(work, label + ".out")
        self.err_path = os.path.join(work, label + ".err")
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        processes.append(self.proc)

    def wait(self, timeout=PEER_TIMEOUT + 20):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "killed after %ds" % timeout

    def stderr(self):
        with open(self.err_path, errors="replace") as f:
            return f.read()

    def report(self):
        return "%s exit %s, stderr:\n%s" % (self.label, self.proc.returncode, self.stderr()[-2000:])


def legacy(work, server, label, session, *args):
    return Peer(work, label, [LEGACY, "-a", API_KEY, "--base-url", server.url,
                              "--ice-address", "127.0.0.1", "-S", "",
                              "--timeout", str(PEER_TIMEOUT), "-u", session] + list(args))


def ours(work, server, label, session, *args):
    return Peer(work, label, [OURS, "--signaling", server.url + "/", "-a", API_KEY,
                              "--ice-address", "127.0.0.1", "-S", "",
                              "--timeout", str(PEER_TIMEOUT), "-q", "-u", session] + list(args))


def pair(tap, work, server, session, first, second):
    """Start FIRST (a function of session), wait for its ping, start SECOND;
    return both peers once they ended."""
    a = first(session)
    if not server.wait_ping(session):
        tap.diag("the first peer uploaded no ping within 15 s")
    b = second(session)
    a.wait()
    b.wait()
    return a, b


def same_file(a, b):
    if not (os.path.isfile(a) and os.path.isfile(b)):
        return False
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x = fa.read(1 << 20)
            y = fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def random_file(path, size):
    with open(path, "wb") as f:
        f.write(os.urandom(size))


def listing(path):
    out = []
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            out.append(os.path.relpath(os.path.join(root, name), path))
    return sorted(out)


def stderr_lines(peer):
    return [l for l in peer.stderr().splitlines() if l.strip()]


# --- cases -----------------------------------------------------------------

def case_self_check(tap, work, server):
    """legacy ↔ legacy through our server: the harness itself works, and the
    stand-in shows the original's documented behaviour."""
    pw = os.path.join(work, "passwords")
    p = Peer(work, "encrypt", [LEGACY, "-e", "-p", pw, "-1=qwerty", "-2", "asdfgh"])
    p.wait()
    data = open(pw, "rb").read() if os.path.exists(pw) else b""
    tap.check("legacy -e writes the reference password file",
              p.proc.returncode == 0 and data.hex() == "b1b5980e9ffc4bb4cf5c1bc17d0d6cf6",
              p.report() + "\ngot " + data.hex())

    src = os.path.join(work, "src")
    dst = os.path.join(work, "dst")
    os.makedirs(src)
    os.makedirs(dst)
    random_file(os.path.join(src, "data.bin"), 5 * MIB)

    # The original sent the bare API key, without "Bearer".
    seen = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, self.headers.get("Authorization")))
            body = b'{"success":true,"status":200,"nodes":[]}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            seen.append((self.path, self.headers.get("Authorization")))
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    recorder = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=recorder.serve_forever, daemon=True).start()
    p = Peer(work, "bare-key", [LEGACY, "-a", API_KEY, "-u", "bare",
                                "--base-url", "http://127.0.0.1:%d" % recorder.server_port,
                                "--ice-address", "127.0.0.1", "-S", "", "-d", dst,
                                "--timeout", "10"])
    end = time.monotonic() + 10
    while time.monotonic() < end and len(seen) < 2:
        time.sleep(0.1)
    p.proc.kill()
    p.wait()
    recorder.shutdown()
    tap.check("legacy tool: first request searches for the ping, bare API key",
              len(seen) >= 2 and seen[0][0].startswith("/?search=bare_ping")
              and all(auth == API_KEY for _, auth in seen), seen)

    # The signaling files of an offering legacy peer, as the original wrote
    # them: the waiting ping is taken, the SDP carries no candidate, and every
    # candidate comes in a file of its own.
    server.upload("self-0_ping_00000000-0000-4000-8000-000000000000.json", b'{"type":"ping"}')
    p = legacy(work, server, "offerer", "self-0", "-d", dst, "--timeout", "15")
    files = {}
    pings = []

    def collect():
        nonlocal pings
        nodes = server.nodes("self-0")
        pings = [n["name"] for n in nodes if "_ping_" in n["name"]]
        for n in nodes:
            if "_ping_" not in n["name"] and n["name"] not in files:
                files[n["name"]] = json.loads(server.request("GET", "/" + n["key"]))

    end = time.monotonic() + 10
    while time.monotonic() < end and not (
            any("_sdp_" in n for n in files) and any("_candidate_" in n for n in files)):
        collect()
        time.sleep(0.2)
    time.sleep(1.5)  # candidates trickle in
    collect()
    p.proc.kill()
    p.wait()
    sdps = [m for n, m in files.items() if "_sdp_" in n]
    cands = [m for n, m in files.items() if "_candidate_" in n]
    tap.check("legacy offerer: took the waiting ping and uploaded none", pings == [], pings)
    offer = {}
    if len(sdps) == 1:
        try:
            offer = json.loads(base64.b64decode(sdps[0]["payload"]))
        except ValueError:
            pass
    tap.check("legacy offerer: one SDP file, an offer without candidates",
              offer.get("type") == "offer" and "a=candidate" not in offer.get("sdp", "x=candidate")
              and "m=application" in offer.get("sdp", ""), files)
    decoded = [base64.b64decode(m.get("payload", "")).decode(errors="replace") for m in cands]
    tap.check("legacy offerer: one file per trickled candidate, payload candidate:…",
              len(cands) >= 1 and all(c.startswith("candidate:") and " 127.0.0.1 " in c
                                      for c in decoded), decoded)

    r, s = pair(tap, work, server, "self-1",
                lambda u: legacy(work, server, "receiver", u, "-d", dst, "-v", "2"),
                lambda u: legacy(work, server, "sender", u, "-s", os.path.join(src, "data.bin")))
    tap.check("legacy → legacy, receiver first: both succeed",
              r.proc.returncode == 0 and s.proc.returncode == 0, r.report() + "\n" + s.report())
    tap.check("legacy → legacy, receiver first: content identical",
              same_file(os.path.join(src, "data.bin"), os.path.join(dst, "data.bin")))

    # A second reception rotates: data.bin.1 is the first one.
    first = os.path.join(work, "first.bin")
    shutil.copy(os.path.join(src, "data.bin"), first)
    random_file(os.path.join(src, "data.bin"), 1 * MIB)
    r, s = pair(tap, work, server, "self-2",
                lambda u: legacy(work, server, "receiver", u, "-d", dst, "-v", "2"),
                lambda u: legacy(work, server, "sender", u, "-s", os.path.join(src, "data.bin")))
    tap.check("legacy → legacy: second reception rotates versions",
              r.proc.returncode == 0 and s.proc.returncode == 0
              and same_file(os.path.join(src, "data.bin"), os.path.join(dst, "data.bin"))
              and same_file(first, os.path.join(dst, "data.bin.1")),
              r.report() + "\n" + s.report())

    # Sender first: the original's receiver becomes the offerer, reads pion's
    # 4-byte DCEP ACK into its 1-byte buffer and fails.
    empty = os.path.join(work, "dst-sender-first")
    os.makedirs(empty)
    s, r = pair(tap, work, server, "self-3",
                lambda u: legacy(work, server, "sender", u, "-s", os.path.join(src, "data.bin"),
                                 "--timeout", "20"),
                lambda u: legacy(work, server, "receiver", u, "-d", empty, "--timeout", "20"))
    tap.check("legacy → legacy, sender first: the receiver fails on pion's 4-byte ACK",
              r.proc.returncode != 0 and "short buffer" in r.stderr(), r.report())


def case_legacy_to_ours(tap, work, server, ours_first):
    order = "ours (receiver) first" if ours_first else "legacy (sender) first"
    src = os.path.join(work, "src")
    dst = os.path.join(work, "dst")
    os.makedirs(src)
    os.makedirs(dst)
    path = os.path.join(src, "data.bin")
    copies = []
    for i in range(3):
        random_file(path, 5 * MIB)
        keep = os.path.join(work, "sent-%d.bin" % i)
        shutil.copy(path, keep)
        copies.append(keep)
        rx = lambda u: ours(work, server, "ours-receiver", u, "-d", dst, "-v", "2")
        tx = lambda u: legacy(work, server, "legacy-sender", u, "-s", path)
        a, b = pair(tap, work, server, "l2o-%d" % i, rx if ours_first else tx,
                    tx if ours_first else rx)
        r, s = (a, b) if ours_first else (b, a)
        tap.check("legacy sender → our receiver, %s, reception %d: both succeed" % (order, i + 1),
                  r.proc.returncode == 0 and s.proc.returncode == 0,
                  r.report() + "\n" + s.report())
        if not tap.check("reception %d: content identical" % (i + 1),
                         same_file(path, os.path.join(dst, "data.bin"))):
            tap.diag("stopping after the failed reception %d" % (i + 1))
            break
    tap.check("-v 2 after three receptions: data.bin is the third, data.bin.1 the second",
              len(copies) == 3 and same_file(copies[2], os.path.join(dst, "data.bin"))
              and same_file(copies[1], os.path.join(dst, "data.bin.1")))
    tap.check("-v 2 after three receptions: exactly two files",
              listing(dst) == ["data.bin", "data.bin.1"], listing(dst))


def case_ours_to_legacy(tap, work, server, ours_first):
    order = "ours (sender) first" if ours_first else "legacy (receiver) first"
    src = os.path.join(work, "src")
    dst = os.path.join(work, "dst")
    os.makedirs(src)
    os.makedirs(dst)
    path = os.path.join(src, "data.bin")
    random_file(path, 5 * MIB)
    tx = lambda u: ours(work, server, "ours-sender", u, "-s", path)
    rx = lambda u: legacy(work, server, "legacy-receiver", u, "-d", dst)
    a, b = pair(tap, work, server, "o2l", tx if ours_first else rx, rx if ours_first else tx)
    s, r = (a, b) if ours_first else (b, a)
    tap.check("our sender → legacy receiver, %s: both succeed" % order,
              r.proc.returncode == 0 and s.proc.returncode == 0,
              r.report() + "\n" + s.report())
    tap.check("%s: content identical" % order, same_file(path, os.path.join(dst, "data.bin")))
    tap.check("%s: nothing else written" % order, listing(dst) == ["data.bin"], listing(dst))


def extract(archive, password, into):
    os.makedirs(into)
    p = subprocess.run(["7zz", "x", "-y", "-p" + password, "-o" + into, archive],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def tree_equal(a, b):
    if listing(a) != listing(b):
        return False
    for rel in listing(a):
        pa, pb = os.path.join(a, rel), os.path.join(b, rel)
        if os.path.isfile(pa) and not same_file(pa, pb):
            return False
    return True


def case_vault_zip(tap, work, server):
    pw = os.path.join(work, "passwords")
    p = Peer(work, "encrypt", [LEGACY, "-e", "-p", pw, "-1", "inner-secret", "-2", "outer-secret"])
    tap.check("legacy -e writes a password file", p.wait() == 0 and os.path.isfile(pw), p.report())

    tree = os.path.join(work, "project")
    os.makedirs(os.path.join(tree, "sub", "deeper"))
    random_file(os.path.join(tree, "a.bin"), 300 * 1024)
    with open(os.path.join(tree, "sub", "notes.txt"), "w") as f:
        f.write("hello from the legacy vault test\n" * 100)
    random_file(os.path.join(tree, "sub", "deeper", "c.bin"), 5000)
    dst = os.path.join(work, "dst")
    os.makedirs(dst)
    tx = lambda u: ours(work, server, "ours-sender", u, "-z", "-s", tree, "-o", "backup.zip",
                        "-p", pw)
    rx = lambda u: legacy(work, server, "legacy-receiver", u, "-d", dst)
    r, s = pair(tap, work, server, "vault", rx, tx)
    tap.check("our sender reads the legacy password file and sends -z to the legacy receiver",
              r.proc.returncode == 0 and s.proc.returncode == 0, r.report() + "\n" + s.report())
    outer = os.path.join(dst, "backup.zip")
    tap.check("the legacy receiver stored backup.zip", os.path.isfile(outer), listing(dst))

    rc, out = extract(outer, "wrong", os.path.join(work, "x-wrong"))
    tap.check("the outer zip does not open with a wrong password", rc != 0, out)
    rc, out = extract(outer, "outer-secret", os.path.join(work, "x-outer"))
    inner_dir = os.path.join(work, "x-outer")
    entries = listing(inner_dir) if os.path.isdir(inner_dir) else []
    tap.check("the outer zip opens with password 2 and holds exactly project.zip",
              rc == 0 and entries == ["project.zip"], out + "\n" + repr(entries))
    inner = os.path.join(inner_dir, "project.zip")
    rc, out = extract(inner, "outer-secret", os.path.join(work, "y-wrong"))
    tap.check("the inner zip does not open with password 2", rc != 0, out)
    rc, out = extract(inner, "inner-secret", os.path.join(work, "y-inner"))
    tap.check("the inner zip opens with password 1 and holds the tree, content identical",
              rc == 0 and tree_equal(tree, os.path.join(work, "y-inner")),
              out + "\n" + repr(listing(os.path.join(work, "y-inner"))
                                if os.path.isdir(os.path.join(work, "y-inner")) else []))


def case_hostile_names(tap, work, server):
    src = os.path.join(work, "data.bin")
    random_file(src, 64 * 1024)

    # Control: the same setup with a plain name stores the file, so the
    # refusals below come from the name and not from a broken transfer.
    dst = os.path.join(work, "control")
    os.makedirs(dst)
    r, s = pair(tap, work, server, "hostile-control",
                lambda u: ours(work, server, "ours-receiver-control", u, "-d", dst),
                lambda u: legacy(work, server, "legacy-sender-control", u, "-s", src,
                                 "--send-name", "plain.bin"))
    tap.check("control: name 'plain.bin' from --send-name is received",
              r.proc.returncode == 0 and same_file(src, os.path.join(dst, "plain.bin"))
              and listing(dst) == ["plain.bin"], r.report() + "\n" + s.report())

    for i, name in enumerate(["../escape", "a/b", ".."]):
        parent = os.path.join(work, "parent-%d" % i)
        dst = os.path.join(parent, "dst")
        os.makedirs(dst)
        r, s = pair(tap, work, server, "hostile-%d" % i,
                    lambda u: ours(work, server, "ours-receiver-%d" % i, u, "-d", dst),
                    lambda u: legacy(work, server, "legacy-sender-%d" % i, u, "-s", src,
                                     "--send-name", name, "--timeout", "20"))
        with open(s.out_path) as f:
            opened = "channel open" in f.read()
        tap.check("name %r: the legacy sender reached the data channel" % name, opened,
                  s.report())
        tap.check("name %r: our receiver exits non-zero" % name,
                  isinstance(r.proc.returncode, int) and r.proc.returncode != 0, r.report())
        lines = stderr_lines(r)
        tap.check("name %r: exactly one error line, about the name" % name,
                  len(lines) == 1 and "name" in lines[0].lower(), r.stderr())
        tap.diag("our receiver said: %s" % (lines[0] if lines else "(nothing)"))
        tap.check("name %r: nothing written inside the destination" % name,
                  listing(dst) == [], listing(dst))
        tap.check("name %r: nothing written outside the destination" % name,
                  listing(parent) == ["dst"] and not os.path.exists(os.path.join(work, "escape")),
                  listing(parent))


def case_corrupt_stream(tap, work, server):
    """A sender that speaks our framing but whose end frame carries another
    SHA-256 than the content's (a lying peer, or a stream corrupted on the
    way): the receiver stores nothing and keeps the versions it has."""
    src = os.path.join(work, "data.bin")
    random_file(src, 256 * 1024)
    dst = os.path.join(work, "dst")
    os.makedirs(dst)
    kept = os.path.join(dst, "data.bin")
    random_file(kept, 1000)
    with open(kept, "rb") as f:
        before = f.read()

    r, s = pair(tap, work, server, "corrupt",
                lambda u: ours(work, server, "ours-receiver-corrupt", u, "-d", dst, "-v", "3"),
                lambda u: legacy(work, server, "legacy-liar", u, "-s", src, "--lie-sha256",
                                 "--timeout", "30"))
    with open(s.out_path) as f:
        said = f.read()
    tap.check("the lying sender reached the data channel", "channel open" in said, s.report())
    tap.check("our receiver exits non-zero",
              isinstance(r.proc.returncode, int) and r.proc.returncode != 0, r.report())
    lines = stderr_lines(r)
    tap.check("exactly one error line, saying the file is corrupt",
              len(lines) == 1 and "corrupt" in lines[0] and "data.bin" in lines[0], r.stderr())
    tap.diag("our receiver said: %s" % (lines[0] if lines else "(nothing)"))
    tap.check("the sender was told, in an error frame",
              '"type":"error"' in said.replace(" ", "") and "corrupt" in said, said)
    with open(kept, "rb") as f:
        after = f.read()
    tap.check("the version already stored is untouched, nothing else is left",
              after == before and listing(dst) == ["data.bin"], listing(dst))


def part_size(dst):
    """Size of the receiver's hidden temporary file, 0 while there is none."""
    sizes = [os.path.getsize(os.path.join(dst, n)) for n in os.listdir(dst)
             if n.startswith(".") and n.endswith(".part")]
    return max(sizes, default=0)


def case_interrupted_sender(tap, work, server):
    """The original sender, interrupted in the middle (SIGINT, SIGTERM),
    closes its DTLS session without resetting the channel's stream: that is
    not the end of the file. Our receiver stores nothing, keeps every
    version, says so in one line and exits non-zero."""
    src = os.path.join(work, "src")
    dst = os.path.join(work, "dst")
    os.makedirs(src)
    os.makedirs(dst)
    versions = {}
    for name in ("data.bin", "data.bin.1"):
        random_file(os.path.join(dst, name), 256 * 1024)
        versions[name] = open(os.path.join(dst, name), "rb").read()
    path = os.path.join(src, "data.bin")
    random_file(path, 32 * MIB)

    for i, sig in enumerate((signal.SIGINT, signal.SIGTERM)):
        session = "interrupted-%d" % i
        r = ours(work, server, "ours-receiver-%d" % i, session, "-d", dst, "-v", "2")
        if not server.wait_ping(session):
            tap.diag("the receiver uploaded no ping within 15 s")
        s = legacy(work, server, "legacy-sender-%d" % i, session, "-s", path, "--send-rate", "2048")
        end = time.monotonic() + PEER_TIMEOUT
        while time.monotonic() < end and part_size(dst) < 2 * MIB and s.proc.poll() is None:
            time.sleep(0.05)
        received = part_size(dst)
        s.proc.send_signal(sig)
        s.wait()
        code = r.wait()
        lines = stderr_lines(r)
        tap.check("%s: the transfer was under way when the sender was interrupted"
                  % sig.name, 2 * MIB <= received < 32 * MIB, "part file of %d bytes" % received)
        tap.check("%s: the receiver exits non-zero with one line saying nothing was stored"
                  % sig.name,
                  code not in (0, None) and len(lines) == 1 and "interrupted" in lines[0]
                  and "nothing was stored" in lines[0], r.report())
        after = {n: open(os.path.join(dst, n), "rb").read() for n in listing(dst)}
        tap.check("%s: both stored versions are byte-identical, nothing else is left" % sig.name,
                  after == versions, listing(dst))


def case_late_answer(tap, work, server):
    """A peer that fetches our answer late (the original polls every few
    seconds and backs off on HTTP 429): here 35 s. The connection deadline
    comes from --timeout and starts when the peer shows up, so the backup
    goes through."""
    src = os.path.join(work, "src")
    dst = os.path.join(work, "dst")
    os.makedirs(src)
    os.makedirs(dst)
    path = os.path.join(src, "data.bin")
    random_file(path, 1 * MIB)
    session = "late-answer"
    r = Peer(work, "ours-receiver", [OURS, "--signaling", server.url + "/", "-a", API_KEY,
                                     "--ice-address", "127.0.0.1", "-S", "", "--timeout", "100",
                                     "-q", "-u", session, "-d", dst])
    if not server.wait_ping(session):
        tap.diag("the receiver uploaded no ping within 15 s")
    started = time.monotonic()
    s = legacy(work, server, "legacy-sender", session, "-s", path, "--poll", "35",
               "--timeout", "100")
    s.wait(timeout=120)
    r.wait(timeout=120)
    took = time.monotonic() - started
    tap.check("a sender that polls every 35 s took more than 30 s to connect",
              took > 30, "%.1f s" % took)
    tap.check("a sender that polls every 35 s: both succeed",
              r.proc.returncode == 0 and s.proc.returncode == 0, r.report() + "\n" + s.report())
    tap.check("a sender that polls every 35 s: content identical",
              same_file(path, os.path.join(dst, "data.bin")))


CASES = {
    "self-check": case_self_check,
    "legacy-to-ours": lambda t, w, s: case_legacy_to_ours(t, w, s, ours_first=True),
    "legacy-to-ours-sender-first": lambda t, w, s: case_legacy_to_ours(t, w, s, ours_first=False),
    "ours-to-legacy": lambda t, w, s: case_ours_to_legacy(t, w, s, ours_first=False),
    "ours-to-legacy-sender-first": lambda t, w, s: case_ours_to_legacy(t, w, s, ours_first=True),
    "vault-zip": case_vault_zip,
    "hostile-names": case_hostile_names,
    "corrupt-stream": case_corrupt_stream,
    "interrupted-sender": case_interrupted_sender,
    "late-answer": case_late_answer,
}


def main():
    global LEGACY
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in CASES:
        print("usage: test-legacy.py {%s} [LEGACY_TOOL]" % ",".join(CASES), file=sys.stderr)
        return 2
    if len(sys.argv) == 3:
        LEGACY = sys.argv[2]
    tap = Tap()
    missing = [n for n, v in (("LEGACY_TOOL", LEGACY), ("DISTRIBUTED_BACKUP", OURS),
                              ("DISTRIBUTED_BACKUP_SERVER", SERVER))
               if not v or not os.access(v, os.X_OK)]
    if missing:
        tap.check("executables present", False, "not executable: " + ", ".join(missing))
        return tap.finish()
    work = tempfile.mkdtemp(prefix="test-legacy-")
    server = None
    try:
        server = Server(work)
        CASES[sys.argv[1]](tap, work, server)
    except Exception as e:  # a broken harness step is a failure, not a crash
        tap.check("case %s ran to the end" % sys.argv[1], False, repr(e))
    finally:
        if server is not None:
            server.stop()
        kill_all()
        if tap.failed and os.environ.get("LEGACY_KEEP"):
            tap.diag("work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return tap.finish()


if __name__ == "__main__":
    sys.exit(main())
