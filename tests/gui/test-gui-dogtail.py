#!/usr/bin/python3
# test-gui-dogtail.py: the real application, driven through AT-SPI
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# 1. Receive: the Receive page waits for a backup ("Wait for Backup"), the
#    command line sends a file, the file arrives intact and the window shows
#    "Backup Received" with NAME and the folder. No notification service runs on this bus: the
#    application must not warn about it (warnings are fatal here).
# 2. Send: a file is opened in the running application (GApplication open,
#    as `distributed-backup FILE` or a file manager does), "Send Backup" is
#    clicked, the command line receives it; the window shows "Backup Sent".
# 4. No accessible name repeats its label ("Send Backup Send Backup");
#    Escape while waiting asks before stopping ("Keep Running" keeps it);
#    Ctrl+? shows the keyboard shortcuts window.
# 3. Waiting for a backup first removes what a crashed reception left in the
#    destination (a partial file older than a day; a recent one stays).
#    Quit while waiting for a backup: the application asks first; "Keep
#    Running" keeps it waiting, "Stop Backup" stops the wait, removes this
#    session's signaling files and ends the application.
# Run under: xvfb-run -a -s "-screen 0 1024x768x24" dbus-run-session -- python3 THIS

import filecmp
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guitest  # noqa: E402
from guitest import click, find, log, tap, wait_for  # noqa: E402

tap("1..4")

desktop = guitest.Desktop("test-gui-dogtail")
desktop.default_settings()
payload = os.path.join(desktop.root, "report.pdf")
with open(payload, "wb") as f:
    f.write(os.urandom(3 * 1024 * 1024 + 17))

from dogtail import config  # noqa: E402

config.defaultDelay = 0.1
config.searchCutoffCount = 5
config.logDebugToStdOut = False
config.logDebugToFile = False

failures = 0
try:
    desktop.start()
    app = guitest.find_application(desktop)
    log("found %s on the accessibility bus" % app.name)

    # --- 1. receive -------------------------------------------------------
    click(find(app, roleName="page tab", name="Receive"))
    wait_button = find(app, roleName="push button", name="Wait for Backup")
    wait_for(lambda: wait_button.sensitive, 10, "Wait for Backup to be enabled")
    click(wait_button)
    cancel = find(app, roleName="push button", name="Cancel")
    log("waiting for a backup; cancel is %s" % ("enabled" if cancel.sensitive else "disabled"))
    assert cancel.sensitive
    wait_for(lambda: not wait_button.sensitive, 5, "Wait for Backup to be disabled while busy")

    sender = desktop.cli("-s", payload)
    out, _ = sender.communicate(timeout=90)
    log("sender: " + out.strip().replace("\n", " | "))
    assert sender.returncode == 0, "the sender failed"
    received = os.path.join(desktop.received, "report.pdf")
    wait_for(lambda: os.path.exists(received), 30, "the received file", desktop.alive)
    assert filecmp.cmp(payload, received, shallow=False), "the received file differs"
    # The run ended: its done state says what was stored where.
    find(app, name="Backup Received", timeout=20)
    find(app, name="report.pdf is stored in %s." % desktop.received, timeout=5)
    click(find(app, roleName="push button", name="Done"))
    wait_for(lambda: wait_button.sensitive, 10, "Wait for Backup to be enabled again",
             desktop.alive)
    assert desktop.alive(), "the application ended"
    tap("ok 1 receive a backup from the command line")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 1 receive a backup from the command line # %s" % error)

try:
    # --- 2. send ----------------------------------------------------------
    assert desktop.alive(), "the application is not running"
    uri = "file://" + payload
    subprocess.run(["gdbus", "call", "--session", "--dest", guitest.APP_ID,
                    "--object-path", "/" + guitest.SETTINGS_PATH,
                    "--method", "org.freedesktop.Application.Open",
                    "['%s']" % uri, "{}"],
                   check=True, env=desktop.env, stdout=subprocess.DEVNULL, timeout=20)
    send_button = find(app, roleName="push button", name="Send Backup")
    wait_for(lambda: send_button.sensitive, 10, "Send Backup to be enabled")
    click(send_button)
    elsewhere = os.path.join(desktop.root, "elsewhere")
    os.mkdir(elsewhere)
    receiver = desktop.cli("-d", elsewhere)
    out, _ = receiver.communicate(timeout=90)
    log("receiver: " + out.strip().replace("\n", " | "))
    assert receiver.returncode == 0, "the receiver failed"
    assert filecmp.cmp(payload, os.path.join(elsewhere, "report.pdf"), shallow=False)
    find(app, name="Backup Sent", timeout=20)
    click(find(app, roleName="push button", name="Done"))
    wait_for(lambda: send_button.sensitive, 10, "Send Backup to be enabled again", desktop.alive)
    tap("ok 2 send a backup to the command line")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 2 send a backup to the command line # %s" % error)

def press(combo):
    """A real key press (XTest), into the window under the pointer: with no
    window manager on this X server, focus follows the pointer."""
    from dogtail import rawinput
    # Without a window manager the window sits at the top left corner (GTK
    # cannot tell its position through AT-SPI on X11, and warns if asked).
    rawinput.absoluteMotion(300, 300)
    rawinput.keyCombo(combo)


def name_of(node):
    try:
        return node.name
    except Exception:  # a node that went away meanwhile
        return ""


try:
    # --- 4. keyboard and screen readers -------------------------------------
    assert desktop.alive(), "the application is not running"
    # No accessible name says its label twice ("Send Backup Send Backup").
    doubled = []
    def is_control(node):
        try:
            return node.roleName in ("push button", "toggle button", "check box", "page tab")
        except Exception:
            return False

    controls = app.findChildren(is_control)
    for node in controls:
        words = name_of(node).replace("_", "").split()
        half = len(words) // 2
        if words and len(words) % 2 == 0 and words[:half] == words[half:]:
            doubled.append(name_of(node))
    log("%d controls, names: %s" % (len(controls), sorted(set(map(name_of, controls)))))
    assert not doubled, "doubled accessible names: %s" % doubled

    # Escape while waiting asks first.
    click(find(app, roleName="page tab", name="Receive"))
    wait_button = find(app, roleName="push button", name="Wait for Backup")
    wait_for(lambda: wait_button.sensitive, 10, "Wait for Backup to be enabled")
    click(wait_button)
    cancel = find(app, roleName="push button", name="Cancel")
    wait_for(lambda: cancel.sensitive, 10, "Cancel to be enabled")
    window = find(app, roleName="frame")
    press("Escape")
    keep = find(app, roleName="push button", name="Keep Running")
    click(keep)
    assert cancel.sensitive, "Escape stopped the backup without asking"
    press("Escape")
    click(find(app, roleName="push button", name="Stop Backup"))
    wait_for(lambda: wait_button.sensitive, 10, "the wait to stop", desktop.alive)

    # Ctrl+? shows the keyboard shortcuts.
    press("<Control><Shift>question")
    shortcuts = find(app, name="Close the window", timeout=10)
    log("shortcuts window shows %r" % shortcuts.name)
    press("Escape")
    tap("ok 4 accessible names are single, Escape asks, Ctrl+? shows the shortcuts")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 4 accessible names are single, Escape asks, Ctrl+? shows the shortcuts # %s" % error)


def activate_quit():
    # What Ctrl+Q does: the application's "quit" action.
    subprocess.run(["gdbus", "call", "--session", "--dest", guitest.APP_ID,
                    "--object-path", "/" + guitest.SETTINGS_PATH,
                    "--method", "org.gtk.Actions.Activate", "quit", "[]", "{}"],
                   check=True, env=desktop.env, stdout=subprocess.DEVNULL, timeout=20)


def session_files():
    return [n for n in os.listdir(desktop.signaling) if n.startswith(desktop.session_id)]


try:
    # --- 3. quit while busy -----------------------------------------------
    assert desktop.alive(), "the application is not running"
    stale = os.path.join(desktop.received, ".disk.img.Ab12Cd.part")
    recent = os.path.join(desktop.received, ".disk.img.Ef34Gh.part")
    for path in (stale, recent):
        with open(path, "wb") as f:
            f.write(b"partial")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    click(find(app, roleName="page tab", name="Receive"))
    wait_button = find(app, roleName="push button", name="Wait for Backup")
    wait_for(lambda: wait_button.sensitive, 10, "Wait for Backup to be enabled")
    click(wait_button)
    wait_for(lambda: not wait_button.sensitive, 5, "Wait for Backup to be disabled while busy")
    wait_for(lambda: session_files(), 10, "the waiting side's signaling file")
    wait_for(lambda: not os.path.exists(stale), 10, "the stale partial file to go")
    assert os.path.exists(recent), "a recent partial file was removed"

    activate_quit()
    click(find(app, roleName="push button", name="Keep Running"))
    cancel = find(app, roleName="push button", name="Cancel")
    wait_for(lambda: cancel.sensitive, 5, "Cancel to stay enabled")
    assert desktop.alive(), "the application ended although asked to keep running"
    assert not wait_button.sensitive, "the wait stopped although asked to keep running"
    log("kept running; signaling files: %s" % session_files())

    activate_quit()
    click(find(app, roleName="push button", name="Stop Backup"))
    wait_for(lambda: not desktop.alive(), 20, "the application to end")
    assert desktop.process.returncode == 0, "exit status %s" % desktop.process.returncode
    assert session_files() == [], "signaling files left behind: %s" % session_files()
    assert os.path.exists(recent), "a recent partial file was removed"
    tap("ok 3 waiting removes stale partial files; quitting while waiting asks first and cleans up")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 3 waiting removes stale partial files; quitting while waiting asks first and cleans up # %s" % error)

status = desktop.close()
log("application exit status %s" % status)
if status != 0:
    tap("# the application ended with status %s" % status)
    failures += 1
guitest.finish(failures)
