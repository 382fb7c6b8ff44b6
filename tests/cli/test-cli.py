#!/usr/bin/python3
# test-cli.py: runs the real distributed-backup executable.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# - Every invalid command line, an unreadable or invalid password file
#   included, fails at once, before any network activity, with exactly one
#   line on stderr, nothing on stdout and exit status 2. When strace is
#   available, each failing command runs again under it and must open no
#   IPv4/IPv6 socket.
# - Encryption mode writes a password file of the documented format: this
#   script checks it independently (HKDF and HMAC from Python's standard
#   library, AES-256-CBC with the openssl command), with the passwords from
#   the command line, from a pipe, and typed on a pseudo-terminal without echo.
# - Real backups between two processes of this program (a folder signaling
#   store, ICE on 127.0.0.1, no STUN): a file whose name holds terminal
#   escapes and a newline is stored under its real name while every line
#   printed shows the name escaped; a receiver killed during a transfer
#   leaves a temporary file that the next receiver removes at start-up,
#   without touching the stored versions; SIGTERM and SIGINT end a waiting
#   peer with 143 and 130; an --apikey-file that others can read gives one
#   warning line; a receiver run from a profile file (--config, as the
#   systemd unit does) stores what a sender sends, keeping its versions;
#   a receiver with --keep-daily keeps one version per day after each
#   backup; --prune --dry-run lists what would go and changes nothing,
#   --prune (also from a profile file) removes it.
# - A profile file with an unknown key or group, a relative path, a bad
#   value, or given together with an option it already sets fails like a
#   bad command line.
#
# Output: TAP.

import errno
import fcntl
import hashlib
import hmac
import os
import pty
import re
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import termios
import time

EXE = os.environ.get("DISTRIBUTED_BACKUP")
STRACE = shutil.which("strace")
OPENSSL = shutil.which("openssl")
TIMEOUT = 20


def isolation_prefix():
    """As root, failing commands also run in a new network namespace (only a
    down loopback), so that even a wrong validation cannot reach a network."""
    unshare = shutil.which("unshare")
    if os.geteuid() != 0 or unshare is None:
        return ()
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True)
    return (unshare, "-n") if probe.returncode == 0 else ()


NET_PREFIX = isolation_prefix()

results = []


def tap(name, func):
    try:
        func()
    except Exception as exc:  # noqa: BLE001 (report every failure as TAP)
        import traceback

        results.append((False, name))
        print(f"not ok {len(results)} - {name}")
        for line in traceback.format_exc().splitlines():
            print(f"# {line}")
        del exc
    else:
        results.append((True, name))
        print(f"ok {len(results)} - {name}")
    sys.stdout.flush()


class Env:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="test-cli-")
        self.config = os.path.join(self.root, "config")
        os.mkdir(self.config, 0o700)
        self.file = self.path("file.txt")
        with open(self.file, "w") as f:
            f.write("content\n")
        self.srcdir = self.path("srcdir")
        os.mkdir(self.srcdir)
        with open(os.path.join(self.srcdir, "inner.txt"), "w") as f:
            f.write("inner\n")
        self.dstdir = self.path("dstdir")
        os.mkdir(self.dstdir)
        self.sigdir = self.path("signaling")
        os.mkdir(self.sigdir)
        self.corrupt = self.path("corrupt.txt")
        with open(self.corrupt, "wb") as f:
            f.write(b"this is not a password file at all\n")
        self.passfile = self.path("passwords.txt")
        self.fifo = self.path("fifo")
        os.mkfifo(self.fifo, 0o600)
        self.env = dict(os.environ)
        self.env["XDG_CONFIG_HOME"] = self.config
        self.env["LC_ALL"] = "C.UTF-8"
        self.env.pop("DISTRIBUTED_BACKUP_VAULT_KEY", None)

    def path(self, name):
        return os.path.join(self.root, name)

    def run(self, args, stdin_data=None, extra_env=None, prefix=()):
        env = dict(self.env)
        if extra_env:
            env.update(extra_env)
        start = time.monotonic()
        proc = subprocess.run(
            list(prefix) + [EXE] + list(args),
            input=stdin_data,
            stdin=None if stdin_data is not None else subprocess.DEVNULL,
            capture_output=True,
            env=env,
            cwd=self.root,
            timeout=TIMEOUT,
        )
        return proc, time.monotonic() - start

    def key_path(self):
        return os.path.join(self.config, "distributed-backup", "vault.key")


def decode_vault(path, key_path):
    """Decrypts a password file of format 1 as backup-vault.h documents it."""
    with open(path, "rb") as f:
        data = f.read()
    with open(key_path, "rb") as f:
        secret = f.read()
    assert len(secret) == 32, len(secret)
    assert data[:8] == b"DBVAULT\x01", data[:8]
    assert len(data) % 16 == 8 and 72 <= len(data) <= 584, len(data)
    prk = hmac.new(b"distributed-backup vault 1", secret, hashlib.sha256).digest()
    enc_key = hmac.new(prk, b"encryption\x01", hashlib.sha256).digest()
    mac_key = hmac.new(prk, b"authentication\x01", hashlib.sha256).digest()
    mac = hmac.new(mac_key, data[:-32], hashlib.sha256).digest()
    assert hmac.compare_digest(mac, data[-32:]), "MAC mismatch"
    iv = data[8:24]
    proc = subprocess.run(
        [OPENSSL, "enc", "-d", "-aes-256-cbc", "-K", enc_key.hex(), "-iv", iv.hex()],
        input=data[24:-32],
        capture_output=True,
        check=True,
    )
    plain = proc.stdout
    len1 = plain[0]
    p1 = plain[1 : 1 + len1]
    len2 = plain[1 + len1]
    p2 = plain[2 + len1 : 2 + len1 + len2]
    assert 2 + len1 + len2 == len(plain), "lengths do not fill the plaintext"
    return p1.decode(), p2.decode()


def assert_one_line_error(proc, status, substring):
    stderr = proc.stderr.decode()
    assert proc.returncode == status, (proc.returncode, status, stderr)
    assert proc.stdout == b"", proc.stdout
    lines = stderr.splitlines()
    assert len(lines) == 1 and stderr.endswith("\n"), f"expected one line, got {stderr!r}"
    assert lines[0].startswith("distributed-backup: "), lines[0]
    assert substring in lines[0], f"{substring!r} not in {lines[0]!r}"


def assert_no_network(env, args):
    """Runs @args under strace: no IPv4/IPv6 socket may be created."""
    if STRACE is None:
        return
    trace = env.path("strace.log")
    # LeakSanitizer cannot run under ptrace: leaks are checked by the first run.
    extra = {"ASAN_OPTIONS": "detect_leaks=0"}
    proc, _ = env.run(
        args,
        extra_env=extra,
        prefix=NET_PREFIX + (STRACE, "-f", "-qq", "-e", "trace=%network", "-o", trace),
    )
    with open(trace) as f:
        log = f.read()
    os.unlink(trace)
    inet = [line for line in log.splitlines() if "AF_INET" in line]
    assert not inet, f"network activity: {inet}"
    return proc


def check_failure(env, args, status, substring):
    proc, elapsed = env.run(args, prefix=NET_PREFIX)
    assert_one_line_error(proc, status, substring)
    assert elapsed < 10, f"took {elapsed:.1f} s"
    traced = assert_no_network(env, args)
    if traced is not None:
        assert traced.returncode == status, traced.stderr


def validation_cases(env):
    f, src, dst, sig = env.file, env.srcdir, env.dstdir, env.sigdir
    missing = env.path("missing")

    def profile(name, body, role="receive"):
        """A profile file of a receiver with @body added (None: an empty file)."""
        path = env.path(f"profile-{name}.conf")
        with open(path, "w") as out:
            if body is not None:
                out.write(f"[Profile]\nrole={role}\nsession-id=x\nsignaling={sig}\n{body}\n")
        return path

    common = ["-u", "91c04021-045a-40ad-a4b0-0596cd604d8e", "-a", "KEY"]
    return [
        ("-z without -o", ["-z", "-s", src, "-p", env.passfile] + common, 2, "-z needs -o"),
        ("-z with a file", ["-z", "-s", f, "-o", "out.zip", "-p", env.passfile] + common, 2,
         "is not a directory"),
        ("a directory without -z", ["-s", src] + common, 2, "is a directory"),
        ("-s does not exist", ["-s", missing] + common, 2, "No such file"),
        ("-d does not exist", ["-d", missing] + common, 2, "No such file"),
        ("-d is a file", ["-d", f] + common, 2, "not a directory"),
        ("-s and -d", ["-s", f, "-d", dst] + common, 2, "cannot be used together"),
        ("neither -s nor -d", common, 2, "nothing to do"),
        ("-z without -p", ["-z", "-s", src, "-o", "out.zip"] + common, 2, "-z needs -p"),
        ("-o with a slash", ["-z", "-s", src, "-o", "a/b.zip", "-p", env.passfile] + common, 2,
         "invalid archive name"),
        ("-o is ..", ["-z", "-s", src, "-o=..", "-p", env.passfile] + common, 2,
         "invalid archive name"),
        ("-o is empty", ["-z", "-s", src, "-o=", "-p", env.passfile] + common, 2,
         "invalid archive name"),
        ("-o without -z", ["-s", f, "-o", "out.zip"] + common, 2, "needs -z"),
        ("-z on the receiver", ["-z", "-d", dst] + common, 2, "only used when sending"),
        ("undecryptable password file", ["-d", dst, "-p", env.corrupt] + common, 2,
         "not a valid password file"),
        ("missing password file", ["-d", dst, "-p", missing] + common, 2,
         "Cannot read the password file"),
        ("password file is a directory", ["-d", dst, "-p", dst] + common, 2,
         "Cannot read the password file"),
        ("password file is a FIFO", ["-d", dst, "-p", env.fifo] + common, 2,
         "not a regular file"),
        ("password file of another key",
         ["-d", dst, "-p", env.passfile, "--vault-key", env.path("other.key")] + common, 2,
         "another key"),
        ("-v 0", ["-v", "0", "-d", dst] + common, 2, "-v, --versions"),
        ("-v=65536", ["-v=65536", "-d", dst] + common, 2, "-v, --versions"),
        ("-v abc", ["-d", dst, "--versions", "abc"] + common, 2, "-v, --versions"),
        ("unknown option", ["--foo", "-d", dst] + common, 2, "unknown flag: --foo"),
        ("unknown shorthand", ["-d", dst, "-x"] + common, 2, "unknown shorthand flag"),
        ("-a without value", ["-d", dst, "-u", "x", "-a"], 2, "flag needs an argument"),
        ("positional argument", ["-d", dst, "extra"] + common, 2, "unexpected argument"),
        ("-u missing", ["-d", dst, "-a", "KEY"], 2, "needs -u"),
        ("-u invalid", ["-d", dst, "-a", "KEY", "-u", "a b"], 2, "invalid session id"),
        ("-u too long", ["-d", dst, "-a", "KEY", "-u", "x" * 129], 2, "invalid session id"),
        ("signaling directory missing", ["-d", dst, "-u", "x", "--signaling", missing], 2,
         "does not exist"),
        ("signaling scheme", ["-d", dst, "-u", "x", "--signaling", "ftp://h/"], 2,
         "invalid signaling"),
        ("-1 in backup mode", ["-d", dst, "-1", "pw"] + common, 2,
         "only used in encryption mode"),
        ("--relay-only without --turn", ["-d", dst, "--relay-only"] + common, 2,
         "--relay-only needs"),
        ("bad --turn", ["-d", dst, "--turn", "turn:127.0.0.1"] + common, 2, "--turn"),
        ("bad --ice-address", ["-d", dst, "--ice-address", "localhost"] + common, 2,
         "--ice-address"),
        ("bad -S", ["-d", dst, "-S", "host:99999"] + common, 2, "invalid STUN server"),
        ("bad --zip-encryption", ["--zip-encryption=rot13", "-d", dst] + common, 2,
         "--zip-encryption"),
        ("--config missing", ["--config", missing], 2, "No such file"),
        ("--config unknown key", ["--config", profile("typo", "destinaton=" + dst)], 2,
         "unknown key “destinaton”"),
        ("--config unknown group", ["--config", profile("group", "[Other]\nx=1")], 2,
         "unknown group [Other]"),
        ("--config no profile", ["--config", profile("empty", None)], 2, "no [Profile] group"),
        ("--config relative path", ["--config", profile("relative", "destination=dst")], 2,
         "“destination” must be an absolute path"),
        ("--config bad role", ["--config", profile("role", "role=both")], 2, "“role”"),
        ("--config bad versions",
         ["--config", profile("versions", f"destination={dst}\nversions=0")], 2,
         "between 1 and"),
        ("--config bad bool",
         ["--config", profile("bool", f"destination={dst}\nkeep-listening=often")], 2,
         "“keep-listening”"),
        ("--config no destination", ["--config", profile("nodest", "versions=2")], 2,
         "Choose a folder to receive into"),
        ("--config destination missing", ["--config", profile("gone", f"destination={missing}")],
         2, "Cannot receive into"),
        ("--config sends a folder without an archive name",
         ["--config", profile("folder", f"source={src}", role="send")], 2,
         "is a folder: send it as an archive"),
        ("--config archive without a password file",
         ["--config", profile("nopass", f"source={src}\narchive-name=a.zip", role="send")], 2,
         "an archive needs “password-file”"),
        ("--config key of the other role",
         ["--config", profile("otherrole", f"source={f}")], 2,
         "“source” is a sender's key, and this profile receives"),
        ("--config and -u", ["--config", profile("ok", f"destination={dst}"), "-u", "x"], 2,
         "-u, --uuid cannot be given with --config"),
        ("--config and -d", ["--config", profile("ok", f"destination={dst}"), "-d", dst], 2,
         "-d, --dstdir cannot be given with --config"),
        ("--config and -e", ["--config", profile("ok", f"destination={dst}"), "-e", "-p", "x"],
         2, "cannot be given with --config"),
        ("--config missing api-key-file",
         ["--config", profile("apikey", f"destination={dst}\napi-key-file={missing}")], 2,
         "API key"),
        ("--config missing password-file",
         ["--config", profile("passfile", f"destination={dst}\npassword-file={missing}")], 2,
         "Cannot read the password file"),
        # Versions and retention.
        ("--dry-run without --prune", ["--dry-run", "-d", dst] + common, 2,
         "--dry-run is only used with --prune"),
        ("--prune without -d", ["--prune", "--keep-daily", "3"], 2, "--prune needs -d"),
        ("--prune without a policy", ["--prune", "-d", dst], 2, "--prune needs a policy"),
        ("--prune -d missing", ["--prune", "-d", missing, "--keep-last=2"], 2, "cannot prune"),
        ("--keep-daily 0", ["-d", dst, "--keep-daily", "0"] + common, 2, "--keep-daily"),
        ("--keep-weekly abc", ["-d", dst, "--keep-weekly=abc"] + common, 2, "--keep-weekly"),
        ("--keep-hourly too big", ["-d", dst, "--keep-hourly", "65536"] + common, 2,
         "--keep-hourly"),
        ("--keep-daily above -v", ["-d", dst, "-v", "3", "--keep-daily", "7"] + common, 2,
         "--keep-daily 7 keeps more versions than -v 3"),
        ("--keep-last when sending", ["-s", f, "--keep-last", "2"] + common, 2,
         "only used when receiving"),
        ("--prune with -s", ["--prune", "-d", dst, "-s", f, "--keep-last", "1"], 2,
         "-s cannot be used with --prune"),
        ("--prune with -u", ["--prune", "-d", dst, "-u", "x", "--keep-last", "1"], 2,
         "-u cannot be used with --prune"),
        ("--prune with --restore", ["--restore", f, "-d", dst, "--prune", "--keep-last=1"], 2,
         "--prune cannot be used with --restore"),
        ("--keep-monthly in encryption mode",
         ["-e", "-p", env.path("y.txt"), "-1=a", "-2=b", "--keep-monthly", "2"], 2,
         "--keep-monthly cannot be used with -e"),
        ("--config and --keep-daily",
         ["--config", profile("ok", f"destination={dst}"), "--keep-daily", "2"], 2,
         "--keep-daily cannot be given with --config"),
        ("--config bad keep-daily",
         ["--config", profile("keep", f"destination={dst}\nkeep-daily=often")], 2,
         "“keep-daily”"),
        ("--config keep-daily above versions",
         ["--config", profile("keepv", f"destination={dst}\nversions=2\nkeep-daily=5")], 2,
         "keep-daily is 5"),
        ("--config --prune of a sender",
         ["--config", profile("sendprune", f"source={f}", role="send"), "--prune"], 2,
         "--prune needs the profile of a receiver"),
        ("-e without -p", ["-e", "-1=qwerty", "-2=asdfgh"], 2, "needs -p"),
        ("-e with -s", ["-e", "-p", env.path("x.txt"), "-1=a", "-2=b", "-s", f], 2,
         "encryption mode"),
    ]


def test_help(env):
    for args in (["-h"], ["--help"], ["-e", "--help"]):
        proc, _ = env.run(args)
        assert proc.returncode == 0, proc
        assert proc.stderr == b"", proc.stderr
        out = proc.stdout.decode()
        for option in ("-a, --apikey", "-z, --zipdir", "--signaling", "--vault-key", "default"):
            assert option in out, option
    proc, _ = env.run(["--version"])
    assert proc.returncode == 0 and proc.stdout.startswith(b"distributed-backup "), proc


def test_encryption_mode(env):
    # The seed's command, verbatim.
    path = env.passfile
    proc, _ = env.run(["-e", f"-p={path}", "-1=qwerty", "-2=asdfgh"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b"" and proc.stderr == b"", proc
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(env.key_path()).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(env.key_path())).st_mode) == 0o700
    assert decode_vault(path, env.key_path()) == ("qwerty", "asdfgh")

    # A relative path, replacing an existing file.
    proc, _ = env.run(["-e", "-p", "passwords.txt", "--password1", "", "--password2=second"])
    assert proc.returncode == 0 and proc.stderr == b"", proc
    assert decode_vault(path, env.key_path()) == ("", "second")

    # --vault-key and the environment variable.
    key = env.path("my.key")
    other = env.path("other.txt")
    proc, _ = env.run(["-e", "-p", other, "-1=a", "-2=b", "--vault-key", key])
    assert proc.returncode == 0, proc.stderr
    assert decode_vault(other, key) == ("a", "b")
    proc, _ = env.run(["-e", "-p", other, "-1=c", "-2=d"],
                      extra_env={"DISTRIBUTED_BACKUP_VAULT_KEY": key})
    assert proc.returncode == 0, proc.stderr
    assert decode_vault(other, key) == ("c", "d")

    # A group-readable key is refused, and the file is left alone.
    os.chmod(key, 0o640)
    proc, _ = env.run(["-e", "-p", other, "-1=e", "-2=f", "--vault-key", key])
    assert_one_line_error(proc, 1, "chmod 600")
    os.chmod(key, 0o600)
    assert decode_vault(other, key) == ("c", "d")

    # Too long.
    proc, _ = env.run(["-e", "-p", other, "-1=" + "x" * 256, "-2=f"])
    assert_one_line_error(proc, 1, "255")
    assert decode_vault(other, key) == ("c", "d")

    # Into a directory that does not exist.
    proc, _ = env.run(["-e", "-p", env.path("nowhere/p.txt"), "-1=a", "-2=b"])
    assert_one_line_error(proc, 1, "No such file")


def test_stdin_passwords(env):
    path = env.path("piped.txt")
    proc, _ = env.run(["-e", "-p", path], stdin_data=b"from stdin 1\nfrom stdin 2\n")
    assert proc.returncode == 0 and proc.stdout == b"" and proc.stderr == b"", proc
    assert decode_vault(path, env.key_path()) == ("from stdin 1", "from stdin 2")

    # Only the missing one is read; CRLF and a missing final newline are fine.
    proc, _ = env.run(["-e", "-p", path, "-1", "given"], stdin_data=b"second\r\n")
    assert proc.returncode == 0, proc.stderr
    assert decode_vault(path, env.key_path()) == ("given", "second")
    proc, _ = env.run(["-e", "-p", path, "-2", "given"], stdin_data=b"no newline")
    assert proc.returncode == 0, proc.stderr
    assert decode_vault(path, env.key_path()) == ("no newline", "given")
    proc, _ = env.run(["-e", "-p", path], stdin_data=b"\n\n")
    assert proc.returncode == 0, proc.stderr
    assert decode_vault(path, env.key_path()) == ("", "")

    # Missing lines, too long: errors, and the file stays as it was.
    proc, _ = env.run(["-e", "-p", path], stdin_data=b"only one\n")
    assert_one_line_error(proc, 2, "Password 2 is missing")
    proc, _ = env.run(["-e", "-p", path], stdin_data=b"")
    assert_one_line_error(proc, 2, "Password 1 is missing")
    proc, _ = env.run(["-e", "-p", path], stdin_data=b"x" * 256 + b"\nok\n")
    assert_one_line_error(proc, 2, "255")
    proc, _ = env.run(["-e", "-p", path], stdin_data=b"x" * 255 + b"\n" + b"y" * 255 + b"\n")
    assert proc.returncode == 0, proc.stderr
    assert decode_vault(path, env.key_path()) == ("x" * 255, "y" * 255)


def run_on_pty(env, args, answers):
    """Runs the executable with a pseudo-terminal as stdin and controlling
    terminal; answers each prompt in @answers (prompt, text) in turn.
    Returns (process, everything the terminal showed)."""
    master, slave = pty.openpty()

    def make_controlling():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [EXE] + args,
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env.env,
        cwd=env.root,
        start_new_session=True,
        preexec_fn=make_controlling,
    )
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + TIMEOUT
    pending = list(answers)
    while True:
        if pending and pending[0][0].encode() in shown:
            # Wait until echo is off before typing, as a person would.
            prompt, text = pending.pop(0)
            shown = shown.replace(prompt.encode(), b"<" + prompt.encode() + b">", 1)
            os.write(master, text.encode() + b"\n")
            continue
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"timed out; terminal showed {shown!r}"
        ready, _, _ = select.select([master], [], [], min(remaining, 0.5))
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError as exc:
                if exc.errno == errno.EIO:
                    break
                raise
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None and not pending:
            break
    out, err = proc.communicate(timeout=TIMEOUT)
    os.close(master)
    return proc, out, err, shown


def test_tty_passwords(env):
    path = env.path("typed.txt")
    proc, out, err, shown = run_on_pty(
        env,
        ["-e", "-p", path],
        [
            ("Inner zip password: ", "typed-secret-one"),
            ("Repeat the inner zip password: ", "typed-secret-one"),
            ("Outer zip password: ", "typed-secret-two"),
            ("Repeat the outer zip password: ", "typed-secret-two"),
        ],
    )
    assert proc.returncode == 0, (err, shown)
    assert out == b"" and err == b"", (out, err)
    assert b"typed-secret" not in shown, f"password echoed: {shown!r}"
    assert b"<Repeat the outer zip password: >" in shown, shown
    assert decode_vault(path, env.key_path()) == ("typed-secret-one", "typed-secret-two")

    # Only the missing one is asked for.
    proc, out, err, shown = run_on_pty(
        env,
        ["-e", "-p", path, "-1", "given"],
        [
            ("Outer zip password: ", "typed-outer"),
            ("Repeat the outer zip password: ", "typed-outer"),
        ],
    )
    assert proc.returncode == 0, (err, shown)
    assert b"Inner zip password" not in shown
    assert b"typed-outer" not in shown
    assert decode_vault(path, env.key_path()) == ("given", "typed-outer")

    # A confirmation that differs: an error, the file is untouched.
    proc, out, err, shown = run_on_pty(
        env,
        ["-e", "-p", path],
        [
            ("Inner zip password: ", "one"),
            ("Repeat the inner zip password: ", "another"),
        ],
    )
    assert_one_line_error(subprocess.CompletedProcess(proc.args, proc.returncode, out, err), 2,
                          "do not match")
    assert decode_vault(path, env.key_path()) == ("given", "typed-outer")


def test_tty_interrupted(env):
    """Ctrl-C at the prompt leaves the terminal echoing again."""
    path = env.path("interrupted.txt")
    master, slave = pty.openpty()

    def make_controlling():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    proc = subprocess.Popen(
        [EXE, "-e", "-p", path],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env.env,
        cwd=env.root,
        start_new_session=True,
        preexec_fn=make_controlling,
    )
    try:
        shown = b""
        deadline = time.monotonic() + TIMEOUT
        while b"Inner zip password: " not in shown:
            assert time.monotonic() < deadline, shown
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                shown += os.read(master, 4096)
        assert not termios.tcgetattr(slave)[3] & termios.ECHO, "echo is on at the prompt"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=TIMEOUT)
        assert proc.returncode == -signal.SIGINT, proc.returncode
        assert termios.tcgetattr(slave)[3] & termios.ECHO, "echo was not restored"
        assert not os.path.exists(path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        os.close(master)
        os.close(slave)


# --- Real backups between two processes -------------------------------------

LOOPBACK = ["--ice-address", "127.0.0.1", "--stun="]


class Peer:
    """A distributed-backup process in the background, its stderr in a file."""

    def __init__(self, env, args, name):
        self.err_path = env.path(name + ".err")
        self.err_file = open(self.err_path, "wb")
        self.proc = subprocess.Popen(
            [EXE] + list(args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.err_file,
            env=env.env,
            cwd=env.root,
        )

    def wait(self):
        try:
            status = self.proc.wait(timeout=120)
        finally:
            self.err_file.close()
        return status

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                os.kill(self.proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.proc.wait()
        self.err_file.close()


def wait_until(condition, what, peers=()):
    """Waits for @condition; fails if a peer ends meanwhile or after TIMEOUT * 3."""
    deadline = time.monotonic() + TIMEOUT * 3
    while not condition():
        for peer in peers:
            assert peer.proc.poll() is None, (
                f"ended ({peer.proc.returncode}) before {what}: {peer.stderr()!r}")
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


def session_files(sigdir, session):
    return [n for n in os.listdir(sigdir) if n.startswith(session + "_")]


def waiting_for_peer(sigdir, session):
    """True once a peer of @session has put its ping in the folder store: it
    has checked its options and scanned its destination."""
    return any(n.startswith(session + "_ping_") for n in os.listdir(sigdir))


def fresh_dir(env, name):
    path = env.path(name)
    os.mkdir(path)
    return path


def parts_in(directory):
    return [n for n in os.listdir(directory) if n.endswith(".part")]


def part_has_data(directory):
    for name in parts_in(directory):
        try:
            if os.path.getsize(os.path.join(directory, name)) > 0:
                return True
        except FileNotFoundError:
            pass
    return False


def sparse_file(path, size):
    """A file of @size zero bytes that takes no room on the disk."""
    with open(path, "wb") as f:
        f.truncate(size)


def is_zeros(path, size):
    zeros = bytes(1024 * 1024)
    with open(path, "rb") as f:
        total = 0
        while True:
            chunk = f.read(len(zeros))
            if not chunk:
                break
            if chunk != zeros[: len(chunk)]:
                return False
            total += len(chunk)
    return total == size


def assert_no_raw_controls(output, what):
    """@output (bytes) holds no control character but the line ends and the
    progress line's own carriage returns and erase-to-end-of-line, and no
    bidirectional control."""
    text = output.replace(b"\x1b[K", b"")
    bad = sorted({b for b in text if (b < 0x20 and b not in (0x0A, 0x0D)) or b == 0x7F})
    assert not bad, f"{what}: raw control bytes {bad} in {output!r}"
    assert b"\xe2\x80\xae" not in text, f"{what}: raw U+202E in {output!r}"


def test_hostile_name(env):
    """A file named with terminal escapes, a bidirectional control and a
    newline, sent by this program to this program."""
    name = "evil\x1b]0;owned\x07\x1b[2J\nforged line\u202e.txt"
    shown = b"evil\\x1b]0;owned\\x07\\x1b[2J\\x0aforged line\\u{202E}.txt"
    src = fresh_dir(env, "hostile-src")
    dst = fresh_dir(env, "hostile-dst")
    sig = fresh_dir(env, "hostile-sig")
    content = os.urandom(3 * 1024 * 1024)
    with open(os.path.join(src, name), "wb") as f:
        f.write(content)
    common = ["--signaling", sig, "-u", "hostile-name", "--timeout", "60", "--progress"] + LOOPBACK

    receiver = Peer(env, common + ["-d", dst], "hostile-receiver")
    sender = Peer(env, common + ["-s", os.path.join(src, name)], "hostile-sender")
    try:
        sender_status = sender.wait()
        receiver_status = receiver.wait()
    finally:
        sender.kill()
        receiver.kill()
    received, sent = receiver.stderr(), sender.stderr()
    assert sender_status == 0, sent
    assert receiver_status == 0, received

    # Stored under its real name, with its content.
    assert os.listdir(dst) == [name], os.listdir(dst)
    with open(os.path.join(dst, name), "rb") as f:
        assert f.read() == content

    for output, line, what in ((received, b"Received " + shown + b" into ", "receiver"),
                               (sent, b"Sent " + shown + b"\n", "sender")):
        assert_no_raw_controls(output, what)
        assert line in output, f"{what}: {line!r} not in {output!r}"
        # The name never starts a line of its own.
        for piece in output.replace(b"\r", b"\n").split(b"\n"):
            if b"forged line" in piece:
                assert b"evil" in piece, f"{what}: forged line {piece!r} in {output!r}"
        # The progress line showed the name escaped too.
        assert b"\r" + shown + b"  " in output, f"{what}: no progress line in {output!r}"
    assert session_files(sig, "hostile-name") == []


def test_killed_receiver(env):
    """A receiver killed during a transfer leaves its temporary file; the next
    receiver on that folder keeps it while the backup may resume, removes it
    at start-up once it is a day old, and keeps the versions."""
    src = fresh_dir(env, "killed-src")
    dst = fresh_dir(env, "killed-dst")
    sig = fresh_dir(env, "killed-sig")
    big = os.path.join(src, "big.bin")
    sparse_file(big, 256 * 1024 * 1024)
    versions = {"big.bin": b"newest version\n", "big.bin.1": b"older version\n"}
    for file_name, data in versions.items():
        with open(os.path.join(dst, file_name), "wb") as f:
            f.write(data)
    common = ["--signaling", sig, "--timeout", "60", "-q", "--no-progress"] + LOOPBACK

    receiver = Peer(env, common + ["-u", "killed-1", "-d", dst, "-v", "2"], "killed-receiver")
    sender = Peer(env, common + ["-u", "killed-1", "-s", big], "killed-sender")
    later = None
    try:
        wait_until(lambda: part_has_data(dst), "data in a temporary file", (receiver, sender))
        # The sender stops, so the transfer cannot end; the receiver dies
        # without a chance to clean up.
        sender.proc.send_signal(signal.SIGSTOP)
        receiver.proc.send_signal(signal.SIGKILL)
        assert receiver.wait() == -signal.SIGKILL
        left = parts_in(dst)
        assert len(left) == 1, f"no temporary file left by the killed receiver: {os.listdir(dst)}"
        assert os.path.getsize(os.path.join(dst, left[0])) > 0

        # Between two peers of this program, what arrived is kept for the
        # backup to resume: another receiver of the same folder leaves it
        # while it is younger than a day, and removes it after.
        assert re.fullmatch(r"\.big\.bin\.[0-9a-f]{32}\.resume\.part", left[0]), left
        later = Peer(env, common + ["-u", "killed-2", "-d", dst, "-v", "2"], "later-receiver")
        wait_until(lambda: waiting_for_peer(sig, "killed-2"), "the new receiver to wait", (later,))
        assert parts_in(dst) == left, f"the resumable part went: {os.listdir(dst)}"
        later.proc.send_signal(signal.SIGTERM)
        assert later.wait() == 143, later.stderr()
        day_ago = time.time() - 25 * 3600
        os.utime(os.path.join(dst, left[0]), (day_ago, day_ago))
        later = Peer(env, common + ["-u", "killed-2", "-d", dst, "-v", "2"], "later-receiver")
        wait_until(lambda: waiting_for_peer(sig, "killed-2"), "the new receiver to wait", (later,))
        assert parts_in(dst) == [], f"the temporary file stayed: {os.listdir(dst)}"
        assert sorted(os.listdir(dst)) == sorted(versions), os.listdir(dst)
        for file_name, data in versions.items():
            with open(os.path.join(dst, file_name), "rb") as f:
                assert f.read() == data, file_name

        later.proc.send_signal(signal.SIGTERM)
        assert later.wait() == 143, later.stderr()
        assert later.stderr() == b"", later.stderr()
        assert session_files(sig, "killed-2") == []
    finally:
        sender.kill()
        receiver.kill()
        if later is not None:
            later.kill()


def test_receivers_share_folder(env):
    """A receiver starting on a folder where another one is receiving leaves
    the other's temporary file alone, and that transfer completes."""
    src = fresh_dir(env, "shared-src")
    dst = fresh_dir(env, "shared-dst")
    sig = fresh_dir(env, "shared-sig")
    data_path = os.path.join(src, "data.bin")
    size = 128 * 1024 * 1024
    sparse_file(data_path, size)
    common = ["--signaling", sig, "--timeout", "60", "-q", "--no-progress"] + LOOPBACK

    first = Peer(env, common + ["-u", "shared-1", "-d", dst], "shared-first")
    sender = Peer(env, common + ["-u", "shared-1", "-s", data_path], "shared-sender")
    second = None
    try:
        wait_until(lambda: parts_in(dst), "a temporary file", (first, sender))
        sender.proc.send_signal(signal.SIGSTOP)
        part = parts_in(dst)
        assert len(part) == 1, f"the transfer ended before it could be paused: {os.listdir(dst)}"

        second = Peer(env, common + ["-u", "shared-2", "-d", dst], "shared-second")
        wait_until(lambda: waiting_for_peer(sig, "shared-2"), "the second receiver to wait",
                   (second,))
        assert parts_in(dst) == part, os.listdir(dst)

        sender.proc.send_signal(signal.SIGCONT)
        assert sender.wait() == 0, sender.stderr()
        assert first.wait() == 0, first.stderr()
        assert is_zeros(os.path.join(dst, "data.bin"), size)
        assert parts_in(dst) == [], os.listdir(dst)

        second.proc.send_signal(signal.SIGINT)
        assert second.wait() == 130, second.stderr()
    finally:
        sender.kill()
        first.kill()
        if second is not None:
            second.kill()


def test_signal_status(env):
    """A peer waiting for the other one ends on SIGTERM with 143 and on SIGINT
    with 130, and cleans the signaling store."""
    sig = fresh_dir(env, "signal-sig")
    dst = fresh_dir(env, "signal-dst")
    cases = [
        ("receiver", ["-d", dst], signal.SIGTERM, 143),
        ("receiver", ["-d", dst], signal.SIGINT, 130),
        ("sender", ["-s", env.file], signal.SIGTERM, 143),
        ("sender", ["-s", env.file], signal.SIGINT, 130),
        ("listening receiver", ["-d", dst, "--keep-listening"], signal.SIGTERM, 143),
    ]
    for index, (what, args, signum, status) in enumerate(cases):
        session = f"signal-{index}"
        peer = Peer(env, ["--signaling", sig, "-u", session, "--timeout", "60"] + LOOPBACK + args,
                    f"signal-{index}")
        try:
            wait_until(lambda: waiting_for_peer(sig, session), f"the {what} to wait", (peer,))
            peer.proc.send_signal(signum)
            got = peer.wait()
        finally:
            peer.kill()
        assert got == status, f"{what}, signal {signum}: exit status {got}, not {status}"
        assert peer.stderr() == b"", peer.stderr()
        assert session_files(sig, session) == [], session_files(sig, session)


def test_apikey_file_warning(env):
    """An --apikey-file that other users can read: one warning line, and the
    run goes on; a private one: no line."""
    sig = fresh_dir(env, "apikey-sig")
    dst = fresh_dir(env, "apikey-dst")
    keyfile = env.path("apikey")
    with open(keyfile, "w") as f:
        f.write("SECRET-API-KEY\n")
    for mode, warned in ((0o644, True), (0o600, False)):
        os.chmod(keyfile, mode)
        session = f"apikey-{mode:o}"
        peer = Peer(env, ["--signaling", sig, "-u", session, "-d", dst, "--apikey-file", keyfile]
                    + LOOPBACK, f"apikey-{mode:o}")
        try:
            wait_until(lambda: waiting_for_peer(sig, session), "the receiver to wait", (peer,))
            peer.proc.send_signal(signal.SIGTERM)
            status = peer.wait()
        finally:
            peer.kill()
        err = peer.stderr().decode()
        assert "SECRET-API-KEY" not in err
        if warned:
            lines = err.splitlines()
            assert len(lines) == 1 and err.endswith("\n"), f"expected one line, got {err!r}"
            assert lines[0].startswith("distributed-backup: warning: "), lines[0]
            assert "readable by other users" in lines[0], lines[0]
            assert f"chmod 600 {keyfile}" in lines[0], lines[0]
        else:
            assert err == "", err
        assert status == 143, (status, err)


def test_profile_file(env):
    """A receiver that runs a profile file (as the systemd unit does) stores a
    backup sent with options, keeping the versions the profile says."""
    src = fresh_dir(env, "profile-src")
    sig = fresh_dir(env, "profile-sig")
    home = fresh_dir(env, "profile-home")
    os.mkdir(os.path.join(home, "backups"))
    data = os.path.join(src, "notes.bin")
    config = env.path("receiver.conf")
    with open(config, "w") as out:
        out.write("# a receiver\n[Profile]\nrole=receive\nsession-id=from-a-profile\n"
                  f"signaling={sig}\nstun-servers=\nice-addresses=127.0.0.1\n"
                  "destination=~/backups\nversions=2\ntimeout=60\n")
    versions = []
    for round_ in range(3):
        content = os.urandom(200 * 1024 + round_)
        versions.append(content)
        with open(data, "wb") as f:
            f.write(content)
        # "~/" in the profile is this home folder.
        receiver = subprocess.Popen(
            [EXE, "--config", config, "--no-progress"], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(env.env, HOME=home),
            cwd=env.root)
        sender = Peer(env, ["--signaling", sig, "-u", "from-a-profile", "--timeout", "60",
                            "-s", data] + LOOPBACK, f"profile-sender-{round_}")
        try:
            assert sender.wait() == 0, sender.stderr()
            _, err = receiver.communicate(timeout=120)
        finally:
            sender.kill()
            if receiver.poll() is None:
                receiver.kill()
                receiver.wait()
        assert receiver.returncode == 0, err
        assert b"Received notes.bin into " in err, err
    stored = os.path.join(home, "backups")
    assert sorted(os.listdir(stored)) == ["notes.bin", "notes.bin.1"], os.listdir(stored)
    with open(os.path.join(stored, "notes.bin"), "rb") as f:
        assert f.read() == versions[2]
    with open(os.path.join(stored, "notes.bin.1"), "rb") as f:
        assert f.read() == versions[1]


# --- Versions and retention ---------------------------------------------------


def avoid_midnight():
    """The tests below count local days: not across a midnight."""
    now = time.localtime()
    left = 86400 - (now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec)
    if left < 180:
        time.sleep(left + 1)


def local_days_ago(days, hour):
    """A time @days local days before today, at @hour:00 (local)."""
    today = time.localtime()
    return time.mktime((today.tm_year, today.tm_mon, today.tm_mday - days, hour, 0, 0, 0, 0, -1))


def write_version(directory, name, content, mtime):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(content)
    os.utime(path, (mtime, mtime))


def read(path):
    with open(path, "rb") as f:
        return f.read()


def visible(directory):
    return sorted(n for n in os.listdir(directory) if not n.startswith("."))


def test_retention_receiver(env):
    """A receiver with --keep-daily (and --keep-last) stores backups from a
    real sender, pruning after each: one version per day, the newest."""
    avoid_midnight()
    src = fresh_dir(env, "retention-src")
    dst = fresh_dir(env, "retention-dst")
    sig = fresh_dir(env, "retention-sig")
    data = os.path.join(src, "notes.bin")
    # Five earlier days, one version each (as a receiver without an index
    # left them: their times are their modification times).
    old = {}
    for day in range(1, 6):
        old[day] = b"day -%d\n" % day
        write_version(dst, "notes.bin" if day == 1 else f"notes.bin.{day - 1}", old[day],
                      local_days_ago(day, 12))
    rounds = [
        # (policy, expected contents of notes.bin, notes.bin.1, ...)
        (["--keep-daily", "3"], lambda r: [r[0], old[1], old[2]]),
        (["--keep-daily", "3"], lambda r: [r[1], old[1], old[2]]),
        (["--keep-daily=3", "--keep-last=2"], lambda r: [r[2], r[1], old[1], old[2]]),
    ]
    sent = []
    for index, (policy, expected) in enumerate(rounds):
        content = os.urandom(100 * 1024 + index)
        sent.append(content)
        with open(data, "wb") as f:
            f.write(content)
        session = f"retention-{index}"
        common = ["--signaling", sig, "-u", session, "--timeout", "60"] + LOOPBACK
        receiver = Peer(env, common + ["-d", dst] + policy, f"retention-receiver-{index}")
        sender = Peer(env, common + ["-s", data], f"retention-sender-{index}")
        try:
            assert sender.wait() == 0, sender.stderr()
            assert receiver.wait() == 0, receiver.stderr()
        finally:
            sender.kill()
            receiver.kill()
        assert b"Received notes.bin into " in receiver.stderr(), receiver.stderr()
        want = expected(sent)
        names = ["notes.bin"] + [f"notes.bin.{k}" for k in range(1, len(want))]
        assert visible(dst) == sorted(names), (index, visible(dst))
        for name, content_wanted in zip(names, want):
            assert read(os.path.join(dst, name)) == content_wanted, (index, name)
        # The times are in the index beside the versions.
        assert os.path.isfile(os.path.join(dst, ".notes.bin.versions")), os.listdir(dst)
        assert parts_in(dst) == [], os.listdir(dst)


def test_prune_dry_run(env):
    """--prune --dry-run lists what would go and changes nothing; --prune
    does it; a receiver's profile file prunes the same way."""
    avoid_midnight()
    dst = fresh_dir(env, "prune-dst")
    now = time.time()
    versions = [
        ("notes.bin", b"today\n", now - 60),
        ("notes.bin.1", b"today, earlier\n", now - 120),
        ("notes.bin.2", b"yesterday\n", local_days_ago(1, 12)),
        ("notes.bin.3", b"two days ago\n", local_days_ago(2, 12)),
        ("notes.bin.4", b"two days ago, earlier\n", local_days_ago(2, 8)),
    ]
    for name, content, mtime in versions:
        write_version(dst, name, content, mtime)

    def state():
        return [(n, read(os.path.join(dst, n)), os.stat(os.path.join(dst, n)).st_mtime)
                for n in sorted(os.listdir(dst))]

    before = state()
    proc, _ = env.run(["--prune", "--dry-run", "-d", dst, "--keep-daily", "2"])
    assert proc.returncode == 0, proc.stderr
    assert state() == before, "a dry run changed the folder"
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 5, lines
    words = [line.split()[:2] for line in lines]
    assert words == [["keep", "notes.bin"], ["remove", "notes.bin.1"],
                     ["keep", "notes.bin.2"], ["remove", "notes.bin.3"],
                     ["remove", "notes.bin.4"]], lines
    assert "daily" in lines[0] and "newest" in lines[0], lines[0]
    assert lines[2].endswith("daily  -> notes.bin.1"), lines[2]
    yesterday = time.strftime("%Y-%m-%d 12:00:00", time.localtime(local_days_ago(1, 12)))
    assert yesterday in lines[2], (yesterday, lines[2])
    assert proc.stderr.decode() == (
        "Dry run: 3 of 5 versions would be removed; nothing was changed\n"), proc.stderr

    # The same from a receiver's profile file.
    config = env.path("prune.conf")
    with open(config, "w") as out:
        out.write(f"[Profile]\nrole=receive\nsession-id=prune\ndestination={dst}\n"
                  "keep-daily=2\n")
    proc, _ = env.run(["--config", config, "--prune", "--dry-run", "-q"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b"", proc.stderr
    assert proc.stdout.decode().splitlines() == lines
    assert state() == before

    # For real, quietly.
    proc, _ = env.run(["--prune", "-d", dst, "--keep-daily=2", "-q"])
    assert proc.returncode == 0 and proc.stdout == b"" and proc.stderr == b"", proc
    assert visible(dst) == ["notes.bin", "notes.bin.1"], os.listdir(dst)
    assert read(os.path.join(dst, "notes.bin")) == b"today\n"
    assert read(os.path.join(dst, "notes.bin.1")) == b"yesterday\n"
    assert os.path.isfile(os.path.join(dst, ".notes.bin.versions"))
    # Nothing more to do.
    proc, _ = env.run(["--prune", "-d", dst, "--keep-daily=2"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.decode() == "Removed 0 of 2 versions\n", proc.stderr
    assert [line.split()[:2] for line in proc.stdout.decode().splitlines()] == [
        ["kept", "notes.bin"], ["kept", "notes.bin.1"]], proc.stdout


PROCESS_TESTS = [
    ("process: a receiver with --keep-daily prunes after each backup", test_retention_receiver),
    ("process: --prune --dry-run lists, --prune removes", test_prune_dry_run),
    ("process: a receiver runs a profile file", test_profile_file),
    ("process: a hostile file name is shown escaped", test_hostile_name),
    ("process: a killed receiver's temporary file stays a day to resume, then goes",
     test_killed_receiver),
    ("process: receivers share a folder", test_receivers_share_folder),
    ("process: SIGTERM exits 143, SIGINT 130", test_signal_status),
    ("process: an --apikey-file readable by others is warned about", test_apikey_file_warning),
]


def main():
    if not EXE:
        print("1..0 # SKIP DISTRIBUTED_BACKUP is not set")
        return 0
    env = Env()
    try:
        cases = validation_cases(env)
        print(f"1..{len(cases) + 5 + len(PROCESS_TESTS)}")
        # A valid password file for the cases that need one.
        proc, _ = env.run(["-e", "-p", env.passfile, "-1=qwerty", "-2=asdfgh"])
        assert proc.returncode == 0, proc.stderr
        for name, args, status, substring in cases:
            tap(f"invalid: {name}", lambda a=args, s=status, m=substring: check_failure(env, a, s, m))
        tap("help and version", lambda: test_help(env))
        if OPENSSL is None:
            for name in ("encryption mode", "passwords from stdin", "passwords on a terminal",
                         "interrupted prompt"):
                results.append((True, name))
                print(f"ok {len(results)} - {name} # SKIP openssl is not installed")
        else:
            tap("encryption mode", lambda: test_encryption_mode(env))
            tap("passwords from stdin", lambda: test_stdin_passwords(env))
            tap("passwords on a terminal", lambda: test_tty_passwords(env))
            tap("interrupted prompt", lambda: test_tty_interrupted(env))
        for name, func in PROCESS_TESTS:
            tap(name, lambda f=func: f(env))
    finally:
        shutil.rmtree(env.root, ignore_errors=True)
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
