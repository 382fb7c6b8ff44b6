#!/usr/bin/python3
# test-restore.py [CASE...]: --restore, --list, --verify and --show-passwords of
# the real distributed-backup, on real archives: one received from a real
# sender over the folder signaling store on 127.0.0.1, ones made by 7-Zip,
# bsdtar and Info-ZIP (AES and ZipCrypto, and the original tool's commands),
# and hostile or damaged ones. TAP output.
#
# Environment: DISTRIBUTED_BACKUP (the program). RESTORE_KEEP=1 keeps the work
# directory.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile

APP = os.environ.get("DISTRIBUTED_BACKUP", "")
P1 = "inner password 1"
# 7-Zip takes only ASCII zip passwords; this program takes any.
P1_UTF8 = "inner pässword 1"
P2 = "outer-password-2"
MTIME = 1600000000


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, what, cond, detail=""):
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, what), flush=True)
        if not cond:
            self.failed += 1
            for line in str(detail).splitlines():
                print("#   " + line, flush=True)
        return cond


def run(args, stdin=None, cwd=None, timeout=120):
    p = subprocess.run([APP] + args, input=stdin, capture_output=True, cwd=cwd,
                       timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def report(rc, out, err):
    return "exit %d\nstdout: %s\nstderr: %s" % (rc, out, err)


def tool(args, cwd):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_tree(root, links=True):
    """Files of several modes and times, an empty folder, nested folders,
    a non-ASCII name, a sparse-ish file of zeros, incompressible data (stored
    entries) and symbolic links."""
    os.makedirs(os.path.join(root, "sub", "deeper"))
    os.makedirs(os.path.join(root, "empty"))
    os.makedirs(os.path.join(root, "private"))
    with open(os.path.join(root, "notes.txt"), "w") as f:
        f.write("hello restore\n" * 500)
    with open(os.path.join(root, "sub", "random.bin"), "wb") as f:
        f.write(os.urandom(300 * 1024))
    with open(os.path.join(root, "sub", "deeper", "zeros.bin"), "wb") as f:
        f.write(bytes(1024 * 1024))
    with open(os.path.join(root, "sub", "ü née.txt"), "w") as f:
        f.write("unicode\n")
    with open(os.path.join(root, "run.sh"), "w") as f:
        f.write("#!/bin/sh\necho hi\n")
    with open(os.path.join(root, "private", "secret.txt"), "w") as f:
        f.write("secret\n")
    os.chmod(os.path.join(root, "run.sh"), 0o755)
    os.chmod(os.path.join(root, "private", "secret.txt"), 0o600)
    if links:
        os.symlink("notes.txt", os.path.join(root, "link-to-file"))
        os.symlink("../notes.txt", os.path.join(root, "sub", "link-up"))
        os.symlink("sub/deeper", os.path.join(root, "link-to-dir"))
    for dirpath, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames + dirnames:
            p = os.path.join(dirpath, name)
            t = MTIME + len(p)
            os.utime(p, (t, t), follow_symlinks=False)
    os.chmod(os.path.join(root, "private"), 0o750)
    os.utime(root, (MTIME, MTIME))


def describe(root):
    """Relative path → (type, mode, mtime for files and folders, content or target)."""
    result = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                result[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                result[rel] = ("dir", stat.S_IMODE(st.st_mode), int(st.st_mtime))
            else:
                with open(p, "rb") as f:
                    data = f.read()
                result[rel] = ("file", stat.S_IMODE(st.st_mode), int(st.st_mtime), data)
    return result


def tree_diff(a, b):
    da, db = describe(a), describe(b)
    lines = []
    for k in sorted(set(da) | set(db)):
        if k not in da:
            lines.append("only in restored: " + k)
        elif k not in db:
            lines.append("missing: " + k)
        elif da[k] != db[k]:
            lines.append("differs: %s: %r vs %r" % (k, da[k][:3], db[k][:3]))
    return "\n".join(lines)


def diff_r(a, b):
    p = subprocess.run(["diff", "-r", "--no-dereference", a, b], capture_output=True)
    return p.returncode == 0, p.stdout.decode("utf-8", "replace")


def leftovers(root):
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        found += [os.path.join(dirpath, n) for n in filenames if n.startswith(".restore-")]
    return found


def zip_python(path, entries):
    """A zip with exactly the entries given: (name, data, mode)."""
    with zipfile.ZipFile(path, "w") as z:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 2, 3, 4, 6))
            info.create_system = 3
            info.external_attr = mode << 16
            z.writestr(info, data)


def double_zip(work, name, entries, p2=P2):
    """An inner zip of exactly @entries (written by Python, not encrypted:
    restore with -1 ''), wrapped with Info-ZIP the way the original tool
    wraps it."""
    d = tempfile.mkdtemp(dir=work)
    inner = os.path.join(d, "inner.zip")
    zip_python(inner, entries)
    outer = os.path.join(work, name)
    tool(["zip", "-q", "-0", "-j", "-P", p2, outer, inner], d)
    return outer


# ---------------------------------------------------------------------------


def case_received(tap, work):
    """Our sender, our receiver, then our restore."""
    src = os.path.join(work, "Documents")
    make_tree(src)
    passfile = os.path.join(work, "passfile")
    key = os.path.join(work, "vault.key")
    rc, out, err = run(["-e", "-p", passfile, "-1", P1_UTF8, "-2", P2, "--vault-key", key])
    tap.check("received: the password file is written", rc == 0, report(rc, out, err))
    sig = os.path.join(work, "signaling")
    dst = os.path.join(work, "received")
    os.makedirs(sig)
    os.makedirs(dst)
    common = ["--signaling", sig, "--ice-address", "127.0.0.1", "-S", "", "--timeout", "30",
              "-q", "--no-progress", "-u", "restore-%d" % os.getpid()]
    receiver = subprocess.Popen([APP] + common + ["-d", dst], stderr=subprocess.PIPE)
    try:
        rc, out, err = run(common + ["-s", src, "-z", "-o", "docs.zip", "-p", passfile,
                                     "--vault-key", key], timeout=90)
        rerr = receiver.communicate(timeout=60)[1].decode("utf-8", "replace")
    finally:
        if receiver.poll() is None:
            receiver.kill()
            receiver.wait()
    archive = os.path.join(dst, "docs.zip")
    if not tap.check("received: the sender and the receiver succeed",
                     rc == 0 and receiver.returncode == 0 and os.path.isfile(archive),
                     report(rc, out, err) + "\nreceiver: " + rerr):
        return

    out_dir = os.path.join(work, "restored")
    rc, out, err = run(["--restore", archive, "-p", passfile, "--vault-key", key, "-d", out_dir])
    tap.check("received: --restore succeeds with one summary line",
              rc == 0 and err.count("\n") == 1 and "Restored" in err, report(rc, out, err))
    d = tree_diff(src, out_dir)
    tap.check("received: files, folders, empty folders, links, modes and times are restored",
              d == "", d)
    same, text = diff_r(src, out_dir)
    tap.check("received: diff -r finds no difference", same, text)
    tap.check("received: no temporary file is left", leftovers(out_dir) == [],
              leftovers(out_dir))

    rc, out, err = run(["--list", archive, "-p", passfile, "--vault-key", key])
    lines = out.splitlines()
    tap.check("received: --list shows every entry with its mode, size and time",
              rc == 0 and len(lines) == len(describe(src))
              and any(l.startswith("-rwxr-xr-x") and l.endswith("  run.sh") for l in lines)
              and any(l.startswith("drwxr-x---") and "private" in l for l in lines)
              and any(l.startswith("l") and "link-to-dir" in l for l in lines)
              and any(" 1048576 " in l and "zeros.bin" in l for l in lines),
              report(rc, out, err))

    rc, out, err = run(["--verify", archive, "-p", passfile, "--vault-key", key])
    tap.check("received: --verify exits 0 with a summary",
              rc == 0 and "OK" in out and "6 files" in out and "3 symbolic links" in out, report(rc, out, err))

    # Nothing is overwritten without --force.
    victim = os.path.join(out_dir, "notes.txt")
    with open(victim, "w") as f:
        f.write("changed by the user\n")
    rc, out, err = run(["--restore", archive, "-p", passfile, "--vault-key", key, "-d", out_dir])
    with open(victim) as f:
        kept = f.read() == "changed by the user\n"
    tap.check("received: an existing file is refused and kept without --force",
              rc == 1 and kept and err.count("\n") == 1 and "--force" in err,
              report(rc, out, err))
    rc, out, err = run(["--restore", archive, "-p", passfile, "--vault-key", key, "-d", out_dir,
                        "--force", "-q"])
    d = tree_diff(src, out_dir)
    tap.check("received: --force replaces it, -q prints nothing",
              rc == 0 and d == "" and out == "" and err == "", report(rc, out, err) + "\n" + d)

    # The passwords, exported and used without the password file.
    rc, out, err = run(["-e", "-p", passfile, "--vault-key", key, "--show-passwords"],
                       stdin=b"")
    tap.check("received: --show-passwords without a terminal needs --yes",
              rc == 2 and out == "" and "--yes" in err, report(rc, out, err))
    rc, out, err = run(["-e", "-p", passfile, "--vault-key", key, "--show-passwords", "--yes"])
    shown = dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)
    got = [v for k, v in shown.items()]
    tap.check("received: --show-passwords --yes prints both passwords",
              rc == 0 and got == [P1_UTF8, P2], report(rc, out, err))
    other = os.path.join(work, "other.key")
    rc, out, err = run(["--show-passwords", "--yes", "-p", passfile, "--vault-key", other])
    tap.check("received: another vault key cannot show them", rc == 2 and out == "",
              report(rc, out, err))
    if len(got) == 2:
        offline = os.path.join(work, "restored-offline")
        rc, out, err = run(["--restore", archive, "-1", got[0], "-2", got[1], "-d", offline])
        tap.check("received: the printed passwords restore it with -1 and -2",
                  rc == 0 and tree_diff(src, offline) == "", report(rc, out, err))
        stdin_dir = os.path.join(work, "restored-stdin")
        rc, out, err = run(["--restore", archive, "-d", stdin_dir],
                           stdin=(got[0] + "\n" + got[1] + "\n").encode())
        tap.check("received: or typed on standard input",
                  rc == 0 and tree_diff(src, stdin_dir) == "", report(rc, out, err))


def tool_archives(work, src):
    """(label, archive, check links) made by other tools."""
    t = os.path.join(work, "tools")
    os.makedirs(t)
    made = []
    tool(["7zz", "a", "-tzip", "-mem=AES256", "-p" + P1, "-snl", "-bd", os.path.join(t, "a.zip"),
          "."], src)
    tool(["7zz", "a", "-tzip", "-mx0", "-mem=AES256", "-p" + P2, "-bd",
          os.path.join(t, "7z-aes.zip"), "a.zip"], t)
    made.append(("7-Zip AES-256", os.path.join(t, "7z-aes.zip"), True))
    tool(["7zz", "a", "-tzip", "-mem=ZipCrypto", "-p" + P1, "-snl", "-bd",
          os.path.join(t, "b.zip"), "."], src)
    tool(["7zz", "a", "-tzip", "-mx0", "-mem=ZipCrypto", "-p" + P2, "-bd",
          os.path.join(t, "7z-zipcrypto.zip"), "b.zip"], t)
    made.append(("7-Zip ZipCrypto", os.path.join(t, "7z-zipcrypto.zip"), True))
    tool(["bsdtar", "--format", "zip", "--options", "zip:encryption=aes256", "--passphrase", P1,
          "-cf", os.path.join(t, "c.zip"), "."], src)
    tool(["bsdtar", "--format", "zip", "--options",
          "zip:encryption=aes256,zip:compression=store", "--passphrase", P2, "-cf",
          os.path.join(t, "bsdtar-aes.zip"), "c.zip"], t)
    made.append(("bsdtar AES-256", os.path.join(t, "bsdtar-aes.zip"), True))
    tool(["zip", "-q", "-r", "-y", "-P", P1, os.path.join(t, "d.zip"), "."], src)
    tool(["zip", "-q", "-0", "-j", "-P", P2, os.path.join(t, "infozip.zip"), "d.zip"], t)
    made.append(("Info-ZIP ZipCrypto", os.path.join(t, "infozip.zip"), True))
    # Exactly the original tool's two commands (links followed, not kept).
    tool(["zip", "-q", "-r", "-P", P1, os.path.join(t, "Documents.zip"), "."], src)
    tool(["zip", "-q", "-0", "-j", "-P", P2, os.path.join(t, "legacy.zip"), "Documents.zip"], t)
    made.append(("the original tool's format", os.path.join(t, "legacy.zip"), False))
    return made


def case_tools(tap, work):
    src = os.path.join(work, "src")
    make_tree(src)
    for label, archive, links in tool_archives(work, src):
        out_dir = os.path.join(work, "out-" + os.path.basename(archive))
        rc, out, err = run(["--restore", archive, "-1", P1, "-2", P2, "-d", out_dir, "-q"])
        if links:
            d = tree_diff(src, out_dir)
            tap.check("%s: restored with links, modes and times" % label,
                      rc == 0 and d == "", report(rc, out, err) + "\n" + d)
        else:
            p = subprocess.run(["diff", "-r", src, out_dir], capture_output=True)
            tap.check("%s: restored, content identical" % label,
                      rc == 0 and p.returncode == 0, report(rc, out, err) + p.stdout.decode())
        rc, out, err = run(["--verify", archive, "-1", P1, "-2", P2])
        tap.check("%s: --verify exits 0" % label, rc == 0 and "OK" in out, report(rc, out, err))


def case_passwords(tap, work):
    src = os.path.join(work, "src")
    make_tree(src)
    made = dict((label, path) for label, path, _ in tool_archives(work, src))
    archive = made["7-Zip AES-256"]
    for args, number in ((["-1", P1, "-2", "wrong"], "2"), (["-1", "wrong", "-2", P2], "1")):
        out_dir = os.path.join(work, "wrong-" + number)
        rc, out, err = run(["--restore", archive, "-d", out_dir] + args)
        tap.check("AES: a wrong password %s is one clear line, exit 1" % number,
                  rc == 1 and err.count("\n") == 1 and "Wrong password" in err
                  and ("password " + number) in err and "ZIP" not in err, report(rc, out, err))
        files = [k for k, v in describe(out_dir).items() if v[0] != "dir"] \
            if os.path.exists(out_dir) else []
        tap.check("AES: no file is restored with a wrong password %s" % number, files == [],
                  files)
    rc, out, err = run(["--verify", archive, "-1", P1, "-2", ""])
    tap.check("an empty password 2 for an encrypted archive says so",
              rc == 1 and "password 2 is empty" in err, report(rc, out, err))
    for label in ("Info-ZIP ZipCrypto", "the original tool's format"):
        rc, out, err = run(["--verify", made[label], "-1", "wrong", "-2", P2])
        tap.check("%s: a wrong password 1 fails (exit 1, one line)" % label,
                  rc == 1 and err.count("\n") == 1, report(rc, out, err))


def case_hostile(tap, work):
    outside = os.path.join(work, "outside")
    os.makedirs(outside)
    cases = [
        ("zip-slip ../", [("../escaped.txt", b"x", 0o100644)], "escaped.txt", "Refused"),
        ("deep zip-slip", [("a/../../escaped2.txt", b"x", 0o100644)], "escaped2.txt", "Refused"),
        ("absolute path", [(os.path.join(outside, "abs.txt"), b"x", 0o100644)], "abs.txt",
         "Refused"),
        ("link to an absolute folder, then a file through it",
         [("evil", outside.encode(), 0o120777), ("evil/through.txt", b"x", 0o100644)],
         "through.txt", "Refused"),
        ("link climbing out, then a file through it",
         [("sub/", b"", 0o40755), ("sub/up", b"../../outside", 0o120777),
          ("sub/up/climb.txt", b"x", 0o100644)], "climb.txt", "Refused"),
        ("a harmless link, then a file through it",
         [("dot", b".", 0o120777), ("dot/via-link.txt", b"x", 0o100644)], None, "Refused"),
    ]
    for label, entries, escaped, word in cases:
        for level in ("one level", "double zip"):
            dest = os.path.join(work, "dest-%d" % tap.n)
            if level == "one level":
                archive = os.path.join(work, "hostile-%d.zip" % tap.n)
                zip_python(archive, entries)
                args = ["-1", "", "-2", ""]
            else:
                archive = double_zip(work, "hostile-%d.zip" % tap.n, entries)
                args = ["-1", "", "-2", P2]
            rc, out, err = run(["--restore", archive, "-d", dest] + args)
            escaped_ok = escaped is None or not os.path.exists(os.path.join(work, escaped)) \
                and not os.path.exists(os.path.join(outside, escaped))
            # In a streamed inner zip a link is known as one only at the end:
            # until then it is a file, and a path through it is no folder.
            refused = word in err or (level == "double zip" and "is not a folder" in err)
            tap.check("%s (%s): refused, exit 1, one line, nothing outside" % (label, level),
                      rc == 1 and err.count("\n") == 1 and refused and escaped_ok
                      and os.listdir(outside) == [],
                      report(rc, out, err))
            # A harmless link is no error until a file goes through it,
            # which only restoring meets.
            if "harmless" not in label:
                rc, out, err = run(["--verify", archive] + args)
                tap.check("%s (%s): --verify fails naming it" % (label, level),
                          rc == 1 and "Refused" in err, report(rc, out, err))

    # A link in the destination already, pointing outside.
    dest = os.path.join(work, "dest-prelink")
    os.makedirs(dest)
    os.symlink(outside, os.path.join(dest, "pre"))
    archive = os.path.join(work, "prelink.zip")
    zip_python(archive, [("pre/x.txt", b"x", 0o100644)])
    rc, out, err = run(["--restore", archive, "-d", dest, "-1", "", "-2", ""])
    tap.check("a link already in the destination is never gone through",
              rc == 1 and "symbolic link" in err and os.listdir(outside) == [],
              report(rc, out, err))

    # A link that only the central directory reveals, pointing outside.
    archive = double_zip(work, "late-link.zip", [("late", b"/etc", 0o120777)])
    dest = os.path.join(work, "dest-late")
    rc, out, err = run(["--restore", archive, "-d", dest, "-1", "", "-2", P2])
    tap.check("a streamed link pointing outside is refused and leaves nothing",
              rc == 1 and "Refused" in err and not os.path.lexists(os.path.join(dest, "late")),
              report(rc, out, err) + repr(os.listdir(dest) if os.path.isdir(dest) else None))
    rc, out, err = run(["--verify", archive, "-1", "", "-2", P2])
    tap.check("--verify refuses a streamed link pointing outside once the index has come",
              rc == 1 and err.count("\n") == 1 and "Refused" in err and "“late”" in err
              and "/etc" in err, report(rc, out, err))
    archive = double_zip(work, "late-links-ok.zip",
                         [("d/", b"", 0o40755), ("d/up", b"../x", 0o120777),
                          ("d/odd", b"/etc", 0o100644), ("x", b"x", 0o100644)])
    rc, out, err = run(["--verify", archive, "-1", "", "-2", P2])
    tap.check("--verify accepts streamed links inside, and files that only look like links",
              rc == 0 and "1 symbolic links" in out, report(rc, out, err))


def case_damage(tap, work):
    src = os.path.join(work, "src")
    os.makedirs(src)
    with open(os.path.join(src, "small.txt"), "w") as f:
        f.write("small\n")
    with open(os.path.join(src, "big.bin"), "wb") as f:
        f.write(os.urandom(4 * 1024 * 1024))
    t = os.path.join(work, "t")
    os.makedirs(t)
    tool(["7zz", "a", "-tzip", "-mem=AES256", "-p" + P1, "-bd", os.path.join(t, "in.zip"), "."],
         src)
    good = os.path.join(work, "good.zip")
    tool(["7zz", "a", "-tzip", "-mx0", "-mem=AES256", "-p" + P2, "-bd", good, "in.zip"], t)
    with open(good, "rb") as f:
        data = bytearray(f.read())

    flipped = os.path.join(work, "flipped.zip")
    data2 = bytearray(data)
    data2[len(data2) // 2] ^= 0x10
    with open(flipped, "wb") as f:
        f.write(data2)
    truncated = os.path.join(work, "truncated.zip")
    with open(truncated, "wb") as f:
        f.write(data[: len(data) * 6 // 10])

    for label, archive in (("a flipped bit", flipped), ("a truncated archive", truncated)):
        dest = os.path.join(work, "dest-" + os.path.basename(archive))
        rc, out, err = run(["--restore", archive, "-d", dest, "-1", P1, "-2", P2])
        tap.check("%s: exit 1, one line naming the damaged entry" % label,
                  rc == 1 and err.count("\n") == 1 and "damaged" in err and "“big.bin”" in err,
                  report(rc, out, err))
        tap.check("%s: the damaged entry is not left behind" % label,
                  not os.path.exists(os.path.join(dest, "big.bin")) and leftovers(dest) == [],
                  os.listdir(dest) if os.path.isdir(dest) else "")
        rc, out, err = run(["--verify", archive, "-1", P1, "-2", P2])
        tap.check("%s: --verify exits 1 naming it" % label,
                  rc == 1 and "big.bin" in err, report(rc, out, err))
    rc, out, err = run(["--verify", good, "-1", P1, "-2", P2])
    tap.check("the undamaged archive verifies", rc == 0, report(rc, out, err))


def case_plain(tap, work):
    plain = os.path.join(work, "notes.txt")
    with open(plain, "wb") as f:
        f.write(b"a received file\n" * 1000)
    os.chmod(plain, 0o640)
    os.utime(plain, (MTIME, MTIME))
    dest = os.path.join(work, "dest")
    rc, out, err = run(["--restore", plain, "-d", dest])
    with open(os.path.join(dest, "notes.txt"), "rb") as f:
        same = f.read() == b"a received file\n" * 1000
    st = os.stat(os.path.join(dest, "notes.txt"))
    tap.check("a plain received file is copied (no password asked)",
              rc == 0 and same and stat.S_IMODE(st.st_mode) == 0o640
              and int(st.st_mtime) == MTIME, report(rc, out, err))
    rc, out, err = run(["--restore", plain, "-d", dest])
    tap.check("a plain file is not copied over an existing one", rc == 1 and "--force" in err,
              report(rc, out, err))
    rc, out, err = run(["--list", plain])
    tap.check("--list shows a plain file", rc == 0 and out.rstrip().endswith("notes.txt"),
              report(rc, out, err))


def case_usage(tap, work):
    archive = os.path.join(work, "x.zip")
    zip_python(archive, [("a.txt", b"a", 0o100644)])
    for label, args in (
            ("--restore without -d", ["--restore", archive, "-1", "", "-2", ""]),
            ("a missing archive", ["--restore", os.path.join(work, "none.zip"), "-d", work]),
            ("-p with -1", ["--verify", archive, "-p", archive, "-1", "x"]),
            ("--list with -d", ["--list", archive, "-d", work, "-1", "", "-2", ""]),
            ("--restore with --list", ["--restore", archive, "--list", archive, "-d", work]),
            ("--force without --restore", ["--verify", archive, "--force", "-1", "", "-2", ""]),
            ("a password file that is not one", ["--verify", archive, "-p", archive]),
            ("a missing password", ["--verify", archive, "-1", ""]),
    ):
        rc, out, err = run(args, stdin=b"")
        tap.check("usage: %s exits 2 with one line" % label,
                  rc == 2 and err.count("\n") == 1, report(rc, out, err))


CASES = {
    "received": case_received,
    "tools": case_tools,
    "passwords": case_passwords,
    "hostile": case_hostile,
    "damage": case_damage,
    "plain": case_plain,
    "usage": case_usage,
}


def main():
    if not APP:
        print("1..0 # SKIP DISTRIBUTED_BACKUP is not set")
        return 0
    names = sys.argv[1:] or list(CASES)
    tap = Tap()
    base = tempfile.mkdtemp(prefix="test-restore.")
    try:
        for name in names:
            work = os.path.join(base, name)
            os.makedirs(work)
            CASES[name](tap, work)
    finally:
        if os.environ.get("RESTORE_KEEP") != "1":
            shutil.rmtree(base, ignore_errors=True)
        else:
            print("# kept " + base)
    print("1..%d" % tap.n)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
