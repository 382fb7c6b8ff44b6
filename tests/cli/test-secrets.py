#!/usr/bin/python3
# test-secrets.py: the command line with the API key kept for the user, with
# the real distributed-backup executable and distributed-backup-server on
# 127.0.0.1 (which refuses requests without its key).
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# No Secret Service here (the session bus is one that cannot be reached), so
# the kept key is the private file $XDG_CONFIG_HOME/distributed-backup/api-key.
# - A receiver and a sender with FILE.io-style signaling (--signaling URL)
#   and no -a, --apikey-file or $DISTRIBUTED_BACKUP_APIKEY use the kept key:
#   the backup goes through; without a kept key the server refuses them.
# - -a, --apikey-file and the environment still win over the kept key.
# - A kept key that other users can read is not used: one warning line with
#   "chmod 600", then the run goes on without a key (and is refused).
# - Without --signaling, a kept key changes nothing: the local folder store.
# - The key never appears in any output.
#
# Output: TAP.

import os
import select
import shutil
import subprocess
import sys
import tempfile
import uuid

EXE = os.environ.get("DISTRIBUTED_BACKUP")
SERVER = os.environ.get("DISTRIBUTED_BACKUP_SERVER")
TIMEOUT = 60
LOOPBACK = ["--ice-address", "127.0.0.1", "--stun=", "--timeout", "20"]
API_KEY = "kept-key-7f3a9c01"
WRONG_KEY = "wrong-key-00000000"

results = []


def tap(name, func):
    try:
        func()
    except Exception:  # noqa: BLE001 (report every failure as TAP)
        import traceback

        results.append(False)
        print(f"not ok {len(results)} - {name}")
        for line in traceback.format_exc().splitlines():
            print(f"# {line}")
    else:
        results.append(True)
        print(f"ok {len(results)} - {name}")
    sys.stdout.flush()


class World:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="test-secrets-")
        self.count = 0
        self.server = None
        self.url = None
        # One runtime folder for every machine: the default (folder)
        # signaling store of one user on one computer.
        self.runtime = self.path("runtime")
        os.mkdir(self.runtime, 0o700)

    def path(self, *names):
        return os.path.join(self.root, *names)

    def fresh(self, name):
        self.count += 1
        path = self.path(f"{name}-{self.count}")
        os.mkdir(path, 0o700)
        return path

    def start_server(self):
        keyfile = self.path("server-keys")
        with open(keyfile, "w") as f:
            f.write(API_KEY + "\n")
        os.chmod(keyfile, 0o600)
        self.server = subprocess.Popen(
            [SERVER, "--listen", "127.0.0.1", "--port", "0", "--api-key-file", keyfile],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        ready, _, _ = select.select([self.server.stdout], [], [], 15)
        line = self.server.stdout.readline().decode().strip() if ready else ""
        assert line.startswith("listening on "), line
        self.url = line[len("listening on "):]

    def stop_server(self):
        if self.server is not None:
            self.server.terminate()
            self.server.wait()


class Machine:
    """A user's configuration folder, with or without a kept key."""

    def __init__(self, world, name, kept=None, mode=0o600):
        self.world = world
        self.config = world.fresh(name)
        self.env = dict(os.environ)
        self.env["XDG_CONFIG_HOME"] = self.config
        self.env["XDG_RUNTIME_DIR"] = world.runtime
        self.env["LC_ALL"] = "C.UTF-8"
        # A bus that cannot be reached: no Secret Service, the private file.
        self.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + world.path("no-bus")
        self.env.pop("DISTRIBUTED_BACKUP_APIKEY", None)
        if kept is not None:
            folder = os.path.join(self.config, "distributed-backup")
            os.makedirs(folder, 0o700, exist_ok=True)
            path = os.path.join(folder, "api-key")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(kept + "\n")
            os.chmod(path, mode)

    def start(self, args):
        return subprocess.Popen([EXE] + list(args), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env,
                                cwd=self.world.root)


def backup(world, receiver, sender, receiver_args=(), sender_args=(), signaling=True):
    """Runs a receiver and a sender; returns (receiver, sender) as
    (status, stdout, stderr) and what was received."""
    session = str(uuid.uuid4())
    dst = world.fresh("dst")
    src = os.path.join(world.fresh("src"), "file.txt")
    with open(src, "w") as f:
        f.write("kept key\n")
    where = ["--signaling", world.url] if signaling else []
    recv = receiver.start(["-d", dst, "-u", session] + where + LOOPBACK + list(receiver_args))
    send = sender.start(["-s", src, "-u", session] + where + LOOPBACK + list(sender_args))
    outcome = []
    for proc in (send, recv):
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        outcome.append((proc.returncode, out.decode(errors="replace"),
                        err.decode(errors="replace")))
    received = sorted(os.listdir(dst))
    for status, out, err in outcome:
        assert API_KEY not in out and API_KEY not in err, (out, err)
        assert WRONG_KEY not in out and WRONG_KEY not in err, (out, err)
    return outcome[1], outcome[0], received


def test_kept_key(world):
    (rs, _, rerr), (ss, _, serr), received = backup(
        world, Machine(world, "recv", API_KEY), Machine(world, "send", API_KEY))
    assert rs == 0, rerr
    assert ss == 0, serr
    assert received == ["file.txt"], received


def test_no_kept_key(world):
    # The same without a kept key: the server refuses both.
    (rs, _, rerr), (ss, _, serr), received = backup(
        world, Machine(world, "recv"), Machine(world, "send"))
    assert rs != 0 and ss != 0, (rs, rerr, ss, serr)
    assert received == [], received


def test_given_key_wins(world):
    # A wrong kept key is not used when a key is given: -a for the
    # receiver, the environment for the sender; --apikey-file below.
    receiver = Machine(world, "recv", WRONG_KEY)
    sender = Machine(world, "send", WRONG_KEY)
    sender.env["DISTRIBUTED_BACKUP_APIKEY"] = API_KEY
    (rs, _, rerr), (ss, _, serr), received = backup(world, receiver, sender,
                                                    receiver_args=["-a", API_KEY])
    assert rs == 0, rerr
    assert ss == 0, serr
    assert received == ["file.txt"], received

    keyfile = os.path.join(world.fresh("keyfile"), "key")
    with open(keyfile, "w") as f:
        f.write(API_KEY + "\n")
    os.chmod(keyfile, 0o600)
    (rs, _, rerr), (ss, _, serr), received = backup(
        world, Machine(world, "recv", WRONG_KEY), Machine(world, "send", API_KEY),
        receiver_args=["--apikey-file", keyfile])
    assert rs == 0, rerr
    assert ss == 0, serr
    assert received == ["file.txt"], received

    # The kept key itself is refused by the server when it is the wrong one.
    (rs, _, rerr), (ss, _, serr), received = backup(
        world, Machine(world, "recv", WRONG_KEY), Machine(world, "send", API_KEY))
    assert rs != 0, rerr
    assert received == [], received


def test_readable_refused(world):
    receiver = Machine(world, "recv", API_KEY, mode=0o644)
    (rs, _, rerr), (ss, _, serr), received = backup(world, receiver, Machine(world, "send", API_KEY))
    assert rs != 0, rerr
    warnings = [line for line in rerr.splitlines() if "saved API key" in line]
    assert len(warnings) == 1 and "chmod 600" in warnings[0], rerr
    assert received == [], received


def test_folder_store_unchanged(world):
    # No --signaling: the folder of this machine, as without a kept key
    # (a kept key does not switch to https://file.io).
    (rs, _, rerr), (ss, _, serr), received = backup(
        world, Machine(world, "recv", API_KEY), Machine(world, "send", API_KEY), signaling=False)
    assert rs == 0, rerr
    assert ss == 0, serr
    assert received == ["file.txt"], received
    assert "file.io" not in rerr + serr, rerr + serr


def main():
    if not EXE or not SERVER:
        print("1..1")
        print("not ok 1 - DISTRIBUTED_BACKUP and DISTRIBUTED_BACKUP_SERVER must be set")
        return 1
    tests = [
        ("a receiver and a sender with the kept key", test_kept_key),
        ("without a kept key the server refuses", test_no_kept_key),
        ("-a, --apikey-file and the environment win", test_given_key_wins),
        ("a kept key open to other users is refused", test_readable_refused),
        ("without --signaling the folder store", test_folder_store_unchanged),
    ]
    world = World()
    print(f"1..{len(tests)}")
    try:
        world.start_server()
        for name, func in tests:
            tap(name, lambda f=func: f(world))
    finally:
        world.stop_server()
        shutil.rmtree(world.root, ignore_errors=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
