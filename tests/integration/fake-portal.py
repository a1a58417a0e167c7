#!/usr/bin/env python3
"""A fake org.freedesktop.portal.ScreenCast on the session bus, for tests only: a fake
at the edge, standing for the consent dialog no one can answer on a headless desktop.

    fake-portal.py refuse   Start answers Response code 1 (the user cancelled)
    fake-portal.py silent   Start never answers (a dialog left open)

CreateSession and SelectSources are granted. It prints "ready" once it owns the name,
then one line per event the test checks: "select restore_token=<token or ->",
"start", "close <session>".
"""
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

IFACE = "org.freedesktop.portal.ScreenCast"
MODE = sys.argv[1]
DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
count = [0]


def say(line):
    print(line, flush=True)


class Request(dbus.service.Object):
    @dbus.service.signal("org.freedesktop.portal.Request", signature="ua{sv}")
    def Response(self, code, results):
        pass


class Session(dbus.service.Object):
    @dbus.service.method("org.freedesktop.portal.Session", in_signature="", out_signature="")
    def Close(self):
        say("close " + self._object_path)
        self.remove_from_connection()


class Portal(dbus.service.Object):
    def _request(self, code, results):
        count[0] += 1
        req = Request(bus, f"/org/freedesktop/portal/desktop/request/fake/r{count[0]}")
        if code is not None:
            def answer():
                req.Response(dbus.UInt32(code), dbus.Dictionary(results, signature="sv"))
                req.remove_from_connection()
                return False
            GLib.idle_add(answer)
        return dbus.ObjectPath(req._object_path)

    @dbus.service.method(IFACE, in_signature="a{sv}", out_signature="o")
    def CreateSession(self, options):
        path = "/org/freedesktop/portal/desktop/session/fake/" + str(
            options.get("session_handle_token", "s"))
        Session(bus, path)
        return self._request(0, {"session_handle": dbus.String(path)})

    @dbus.service.method(IFACE, in_signature="oa{sv}", out_signature="o")
    def SelectSources(self, session, options):
        say("select restore_token=" + str(options.get("restore_token", "-")) +
            f" types={int(options.get('types', 0))} persist_mode={int(options.get('persist_mode', 0))}")
        return self._request(0, {})

    @dbus.service.method(IFACE, in_signature="osa{sv}", out_signature="o")
    def Start(self, session, parent, options):
        say("start")
        return self._request(1 if MODE == "refuse" else None, {})


Portal(bus, "/org/freedesktop/portal/desktop")
name = dbus.service.BusName("org.freedesktop.portal.Desktop", bus)
say("ready")
GLib.MainLoop().run()
