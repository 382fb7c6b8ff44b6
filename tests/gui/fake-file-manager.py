#!/usr/bin/python3
# fake-file-manager.py: a stand-in for the desktop's file manager
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
#   fake-file-manager.py --service LOG   owns org.freedesktop.FileManager1 on
#       the session bus (a private one: run under dbus-run-session) and
#       writes each call (ShowItems, ShowFolders, ShowItemProperties) as one
#       JSON line to LOG; prints "ready" once the name is owned; ends on
#       SIGTERM or when standard input closes.
#   fake-file-manager.py --open LOG URI…  what the desktop file of the
#       stand-in runs when a folder is opened with it: writes {"method":
#       "open", "uris": [URI…]} to LOG and ends.

import json
import signal
import sys

INTERFACE = """
<node>
  <interface name="org.freedesktop.FileManager1">
    <method name="ShowFolders">
      <arg type="as" name="URIs" direction="in"/>
      <arg type="s" name="StartupId" direction="in"/>
    </method>
    <method name="ShowItems">
      <arg type="as" name="URIs" direction="in"/>
      <arg type="s" name="StartupId" direction="in"/>
    </method>
    <method name="ShowItemProperties">
      <arg type="as" name="URIs" direction="in"/>
      <arg type="s" name="StartupId" direction="in"/>
    </method>
  </interface>
</node>
"""


def record(log_path, entry):
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


def serve(log_path):
    from gi.repository import Gio, GLib

    loop = GLib.MainLoop()
    node = Gio.DBusNodeInfo.new_for_xml(INTERFACE)

    def on_call(connection, sender, path, interface, method, params, invocation):
        uris, startup_id = params.unpack()
        record(log_path, {"method": method, "uris": uris, "startup_id": startup_id})
        invocation.return_value(None)

    def on_bus(connection, name):
        connection.register_object("/org/freedesktop/FileManager1", node.interfaces[0],
                                   on_call, None, None)

    def on_name(connection, name):
        print("ready", flush=True)

    def on_lost(connection, name):
        print("could not own " + name, file=sys.stderr, flush=True)
        loop.quit()

    Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.FileManager1",
                     Gio.BusNameOwnerFlags.NONE, on_bus, on_name, on_lost)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda *a: loop.quit() or False)
    GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT,
                      GLib.IOCondition.HUP | GLib.IOCondition.IN,
                      lambda *a: loop.quit() or False)
    loop.run()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--service":
        serve(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "--open":
        from gi.repository import Gio

        # The launcher gives local files as paths.
        uris = [Gio.File.new_for_commandline_arg(arg).get_uri() for arg in sys.argv[3:]]
        record(sys.argv[2], {"method": "open", "uris": uris})
    else:
        sys.exit("usage: fake-file-manager.py --service LOG | --open LOG URI…")


if __name__ == "__main__":
    main()
