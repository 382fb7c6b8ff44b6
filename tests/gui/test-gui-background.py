#!/usr/bin/python3
# test-gui-background.py: receiving with the window closed
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Stand-ins own org.gtk.Notifications (fake-notifications.py, as GNOME Shell
# does) and org.freedesktop.portal.Desktop with the Background portal of
# xdg-desktop-portal 1.16 (fake-portal.py, version 1: no SetStatus) on the
# private session bus; both write the calls they get to JSON lines.
# 1. The window is closed while the Receive page listens with "Keep
#    Listening": the application goes on, asks the portal to run in the
#    background (with its reason, not at login) and says so in a
#    notification with "Open" and "Stop".
# 2. Two backups sent from the command line meanwhile are stored, each
#    announced by a notification of its own that opens the folder.
# 3. Starting the application again shows the same window, and the
#    background notification is withdrawn.
# 4. "Start at Login" in the preferences asks the portal to start
#    "distributed-backup --background" at login; turned off, not to.
# 5. "distributed-backup --background" shows no window and receives a
#    backup with the session id and folder of the settings.
# 6. With no portal on the bus, closing the window while listening still
#    leaves the application receiving.
# Run under: xvfb-run -a -s "-screen 0 1024x768x24" dbus-run-session -- python3 THIS

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import guitest  # noqa: E402
from guitest import click, find, log, tap, wait_for  # noqa: E402

STATUS_ID = "receiving-in-background"
REASON = "Receive backups while the window is closed"

logs = tempfile.mkdtemp(prefix="test-gui-background-logs-")
notifications_path = os.path.join(logs, "notifications.jsonl")
portal_path = os.path.join(logs, "portal.jsonl")
fakes = []


def start_fake(script, path):
    fake = subprocess.Popen([sys.executable, os.path.join(HERE, script), path],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, G_DEBUG=guitest.FATAL))
    assert fake.stdout.readline().strip() == "ready", script + " did not start"
    fakes.append(fake)
    return fake


def stop_fake(fake):
    fake.stdin.close()
    fake.wait(timeout=10)
    fakes.remove(fake)


# Dogtail reads toolkit-accessibility from the settings of the first run.
desktop = guitest.Desktop("test-gui-background")
desktop.default_settings(versions=2)

notifications_service = start_fake("fake-notifications.py", notifications_path)
portal = start_fake("fake-portal.py", portal_path)
log("notification service and Background portal ready")

from dogtail import config, tree  # noqa: E402

config.defaultDelay = 0.1
config.searchCutoffCount = 5
config.logDebugToStdOut = False
config.logDebugToFile = False


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def notifications(since=0):
    return read_lines(notifications_path)[since:]


def added(since=0, status=None):
    """AddNotification calls after @since: the background status only, or
    only the others."""
    calls = [c for c in notifications(since) if c["method"] == "AddNotification"]
    if status is None:
        return calls
    return [c for c in calls if (c["id"] == STATUS_ID) == status]


def requests(since=0):
    return [c for c in read_lines(portal_path)[since:] if c["method"] == "RequestBackground"]


def press(combo):
    """A real key press (XTest), into the window under the pointer: with no
    window manager on this X server, focus follows the pointer."""
    from dogtail import rawinput
    rawinput.absoluteMotion(300, 300)
    rawinput.keyCombo(combo)


def showing_frames():
    """The application's windows that AT-SPI sees shown."""
    frames = []
    for app in tree.root.applications():
        try:
            if app.name not in ("distributed-backup", "Distributed Backup"):
                continue
            for child in app.children:
                if child.roleName == "frame" and child.showing:
                    frames.append(child)
        except Exception:  # an accessible that went away meanwhile
            continue
    return frames


def send(desktop, content, name="notes.txt"):
    source = os.path.join(desktop.root, "outbox", name)
    os.makedirs(os.path.dirname(source), exist_ok=True)
    with open(source, "w", encoding="utf-8") as f:
        f.write(content)
    sender = desktop.cli("-s", source)
    out, _ = sender.communicate(timeout=90)
    log("sender: " + out.strip().replace("\n", " | "))
    assert sender.returncode == 0, "the sender failed"


def listen(app):
    """Waits for backups on the Receive page, with Keep Listening on."""
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


def check_status_notification(call):
    notification = call["notification"]
    assert call["app_id"] == guitest.APP_ID, call
    assert notification.get("title") == "Receiving Backups in the Background", notification
    assert notification.get("default-action") == "app.show-window", notification
    buttons = [(b.get("label"), b.get("action")) for b in notification.get("buttons", [])]
    assert buttons == [("Open", "app.show-window"), ("Stop", "app.stop-background")], buttons


def check_received(calls, folder):
    folder_uri = "file://" + folder
    for call in calls:
        notification = call["notification"]
        assert notification.get("title") == "Backup Received", notification
        assert notification.get("default-action") == "app.open-folder", notification
        assert notification.get("default-action-target") == folder_uri, notification
    ids = [call["id"] for call in calls]
    assert len(set(ids)) == len(ids), "notification ids reused: %s" % ids


def end(desktop, what):
    status = desktop.close()
    log("%s: exit status %s" % (what, status))
    if status != 0:
        raise AssertionError("%s ended with status %s" % (what, status))


failures = 0
tap("1..6")

# --- 1-4: one run, closed while listening -----------------------------------
try:
    desktop.start()
    app = guitest.find_application(desktop)
    listen(app)
    wait_for(showing_frames, 10, "the window to be shown")
    press("<Control>w")
    wait_for(lambda: requests(), 20, "a RequestBackground call", desktop.alive)
    wait_for(lambda: added(status=True), 20, "the background notification", desktop.alive)
    wait_for(lambda: not showing_frames(), 10, "the window to be hidden", desktop.alive)
    time.sleep(2)
    assert desktop.alive(), "the application ended with its window"
    request = requests()[0]
    log("portal call: " + json.dumps(request))
    options = request["options"]
    assert options.get("reason") == REASON, options
    assert options.get("autostart") is False, options
    assert options.get("handle_token"), options
    check_status_notification(added(status=True)[0])
    tap("ok 1 closed while listening: it runs on, asks the portal and says so")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 1 closed while listening: it runs on, asks the portal and says so # %s" % error)

try:
    stored = os.path.join(desktop.received, "notes.txt")
    send(desktop, "first version\n")
    wait_for(lambda: len(added(status=False)) >= 1, 30, "the first notification", desktop.alive)
    send(desktop, "second version\n")
    wait_for(lambda: len(added(status=False)) >= 2, 30, "the second notification",
             desktop.alive)
    calls = added(status=False)
    for call in calls:
        log("notification: " + json.dumps(call))
    assert len(calls) == 2, "expected two notifications, got %d" % len(calls)
    check_received(calls, desktop.received)
    with open(stored, encoding="utf-8") as f:
        assert f.read() == "second version\n"
    with open(stored + ".1", encoding="utf-8") as f:
        assert f.read() == "first version\n"
    assert not showing_frames(), "a window came up"
    tap("ok 2 backups received with the window closed, one notification each")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 2 backups received with the window closed, one notification each # %s" % error)

try:
    again = subprocess.run([guitest.PROGRAM], env=desktop.env, timeout=30)
    assert again.returncode == 0, "the second start failed"
    wait_for(showing_frames, 15, "the window to come back", desktop.alive)
    wait_for(lambda: [c for c in notifications() if c["method"] == "RemoveNotification"
                      and c["id"] == STATUS_ID],
             10, "the background notification to be withdrawn", desktop.alive)
    app = guitest.find_application(desktop)
    cancel = find(app, roleName="push button", name="Cancel")
    assert cancel.sensitive, "the window came back without listening"
    tap("ok 3 starting it again shows the window, still listening")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 3 starting it again shows the window, still listening # %s" % error)

try:
    before = len(requests())
    press("<Control>comma")
    switch = None
    for role in ("switch", "toggle button", "check box"):
        try:
            switch = find(app, roleName=role, name="Start at Login", timeout=3)
            break
        except AssertionError:
            continue
    assert switch is not None, "no Start at Login switch"
    assert not switch.checked, "Start at Login is on at first"
    click(switch)
    wait_for(lambda: requests(before), 20, "a RequestBackground call", desktop.alive)
    options = requests(before)[0]["options"]
    log("portal call: " + json.dumps(options))
    assert options.get("autostart") is True, options
    commandline = options.get("commandline", [])
    assert commandline and "--background" in commandline, commandline
    click(switch)
    wait_for(lambda: len(requests(before)) >= 2, 20, "a second RequestBackground call",
             desktop.alive)
    options = requests(before)[1]["options"]
    assert options.get("autostart") is False, options
    press("Escape")
    tap("ok 4 Start at Login asks the portal to start --background at login")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 4 Start at Login asks the portal to start --background at login # %s" % error)

try:
    end(desktop, "the first run")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok - %s" % error)

# --- 5: started with --background --------------------------------------------
desktop = guitest.Desktop("test-gui-background-login")
desktop.default_settings()
try:
    seen = len(notifications())
    before = len(requests())
    desktop.start("--background")
    wait_for(lambda: requests(before), 30, "a RequestBackground call", desktop.alive)
    wait_for(lambda: added(seen, status=True), 20, "the background notification", desktop.alive)
    send(desktop, "at login\n", name="login.txt")
    wait_for(lambda: added(seen, status=False), 30, "a notification of the backup",
             desktop.alive)
    check_received(added(seen, status=False), desktop.received)
    with open(os.path.join(desktop.received, "login.txt"), encoding="utf-8") as f:
        assert f.read() == "at login\n"
    assert not showing_frames(), "a window was shown"
    assert desktop.alive(), "it stopped after one backup"
    tap("ok 5 --background receives without a window")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 5 --background receives without a window # %s" % error)
try:
    end(desktop, "the --background run")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok - %s" % error)

# --- 6: no portal --------------------------------------------------------------
stop_fake(portal)
desktop = guitest.Desktop("test-gui-background-no-portal")
desktop.default_settings()
try:
    seen = len(notifications())
    desktop.start()
    app = guitest.find_application(desktop)
    listen(app)
    wait_for(showing_frames, 10, "the window to be shown")
    press("<Control>w")
    wait_for(lambda: added(seen, status=True), 20, "the background notification", desktop.alive)
    wait_for(lambda: not showing_frames(), 10, "the window to be hidden", desktop.alive)
    time.sleep(2)
    assert desktop.alive(), "the application ended with its window"
    send(desktop, "no portal\n", name="plain.txt")
    wait_for(lambda: added(seen, status=False), 30, "a notification of the backup",
             desktop.alive)
    with open(os.path.join(desktop.received, "plain.txt"), encoding="utf-8") as f:
        assert f.read() == "no portal\n"
    tap("ok 6 without a portal, closing the window leaves it receiving")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 6 without a portal, closing the window leaves it receiving # %s" % error)
try:
    end(desktop, "the run without a portal")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok - %s" % error)

for fake in list(fakes):
    stop_fake(fake)
shutil.rmtree(logs, ignore_errors=True)
guitest.finish(failures)
