#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Latency of distributed-backup-server under bursts of concurrent clients.

Usage: bench/server-concurrency.py [--server PATH] [--clients N] [--rounds N]

Starts the server on 127.0.0.1 and, ROUNDS times, lets CLIENTS clients
(threads) start at the same instant: each connects, sends one listing
request (Connection: close) and reads the answer to its end. Prints the
latency percentiles of all requests, from before connect() to the end of
the answer, and how many failed (reset, refused, timed out). --server PATH
measures another build (an older one, for comparison).
"""

import argparse
import os
import re
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time

API_KEY = "concurrency-bench-key"
LISTENING = re.compile(r"^listening on http://127\.0\.0\.1:(\d+)/$")
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SERVER = os.path.join(HERE, "..", "_build", "server", "src", "server",
                              "distributed-backup-server")
REQUEST = (f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {API_KEY}\r\n"
           "Connection: close\r\n\r\n").encode()


def start_server(path):
    proc = subprocess.Popen([path, "--listen", "127.0.0.1", "--port", "0", "--api-key", API_KEY],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    if not ready:
        sys.exit("the server did not start")
    match = LISTENING.match(proc.stdout.readline().strip())
    if not match:
        sys.exit("unexpected first line from the server")
    return proc, int(match.group(1))


def client(port, barrier, results, lock):
    barrier.wait()
    start = time.monotonic()
    outcome = None
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(REQUEST)
            answer = b""
            while True:
                data = s.recv(65536)
                if not data:
                    break
                answer += data
        outcome = "ok" if answer.startswith(b"HTTP/1.1 200") else "bad answer"
    except ConnectionResetError:
        outcome = "reset"
    except ConnectionRefusedError:
        outcome = "refused"
    except socket.timeout:
        outcome = "timeout"
    except OSError as e:
        outcome = f"error {e.errno}"
    elapsed = time.monotonic() - start
    with lock:
        results.append((elapsed, outcome))


def percentile(sorted_values, fraction):
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=os.environ.get("DISTRIBUTED_BACKUP_SERVER",
                                                           DEFAULT_SERVER))
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    options = parser.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < options.clients + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, options.clients + 1024), hard))

    proc, port = start_server(options.server)
    results = []
    lock = threading.Lock()
    try:
        for _ in range(options.rounds):
            barrier = threading.Barrier(options.clients)
            threads = [threading.Thread(target=client, args=(port, barrier, results, lock))
                       for _ in range(options.clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)

    latencies = sorted(elapsed * 1000 for elapsed, _ in results)
    failures = {}
    for _, outcome in results:
        if outcome != "ok":
            failures[outcome] = failures.get(outcome, 0) + 1
    print(f"server: {options.server}")
    print(f"{options.rounds} bursts of {options.clients} clients: {len(results)} requests, "
          f"{sum(failures.values())} failed {failures or ''}")
    print("latency ms   p50 {:7.1f}   p90 {:7.1f}   p99 {:7.1f}   max {:7.1f}".format(
        percentile(latencies, 0.50), percentile(latencies, 0.90),
        percentile(latencies, 0.99), latencies[-1]))


if __name__ == "__main__":
    main()
