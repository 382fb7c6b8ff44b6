# guitest.py: what the desktop tests share
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Runs under xvfb-run and dbus-run-session (a display and a session bus of
# its own). The application's settings live in a key file under a temporary
# XDG_CONFIG_HOME; signaling goes through a temporary folder and ICE is
# pinned to 127.0.0.1, so nothing leaves this machine.

import os
import shutil
import subprocess
import sys
import tempfile
import time

APP_ID = "io.github.DistributedBackup"
SETTINGS_PATH = "io/github/DistributedBackup"

# GLib's fatal warnings are for the application under test, not for the
# Python bindings that drive it.
FATAL = os.environ.pop("G_DEBUG", "fatal-warnings")
PROGRAM = os.environ["DISTRIBUTED_BACKUP"]


def log(message):
    tap("# " + message)


def gvariant_string(text):
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Desktop:
    """A temporary home for one run of the application."""

    def __init__(self, name):
        self.root = tempfile.mkdtemp(prefix=name + "-")
        self.config = os.path.join(self.root, "config")
        self.signaling = os.path.join(self.root, "signaling")
        self.received = os.path.join(self.root, "received")
        for path in (self.config, self.signaling, self.received):
            os.makedirs(path, mode=0o700)
        self.session_id = "gui-test-" + os.urandom(6).hex()
        self.env = dict(os.environ)
        self.env.update({
            "GSETTINGS_BACKEND": "keyfile",
            "XDG_CONFIG_HOME": self.config,
            "G_DEBUG": FATAL,
            "GTK_A11Y": "atspi",
            "LC_ALL": "C.UTF-8",
            "LANGUAGE": "",
        })
        self.env.pop("NO_AT_BRIDGE", None)
        self.process = None
        self.children = []
        # The driving process reads the same settings (dogtail checks
        # toolkit-accessibility through GSettings).
        os.environ.update({"GSETTINGS_BACKEND": "keyfile", "XDG_CONFIG_HOME": self.config})
        os.environ.pop("NO_AT_BRIDGE", None)

    def write_settings(self, **values):
        lines = ["[" + SETTINGS_PATH + "]"]
        for key, value in values.items():
            key = key.replace("_", "-")
            if isinstance(value, list):
                text = "[" + ", ".join(gvariant_string(v) for v in value) + "]"
            elif isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, int):
                text = "uint32 %d" % value
            else:
                text = gvariant_string(value)
            lines.append("%s=%s" % (key, text))
        lines += ["", "[org/gnome/desktop/interface]", "toolkit-accessibility=true", ""]
        directory = os.path.join(self.config, "glib-2.0", "settings")
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "keyfile"), "w", encoding="utf-8") as f:
            f.write("\n".join(lines))

    def default_settings(self, **extra):
        values = {
            "signaling_url": self.signaling,
            "ice_addresses": ["127.0.0.1"],
            "stun_servers": [],
            "destination_directory": self.received,
            "session_id": self.session_id,
        }
        values.update(extra)
        self.write_settings(**values)

    def start(self, *args):
        self.process = subprocess.Popen([PROGRAM] + list(args), env=self.env)
        log("started the application, pid %d" % self.process.pid)
        return self.process

    def cli(self, *args, timeout=90):
        """Runs the command line with this run's signaling folder."""
        env = dict(self.env)
        env["G_DEBUG"] = FATAL
        command = [PROGRAM, "--signaling", self.signaling, "--ice-address", "127.0.0.1",
                   "-S=", "-u", self.session_id] + list(args)
        log("running " + " ".join(command))
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
        self.children.append(child)
        return child

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def close(self):
        for child in self.children:
            if child.poll() is None:
                child.kill()
                child.wait()
        status = None
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            status = self.process.returncode
        shutil.rmtree(self.root, ignore_errors=True)
        return status


def wait_for(predicate, timeout, what, alive=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        if alive is not None and not alive():
            raise AssertionError("the application ended while waiting for " + what)
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def find_application(desktop):
    from dogtail import tree

    def lookup():
        for app in tree.root.applications():
            try:
                if app.name in ("distributed-backup", "Distributed Backup"):
                    return app
            except Exception:  # an application that went away meanwhile
                continue
        return None

    return wait_for(lookup, 30, "the application on the accessibility bus", desktop.alive)


def find(node, timeout=15, **kwargs):
    """The first descendant of @node with these properties that is showing."""
    role = kwargs.get("roleName")
    name = kwargs.get("name")

    def lookup():
        # GTK 4.8 does not always report "showing": prefer a showing match,
        # else take the first one.
        def matches(candidate):
            try:
                if role is not None and candidate.roleName != role:
                    return False
                # GTK 4.8 joins a button's accessible label and its text,
                # the label with its mnemonic underscore ("_Stop Backup Stop
                # Backup").
                return (name is None or candidate.name == name
                        or candidate.name.startswith(name + " ")
                        or candidate.name.endswith(" " + name))
            except Exception:
                return False

        found = node.findChildren(matches)

        # A page that is not shown keeps its widgets (a second "Cancel"):
        # prefer what is showing, then what can be used.
        def rank(candidate):
            try:
                return (0 if candidate.showing else 2) + (0 if candidate.sensitive else 1)
            except Exception:
                return 4

        found.sort(key=rank)
        return found[0] if found else None

    return wait_for(lookup, timeout, "%s %r" % (role or "widget", name))


def click(node):
    actions = node.actions
    for name in ("click", "activate", "press", "toggle"):
        if name in actions:
            node.doActionNamed(name)
            return
    raise AssertionError("%r has no click action (actions: %s)" % (node.name, list(actions)))


# Results are printed in TAP form for people; meson judges by the exit
# status, as the accessibility services started on this bus print to the
# same output.
def tap(line):
    print(line, flush=True)


def finish(failures):
    if failures:
        sys.exit(1)
