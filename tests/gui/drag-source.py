#!/usr/bin/python3
# drag-source.py: a window to drag files from, in a process of its own
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Shows one window titled by the first argument, filled with a label that
# can be dragged: what it drags is the list of the other arguments (URIs),
# as a file manager drags files (text/uri-list, and a GdkFileList between
# GTK applications). Prints "ready" once the window is mapped, then, for
# each drag, "drag-begin" and "drag-end ACTION" (the action the target
# chose, or "none" for a refused or cancelled drag). Ends on SIGTERM or when
# standard input closes.

import signal
import sys

import gi

gi.require_version("Gdk", "4.0")
gi.require_version("Gtk", "4.0")
from gi.repository import Gdk, Gio, GLib, GObject, Gtk  # noqa: E402


def say(text):
    print(text, flush=True)


def main():
    title = sys.argv[1]
    uris = sys.argv[2:]
    loop = GLib.MainLoop()

    window = Gtk.Window(title=title)
    window.set_default_size(200, 120)
    label = Gtk.Label(label="Drag me")
    label.set_hexpand(True)
    label.set_vexpand(True)
    window.set_child(label)

    def prepare(source, x, y):
        files = [Gio.File.new_for_uri(uri) for uri in uris]
        text = "".join(uri + "\r\n" for uri in uris).encode()
        providers = [Gdk.ContentProvider.new_for_bytes("text/uri-list", GLib.Bytes.new(text))]
        # Only local files have a GdkFileList that means what they are.
        if all(f.is_native() for f in files):
            value = GObject.Value(Gdk.FileList, Gdk.FileList.new_from_list(files))
            providers.insert(0, Gdk.ContentProvider.new_for_value(value))
        return Gdk.ContentProvider.new_union(providers)

    source = Gtk.DragSource(actions=Gdk.DragAction.COPY)
    source.connect("prepare", prepare)
    source.connect("drag-begin", lambda *a: say("drag-begin"))

    def drag_end(source, drag, delete):
        say("drag-end " + ("none" if drag.get_selected_action() == 0
                           else drag.get_selected_action().value_nicks[0]))

    source.connect("drag-end", drag_end)
    source.connect("drag-cancel", lambda s, d, reason: say("drag-cancel %d" % int(reason)) or False)
    label.add_controller(source)

    window.connect("map", lambda *a: say("ready"))
    window.connect("close-request", lambda *a: loop.quit() or False)
    window.present()

    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda *a: loop.quit() or False)
    GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT,
                      GLib.IOCondition.HUP | GLib.IOCondition.IN,
                      lambda *a: loop.quit() or False)
    loop.run()


if __name__ == "__main__":
    main()
