#!/usr/bin/python3
# test-gui-history-dogtail.py: the Backups page, driven through AT-SPI
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# 1. The Backups page is reached with the keyboard alone (Alt+U, the
#    mnemonic of its tab), and lists the names of the receive folder.
# 2. Every row and button of the page has an accessible name: each
#    version's Restore button and actions menu name the version they act
#    on, and no name says its label twice.
# Run under: xvfb-run -a -s "-screen 0 1024x768x24" dbus-run-session -- python3 THIS

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import guitest  # noqa: E402
from guitest import find, log, tap, wait_for  # noqa: E402

tap("1..2")

desktop = guitest.Desktop("test-gui-history-dogtail")
desktop.default_settings()
# Sent backups of this run only.
desktop.env["XDG_DATA_HOME"] = os.path.join(desktop.root, "data")
for name, text in (("notes.txt", b"newest\n"), ("notes.txt.1", b"older\n"),
                   ("photo.jpg", b"\xff\xd8\xff")):
    with open(os.path.join(desktop.received, name), "wb") as f:
        f.write(text)

from dogtail import config  # noqa: E402

config.defaultDelay = 0.1
config.searchCutoffCount = 5
config.logDebugToStdOut = False
config.logDebugToFile = False


def press(combo):
    """A real key press (XTest) into the window under the pointer (no
    window manager: focus follows the pointer)."""
    from dogtail import rawinput
    rawinput.absoluteMotion(300, 300)
    rawinput.keyCombo(combo)


def name_of(node):
    try:
        return node.name
    except Exception:  # a node that went away meanwhile
        return ""


def role_of(node):
    try:
        return node.roleName
    except Exception:
        return ""


def showing(node):
    try:
        return node.showing
    except Exception:
        return False


failures = 0
app = None
try:
    desktop.start()
    app = guitest.find_application(desktop)
    find(app, roleName="page tab", name="Send")
    # --- 1. by keyboard ---------------------------------------------------
    # The Send page is in front until Alt+U.
    press("<Alt>u")
    notes = find(app, name="notes.txt", timeout=20)
    find(app, name="photo.jpg", timeout=5)
    import pyatspi

    def states(node):
        try:
            return node.getState()
        except Exception:
            return None

    def selected(node):
        state = states(node)
        return state is not None and state.contains(pyatspi.STATE_SELECTED)

    tab = find(app, roleName="page tab", name="Backups")
    send_tab = find(app, roleName="page tab", name="Send")
    log("after Alt+U: Backups selected %s, Send selected %s" % (selected(tab), selected(send_tab)))
    wait_for(lambda: selected(tab) and not selected(send_tab), 10,
             "the Backups tab to be selected after Alt+U")
    tap("ok 1 the Backups page is reached by keyboard and lists the folder")
except Exception as error:  # noqa: BLE001
    failures += 1
    import traceback
    log(traceback.format_exc().replace("\n", " | "))
    tap("not ok 1 the Backups page is reached by keyboard and lists the folder # %r" % error)

try:
    # --- 2. accessible names ----------------------------------------------
    assert app is not None and desktop.alive(), "the application is not running"
    # Each version: a Restore button and a menu naming the file.
    for version in ("notes.txt", "notes.txt.1", "photo.jpg"):
        find(app, roleName="push button", name="Restore " + version, timeout=10)
        find(app, name="More Actions for " + version, timeout=10)

    # The list of the page: the closest ancestor of one version's button
    # that holds the other name's too.
    restore = find(app, roleName="push button", name="Restore notes.txt.1")
    listing = restore
    while listing is not None and not listing.findChildren(
            lambda n: name_of(n) == "Restore photo.jpg"):
        listing = listing.parent
    assert listing is not None, "no list holds every version"

    def on_page(node):
        return role_of(node) in ("push button", "toggle button", "list item", "row",
                                 "table row", "menu button")

    controls = listing.findChildren(on_page)
    unnamed = [role_of(n) for n in controls if not name_of(n).strip()]
    doubled = []
    for node in controls:
        words = name_of(node).replace("_", "").split()
        half = len(words) // 2
        if words and len(words) % 2 == 0 and words[:half] == words[half:]:
            doubled.append(name_of(node))
    log("%d controls: %s" % (len(controls), sorted(set(map(name_of, controls)))))
    assert controls, "no controls found"
    assert not unnamed, "controls without an accessible name: %s" % unnamed
    assert not doubled, "doubled accessible names: %s" % doubled
    tap("ok 2 rows and buttons of the Backups page have accessible names")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 2 rows and buttons of the Backups page have accessible names # %s" % error)

status = desktop.close()
log("application exit status %s" % status)
guitest.finish(failures)
