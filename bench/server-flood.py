#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Memory of distributed-backup-server under a flood of uploads.

Usage: bench/server-flood.py [--server PATH] [--uploads N] [--size BYTES]
                             [--threads N] [--budget SIZE]

Starts the server on 127.0.0.1 with one API key and, for each of two runs,
one without a memory budget (--max-memory larger than the flood) and one
with the budget (the default, or --budget):

1. one upload of SIZE bytes on a fresh server: how much the server's peak
   RSS grows for it (the copies an upload costs);
2. a flood of N uploads of SIZE bytes from THREADS clients at once;
3. every stored file is deleted, and after a second the server's RSS is
   read again (memory given back).

Prints the answers (200, 507...) and the server's RSS from
/proc/PID/status: VmHWM (peak) and VmRSS (current), in MiB. --server
PATH measures another build (an older one, for comparison; older builds
have no --max-memory: the "without" run then uses their defaults and the
"with" run is skipped).
"""

import argparse
import http.client
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
import uuid

API_KEY = "flood-bench-key"
LISTENING = re.compile(r"^listening on http://127\.0\.0\.1:(\d+)/$")
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SERVER = os.path.join(HERE, "..", "_build", "server", "src", "server",
                              "distributed-backup-server")


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def mib(kib):
    return f"{kib / 1024:8.1f}"


class Server:
    def __init__(self, path, *args):
        self.proc = subprocess.Popen(
            [path, "--listen", "127.0.0.1", "--port", "0", "--api-key", API_KEY, *args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        if not ready:
            sys.exit("the server did not start")
        match = LISTENING.match(self.proc.stdout.readline().strip())
        if not match:
            sys.exit("unexpected first line from the server")
        self.port = int(match.group(1))

    def rss(self):
        return status_kib(self.proc.pid, "VmRSS")

    def hwm(self):
        return status_kib(self.proc.pid, "VmHWM")

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        if own:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            all_headers = {"Authorization": f"Bearer {API_KEY}"}
            all_headers.update(headers or {})
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            if own:
                conn.close()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)


def multipart(name, content):
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    tail = (f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"expires\"\r\n\r\n1h"
            f"\r\n--{boundary}--\r\n").encode()
    return f"multipart/form-data; boundary={boundary}", head + content + tail


def upload(server, conn, index, content):
    content_type, body = multipart(f"flood-{index:05d}.bin", content)
    status, _ = server.request("POST", "/", body, {"Content-Type": content_type}, conn)
    return status


def flood(server, uploads, threads, content):
    statuses = {}
    lock = threading.Lock()
    counter = iter(range(uploads))

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        try:
            while True:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                try:
                    status = upload(server, conn, index, content)
                except (OSError, http.client.HTTPException):
                    # Refusals close the connection: go on with a new one.
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
                    status = "error"
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            conn.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return statuses


def delete_all(server):
    deleted = 0
    while True:
        status, body = server.request("GET", "/?limit=1000")
        nodes = json.loads(body)["nodes"] if status == 200 else []
        if not nodes:
            return deleted
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        for node in nodes:
            server.request("DELETE", "/" + node["key"], conn=conn)
            deleted += 1
        conn.close()


def run(label, path, args, options):
    content = os.urandom(options.size)
    print(f"\n== {label}: {' '.join(args) or '(defaults)'}")

    server = Server(path, *args)
    try:
        server.request("GET", "/")
        start = server.hwm()
        status = upload(server, None, 0, content)
        grown = server.hwm() - start
        print(f"one upload of {options.size} bytes: answer {status}, peak RSS grew by "
              f"{mib(grown)} MiB ({grown * 1024 / options.size:.1f}x the body)")
    finally:
        server.stop()

    server = Server(path, *args)
    try:
        server.request("GET", "/")
        idle = server.rss()
        started = time.monotonic()
        statuses = flood(server, options.uploads, options.threads, content)
        elapsed = time.monotonic() - started
        full, peak = server.rss(), server.hwm()
        deleted = delete_all(server)
        time.sleep(1)
        final = server.rss()
        answers = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items(), key=str))
        print(f"flood of {options.uploads} uploads from {options.threads} clients in "
              f"{elapsed:.1f} s: {answers}; {deleted} files deleted")
        print(f"RSS MiB      idle {mib(idle)}   after flood {mib(full)}   "
              f"peak {mib(peak)}   final {mib(final)}")
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=os.environ.get("DISTRIBUTED_BACKUP_SERVER",
                                                           DEFAULT_SERVER))
    parser.add_argument("--uploads", type=int, default=1000)
    parser.add_argument("--size", type=int, default=1000 * 1000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--budget", default=None, help="--max-memory of the second run")
    options = parser.parse_args()

    help_text = subprocess.run([options.server, "--help"], capture_output=True,
                               text=True).stdout
    has_budget = "--max-memory" in help_text
    print(f"server: {options.server}")

    if has_budget:
        unlimited = f"{options.uploads * (options.size + 4096) // (1024 * 1024) + 64}M"
        run("without the budget", options.server, ["--max-memory", unlimited], options)
        budget = ["--max-memory", options.budget] if options.budget else []
        run("with the budget", options.server, budget, options)
    else:
        run("without the budget (a build without --max-memory)", options.server, [], options)


if __name__ == "__main__":
    main()
