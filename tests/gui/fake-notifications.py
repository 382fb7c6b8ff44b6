#!/usr/bin/python3
# fake-notifications.py: a stand-in for the desktop's org.gtk.Notifications
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Owns org.gtk.Notifications on the session bus (a private one: run under
# dbus-run-session) and writes every call it receives as one JSON line to the
# file named by the first argument. Prints "ready" once the name is owned.
# Ends on SIGTERM or when standard input closes.

import json
import signal
import sys

from gi.repository import Gio, GLib

INTERFACE = """
<node>
  <interface name="org.gtk.Notifications">
    <method name="AddNotification">
      <arg type="s" name="app_id" direction="in"/>
      <arg type="s" name="id" direction="in"/>
      <arg type="a{sv}" name="notification" direction="in"/>
    </method>
    <method name="RemoveNotification">
      <arg type="s" name="app_id" direction="in"/>
      <arg type="s" name="id" direction="in"/>
    </method>
  </interface>
</node>
"""


def main():
    log_path = sys.argv[1]
    loop = GLib.MainLoop()
    node = Gio.DBusNodeInfo.new_for_xml(INTERFACE)

    def on_call(connection, sender, path, interface, method, params, invocation):
        args = params.unpack()
        record = {"method": method, "app_id": args[0], "id": args[1]}
        if method == "AddNotification":
            record["notification"] = {}
            for key, value in args[2].items():
                try:
                    json.dumps(value)
                except TypeError:
                    continue
                record["notification"][key] = value
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
        invocation.return_value(None)

    def on_bus(connection, name):
        connection.register_object("/org/gtk/Notifications", node.interfaces[0], on_call, None, None)

    def on_name(connection, name):
        print("ready", flush=True)

    def on_lost(connection, name):
        print("could not own " + name, file=sys.stderr, flush=True)
        loop.quit()

    Gio.bus_own_name(Gio.BusType.SESSION, "org.gtk.Notifications",
                     Gio.BusNameOwnerFlags.NONE, on_bus, on_name, on_lost)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda *a: loop.quit() or False)
    GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT,
                      GLib.IOCondition.HUP | GLib.IOCondition.IN,
                      lambda *a: loop.quit() or False)
    loop.run()


if __name__ == "__main__":
    main()
