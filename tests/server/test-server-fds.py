#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connections of distributed-backup-server are released, with curl or Go clients.

Usage: test-server-fds.py curl
       test-server-fds.py go GO_CLIENT

Runs the real server with at most 64 file descriptors, then thousands of
sequential clients, each of which keeps its connection alive over several
requests (200, 401 and 404 answers) and then closes it. Every closed
connection must be released: the server keeps answering, its descriptor
count comes back to where it started, and none of its sockets is left in
CLOSE-WAIT. Only 127.0.0.1 is contacted.
"""

import http.client
import os
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import time

SERVER = os.environ.get("DISTRIBUTED_BACKUP_SERVER")
CURL = shutil.which("curl")
LISTENING = re.compile(r"^listening on http://127\.0\.0\.1:(\d+)/$")
FD_LIMIT = 64
API_KEY = "fd-test-key"
CURL_CLIENTS = 1500
GO_CLIENTS = 4000
# TCP states in /proc/net/tcp
TIME_WAIT = "06"
CLOSE_WAIT = "08"
LISTEN = "0A"


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def limit_fds():
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


class Server:
    def __init__(self):
        self.proc = subprocess.Popen(
            [SERVER, "--port", "0", "--api-key", API_KEY],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=limit_fds,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        check(ready, "no listening line within 20 s")
        line = self.proc.stdout.readline().rstrip("\n")
        match = LISTENING.match(line)
        check(match is not None, f"unexpected first line {line!r}")
        self.port = int(match.group(1))
        self.base = f"http://127.0.0.1:{self.port}/"

    def get_status(self):
        """One request on a connection of its own: the status."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            conn.request("GET", "/", headers={"Authorization": f"Bearer {API_KEY}"})
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def fds(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def sockets(self):
        """States (hex, as in /proc/net/tcp) of the server's sockets of
        connections: its port, not listening, not in TIME-WAIT."""
        states = []
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    lines = f.readlines()[1:]
            except FileNotFoundError:
                continue
            for line in lines:
                fields = line.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == self.port and fields[3] not in (LISTEN, TIME_WAIT):
                    states.append(fields[3])
        return states

    def wait_settled(self):
        """Waits until the server has no connection left (it releases one
        as soon as it reads its end, within a few main loop iterations), or
        10 s; returns its descriptor count and its sockets in CLOSE-WAIT."""
        deadline = time.monotonic() + 10
        while self.sockets() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.fds(), self.sockets().count(CLOSE_WAIT)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail("no exit within 20 s of SIGTERM")
        stderr = self.proc.stderr.read()
        check(code == 0, f"exit status {code}; stderr: {stderr}")


def curl_client(base):
    """One curl process, one connection, three requests; returns the
    statuses and connection counts of each transfer."""
    out = "%{http_code} %{num_connects}\\n"
    common = ["--silent", "--show-error", "--noproxy", "*", "--max-time", "10",
              "--output", "/dev/null", "--write-out", out]
    cmd = [CURL, "-q",
           *common, "-H", f"Authorization: Bearer {API_KEY}", base,
           "--next", *common, "-H", "Authorization: Bearer wrong-key", base,
           "--next", *common, "-H", f"Authorization: {API_KEY}", base + "NoSuchKey"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        fail("curl got no answer within 60 s")
    check(result.returncode == 0, f"curl failed ({result.returncode}): {result.stderr}")
    return [tuple(int(v) for v in line.split()) for line in result.stdout.splitlines()]


def run_curl(server):
    for i in range(CURL_CLIENTS):
        transfers = curl_client(server.base)
        check([status for status, _ in transfers] == [200, 401, 404],
              f"client {i}: statuses {transfers}")
        # One connection for the three requests: keep-alive is what is tested.
        check([connects for _, connects in transfers] == [1, 0, 0],
              f"client {i}: connections {transfers}")
    print(f"# {CURL_CLIENTS} curl clients, {3 * CURL_CLIENTS} requests")


def run_go(server, go_client):
    try:
        result = subprocess.run([go_client, server.base, API_KEY, str(GO_CLIENTS)],
                                capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        fail("the Go clients did not finish within 300 s")
    check(result.returncode == 0, f"go client failed: {result.stdout}{result.stderr}")
    match = re.match(r"clients (\d+) requests (\d+) reused (\d+)", result.stdout)
    check(match is not None, f"go client printed {result.stdout!r}")
    clients, requests, reused = (int(v) for v in match.groups())
    check(clients == GO_CLIENTS and requests == 3 * GO_CLIENTS, result.stdout)
    check(reused == 2 * GO_CLIENTS, f"connections not kept alive: {result.stdout}")
    print(f"# {result.stdout.strip()}")


def main():
    if not SERVER:
        fail("DISTRIBUTED_BACKUP_SERVER is not set")
    if len(sys.argv) < 2 or sys.argv[1] not in ("curl", "go"):
        fail("usage: test-server-fds.py curl | go GO_CLIENT")
    mode = sys.argv[1]
    if mode == "curl" and CURL is None:
        print("curl is missing", file=sys.stderr)
        sys.exit(77)
    if mode == "go" and (len(sys.argv) < 3 or not os.access(sys.argv[2], os.X_OK)):
        fail("the Go client was not built")

    start = time.monotonic()
    server = Server()
    try:
        # Counted once the server answers: it is fully started then.
        check(server.get_status() == 200, "no answer at start")
        baseline, _ = server.wait_settled()
        print(f"# server pid {server.proc.pid}: {baseline} descriptors at start, "
              f"limit {FD_LIMIT}")
        if mode == "curl":
            run_curl(server)
        else:
            run_go(server, sys.argv[2])

        fds, waiting = server.wait_settled()
        print(f"# after the clients: {fds} descriptors, {waiting} sockets in CLOSE-WAIT")
        check(waiting == 0, f"{waiting} connections left in CLOSE-WAIT")
        check(fds <= baseline, f"{fds} descriptors open, {baseline} at start")
        # And the server still answers.
        check(server.get_status() == 200, "no answer after the clients")
    finally:
        if server.proc.poll() is None:
            server.stop()
    print(f"ok ({time.monotonic() - start:.1f} s)")


if __name__ == "__main__":
    main()
