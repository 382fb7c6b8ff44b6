#!/usr/bin/python3
# test-gui-notification-actions.py: what a click on a notification does
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Stand-ins own org.gtk.Notifications (fake-notifications.py, as GNOME
# Shell does) and org.freedesktop.FileManager1 (fake-file-manager.py) on
# the private session bus, and the desktop file of a stand-in file manager
# is the default application for folders. The application listens with
# "Keep Listening"; the command line sends it a file.
# 1. The notification's default action, invoked as the shell invokes it
#    (org.gtk.Actions.Activate, then org.freedesktop.Application.ActivateAction,
#    on the application's object path, with the action and target the
#    notification carries), opens the folder with the default application.
# 2. Its "Show in Files" button asks the file manager (FileManager1
#    ShowItems) to show the stored file; with no file manager on the bus,
#    the file's folder is opened with the default application instead.
# 3. A backup that fails while another application's window has the focus
#    is announced ("Backup Failed", the error, high priority); its default
#    action brings the window to the front with the focus.
# Run under: xvfb-run -a -s "-screen 0 1024x768x24" dbus-run-session -- python3 THIS

import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import guitest  # noqa: E402
import xscreen  # noqa: E402
from guitest import click, find, log, tap, wait_for  # noqa: E402

if xscreen.XDOTOOL is None:
    tap("1..0 # SKIP xdotool is not installed (build-aux/install-deps.sh installs it)")
    sys.exit(77)
tap("1..3")

from gi.repository import Gio, GLib  # noqa: E402

desktop = guitest.Desktop("test-gui-notification-actions")
desktop.default_settings()
notifications_log = os.path.join(desktop.root, "notifications.jsonl")
files_log = os.path.join(desktop.root, "file-manager.jsonl")

# The stand-in file manager is the default application for folders.
data_home = os.path.join(desktop.root, "data")
applications = os.path.join(data_home, "applications")
os.makedirs(applications)
with open(os.path.join(applications, "test-files.desktop"), "w", encoding="utf-8") as f:
    f.write("[Desktop Entry]\nType=Application\nName=Files Stand-in\nNoDisplay=true\n"
            "MimeType=inode/directory;\n"
            'Exec=/usr/bin/python3 "%s" --open "%s" %%U\n'
            % (os.path.join(HERE, "fake-file-manager.py"), files_log))
with open(os.path.join(desktop.config, "mimeapps.list"), "w", encoding="utf-8") as f:
    f.write("[Default Applications]\ninode/directory=test-files.desktop\n")
desktop.env["XDG_DATA_HOME"] = data_home


def start_helper(*args):
    helper = subprocess.Popen([sys.executable] + list(args), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, G_DEBUG=guitest.FATAL))
    line = helper.stdout.readline().strip()
    assert line == "ready", "%s did not start" % args[0]
    return helper


def stop_helper(helper):
    if helper.poll() is None:
        helper.stdin.close()
        helper.wait(timeout=10)


notifier = start_helper(os.path.join(HERE, "fake-notifications.py"), notifications_log)
file_manager = start_helper(os.path.join(HERE, "fake-file-manager.py"), "--service", files_log)
log("notification service and file manager ready")

from dogtail import config  # noqa: E402

config.defaultDelay = 0.1
config.searchCutoffCount = 5
config.logDebugToStdOut = False
config.logDebugToFile = False

bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
APP_PATH = "/" + guitest.SETTINGS_PATH


def records(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def notifications(title):
    return [r["notification"] for r in records(notifications_log)
            if r["method"] == "AddNotification" and r["notification"].get("title") == title]


def invoke(detailed_action, target, interface="org.gtk.Actions"):
    """Activates @detailed_action ("app.NAME") with @target (or none) on the
    application, through @interface, as the shell does for a click."""
    assert detailed_action.startswith("app."), detailed_action
    name = detailed_action[len("app."):]
    parameter = [] if target is None else [GLib.Variant("s", target)]
    if interface == "org.gtk.Actions":
        method = "Activate"
        args = GLib.Variant("(sava{sv})", (name, parameter, {}))
    else:
        method = "ActivateAction"
        args = GLib.Variant("(sava{sv})", (name, parameter, {}))
    log("%s.%s(%r, %r)" % (interface, method, name, target))
    bus.call_sync(guitest.APP_ID, APP_PATH, interface, method, args, None,
                  Gio.DBusCallFlags.NONE, 20000, None)


def send(name, content):
    source = os.path.join(desktop.root, "outbox", name)
    os.makedirs(os.path.dirname(source), exist_ok=True)
    with open(source, "w", encoding="utf-8") as f:
        f.write(content)
    sender = desktop.cli("-s", source)
    out, _ = sender.communicate(timeout=90)
    log("sender: " + out.strip().replace("\n", " | "))
    return sender.returncode


def is_active(frame):
    import pyatspi

    return frame.getState().contains(pyatspi.STATE_ACTIVE)


failures = 0
received = None
try:
    desktop.start()
    app = guitest.find_application(desktop)
    click(find(app, roleName="page tab", name="Receive"))
    switch = None
    for role in ("switch", "toggle button", "check box"):
        try:
            switch = find(app, roleName=role, name="Keep Listening", timeout=2)
            break
        except AssertionError:
            continue
    assert switch is not None, "no Keep Listening switch"
    click(switch)
    wait_for(lambda: switch.checked, 5, "Keep Listening to be on")
    wait_button = find(app, roleName="push button", name="Wait for Backup")
    wait_for(lambda: wait_button.sensitive, 10, "Wait for Backup to be enabled")
    click(wait_button)
    cancel = find(app, roleName="push button", name="Cancel")
    wait_for(lambda: cancel.sensitive, 10, "Cancel to be enabled")

    assert send("notes.txt", "first version\n") == 0, "the sender failed"
    received = wait_for(lambda: notifications("Backup Received"), 30,
                        "the notification of the received backup", desktop.alive)[0]
    log("notification: " + json.dumps(received))
    folder_uri = Gio.File.new_for_path(desktop.received).get_uri()
    file_uri = Gio.File.new_for_path(os.path.join(desktop.received, "notes.txt")).get_uri()

    # --- 1. the default action ------------------------------------------
    assert received.get("default-action") == "app.open-folder", received
    assert received.get("default-action-target") == folder_uri, received
    invoke(received["default-action"], received["default-action-target"])
    wait_for(lambda: [r for r in records(files_log) if r["method"] == "open"], 20,
             "the folder to be opened", desktop.alive)
    invoke(received["default-action"], received["default-action-target"],
           "org.freedesktop.Application")
    opened = wait_for(lambda: (lambda o: o if len(o) >= 2 else None)(
        [r for r in records(files_log) if r["method"] == "open"]), 20,
        "the folder to be opened again", desktop.alive)
    log("opened: %s" % opened)
    assert all(r["uris"] == [folder_uri] for r in opened), opened
    assert not [r for r in records(files_log) if r["method"] != "open"], records(files_log)
    tap("ok 1 the default action opens the folder")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 1 the default action opens the folder # %s" % error)

try:
    # --- 2. Show in Files -------------------------------------------------
    assert received is not None, "no notification to click"
    buttons = received.get("buttons", [])
    assert [b.get("label") for b in buttons] == ["Show in Files"], buttons
    button = buttons[0]
    assert button.get("target") == file_uri, button
    before = len(records(files_log))
    invoke(button["action"], button["target"])
    shown = wait_for(lambda: records(files_log)[before:], 20, "the file manager to be asked",
                     desktop.alive)
    log("file manager: %s" % shown)
    assert len(shown) == 1, shown
    assert shown[0]["method"] == "ShowItems", shown
    assert shown[0]["uris"] == [file_uri], shown

    # Without a file manager on the bus, the folder is opened.
    stop_helper(file_manager)
    wait_for(lambda: not bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "NameHasOwner",
                                       GLib.Variant("(s)", ("org.freedesktop.FileManager1",)),
                                       None, Gio.DBusCallFlags.NONE, -1, None).unpack()[0],
             10, "the file manager to leave the bus")
    before = len(records(files_log))
    invoke(button["action"], button["target"])
    opened = wait_for(lambda: records(files_log)[before:], 20, "the folder to be opened",
                      desktop.alive)
    log("instead: %s" % opened)
    assert opened == [{"method": "open", "uris": [folder_uri]}], opened
    tap("ok 2 Show in Files shows the file, or opens its folder without a file manager")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 2 Show in Files shows the file, or opens its folder without a file manager # %s"
        % error)

try:
    # --- 3. a failure while the window is not shown ----------------------
    assert desktop.alive(), "the application is not running"
    # Another application's window takes the focus.
    other = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "drag-source.py"),
                              "Another Application"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             env=dict(desktop.env, G_DEBUG=guitest.FATAL, NO_AT_BRIDGE="1"))
    assert other.stdout.readline().strip() == "ready", "the other application did not start"
    other_window = wait_for(lambda: xscreen.xdotool("search", "--name", "^Another Application$"),
                            10, "the other application's window").split()[-1]
    xscreen.xdotool("windowmove", "--sync", other_window, 800, 560)
    xscreen.xdotool("mousemove", 900, 620)
    xscreen.xdotool("windowfocus", "--sync", other_window)
    frame = find(app, roleName="frame")
    wait_for(lambda: not is_active(frame), 10, "the window to lose the focus")
    # The destination is a file now: the next backup cannot be stored.
    shutil.move(desktop.received, desktop.received + ".moved")
    with open(desktop.received, "w", encoding="utf-8") as f:
        f.write("not a folder\n")
    status = send("notes.txt", "second version\n")
    log("the sender ended with status %d" % status)
    failed = wait_for(lambda: notifications("Backup Failed"), 30,
                      "the notification of the failed backup", desktop.alive)
    log("notification: " + json.dumps(failed))
    # A failure that ends listening is told once.
    time_left = 3
    while time_left > 0 and len(notifications("Backup Failed")) == 1:
        time.sleep(0.5)
        time_left -= 0.5
    failed = notifications("Backup Failed")
    assert len(failed) == 1, "%d notifications of one failure" % len(failed)
    failure = failed[0]
    assert failure.get("body"), "no error in the notification: %s" % failure
    assert failure.get("priority") in ("high", "urgent"), failure
    assert failure.get("default-action") == "app.show-window", failure
    assert "default-action-target" not in failure, failure
    assert not is_active(frame), "the window came to the front by itself"
    invoke(failure["default-action"], None)
    wait_for(lambda: is_active(frame), 10, "the window to come to the front", desktop.alive)
    focused = int(xscreen.xdotool("getwindowfocus"))
    assert focused != int(other_window), "the other application still has the focus"
    stop_helper(other)
    # The folder being gone ends listening: the window says why.
    find(app, name="Backup Failed", timeout=10)
    tap("ok 3 a failed backup is announced, and its notification brings the window back")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 3 a failed backup is announced, and its notification brings the window back # %s"
        % error)

if os.path.isfile(desktop.received):
    os.unlink(desktop.received)
status = desktop.close()
stop_helper(file_manager)
stop_helper(notifier)
log("application exit status %s" % status)
if status != 0:
    failures += 1
guitest.finish(failures)
