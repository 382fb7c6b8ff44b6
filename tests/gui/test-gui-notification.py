#!/usr/bin/python3
# test-gui-notification.py: a received backup is announced to the desktop
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A stand-in notification service owns org.gtk.Notifications on the private
# session bus (as GNOME Shell does). The application listens with "Keep
# Listening" on and two versions kept; the command line sends two versions
# of one file. Each must produce one AddNotification call naming the file,
# with an id of its own, opening the folder when clicked and offering "Show
# in Files"; both versions must be stored, and the application must still be listening
# afterwards; Cancel then ends listening without an error message.
# Run under: xvfb-run -a -s "-screen 0 1024x768x24" dbus-run-session -- python3 THIS

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import guitest  # noqa: E402
from guitest import click, find, log, tap, wait_for  # noqa: E402

desktop = guitest.Desktop("test-gui-notification")
desktop.default_settings(versions=2)
calls_path = os.path.join(desktop.root, "notifications.jsonl")

fake = subprocess.Popen([sys.executable, os.path.join(HERE, "fake-notifications.py"), calls_path],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                        env=dict(os.environ, G_DEBUG=guitest.FATAL))
assert fake.stdout.readline().strip() == "ready", "the notification service did not start"
log("notification service ready")

from dogtail import config  # noqa: E402

config.defaultDelay = 0.1
config.searchCutoffCount = 5
config.logDebugToStdOut = False
config.logDebugToFile = False


def calls():
    if not os.path.exists(calls_path):
        return []
    with open(calls_path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def send(content):
    source = os.path.join(desktop.root, "outbox", "notes.txt")
    os.makedirs(os.path.dirname(source), exist_ok=True)
    with open(source, "w", encoding="utf-8") as f:
        f.write(content)
    sender = desktop.cli("-s", source)
    out, _ = sender.communicate(timeout=90)
    log("sender: " + out.strip().replace("\n", " | "))
    assert sender.returncode == 0, "the sender failed"


failures = 0
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

    stored = os.path.join(desktop.received, "notes.txt")
    send("first version\n")
    wait_for(lambda: len(calls()) >= 1, 30, "the first notification", desktop.alive)
    send("second version\n")
    wait_for(lambda: len(calls()) >= 2, 30, "the second notification", desktop.alive)

    for call in calls():
        log("notification: " + json.dumps(call))
    assert len(calls()) == 2, "expected two notifications, got %d" % len(calls())
    folder_uri = "file://" + desktop.received
    for call in calls():
        assert call["method"] == "AddNotification"
        assert call["app_id"] == guitest.APP_ID
        notification = call["notification"]
        assert notification.get("title") == "Backup Received"
        assert "notes.txt" in notification.get("body", "")
        # Clicking it opens the folder; "Show in Files" shows the file.
        assert notification.get("default-action") == "app.open-folder", notification
        assert notification.get("default-action-target") == folder_uri, notification
        buttons = notification.get("buttons", [])
        assert [b.get("label") for b in buttons] == ["Show in Files"], buttons
        assert buttons[0].get("action") == "app.show-in-files"
        assert buttons[0].get("target") == folder_uri + "/notes.txt", buttons
    # One notification per backup: the second does not replace the first.
    ids = [call["id"] for call in calls()]
    assert len(set(ids)) == len(ids), "notification ids reused: %s" % ids
    with open(stored, encoding="utf-8") as f:
        assert f.read() == "second version\n"
    with open(stored + ".1", encoding="utf-8") as f:
        assert f.read() == "first version\n"
    tap("ok 1 a notification for each received backup, versions kept")

    # Still listening: a third backup could come. Cancel ends it quietly.
    assert cancel.sensitive, "the application stopped listening"
    click(cancel)
    wait_for(lambda: wait_button.sensitive, 10, "Wait for Backup after cancelling", desktop.alive)
    assert not cancel.sensitive
    leftovers = [n for n in os.listdir(desktop.signaling) if n.startswith(desktop.session_id)]
    wait_for(lambda: not [n for n in os.listdir(desktop.signaling)
                          if n.startswith(desktop.session_id)],
             10, "the signaling folder to be cleaned up (left: %s)" % leftovers)
    tap("ok 2 cancel ends listening")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok - %s" % error)

status = desktop.close()
fake.stdin.close()
fake.wait(timeout=10)
log("application exit status %s" % status)
if status != 0:
    failures += 1
guitest.finish(failures)
