#!/usr/bin/python3
# test-cli.py: runs the real distributed-backup executable.
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# - Every invalid command line fails at once, before any network activity,
#   with exactly one line on stderr, nothing on stdout and exit status 2
#   (usage) or 1 (an unreadable password file). When strace is available,
#   each failing command runs again under it and must open no IPv4/IPv6
#   socket.
# - Encryption mode writes a password file of the documented format: this
#   script checks it independently (HKDF and HMAC from Python's standard
#   library, AES-256-CBC with the openssl command), with the passwords from
#   the command line, from a pipe, and typed on a pseudo-terminal without echo.
#
# Output: TAP.

import errno
import fcntl
import hashlib
import hmac
import os
import pty
import select
import shutil
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
        ("undecryptable password file", ["-d", dst, "-p", env.corrupt] + common, 1,
         "not a valid password file"),
        ("missing password file", ["-d", dst, "-p", missing] + common, 1,
         "Cannot read the password file"),
        ("password file is a directory", ["-d", dst, "-p", dst] + common, 1,
         "Cannot read the password file"),
        ("password file is a FIFO", ["-d", dst, "-p", env.fifo] + common, 1,
         "not a regular file"),
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
    import signal

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


def main():
    if not EXE:
        print("1..0 # SKIP DISTRIBUTED_BACKUP is not set")
        return 0
    env = Env()
    try:
        cases = validation_cases(env)
        print(f"1..{len(cases) + 5}")
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
    finally:
        shutil.rmtree(env.root, ignore_errors=True)
    return 0 if all(ok for ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
