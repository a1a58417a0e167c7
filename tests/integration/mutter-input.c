/*
 * A test client that makes input on a headless mutter through
 * org.gnome.Mutter.RemoteDesktop, as test_wayland.py needs to check the
 * GNOME idle route (there is no /dev/uinput here). A remote-desktop session
 * lives as long as the D-Bus connection that created it, so this one
 * process creates it, starts it and then reads commands from standard input:
 *
 *   key     press and release one key (evdev code 30)
 *   move    a relative pointer motion of 5 pixels
 *
 * It prints "ready" once the session runs and "ok" after each command has
 * been delivered, and exits 0 at end of input (1 with a sentence on error).
 */
#include <dbus/dbus.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define RD_NAME "org.gnome.Mutter.RemoteDesktop"

static DBusConnection *conn;

/* Calls a method; returns the reply (to unref) or NULL with a message on stderr. */
static DBusMessage *call(const char *path, const char *iface, const char *method, int first,
                         ...)
{
    DBusMessage *m = dbus_message_new_method_call(RD_NAME, path, iface, method), *reply;
    DBusError e;
    va_list ap;

    va_start(ap, first);
    dbus_message_append_args_valist(m, first, ap);
    va_end(ap);
    dbus_error_init(&e);
    reply = dbus_connection_send_with_reply_and_block(conn, m, 5000, &e);
    dbus_message_unref(m);
    if (!reply)
        fprintf(stderr, "mutter-input: %s: %s\n", method, e.message);
    dbus_error_free(&e);
    return reply;
}

int main(void)
{
    DBusError e;
    DBusMessage *r;
    const char *session = NULL;
    char path[256], line[64];
    const char *siface = "org.gnome.Mutter.RemoteDesktop.Session";

    dbus_error_init(&e);
    conn = dbus_bus_get_private(DBUS_BUS_SESSION, &e);
    if (!conn) {
        fprintf(stderr, "mutter-input: no session bus: %s\n", e.message);
        dbus_error_free(&e);
        return 1;
    }
    dbus_connection_set_exit_on_disconnect(conn, FALSE);
    r = call("/org/gnome/Mutter/RemoteDesktop", RD_NAME, "CreateSession", DBUS_TYPE_INVALID);
    if (!r || !dbus_message_get_args(r, &e, DBUS_TYPE_OBJECT_PATH, &session, DBUS_TYPE_INVALID))
        goto fail;
    snprintf(path, sizeof(path), "%s", session);
    dbus_message_unref(r);
    if (!(r = call(path, siface, "Start", DBUS_TYPE_INVALID)))
        goto fail;
    dbus_message_unref(r);
    printf("ready\n");
    fflush(stdout);
    while (fgets(line, sizeof(line), stdin)) {
        if (strncmp(line, "key", 3) == 0) {
            dbus_uint32_t code = 30;
            dbus_bool_t down = TRUE, up = FALSE;
            if (!(r = call(path, siface, "NotifyKeyboardKeycode", DBUS_TYPE_UINT32, &code,
                           DBUS_TYPE_BOOLEAN, &down, DBUS_TYPE_INVALID)))
                goto fail;
            dbus_message_unref(r);
            if (!(r = call(path, siface, "NotifyKeyboardKeycode", DBUS_TYPE_UINT32, &code,
                           DBUS_TYPE_BOOLEAN, &up, DBUS_TYPE_INVALID)))
                goto fail;
            dbus_message_unref(r);
        } else if (strncmp(line, "move", 4) == 0) {
            double dx = 5, dy = 5;
            if (!(r = call(path, siface, "NotifyPointerMotionRelative", DBUS_TYPE_DOUBLE, &dx,
                           DBUS_TYPE_DOUBLE, &dy, DBUS_TYPE_INVALID)))
                goto fail;
            dbus_message_unref(r);
        } else {
            fprintf(stderr, "mutter-input: bad command\n");
            goto fail;
        }
        printf("ok\n");
        fflush(stdout);
    }
    if ((r = call(path, siface, "Stop", DBUS_TYPE_INVALID)))
        dbus_message_unref(r);
    dbus_connection_close(conn);
    dbus_connection_unref(conn);
    return 0;
fail:
    dbus_error_free(&e);
    dbus_connection_close(conn);
    dbus_connection_unref(conn);
    return 1;
}
