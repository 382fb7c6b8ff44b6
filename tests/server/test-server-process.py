#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real distributed-backup-server executable, driven with curl.

Starts it with --port 0, reads the port from its one line on stdout, uploads,
lists, downloads and deletes with both Authorization forms, checks the API key
file, redirects, the memory budget and HTTPS, refuses bad options, and stops it with SIGTERM and
SIGINT (exit status 0). Only 127.0.0.1 is contacted; the standard library and
curl are all it needs.
"""

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SERVER = os.environ.get("DISTRIBUTED_BACKUP_SERVER")
CURL = shutil.which("curl")
OPENSSL = shutil.which("openssl")
LISTENING = re.compile(r"^listening on (https?)://(127\.0\.0\.1|\[::1\]):(\d+)/$")


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


class Server:
    def __init__(self, *args, env=None):
        self.proc = subprocess.Popen(
            [SERVER, "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        check(ready, "no listening line within 20 s")
        line = self.proc.stdout.readline().rstrip("\n")
        match = LISTENING.match(line)
        check(match is not None, f"unexpected first line {line!r}")
        self.scheme = match.group(1)
        self.port = int(match.group(3))
        self.base = f"{self.scheme}://{match.group(2)}:{self.port}/"

    def stop(self, signum=signal.SIGTERM):
        self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail(f"no exit within 10 s of signal {signum}")
        stderr = self.proc.stderr.read()
        check(code == 0, f"exit status {code} after signal {signum}; stderr: {stderr}")
        rest = self.proc.stdout.read()
        check(rest == "", f"more than one line on stdout: {rest!r}")


def curl(*args, expect_status=None):
    """Runs curl; returns (status, body bytes)."""
    with tempfile.NamedTemporaryFile() as body:
        cmd = [
            CURL, "-q", "--silent", "--show-error", "--noproxy", "*",
            "--max-time", "20", "--output", body.name, "--write-out", "%{http_code}",
            *args,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        check(result.returncode == 0, f"curl {args} failed: {result.stderr}")
        status = int(result.stdout.strip())
        with open(body.name, "rb") as f:
            data = f.read()
    if expect_status is not None:
        check(status == expect_status,
              f"curl {args}: status {status}, expected {expect_status}: {data[:300]!r}")
    return status, data


def curl_json(*args, expect_status=200):
    _, data = curl(*args, expect_status=expect_status)
    try:
        return json.loads(data)
    except ValueError:
        fail(f"not JSON: {data[:300]!r}")


def upload(base, auth, path, name, *extra):
    return curl_json(
        "-H", f"Authorization: {auth}",
        "-F", f"file=@{path};filename={name};type=application/json",
        "-F", "expires=10m", "-F", "maxDownloads=1", "-F", "autoDelete=true",
        *extra, base,
    )


def list_names(base, auth, search):
    answer = curl_json("-H", f"Authorization: {auth}",
                       f"{base}?search={search}&sort=created:asc")
    check(answer.get("success") is True, f"list failed: {answer}")
    check(answer["count"] == len(answer["nodes"]), f"count mismatch: {answer}")
    return [(node["name"], node["key"]) for node in answer["nodes"]]


def test_main_flow(workdir):
    keyfile = os.path.join(workdir, "keys")
    with open(keyfile, "w") as f:
        f.write("# keys of the test\n\nfile-key-1\n  file-key-2  \n")
    server = Server("--api-key", "cli-key", "--api-key-file", keyfile, "--verbose")
    base = server.base
    session = "0b6f7a8e-5a3e-4bde-9d0e-5d6a1c2b3e4f"
    ping_name = f"{session}_ping_11111111-2222-3333-4444-555555555555.json"
    sdp_name = f"{session}_sdp_11111111-2222-3333-4444-555555555555.json"
    ping = os.path.join(workdir, "ping.json")
    sdp = os.path.join(workdir, "sdp.json")
    with open(ping, "w") as f:
        f.write('{"type":"ping"}')
    with open(sdp, "w") as f:
        f.write('{"type":"sdp","payload":"eyJ0eXBlIjoib2ZmZXIiLCJzZHAiOiJ2PTBcclxuIn0="}')

    try:
        # Upload with the Bearer form and with the bare key.
        answer = upload(base, "Bearer cli-key", ping, ping_name)
        check(answer["success"] is True and answer["name"] == ping_name, f"upload: {answer}")
        check(answer["link"] == base + answer["key"], f"link: {answer}")
        ping_key = answer["key"]
        answer = upload(base, "cli-key", sdp, sdp_name)
        sdp_key = answer["key"]

        # Both listed, in creation order, for either header form.
        expected = [(ping_name, ping_key), (sdp_name, sdp_key)]
        check(list_names(base, "cli-key", session) == expected, "list (bare key)")
        check(list_names(base, "Bearer cli-key", session) == expected, "list (Bearer)")
        check(list_names(base, "Bearer cli-key", f"{session}_ping") == expected[:1],
              "ping search")

        # Keys of the key file have namespaces of their own.
        check(list_names(base, "Bearer file-key-1", session) == [], "file-key-1 sees others")
        answer = upload(base, "Bearer file-key-2", ping, ping_name)
        check(list_names(base, "file-key-2", session) == [(ping_name, answer["key"])],
              "file-key-2 list")

        # No key, a wrong key, and the comment line as a key.
        for auth in ([], ["-H", "Authorization: Bearer nope"],
                     ["-H", "Authorization: # keys of the test"]):
            answer = curl_json(*auth, base, expect_status=401)
            check(answer == {"success": False, "status": 401, "code": "UNAUTHORIZED",
                             "message": answer.get("message")}, f"401 body: {answer}")

        # Download once, then it is gone.
        _, data = curl("-H", "Authorization: Bearer cli-key", base + ping_key,
                       expect_status=200)
        with open(ping, "rb") as f:
            check(data == f.read(), "downloaded bytes differ")
        curl_json("-H", "Authorization: cli-key", base + ping_key, expect_status=404)
        check(list_names(base, "cli-key", session) == expected[1:], "list after download")

        # Delete, then delete again.
        answer = curl_json("-X", "DELETE", "-H", "Authorization: cli-key", base + sdp_key)
        check(answer["success"] is True, f"delete: {answer}")
        curl_json("-X", "DELETE", "-H", "Authorization: cli-key", base + sdp_key,
                  expect_status=404)
        check(list_names(base, "cli-key", session) == [], "list after delete")
    finally:
        if server.proc.poll() is None:
            server.stop(signal.SIGTERM)


def test_redirect_and_sigint(workdir):
    server = Server("--redirect-downloads", "--max-upload-size", "2K")
    path = os.path.join(workdir, "r.json")
    with open(path, "w") as f:
        f.write('{"r":1}')
    try:
        key = upload(server.base, "Bearer any", path, "r.json")["key"]
        status, _ = curl(server.base + key, expect_status=302)
        _, data = curl("--location", server.base + key, expect_status=200)
        check(data == b'{"r":1}', f"redirected download: {data!r}")

        big = os.path.join(workdir, "big.bin")
        with open(big, "wb") as f:
            f.write(b"x" * 4096)
        curl_json("-F", f"file=@{big}", server.base, expect_status=413)
    finally:
        if server.proc.poll() is None:
            server.stop(signal.SIGINT)


def test_memory_budget(workdir):
    help_text = subprocess.run([SERVER, "--help"], capture_output=True, text=True,
                               timeout=20).stdout
    check("--max-memory" in help_text, "--max-memory is not in --help")

    server = Server("--max-memory", "10K", "--max-upload-size", "8K")
    path = os.path.join(workdir, "five.bin")
    with open(path, "wb") as f:
        f.write(b"5" * 5000)
    try:
        key = upload(server.base, "Bearer any", path, "five.bin")["key"]
        # A second one does not fit in 10 KiB with the first.
        answer = curl_json("-F", f"file=@{path}", server.base, expect_status=507)
        check(answer.get("code") == "STORAGE_FULL", f"507 body: {answer}")
        curl_json("-X", "DELETE", server.base + key)
        upload(server.base, "Bearer any", path, "five.bin")
    finally:
        if server.proc.poll() is None:
            server.stop(signal.SIGTERM)


def test_tls(workdir):
    if OPENSSL is None:
        print("# openssl missing: HTTPS not checked")
        return
    cert = os.path.join(workdir, "cert.pem")
    key = os.path.join(workdir, "key.pem")
    subprocess.run(
        [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
         "-days", "1", "-keyout", key, "-out", cert],
        check=True, capture_output=True, timeout=60,
    )
    # GCC 12's LeakSanitizer crashes at exit on the thread-local data GnuTLS
    # leaves in GLib's pool threads, so sanitized builds check this process
    # for memory errors but not for leaks (the in-process C test covers the
    # TLS path's leaks).
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    server = Server("--tls-cert", cert, "--tls-key", key, env=env)
    check(server.scheme == "https", "no https in the listening line")
    try:
        answer = curl_json("--cacert", cert, server.base)
        check(answer["nodes"] == [], f"https list: {answer}")
        # Without the certificate, curl refuses the server.
        result = subprocess.run(
            [CURL, "-q", "--silent", "--noproxy", "*", "--max-time", "20", server.base],
            capture_output=True, timeout=30)
        check(result.returncode != 0, "curl accepted an unknown certificate")
    finally:
        if server.proc.poll() is None:
            server.stop(signal.SIGTERM)


def test_ipv6(workdir):
    try:
        import socket
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        print("# no IPv6 loopback: --listen ::1 not checked")
        return
    server = Server("--listen", "::1")
    try:
        check(server.base.startswith("http://[::1]:"), f"IPv6 base {server.base}")
        answer = curl_json("-g", server.base)
        check(answer["nodes"] == [], f"IPv6 list: {answer}")
    finally:
        if server.proc.poll() is None:
            server.stop(signal.SIGTERM)


def test_bad_options(workdir):
    for args in (["--port", "70000"], ["--max-expiry", "soon"], ["--listen", "localhost"],
                 ["--api-key-file", os.path.join(workdir, "missing")],
                 ["--max-upload-size", "lots"], ["--max-memory", "0"],
                 ["--max-memory", "lots"], ["--tls-cert", "/nonexistent"],
                 ["--api-key", "has space"], ["--rate-window", "0s"],
                 ["--rate-window", "2d"], ["--rate-window", "often"], ["stray-argument"]):
        result = subprocess.run([SERVER, "--port", "0", *args], capture_output=True,
                                text=True, timeout=20)
        check(result.returncode != 0, f"{args} accepted")
        check(result.stdout == "", f"{args} printed on stdout: {result.stdout!r}")
        lines = result.stderr.strip().splitlines()
        check(len(lines) == 1 and lines[0].startswith("distributed-backup-server: "),
              f"{args}: stderr {result.stderr!r}")


def main():
    if not SERVER:
        fail("DISTRIBUTED_BACKUP_SERVER is not set")
    if CURL is None:
        print("curl is missing", file=sys.stderr)
        sys.exit(77)
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as workdir:
        test_main_flow(workdir)
        test_redirect_and_sigint(workdir)
        test_memory_budget(workdir)
        test_tls(workdir)
        test_ipv6(workdir)
        test_bad_options(workdir)
    print(f"ok ({time.monotonic() - start:.1f} s)")


if __name__ == "__main__":
    main()
