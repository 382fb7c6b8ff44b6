#!/usr/bin/python3
# test-gui-scheduled.py: the application runs its scheduled backups, with no
# window, as it does when started at login
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# The desktop ("Desk", the application's configuration) is paired with
# "Alpha" (the command line with a configuration folder of its own) through
# --invite and --pair on the test's signaling folder. A daily schedule made
# two days ago has missed its runs: started with --background (no session id,
# so nothing to receive), the application stays without a window for its
# schedules, runs the missed backup once at start (Alpha receives it with
# --device) and records the result in its state file. A second schedule
# added to the file meanwhile (the application follows it), for a device
# that is not paired, fails and gets one notification.
# Run under: xvfb-run -a -s "-screen 0 1024x768x24" dbus-run-session -- python3 THIS

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import guitest  # noqa: E402
from guitest import log, tap, wait_for  # noqa: E402

tap("1..2")

desktop = guitest.Desktop("test-gui-scheduled")
desktop.default_settings(session_id="")
state_home = os.path.join(desktop.root, "state")
desktop.env["XDG_STATE_HOME"] = state_home
alpha_config = os.path.join(desktop.root, "alpha-config")
alpha_received = os.path.join(desktop.root, "alpha-received")
os.makedirs(alpha_received, mode=0o700)
source = os.path.join(desktop.root, "notes")
os.makedirs(source)
with open(os.path.join(source, "todo.txt"), "w", encoding="utf-8") as f:
    f.write("back this up every day\n")
NETWORK = ["--ice-address", "127.0.0.1", "--stun=", "--signaling", desktop.signaling]


def run_as(config, *args, wait=True):
    env = dict(desktop.env)
    env.update({"G_DEBUG": guitest.FATAL, "XDG_CONFIG_HOME": config})
    command = [guitest.PROGRAM] + list(args)
    log("running " + " ".join(command))
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    desktop.children.append(child)
    if wait:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, "%s failed: %s" % (args[0], err)
        return out
    return child


def notifications():
    path = os.path.join(desktop.root, "notifications.log")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


failures = 0
notifier = None
try:
    # --- pairing, then two schedules that missed their runs -----------------
    inviter = run_as(alpha_config, "--invite", "--device-name", "Alpha", "--timeout", "60", "-q",
                     *NETWORK, wait=False)
    link = inviter.stdout.readline().strip()
    run_as(desktop.config, "--pair", link, "--device-name", "Desk", "--timeout", "60", "-q",
           "--ice-address", "127.0.0.1", "--stun=")
    inviter.communicate(timeout=60)
    assert inviter.returncode == 0, "--invite failed"
    two_days_ago = int(time.time() - 2 * 86400)
    config_dir = os.path.join(desktop.config, "distributed-backup")
    with open(os.path.join(config_dir, "schedules.conf"), "w", encoding="utf-8") as f:
        f.write("[Schedule notes]\nname=Notes\nsource=%s\ndevice=Alpha\nwhen=daily:00:05\n"
                "enabled=true\ncreated=%d\n\n" % (source, two_days_ago))
    os.chmod(os.path.join(config_dir, "schedules.conf"), 0o600)

    notifier = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(HERE, "fake-notifications.py"),
         os.path.join(desktop.root, "notifications.log")], env=desktop.env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert notifier.stdout.readline().strip() == "ready", "no stand-in for notifications"
    receiver = run_as(alpha_config, "--device", "Desk", "-d", alpha_received, "--timeout", "90",
                      "-q", "--ice-address", "127.0.0.1", "--stun=", wait=False)
    desktop.start("--background")
    out, err = receiver.communicate(timeout=150)
    assert receiver.returncode == 0, "Alpha did not receive: " + err
    received = os.listdir(alpha_received)
    log("Alpha received %s" % received)
    assert received == ["notes"], received
    state = os.path.join(state_home, "distributed-backup", "schedules-state.conf")
    wait_for(lambda: os.path.exists(state) and "outcome=ok" in open(state).read(), 30,
             "the run recorded as done")
    assert desktop.alive(), "the application ended after its scheduled backup"
    tap("ok 1 a missed daily backup runs once when the application starts in the background")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 1 a missed daily backup runs once when the application starts in the "
        "background # %s" % error)

try:
    # --- a failing schedule: one notification -------------------------------
    assert desktop.alive(), "the application is not running"
    config_dir = os.path.join(desktop.config, "distributed-backup")
    with open(os.path.join(config_dir, "schedules.conf"), "a", encoding="utf-8") as f:
        f.write("[Schedule gone]\nname=Gone\nsource=%s\ndevice=Nobody\nwhen=hourly:00\n"
                "enabled=true\ncreated=%d\n" % (source, int(time.time() - 7200)))
    # The application follows the file.
    wait_for(lambda: any("Scheduled Backup Failed" in line for line in notifications()), 60,
             "the notification of the failure")
    failed = [line for line in notifications() if "Scheduled Backup Failed" in line]
    log("notifications: %s" % failed)
    assert len(failed) == 1, failed
    tap("ok 2 a scheduled backup that fails is told once")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 2 a scheduled backup that fails is told once # %s" % error)

if notifier is not None:
    notifier.stdin.close()
    notifier.wait()
status = desktop.close()
log("the application ended with status %s" % status)
guitest.finish(failures)
