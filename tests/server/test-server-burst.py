#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bursts of connections to distributed-backup-server all get answers.

1. 200 clients connect at once while the server is stopped (SIGSTOP): the
   listen queue must hold them all (a queue of 10 completes 11 handshakes
   and leaves the others retrying their SYN). Then the server continues and
   every client gets its answer, without a reset.
2. The same with 150 clients and a server limited to 64 file descriptors:
   it runs out of descriptors while accepting, waits for some to be free,
   and still answers every client.

Only 127.0.0.1 is contacted; the standard library is all it needs.
"""

import errno
import os
import re
import resource
import select
import signal
import socket
import subprocess
import sys
import time

SERVER = os.environ.get("DISTRIBUTED_BACKUP_SERVER")
LISTENING = re.compile(r"^listening on http://127\.0\.0\.1:(\d+)/$")
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


class Server:
    def __init__(self, fd_limit=None):
        def limit():
            if fd_limit is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (fd_limit, fd_limit))

        self.proc = subprocess.Popen([SERVER, "--port", "0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, preexec_fn=limit)
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        check(ready, "no listening line within 20 s")
        line = self.proc.stdout.readline().rstrip("\n")
        match = LISTENING.match(line)
        check(match is not None, f"unexpected first line {line!r}")
        self.port = int(match.group(1))

    def stop(self):
        self.proc.send_signal(signal.SIGCONT)
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail("no exit within 20 s of SIGTERM")
        stderr = self.proc.stderr.read()
        check(code == 0, f"exit status {code}; stderr: {stderr}")


def connect_all(port, count, deadline):
    """Starts @count connections at once; returns the sockets and how many
    completed their handshake before @deadline."""
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        code = s.connect_ex(("127.0.0.1", port))
        check(code in (0, errno.EINPROGRESS), f"connect: {os.strerror(code)}")
        socks.append(s)

    poller = select.poll()
    waiting = {}
    for s in socks:
        poller.register(s, select.POLLOUT)
        waiting[s.fileno()] = s
    connected = 0
    while waiting and time.monotonic() < deadline:
        for fd, _ in poller.poll(100):
            s = waiting.pop(fd)
            poller.unregister(fd)
            code = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            check(code == 0, f"connection failed: {os.strerror(code)}")
            connected += 1
    return socks, connected


def read_answers(socks, deadline):
    """Reads every socket to its end; returns the answers."""
    answers = {s.fileno(): b"" for s in socks}
    by_fd = {s.fileno(): s for s in socks}
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    while by_fd and time.monotonic() < deadline:
        for fd, _ in poller.poll(100):
            try:
                data = by_fd[fd].recv(65536)
            except ConnectionResetError:
                fail(f"a connection was reset after {len(answers[fd])} bytes")
            if data:
                answers[fd] += data
            else:
                poller.unregister(fd)
                by_fd.pop(fd).close()
    check(not by_fd, f"{len(by_fd)} connections got no complete answer")
    return list(answers.values())


def system_backlog():
    try:
        with open("/proc/sys/net/core/somaxconn") as f:
            return int(f.read())
    except (OSError, ValueError):
        return socket.SOMAXCONN


def burst(server, count):
    # A listen queue of N holds N + 1 connections; the system may allow
    # fewer than the burst (somaxconn was 128 before Linux 5.4).
    expected = min(count, system_backlog() + 1)
    server.proc.send_signal(signal.SIGSTOP)
    try:
        # The handshakes are the kernel's: they complete, or not, while the
        # server sleeps.
        socks, connected = connect_all(server.port, count, time.monotonic() + 10)
        print(f"# {connected} of {count} connections established while the server was stopped")
        check(connected >= expected,
              f"only {connected} of {count} connections fit in the listen queue "
              f"(the system allows {expected})")
    finally:
        server.proc.send_signal(signal.SIGCONT)

    for s in socks:
        s.settimeout(30)
        s.sendall(REQUEST)
        s.setblocking(False)

    answers = read_answers(socks, time.monotonic() + 60)
    statuses = [a.split(b" ", 2)[1] if a.startswith(b"HTTP/1.1 ") else a[:20] for a in answers]
    bad = [s for s in statuses if s != b"200"]
    check(not bad, f"{len(bad)} of {count} answers were not 200: {bad[:5]}")
    print(f"# {count} answers, all 200")


def main():
    if not SERVER:
        fail("DISTRIBUTED_BACKUP_SERVER is not set")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 512:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 1024), hard))
    start = time.monotonic()

    server = Server()
    try:
        burst(server, 200)
    finally:
        if server.proc.poll() is None:
            server.stop()

    server = Server(fd_limit=64)
    try:
        burst(server, 150)
    finally:
        if server.proc.poll() is None:
            server.stop()

    print(f"ok ({time.monotonic() - start:.1f} s)")


if __name__ == "__main__":
    main()
