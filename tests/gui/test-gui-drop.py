#!/usr/bin/python3
# test-gui-drop.py: dragging files onto the window from another application
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A drag source of its own (drag-source.py, a GTK 4 window in another
# process) offers URIs as a file manager does; the pointer is moved with
# its button held (XTest, through xdotool), so the drag goes through the X
# server's drag and drop protocol (XDND) between the two processes.
# 1. A local file dragged over the window: the drop highlight shows (its
#    dashed outline is drawn in the accent colour, read from the screen)
#    and says what a drop does; dropped, the file is the Send page's source,
#    Send Backup has the focus and the source is told the copy was taken.
# 2. Two files: while over the window the highlight says it takes one at a
#    time, in the error colour; dropped, the window says why in a toast and
#    the source chosen before stays.
# 3. A file on another machine (an sftp:// URI): the highlight says only
#    files of this computer can be backed up; dropped, the same.
# Run under: xvfb-run -a -s "-screen 0 1024x768x24" dbus-run-session -- python3 THIS

import os
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import guitest  # noqa: E402
import xscreen  # noqa: E402
from guitest import find, log, tap, wait_for  # noqa: E402

if xscreen.XDOTOOL is None:
    tap("1..0 # SKIP xdotool is not installed (build-aux/install-deps.sh installs it)")
    sys.exit(77)
tap("1..3")

desktop = guitest.Desktop("test-gui-drop")
desktop.default_settings()
report = os.path.join(desktop.root, "report.txt")
notes = os.path.join(desktop.root, "notes.txt")
for path in (report, notes):
    with open(path, "w", encoding="utf-8") as f:
        f.write("to back up\n")

from dogtail import config  # noqa: E402

config.defaultDelay = 0.1
config.searchCutoffCount = 5
config.logDebugToStdOut = False
config.logDebugToFile = False

# Without a window manager the application's window sits at the top left
# corner; the drag source is put beside it.
SOURCE_AT = (800, 560)
SOURCE_TITLE = "Drag Source"
HIGHLIGHT = "Drop a file or folder to back it up"


class DragSource:
    """drag-source.py offering @uris, its window at SOURCE_AT."""

    def __init__(self, uris):
        env = dict(desktop.env)
        env.update({"G_DEBUG": guitest.FATAL, "NO_AT_BRIDGE": "1"})
        env.pop("GTK_A11Y", None)
        self.process = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(HERE, "drag-source.py"), SOURCE_TITLE] + uris,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.lines = []
        self.expect("ready", 20)
        window = wait_for(lambda: xscreen.xdotool("search", "--name", "^%s$" % SOURCE_TITLE),
                          10, "the drag source's window")
        self.window = window.split()[-1]
        xscreen.xdotool("windowmove", self.window, *SOURCE_AT)
        wait_for(lambda: "Position: %d,%d" % SOURCE_AT
                 in xscreen.xdotool("getwindowgeometry", self.window),
                 5, "the drag source's window to move")

    def expect(self, prefix, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines:
                if line.startswith(prefix):
                    self.lines.remove(line)
                    return line
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                line = self.process.stdout.readline()
                assert line, "the drag source ended"
                self.lines.append(line.strip())
        raise AssertionError("the drag source did not say %r (said %s)" % (prefix, self.lines))

    def close(self):
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def window_geometry():
    ids = xscreen.xdotool("search", "--name", "^Distributed Backup$").split()
    for window in ids:
        text = xscreen.xdotool("getwindowgeometry", window)
        position = text.split("Position: ")[1].split()[0]
        size = text.split("Geometry: ")[1].split()[0]
        x, y = (int(v) for v in position.split(","))
        width, height = (int(v) for v in size.split("x"))
        if width > 100 and height > 100:
            return x, y, width, height
    raise AssertionError("no window of the application on the screen")


def outline_colours():
    """How many pixels of the window's left edge, where the highlight's
    dashed outline is drawn, are in the accent colour (blue) and in the
    error colour (red)."""
    x, y, width, height = window_geometry()
    rows = xscreen.grab(x + 6, y + 60, 14, height - 120)
    blue = red = 0
    for row in rows:
        for r, g, b in row:
            if b > r + 80 and b > g + 30:
                blue += 1
            elif r > b + 80 and r > g + 80:
                red += 1
    return blue, red


def drag(source, uris_note):
    """Starts a drag in the source's window and holds it over the middle of
    the application's."""
    x, y, width, height = window_geometry()
    start = (SOURCE_AT[0] + 100, SOURCE_AT[1] + 60)
    over = (x + width // 2, y + height // 2)
    xscreen.xdotool("mousemove", *start)
    time.sleep(0.3)
    xscreen.xdotool("mousedown", 1)
    xscreen.glide(start, (start[0] - 40, start[1] - 20), steps=4)
    source.expect("drag-begin", 10)
    xscreen.glide((start[0] - 40, start[1] - 20), over)
    # Still moving a little, as a hand does, while the window looks at it.
    xscreen.glide(over, (over[0] + 10, over[1] + 10), steps=5)
    log("dragging %s over the window" % uris_note)


def release(source):
    xscreen.xdotool("mouseup", 1)
    return source.expect("drag-end", 15)


failures = 0
source = None
try:
    desktop.start()
    app = guitest.find_application(desktop)
    send_button = find(app, roleName="push button", name="Send Backup")
    assert not send_button.focused, "Send Backup has the focus before anything is chosen"
    blue, red = outline_colours()
    log("before dragging, the window's left edge has %d accent and %d error pixels" % (blue, red))
    assert blue < 20 and red < 20, "the highlight shows before anything is dragged"

    # --- 1. a file ---------------------------------------------------------
    source = DragSource(["file://" + report])
    drag(source, "report.txt")
    find(app, name=HIGHLIGHT, roleName="label", timeout=15)
    blue, red = wait_for(lambda: (lambda c: c if c[0] > 100 else None)(outline_colours()),
                         15, "the highlight's outline in the accent colour")
    log("over the window: %d accent and %d error pixels on its left edge" % (blue, red))
    assert red < 20, "the highlight of a file that can be dropped is in the error colour"
    end = release(source)
    log("the drag source says " + end)
    assert end == "drag-end copy", "the drop was not taken: " + end
    wait_for(lambda: outline_colours()[0] < 20, 15, "the highlight to go")
    find(app, roleName="label", name=report, timeout=10)
    wait_for(lambda: send_button.sensitive, 10, "Send Backup to be enabled")
    wait_for(lambda: send_button.focused, 10, "Send Backup to have the focus")
    source.close()
    source = None
    tap("ok 1 a file dragged from another application is highlighted, then the source")
except Exception as error:  # noqa: BLE001
    failures += 1
    tap("not ok 1 a file dragged from another application is highlighted, then the source # %s"
        % error)


def toasts(app, text):
    """The labels saying @text outside the drop highlight (a toast's)."""
    def matches(node):
        try:
            return node.roleName == "label" and node.name == text
        except Exception:  # noqa: BLE001
            return False

    found = []
    for node in app.findChildren(matches):
        parent, inside = node.parent, False
        while parent is not None:
            try:
                if parent.roleName == "panel" and parent.name in (text, HIGHLIGHT):
                    inside = True
                    break
                parent = parent.parent
            except Exception:  # noqa: BLE001
                break
        if not inside:
            found.append(node)
    return found


def refused(number, uris, why, what):
    global source, failures
    try:
        assert desktop.alive(), "the application is not running"
        source = DragSource(uris)
        drag(source, what)
        find(app, roleName="label", name=why, timeout=15)
        blue, red = wait_for(lambda: (lambda c: c if c[1] > 100 else None)(outline_colours()),
                             15, "the highlight's outline in the error colour")
        log("over the window: %d accent and %d error pixels on its left edge" % (blue, red))
        assert not toasts(app, why), "a toast before the drop"
        # GTK's X11 drag source reports the action of the last status
        # message, not the refusal of the drop (XdndFinished): what the
        # window did is checked instead.
        log("the drag source says " + release(source))
        wait_for(lambda: toasts(app, why), 10, "a toast saying %r" % why)
        wait_for(lambda: outline_colours()[1] < 20, 15, "the highlight to go")
        # What was chosen before stays.
        find(app, roleName="label", name=report, timeout=5)
        source.close()
        source = None
        tap("ok %d %s: refused, and the window says why" % (number, what))
    except Exception as error:  # noqa: BLE001
        failures += 1
        tap("not ok %d %s: refused, and the window says why # %s" % (number, what, error))


refused(2, ["file://" + report, "file://" + notes], "Drop one file or folder at a time",
        "two files")
refused(3, ["sftp://backup.example.invalid/home/notes.txt"],
        "Only files on this computer can be backed up", "a file on another machine")

if source is not None:
    source.close()
status = desktop.close()
log("application exit status %s" % status)
if status != 0:
    failures += 1
guitest.finish(failures)
