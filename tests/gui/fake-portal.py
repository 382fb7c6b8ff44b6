#!/usr/bin/python3
# fake-portal.py: a stand-in for xdg-desktop-portal's Background portal
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Owns org.freedesktop.portal.Desktop on the session bus (a private one: run
# under dbus-run-session) and serves org.freedesktop.portal.Background on
# /org/freedesktop/portal/desktop, with the "version" property of
# xdg-desktop-portal 1.16 (1; --version N for another). Every call is written
# as one JSON line to the file named by the first argument: RequestBackground
# with its parent window, options and the sender's unique name, SetStatus
# with its options. RequestBackground answers with the Request object's path
# the portal documentation prescribes (from the sender and handle_token),
# then with a Response signal on it that grants running in the background
# and echoes autostart. Prints "ready" once the name is owned. Ends on
# SIGTERM or when standard input closes.

import json
import signal
import sys

from gi.repository import Gio, GLib

INTERFACE = """
<node>
  <interface name="org.freedesktop.portal.Background">
    <method name="RequestBackground">
      <arg type="s" name="parent_window" direction="in"/>
      <arg type="a{sv}" name="options" direction="in"/>
      <arg type="o" name="handle" direction="out"/>
    </method>
    <method name="SetStatus">
      <arg type="a{sv}" name="options" direction="in"/>
    </method>
    <property name="version" type="u" access="read"/>
  </interface>
  <interface name="org.freedesktop.portal.Request">
    <method name="Close"/>
    <signal name="Response">
      <arg type="u" name="response"/>
      <arg type="a{sv}" name="results"/>
    </signal>
  </interface>
</node>
"""

PATH = "/org/freedesktop/portal/desktop"


def main():
    log_path = sys.argv[1]
    version = 1
    if "--version" in sys.argv:
        version = int(sys.argv[sys.argv.index("--version") + 1])
    loop = GLib.MainLoop()
    node = Gio.DBusNodeInfo.new_for_xml(INTERFACE)
    background = node.lookup_interface("org.freedesktop.portal.Background")
    request = node.lookup_interface("org.freedesktop.portal.Request")
    requests = {}

    def record(entry):
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")

    def on_request_call(connection, sender, path, interface, method, params, invocation):
        record({"method": "Close", "path": path})
        registration = requests.pop(path, None)
        if registration is not None:
            connection.unregister_object(registration)
        invocation.return_value(None)

    def answer(connection, sender, handle, autostart):
        results = {"background": GLib.Variant("b", True),
                   "autostart": GLib.Variant("b", autostart)}
        connection.emit_signal(sender, handle, "org.freedesktop.portal.Request", "Response",
                               GLib.Variant("(ua{sv})", (0, results)))
        registration = requests.pop(handle, None)
        if registration is not None:
            connection.unregister_object(registration)
        return False

    def on_call(connection, sender, path, interface, method, params, invocation):
        if method == "RequestBackground":
            parent_window, options = params.unpack()
            record({"method": method, "sender": sender, "parent_window": parent_window,
                    "options": options})
            token = options.get("handle_token", "t%d" % len(requests))
            handle = "%s/request/%s/%s" % (PATH, sender[1:].replace(".", "_"), token)
            requests[handle] = connection.register_object(handle, request, on_request_call,
                                                          None, None)
            invocation.return_value(GLib.Variant("(o)", (handle,)))
            GLib.idle_add(answer, connection, sender, handle, bool(options.get("autostart")))
        elif method == "SetStatus" and version >= 2:
            record({"method": method, "sender": sender, "options": params.unpack()[0]})
            invocation.return_value(None)
        else:
            record({"method": method, "sender": sender})
            invocation.return_dbus_error("org.freedesktop.DBus.Error.UnknownMethod",
                                         "No such method in version %d" % version)

    def on_get_property(connection, sender, path, interface, name):
        if name == "version":
            return GLib.Variant("u", version)
        return None

    def on_bus(connection, name):
        connection.register_object(PATH, background, on_call, on_get_property, None)

    def on_name(connection, name):
        print("ready", flush=True)

    def on_lost(connection, name):
        print("could not own " + name, file=sys.stderr, flush=True)
        loop.quit()

    Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.portal.Desktop",
                     Gio.BusNameOwnerFlags.NONE, on_bus, on_name, on_lost)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda *a: loop.quit() or False)
    GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT,
                      GLib.IOCondition.HUP | GLib.IOCondition.IN,
                      lambda *a: loop.quit() or False)
    loop.run()


if __name__ == "__main__":
    main()
