#!/usr/bin/env python3
# legacy-peer.py: a peer that signals exactly like the original Go tool, for
# the pairing tests. It uses the store operations alone: search pings; delete
# one and offer, or upload its own ping and wait; then list the session over
# and over and download every file that is not its own (pings included). It
# sends an SDP without candidates and one upload per candidate, writes its
# JSON the way Go's encoding/json does, and sends no extension members.
#
#   legacy-peer.py --store URL|DIR [--api-key KEY] --session ID --label L
#                  [--candidates N] [--expect-candidates N] [--timeout S]
#
# Prints the same lines as pairing-peer: instance, role, remote-description,
# remote-extension (if any), remote-candidate, done. Exit 0 on success, 2 on
# timeout.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid


def go_json(obj):
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028")
            .replace("\u2029", "\\u2029")).encode()


class HttpStore:
    def __init__(self, url, key):
        self.url = url.rstrip("/") + "/"
        self.key = key

    def _request(self, method, path, body=None, ctype=None):
        req = urllib.request.Request(self.url + path, data=body, method=method)
        if self.key:
            # the original sent the bare key
            req.add_header("Authorization", self.key)
        if ctype:
            req.add_header("Content-Type", ctype)
        for attempt in range(10):
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    return resp.read()
            except urllib.error.HTTPError as e:
                if e.code == 429:
                    time.sleep(float(e.headers.get("Retry-After") or 1))
                    continue
                raise
        raise RuntimeError("rate limited")

    def upload(self, name, data):
        boundary = uuid.uuid4().hex
        parts = []
        for field, value in (("expires", "10m"), ("maxDownloads", "1"), ("autoDelete", "true")):
            parts.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                          % (boundary, field, value)).encode())
        parts.append(("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                      "Content-Type: application/json\r\n\r\n" % (boundary, name)).encode()
                     + data + b"\r\n")
        parts.append(("--%s--\r\n" % boundary).encode())
        self._request("POST", "", b"".join(parts), "multipart/form-data; boundary=" + boundary)

    def list(self, pattern):
        answer = json.loads(self._request(
            "GET", "?search=" + urllib.parse.quote(pattern) + "&sort=created:asc"))
        return [(n["key"], n["name"]) for n in answer["nodes"]]

    def download(self, key):
        try:
            return self._request("GET", urllib.parse.quote(key))
        except urllib.error.HTTPError as e:
            if e.code in (403, 404):
                return None
            raise

    def delete(self, key):
        try:
            self._request("DELETE", urllib.parse.quote(key))
        except urllib.error.HTTPError as e:
            if e.code not in (403, 404):
                raise


class DirStore:
    def __init__(self, path):
        self.path = path
        self.n = 0

    def upload(self, name, data):
        self.n += 1
        tmp = os.path.join(self.path, ".legacy-%d-%d" % (os.getpid(), self.n))
        with open(tmp, "wb") as f:
            f.write(data)
        final = os.path.join(self.path, name)
        i = 1
        while True:
            try:
                os.link(tmp, final if i == 1 else "%s~%d" % (final, i))
                break
            except FileExistsError:
                i += 1
        os.unlink(tmp)

    def list(self, pattern):
        out = []
        for name in os.listdir(self.path):
            if name.startswith("."):
                continue
            base = name.split("~")[0]
            if pattern in base:
                try:
                    st = os.stat(os.path.join(self.path, name))
                except FileNotFoundError:  # taken by a peer since the listing
                    continue
                out.append((st.st_mtime_ns, name, base))
        return [(key, base) for _, key, base in sorted(out)]

    def download(self, key):
        claim = os.path.join(self.path, ".legacy-claim-%s" % uuid.uuid4())
        try:
            os.rename(os.path.join(self.path, key), claim)
        except FileNotFoundError:
            return None
        with open(claim, "rb") as f:
            data = f.read()
        os.unlink(claim)
        return data

    def delete(self, key):
        try:
            os.unlink(os.path.join(self.path, key))
        except FileNotFoundError:
            pass


def say(line):
    print(line, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--api-key")
    ap.add_argument("--session", required=True)
    ap.add_argument("--label", default="legacy")
    ap.add_argument("--candidates", type=int, default=2)
    ap.add_argument("--expect-candidates", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()

    if args.store.startswith("http"):
        store = HttpStore(args.store, args.api_key)
    else:
        store = DirStore(args.store)

    session = args.session
    instance = str(uuid.uuid4())
    say("instance " + instance)

    def send(kind, payload):
        msg = {"type": kind}
        if payload is not None:
            msg["payload"] = base64.b64encode(payload).decode()
        store.upload("%s_%s_%s.json" % (session, kind, instance), go_json(msg))

    def send_description(kind):
        sdp = ("v=0\r\no=- 2 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=x-label:%s\r\n"
               "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
               "a=sctp-port:5000\r\n" % args.label)
        send("sdp", go_json({"type": kind, "sdp": sdp}))
        for i in range(args.candidates):
            send("candidate", ("candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host"
                               % (i + 7, 42000 + i)).encode())

    pings = store.list(session + "_ping")
    if pings:
        store.delete(pings[0][0])
        role = "offerer"
        say("role offerer")
        send_description("offer")
    else:
        role = "answerer"
        send("ping", None)

    deadline = time.monotonic() + args.timeout
    got_description = False
    got_candidates = 0
    while time.monotonic() < deadline:
        for key, name in store.list(session):
            if instance in name:
                continue
            data = store.download(key)
            if data is None:
                continue
            try:
                msg = json.loads(data)
                kind = msg["type"]
                payload = base64.b64decode(msg.get("payload", ""))
            except (ValueError, KeyError, TypeError):
                continue
            if kind == "sdp":
                desc = json.loads(payload)
                label = "-"
                for line in desc["sdp"].split("\r\n"):
                    if line.startswith("a=x-label:"):
                        label = line[len("a=x-label:"):]
                if role == "answerer" and not got_description:
                    say("role answerer")
                say("remote-description %s %s" % (desc["type"], label))
                got_description = True
                if role == "answerer" and desc["type"] == "offer":
                    send_description("answer")
            elif kind == "candidate":
                say("remote-candidate " + payload.decode())
                got_candidates += 1
        if got_description and got_candidates >= args.expect_candidates:
            say("done")
            return 0
        time.sleep(1)
    say("error timeout")
    return 2


if __name__ == "__main__":
    sys.exit(main())
