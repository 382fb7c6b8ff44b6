#!/usr/bin/python3
# test-gui-first-run.py: a new user pairs with another computer and backs up
# to it, through the accessibility tree as a screen reader sees the window
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A fresh configuration: no session id, no paired device. The other
# computer is the command line with a configuration folder of its own
# ("Alpha"), inviting through the test's signaling folder.
# 1. The Send page, empty, offers to pair (Invite a Device…, Pair With a
#    Link…); the link pasted into Pair With a Link… asks "Pair With
#    “Alpha”?", and Pair ends with the toast "Paired with “Alpha”", Alpha
#    reporting this computer, and the offer to pair gone.
# 2. A file opened with the application: the Send page's To is Alpha, with
#    no session id to type; Send Backup backs it up to Alpha (the command
#    line receiving with --device), and the page says Backup Sent.
# Screenshots of each step go to $SCREENSHOT_DIR, else the build folder
# (first-run-*.png).
# Run under: xvfb-run -a -s "-screen 0 1024x768x24" dbus-run-session -- python3 THIS

import os
import re
import struct
import subprocess
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import guitest  # noqa: E402
import xscreen  # noqa: E402
from guitest import click, find, log, tap, wait_for  # noqa: E402

if xscreen.XDOTOOL is None:
    tap("1..0 # SKIP xdotool is not installed (build-aux/install-deps.sh installs it)")
    sys.exit(77)
tap("1..2")

desktop = guitest.Desktop("test-gui-first-run")
desktop.default_settings(session_id="")
alpha_config = os.path.join(desktop.root, "alpha-config")
alpha_received = os.path.join(desktop.root, "alpha-received")
os.makedirs(alpha_received, mode=0o700)
report = os.path.join(desktop.root, "first-backup.txt")
with open(report, "w", encoding="utf-8") as f:
    f.write("the first backup to Alpha\n")
SHOTS = os.environ.get("SCREENSHOT_DIR") or os.environ.get("G_TEST_BUILDDIR") or desktop.root

from dogtail import config  # noqa: E402

config.defaultDelay = 0.1
config.searchCutoffCount = 5
config.logDebugToStdOut = False
config.logDebugToFile = False


def alpha(*args):
    """The command line as Alpha, on the test's signaling folder."""
    env = dict(desktop.env)
    env.update({"G_DEBUG": guitest.FATAL, "XDG_CONFIG_HOME": alpha_config})
    command = [guitest.PROGRAM, "--ice-address", "127.0.0.1", "--stun=", "--timeout", "90",
               "-q"] + list(args)
    log("running (as Alpha) " + " ".join(command))
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    desktop.children.append(child)
    return child


def window_geometry():
    for window in xscreen.xdotool("search", "--name", "^Distributed Backup$").split():
        text = xscreen.xdotool("getwindowgeometry", window)
        x, y = (int(v) for v in text.split("Position: ")[1].split()[0].split(","))
        width, height = (int(v) for v in text.split("Geometry: ")[1].split()[0].split("x"))
        if width > 100 and height > 100:
            return x, y, width, height
    raise AssertionError("no window of the application on the screen")


def screenshot(name):
    """The screen around the window (dialogs included) as a PNG file."""
    x, y, width, height = window_geometry()
    rows = xscreen.grab(x, y, width, height)
    raw = b"".join(b"\0" + bytes(c for pixel in row for c in pixel) for row in rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    path = os.path.join(SHOTS, name)
    with open(path, "wb") as f:
        f.write(png)
    log("screenshot " + path)


def find_exact(node, role, name, timeout=15):
    """A descendant whose accessible name is exactly @name (GTK 4.8 may put a
    button's mnemonic label first: "_Pair Pair"), showing ones first."""
    def matches(candidate):
        try:
            return candidate.roleName == role and (
                candidate.name == name or re.fullmatch(r"\S*_\S* " + re.escape(name),
                                                       candidate.name) is not None)
        except Exception:  # noqa: BLE001
            return False

    try:
        def lookup():
            found = sorted(node.findChildren(matches), key=lambda c: 0 if showing(c) else 1)
            return found[0] if found else None

        return wait_for(lookup, timeout, "%s %r" % (role, name))
    except AssertionError:
        seen = [c.name for c in node.findChildren(lambda c: c.roleName == role)]
        raise AssertionError("no %s %r among %s" % (role, name, seen)) from None


def showing(node):
    try:
        return node.showing
    except Exception:  # noqa: BLE001
        return False


failures = 0
this_device = None
try:
    # --- 1. pairing from the empty Send page -----------------------------
    inviter = alpha("--invite", "--device-name", "Alpha", "--signaling", desktop.signaling)
    link = inviter.stdout.readline().strip()
    assert link.startswith("distributed-backup:pair?"), "no link from --invite: %r" % link
    desktop.start()
    app = guitest.find_application(desktop)
    find(app, roleName="label", name="To back up to another computer without typing a session "
         "ID, pair the two once.")
    find(app, roleName="push button", name="Invite a Device…")
    pair_button = find(app, roleName="push button", name="Pair With a Link…")
    screenshot("first-run-1-send-page.png")
    click(pair_button)
    entry = find(app, roleName="text", name="Invitation link")
    next_button = find(app, roleName="push button", name="Next")
    assert not next_button.sensitive, "Next can be pressed before a link is pasted"
    entry.text = link
    wait_for(lambda: next_button.sensitive, 10, "Next to be enabled")
    screenshot("first-run-2-link.png")
    click(next_button)
    find(app, roleName="label", name="Pair With “Alpha”?", timeout=20)
    screenshot("first-run-3-question.png")
    click(find_exact(app, "push button", "Pair"))
    find(app, roleName="label", name="Paired with “Alpha”", timeout=60)
    screenshot("first-run-4-paired.png")
    out, err = inviter.communicate(timeout=60)
    assert inviter.returncode == 0, "Alpha's --invite failed: " + err
    with open(os.path.join(alpha_config, "distributed-backup", "device", "paired.conf"),
              encoding="utf-8") as f:
        groups = re.findall(r"^\[Device (.+)\]$", f.read(), flags=re.M)
    assert len(groups) == 1, "Alpha knows %s" % groups
    this_device = groups[0]
    log("Alpha paired with this computer as %r" % this_device)
    wait_for(lambda: not any(showing(c) for c in app.findChildren(
        lambda c: c.roleName == "push button" and c.name == "Invite a Device…")),
        10, "the offer to pair to go")
    tap("ok 1 a new user pairs from the empty Send page with a pasted link")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 1 a new user pairs from the empty Send page with a pasted link # %s" % error)

try:
    # --- 2. the first backup, to the paired device -------------------------
    assert this_device is not None, "not paired"
    opener = subprocess.Popen([guitest.PROGRAM, report], env=desktop.env)
    opener.wait(timeout=30)
    find(app, roleName="label", name=report, timeout=20)
    find(app, name="Alpha", timeout=10)
    send_button = find(app, roleName="push button", name="Send Backup")
    wait_for(lambda: send_button.sensitive, 10, "Send Backup to be enabled")
    screenshot("first-run-5-send-to-alpha.png")
    receiver = alpha("--device", this_device, "-d", alpha_received)
    click(send_button)
    find(app, roleName="label", name="Backup Sent", timeout=60)
    out, err = receiver.communicate(timeout=60)
    assert receiver.returncode == 0, "Alpha's reception failed: " + err
    with open(os.path.join(alpha_received, "first-backup.txt"), encoding="utf-8") as f:
        assert f.read() == "the first backup to Alpha\n"
    screenshot("first-run-6-sent.png")
    tap("ok 2 the first backup goes to the paired device, with no session id typed")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 2 the first backup goes to the paired device, with no session id typed # %s"
        % error)

status = desktop.close()
log("the application ended with status %s" % status)
guitest.finish(failures)
