#!/usr/bin/python3
# test-devices.py: paired devices with the real distributed-backup executable.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Each "machine" is an XDG_CONFIG_HOME of its own; ICE on 127.0.0.1 only, no
# STUN server.
# - --invite prints a link, --pair LINK opens it: through a folder store and
#   through distributed-backup-server on 127.0.0.1; both sides list the
#   other with --devices, the key and the devices file are private (0600)
#   and hold no secret of the link; the signaling store is left empty.
# - Backups with --device, each machine sending once; and with device=NAME
#   in a profile file (--config).
# - A third machine that knows the session id and the signaling folder (it
#   read the devices file) but has another certificate is refused by the
#   device it is not, with one line naming the device, the expected
#   fingerprint and the presented one; nothing is stored.
# - --unpair, then a backup with that device fails at once (exit 2).
# - Bad links and bad combinations fail before any network activity with
#   one line and exit 2; a device key open to other users is refused.
#
# Output: TAP.

import base64
import hashlib
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

EXE = os.environ.get("DISTRIBUTED_BACKUP")
SERVER = os.environ.get("DISTRIBUTED_BACKUP_SERVER")
TIMEOUT = 60
LOOPBACK = ["--ice-address", "127.0.0.1", "--stun=", "--timeout", "30"]
API_KEY = "test-devices-key"

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
        self.root = tempfile.mkdtemp(prefix="test-devices-")

    def path(self, *names):
        return os.path.join(self.root, *names)

    def machine(self, name):
        home = self.path(name)
        os.makedirs(home, 0o700, exist_ok=True)
        return Machine(self, name, home)

    def fresh_dir(self, name):
        path = self.path(name)
        os.mkdir(path)
        return path


class Machine:
    def __init__(self, world, name, home):
        self.world = world
        self.name = name
        self.env = dict(os.environ)
        self.env["XDG_CONFIG_HOME"] = home
        self.env["LC_ALL"] = "C.UTF-8"
        self.env.pop("DISTRIBUTED_BACKUP_APIKEY", None)
        # No keyring: each machine's key is its key.pem (and a desktop's own
        # keyring gets no items of the test's machines).
        self.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent/test-devices-bus"
        self.device_dir = os.path.join(home, "distributed-backup", "device")

    def run(self, args, stdin_data=None):
        return subprocess.run([EXE] + list(args), input=stdin_data,
                              stdin=None if stdin_data is not None else subprocess.DEVNULL,
                              capture_output=True, env=self.env, cwd=self.world.root,
                              timeout=TIMEOUT)

    def start(self, args, tag):
        return Peer(self, args, tag)

    def fingerprint(self):
        """SHA-256 of the certificate in key.pem, as "AB:CD:…"."""
        with open(os.path.join(self.device_dir, "key.pem")) as f:
            pem = f.read()
        body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
        digest = hashlib.sha256(base64.b64decode("".join(body.split()))).hexdigest().upper()
        return ":".join(digest[i:i + 2] for i in range(0, 64, 2))

    def devices(self):
        proc = self.run(["--devices"])
        assert proc.returncode == 0, proc
        return [line.split("\t") for line in proc.stdout.decode().splitlines()]


class Peer:
    def __init__(self, machine, args, tag):
        self.out_path = machine.world.path(f"{machine.name}-{tag}.out")
        self.err_path = machine.world.path(f"{machine.name}-{tag}.err")
        self.out = open(self.out_path, "wb")
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen([EXE] + list(args), stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.err, env=machine.env,
                                     cwd=machine.world.root)

    def wait(self):
        try:
            return self.proc.wait(timeout=TIMEOUT * 2)
        finally:
            self.out.close()
            self.err.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.out.close()
        self.err.close()

    def stdout(self):
        with open(self.out_path, "rb") as f:
            return f.read()

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def link(self):
        """The invitation link, once printed."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            out = self.stdout().decode()
            if out.endswith("\n"):
                lines = out.splitlines()
                assert len(lines) == 1, lines
                return lines[0]
            assert self.proc.poll() is None, self.stderr()
            assert time.monotonic() < deadline, "no link printed"
            time.sleep(0.02)


def assert_one_line_error(proc, status, substring):
    stderr = proc.stderr.decode()
    assert proc.returncode == status, (proc.returncode, status, stderr)
    assert proc.stdout == b"", proc.stdout
    lines = stderr.splitlines()
    assert len(lines) == 1 and stderr.endswith("\n"), f"expected one line, got {stderr!r}"
    assert lines[0].startswith("distributed-backup: "), lines[0]
    assert substring in lines[0], f"{substring!r} not in {lines[0]!r}"


def pair(inviter, joiner, signaling_args, pair_extra=(), names=("Alpha", "Beta")):
    """Pairs two machines; returns the link."""
    invite = inviter.start(["--invite", "--device-name", names[0]] + signaling_args + LOOPBACK,
                           "invite")
    try:
        link = invite.link()
        joined = joiner.run(["--pair", link, "--device-name", names[1]] + list(pair_extra)
                            + LOOPBACK)
        status = invite.wait()
    finally:
        invite.kill()
    assert joined.returncode == 0, joined.stderr
    assert status == 0, invite.stderr()
    assert f"Paired with “{names[1]}”".encode() in invite.stderr().encode(), invite.stderr()
    assert f"Paired with “{names[0]}”".encode() in joined.stderr, joined.stderr
    return link


def check_private_files(machine, link):
    secret = re.search(r"secret=([^&]*)", link).group(1)
    for name in ("key.pem", "paired.conf"):
        path = os.path.join(machine.device_dir, name)
        assert os.stat(path).st_mode & 0o777 == 0o600, (path, oct(os.stat(path).st_mode))
        with open(path) as f:
            assert secret not in f.read(), f"the secret is in {name}"


# --- the cases ----------------------------------------------------------------


def setup_pair(world, sig):
    a, b = world.machine("a"), world.machine("b")
    link = pair(a, b, ["--signaling", sig])
    return a, b, link


def test_pair_folder(world, state):
    sig = world.fresh_dir("sig")
    a, b, link = setup_pair(world, sig)
    assert link.startswith("distributed-backup:pair?"), link
    for key in ("signaling=", "secret=", "fingerprint=", "name=Alpha"):
        assert key in link, link
    (da,), (db,) = a.devices(), b.devices()
    assert da == ["Beta", b.fingerprint(), sig, "-"], da
    assert db == ["Alpha", a.fingerprint(), sig, "-"], db
    # Each also says its own fingerprint, which the other one lists.
    proc = a.run(["--devices"])
    assert proc.stderr.decode() == (
        f"This device’s certificate fingerprint: {a.fingerprint()}\n"), proc.stderr
    check_private_files(a, link)
    check_private_files(b, link)
    assert os.listdir(sig) == [], os.listdir(sig)
    state.update(a=a, b=b, sig=sig)


def test_pair_server(world, state):
    if not SERVER:
        raise RuntimeError("DISTRIBUTED_BACKUP_SERVER is not set")
    server = subprocess.Popen([SERVER, "--listen", "127.0.0.1", "--port", "0", "--api-key",
                               API_KEY], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        ready, _, _ = select.select([server.stdout], [], [], 15)
        line = server.stdout.readline().decode().strip() if ready else ""
        assert line.startswith("listening on "), line
        url = line[len("listening on "):]
        c, d = world.machine("c"), world.machine("d")
        keyfile = world.path("apikey")
        with open(keyfile, "w") as f:
            f.write(API_KEY + "\n")
        os.chmod(keyfile, 0o600)
        link = pair(c, d, ["--signaling", url, "-a", API_KEY], ["--apikey-file", keyfile],
                    names=("Gamma", "Delta"))
        assert "signaling=http%3A%2F%2F127.0.0.1" in link, link
        assert API_KEY not in link
        (dc,), (dd,) = c.devices(), d.devices()
        assert dc[:2] == ["Delta", d.fingerprint()] and dc[2] == url, dc
        assert dd[:2] == ["Gamma", c.fingerprint()] and dd[2] == url, dd
        # A backup through the server, with the key from the environment.
        dst = world.fresh_dir("server-dst")
        src = world.path("server-file.txt")
        with open(src, "w") as f:
            f.write("through the server\n")
        d.env["DISTRIBUTED_BACKUP_APIKEY"] = API_KEY
        c.env["DISTRIBUTED_BACKUP_APIKEY"] = API_KEY
        receiver = c.start(["--device", "Delta", "-d", dst] + LOOPBACK, "server-recv")
        sent = d.run(["--device", "Gamma", "-s", src] + LOOPBACK)
        status = receiver.wait()
        assert sent.returncode == 0, sent.stderr
        assert status == 0, receiver.stderr()
        assert os.listdir(dst) == ["server-file.txt"]
    finally:
        server.terminate()
        server.wait()


def backup(sender, sender_device, receiver, receiver_device, name, content):
    dst = sender.world.fresh_dir(f"dst-{name}")
    src = sender.world.path(name)
    with open(src, "wb") as f:
        f.write(content)
    recv = receiver.start(["--device", receiver_device, "-d", dst] + LOOPBACK, f"recv-{name}")
    sent = sender.run(["--device", sender_device, "-s", src] + LOOPBACK)
    status = recv.wait()
    assert sent.returncode == 0, sent.stderr
    assert status == 0, recv.stderr()
    with open(os.path.join(dst, name), "rb") as f:
        assert f.read() == content


def test_backup_both_ways(world, state):
    a, b = state["a"], state["b"]
    backup(a, "Beta", b, "Alpha", "a-to-b.bin", os.urandom(300000))
    backup(b, "Alpha", a, "Beta", "b-to-a.bin", os.urandom(1000))
    assert os.listdir(state["sig"]) == []


def test_profile_device(world, state):
    a, b = state["a"], state["b"]
    dst = world.fresh_dir("profile-dst")
    profile = world.path("receiver.conf")
    with open(profile, "w") as f:
        f.write(f"[Profile]\nrole=receive\ndevice=Alpha\ndestination={dst}\n"
                "stun-servers=\nice-addresses=127.0.0.1\ntimeout=30\n")
    src = world.path("profile.txt")
    with open(src, "w") as f:
        f.write("from a profile\n")
    recv = b.start(["--config", profile], "profile-recv")
    sent = a.run(["--device", "Beta", "-s", src] + LOOPBACK)
    status = recv.wait()
    assert sent.returncode == 0, sent.stderr
    assert status == 0, recv.stderr()
    assert os.listdir(dst) == ["profile.txt"]
    # device= and the session id it gives cannot both be set.
    with open(profile, "a") as f:
        f.write("session-id=x\n")
    assert_one_line_error(b.run(["--config", profile]), 2, "device")
    # Nor --device with --config.
    with open(profile, "w") as f:
        f.write(f"[Profile]\nrole=receive\ndestination={dst}\nsession-id=x\n")
    assert_one_line_error(b.run(["--config", profile, "--device", "Alpha"]), 2, "--device")


def set_device_policy(machine, device, lines):
    """Sets the policy keys of [Device DEVICE] in MACHINE's devices file, as
    the desktop application writes them."""
    path = os.path.join(machine.device_dir, "paired.conf")
    with open(path) as f:
        text = f.read()
    text = re.sub(r"^(versions|keep-[a-z]+)=.*\n", "", text, flags=re.M)
    header = f"[Device {device}]\n"
    assert header in text, text
    text = text.replace(header, header + "".join(f"{line}\n" for line in lines))
    with open(path, "w") as f:
        f.write(text)


def test_device_policy(world, state):
    """A receiver with --device keeps the versions as set for that device,
    unless -v or --keep-... are given."""
    a, b = state["a"], state["b"]
    dst = world.fresh_dir("policy-dst")
    src = world.path("policy.txt")

    def receive_once(extra, n):
        with open(src, "w") as f:
            f.write(f"version {n}\n")
        recv = b.start(["--device", "Alpha", "-d", dst] + extra + LOOPBACK, f"policy-{n}")
        sent = a.run(["--device", "Beta", "-s", src] + LOOPBACK)
        status = recv.wait()
        assert sent.returncode == 0, sent.stderr
        assert status == 0, recv.stderr()

    assert [row[3] for row in b.devices()] == ["-"], b.devices()
    set_device_policy(b, "Alpha", ["versions=2"])
    assert [row[3] for row in b.devices()] == ["versions=2"], b.devices()
    for n in range(4):
        receive_once([], n)
    assert sorted(os.listdir(dst)) == ["policy.txt", "policy.txt.1"], os.listdir(dst)
    with open(os.path.join(dst, "policy.txt")) as f:
        assert f.read() == "version 3\n"
    # -v on the command line says otherwise.
    for n in range(4, 7):
        receive_once(["-v", "3"], n)
    assert sorted(os.listdir(dst)) == ["policy.txt", "policy.txt.1", "policy.txt.2"]
    # A damaged policy is one clear line, and nothing runs.
    set_device_policy(b, "Alpha", ["versions=2", "keep-daily=9"])
    assert_one_line_error(b.run(["--device", "Alpha", "-d", dst] + LOOPBACK), 2, "keep-daily")
    set_device_policy(b, "Alpha", [])
    assert sorted(os.listdir(dst)) == ["policy.txt", "policy.txt.1", "policy.txt.2"]


def test_third_party(world, state):
    """Mallory read b's devices file: she knows the session id and the
    folder, but has her own certificate."""
    a, b, sig = state["a"], state["b"], state["sig"]
    (row,) = a.devices()
    with open(os.path.join(a.device_dir, "paired.conf")) as f:
        session = re.search(r"session-id=(\S+)", f.read()).group(1)
    mallory = world.machine("mallory")
    src = world.path("mallory.txt")
    with open(src, "w") as f:
        f.write("not from Beta\n")

    # Mallory sends to a, which expects Beta.
    dst = world.fresh_dir("third-dst")
    recv = a.start(["--device", "Beta", "-d", dst] + LOOPBACK, "third-recv")
    sender = mallory.start(["-u", session, "--signaling", sig, "-s", src] + LOOPBACK,
                           "third-send")
    status = recv.wait()
    sender.kill()
    err = recv.stderr()
    assert status == 1, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("distributed-backup: "), line
    assert "“Beta”" in line, line
    assert f"expected the certificate fingerprint {b.fingerprint()}" in line, line
    presented = re.search(r"presented ([0-9A-F:]{95})", line)
    assert presented and presented.group(1) != b.fingerprint(), line
    assert os.listdir(dst) == [], os.listdir(dst)

    # Mallory with a device certificate of her own, receiving from a.
    forged_dir = mallory.device_dir
    mallory.run(["--invite", "--signaling", sig, "--timeout", "1"] + LOOPBACK[:3])
    with open(os.path.join(forged_dir, "paired.conf"), "w") as f:
        f.write(f"[Device Alpha]\nfingerprint={a.fingerprint()}\nsignaling={sig}\n"
                f"session-id={session}\n")
    os.chmod(os.path.join(forged_dir, "paired.conf"), 0o600)
    dst2 = world.fresh_dir("third-dst2")
    recv = mallory.start(["--device", "Alpha", "-d", dst2] + LOOPBACK, "third-recv2")
    src2 = world.path("for-beta.txt")
    with open(src2, "w") as f:
        f.write("for Beta only\n")
    sent = a.run(["--device", "Beta", "-s", src2] + LOOPBACK)
    recv.kill()
    err = sent.stderr.decode()
    assert sent.returncode == 1, err
    assert len(err.splitlines()) == 1, err
    assert "“Beta”" in err and f"presented {mallory.fingerprint()}" in err, err
    assert os.listdir(dst2) == []


def test_keep_listening(world, state):
    """A receiver that stays up refuses the third party and then receives
    from its paired device."""
    a, b, sig = state["a"], state["b"], state["sig"]
    with open(os.path.join(a.device_dir, "paired.conf")) as f:
        session = re.search(r"session-id=(\S+)", f.read()).group(1)
    mallory = world.machine("mallory")
    dst = world.fresh_dir("listen-dst")
    recv = a.start(["--device", "Beta", "-d", dst, "--keep-listening"] + LOOPBACK, "listen")
    try:
        src = world.path("listen-mallory.txt")
        with open(src, "w") as f:
            f.write("not from Beta\n")
        intruder = mallory.start(["-u", session, "--signaling", sig, "-s", src] + LOOPBACK,
                                 "listen-send")
        deadline = time.monotonic() + TIMEOUT
        while "not the paired device" not in recv.stderr():
            assert recv.proc.poll() is None, recv.stderr()
            assert time.monotonic() < deadline, recv.stderr()
            time.sleep(0.05)
        intruder.kill()
        src2 = world.path("listen-beta.txt")
        with open(src2, "w") as f:
            f.write("from Beta\n")
        sent = b.run(["--device", "Alpha", "-s", src2] + LOOPBACK)
        assert sent.returncode == 0, sent.stderr
        assert os.listdir(dst) == ["listen-beta.txt"], os.listdir(dst)
        recv.proc.send_signal(signal.SIGTERM)
        assert recv.wait() == 143, recv.stderr()
    finally:
        recv.kill()


def test_unpair(world, state):
    a, b = state["a"], state["b"]
    proc = a.run(["--unpair", "Beta"])
    assert proc.returncode == 0, proc
    assert a.devices() == []
    src = world.path("after-unpair.txt")
    with open(src, "w") as f:
        f.write("x\n")
    assert_one_line_error(a.run(["--device", "Beta", "-s", src] + LOOPBACK), 2,
                          "no paired device “Beta”")
    assert_one_line_error(a.run(["--unpair", "Beta"]), 2, "no paired device “Beta”")
    # b still knows a.
    assert [row[0] for row in b.devices()] == ["Alpha"]


def test_bad_links(world, state):
    m = world.machine("links")
    fp = "ab" * 32
    secret = "AAECAwQFBgcICQoLDA0ODw"
    base = f"distributed-backup:pair?v=1&signaling=%2Ftmp&secret={secret}"
    cases = [
        ("malformed URI", "distributed-backup:pair?name=%ZZ", "not a well-formed URI"),
        ("wrong scheme", f"https://example.com/pair?secret={secret}", "must start with"),
        ("not a link", "hello", "must start with"),
        ("missing name", f"{base}&fingerprint={fp}", "“name” is missing"),
        ("missing secret", f"distributed-backup:pair?signaling=%2Ftmp&fingerprint={fp}&name=x",
         "“secret” is missing"),
        ("bad fingerprint", f"{base}&fingerprint=12:34&name=x", "“fingerprint”"),
        ("bad secret", f"distributed-backup:pair?signaling=%2Ftmp&secret=abc&fingerprint={fp}"
         "&name=x", "“secret”"),
        ("empty", "", "expected an invitation link"),
    ]
    for what, link, message in cases:
        proc = m.run(["--pair", link] + LOOPBACK)
        assert_one_line_error(proc, 2, message)
        assert secret not in proc.stderr.decode(), (what, proc.stderr)
    # From standard input too.
    proc = m.run(["--pair", "-"] + LOOPBACK, stdin_data=b"hello\n")
    assert_one_line_error(proc, 2, "must start with")
    # A link to a folder this machine does not have.
    proc = m.run(["--pair", f"distributed-backup:pair?signaling=%2Fnowhere%2Fsig&secret={secret}"
                  f"&fingerprint={fp}&name=x"] + LOOPBACK)
    assert_one_line_error(proc, 2, "does not exist")


def test_bad_combinations(world, state):
    m = world.machine("combos")
    sig = world.fresh_dir("combo-sig")
    dst = world.fresh_dir("combo-dst")
    cases = [
        (["--invite", "-d", dst, "--signaling", sig], "-d, --dstdir cannot be used with --invite"),
        (["--invite", "--pair", "x"], "only one of"),
        (["--pair", "x", "--signaling", sig], "--signaling cannot be used with --pair"),
        (["--devices", "--timeout", "3"], "cannot be used with --devices"),
        (["--device-name", "x", "-d", dst, "-u", "s"], "--device-name is only used"),
        (["--device", "x", "-d", dst, "-u", "s"], "-u cannot be used with --device"),
        (["--device", "x", "--restore", "a.zip", "-d", dst], "--device cannot be used"),
        (["--invite", "--signaling", sig, "--device-name", "a[b]"], "--device-name"),
        (["--device", "nobody", "-d", dst], "no paired device “nobody”"),
    ]
    for args, message in cases:
        assert_one_line_error(m.run(args), 2, message)


def test_key_permissions(world, state):
    m = world.machine("perm")
    sig = world.fresh_dir("perm-sig")
    # The first --invite creates the key (it gives up at once: no peer).
    proc = m.run(["--invite", "--signaling", sig, "--timeout", "1", "-q"] + LOOPBACK[:3])
    assert proc.returncode == 1, proc
    key = os.path.join(m.device_dir, "key.pem")
    assert os.stat(key).st_mode & 0o777 == 0o600
    assert os.stat(m.device_dir).st_mode & 0o777 == 0o700
    before = open(key).read()
    os.chmod(key, 0o644)
    assert_one_line_error(m.run(["--invite", "--signaling", sig] + LOOPBACK), 2, "chmod 600")
    assert_one_line_error(m.run(["--pair", "distributed-backup:pair?signaling=%2Ftmp&secret="
                                 "AAECAwQFBgcICQoLDA0ODw&fingerprint=" + "ab" * 32 + "&name=x"]
                                + LOOPBACK), 2, "chmod 600")
    assert open(key).read() == before
    assert os.stat(key).st_mode & 0o777 == 0o644
    # --devices refuses a devices file open to others.
    paired = os.path.join(m.device_dir, "paired.conf")
    with open(paired, "w") as f:
        f.write("")
    os.chmod(paired, 0o644)
    proc = m.run(["--devices"])
    assert proc.returncode == 1 and "chmod 600" in proc.stderr.decode(), proc


def test_nearby_device_without_avahi(world, state):
    """A device paired on the local network ("nearby:") needs the Avahi
    daemon (the tests have no system bus): one clear line each, and
    --no-announce is refused for its receiver."""
    a = state["a"]
    path = os.path.join(a.device_dir, "paired.conf")
    with open(path) as f:
        saved = f.read()
    text = re.sub(r"^signaling=.*$", "signaling=nearby:", saved, flags=re.M)
    try:
        with open(path, "w") as f:
            f.write(text)
        assert a.devices()[0][2] == "nearby:", a.devices()
        dst = world.fresh_dir("nearby-dst")
        src = os.path.join(world.fresh_dir("nearby-src"), "f.txt")
        with open(src, "w") as f:
            f.write("x")
        assert_one_line_error(a.run(["-d", dst, "--device", "Beta", "--keep-listening",
                                     "--no-announce"] + LOOPBACK), 2,
                              "--no-announce cannot be used with a device paired on the local "
                              "network")
        assert_one_line_error(a.run(["-s", src, "--device", "Beta"] + LOOPBACK
                                    + ["--timeout", "3"]), 1,
                              "Cannot look for devices on the local network: the Avahi daemon "
                              "is not running")
        assert_one_line_error(a.run(["-d", dst, "--device", "Beta"] + LOOPBACK
                                    + ["--timeout", "3"]), 1,
                              "Cannot announce this device on the local network: the Avahi "
                              "daemon is not running")
        assert os.listdir(dst) == [], os.listdir(dst)
    finally:
        with open(path, "w") as f:
            f.write(saved)


def main():
    if not EXE:
        print("1..0 # SKIP DISTRIBUTED_BACKUP is not set")
        return 0
    tests = [
        ("pairing through a folder store", test_pair_folder),
        ("pairing through distributed-backup-server", test_pair_server),
        ("backups with --device both ways", test_backup_both_ways),
        ("device= in a profile file", test_profile_device),
        ("a receiver keeps the device's policy", test_device_policy),
        ("a third party is refused", test_third_party),
        ("a listening receiver refuses it, then receives", test_keep_listening),
        ("a device of the local network, without Avahi", test_nearby_device_without_avahi),
        ("--unpair, then a backup fails", test_unpair),
        ("bad links", test_bad_links),
        ("bad combinations", test_bad_combinations),
        ("key file permissions", test_key_permissions),
    ]
    world = World()
    state = {}
    print(f"1..{len(tests)}")
    try:
        for name, func in tests:
            tap(name, lambda f=func: f(world, state))
    finally:
        shutil.rmtree(world.root, ignore_errors=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
