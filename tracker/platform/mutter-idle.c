/*
 * org.gnome.Mutter.IdleMonitor as "idled" / "resumed" notifications
 * (mutter-idle.h), over libdbus loaded with dlopen() on first use
 * (dbus-dl.h). Not for anything but mutter's idle monitor: capture on
 * GNOME goes through the ScreenCast portal (screencast.c).
 */
#include "tracker/platform/mutter-idle.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "tracker/platform/dbus-dl.h"

#define MUTTER_NAME "org.gnome.Mutter.IdleMonitor"
#define MUTTER_PATH "/org/gnome/Mutter/IdleMonitor/Core"
#define MUTTER_IFACE "org.gnome.Mutter.IdleMonitor"
#define IDLE_TIMEOUT_MS 1000
#define CALL_MS 5000

static const struct tk_dbus *D; /* set by the first tk_mutter_idle_open() */

struct tk_mutter_idle {
    DBusConnection *conn;
    uint32_t idle_watch;
    uint32_t active_watch; /* 0: none armed (the user is active) */
};

/* Calls an IdleMonitor method that answers a watch id (uint32). 0 or -EIO. */
static int add_watch(struct tk_mutter_idle *mi, const char *method, bool with_interval,
                     uint32_t *ret_id)
{
    DBusMessage *m = D->new_call(MUTTER_NAME, MUTTER_PATH, MUTTER_IFACE, method), *reply;
    dbus_uint64_t interval = IDLE_TIMEOUT_MS;
    dbus_uint32_t id = 0;
    DBusError e;
    int r = -EIO;

    if (!m)
        return -ENOMEM;
    if (with_interval && !D->append_args(m, DBUS_TYPE_UINT64, &interval, DBUS_TYPE_INVALID)) {
        D->msg_unref(m);
        return -ENOMEM;
    }
    D->error_init(&e);
    reply = D->call(mi->conn, m, CALL_MS, &e);
    D->msg_unref(m);
    if (reply && D->get_args(reply, &e, DBUS_TYPE_UINT32, &id, DBUS_TYPE_INVALID) && id) {
        *ret_id = id;
        r = 0;
    }
    if (reply)
        D->msg_unref(reply);
    D->error_free(&e);
    return r;
}

void tk_mutter_idle_close(struct tk_mutter_idle *mi)
{
    if (!mi)
        return;
    if (mi->conn) {
        D->close(mi->conn);
        D->unref(mi->conn);
    }
    free(mi);
}

int tk_mutter_idle_open(struct tk_mutter_idle **ret_mi, char *err, size_t errlen)
{
    const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
    struct tk_mutter_idle *mi;
    DBusError e;
    int r;

    if (!addr || !*addr) {
        snprintf(err, errlen, "no session bus ($DBUS_SESSION_BUS_ADDRESS is not set)");
        return -ENXIO;
    }
    if (!(D = tk_dbus_load())) {
        snprintf(err, errlen, "libdbus-1.so.3 cannot be loaded");
        return -ENXIO;
    }
    mi = xcalloc(1, sizeof(*mi));
    D->error_init(&e);
    mi->conn = D->open_private(addr, &e);
    if (!mi->conn || !D->bus_register(mi->conn, &e)) {
        snprintf(err, errlen, "cannot connect to the session bus: %s",
                 e.message ? e.message : "refused");
        r = -ENXIO;
        goto fail;
    }
    D->add_match(mi->conn,
                "type='signal',interface='" MUTTER_IFACE "',member='WatchFired',path='" MUTTER_PATH
                "'",
                &e);
    D->error_free(&e); /* without the match no notification comes: AddIdleWatch tells */
    r = add_watch(mi, "AddIdleWatch", true, &mi->idle_watch);
    if (r < 0) {
        snprintf(err, errlen, "%s is not on the session bus", MUTTER_NAME);
        r = -ENOENT;
        goto fail;
    }
    if ((r = add_watch(mi, "AddUserActiveWatch", false, &mi->active_watch)) < 0) {
        snprintf(err, errlen, "%s refused a user-active watch", MUTTER_NAME);
        goto fail;
    }
    D->error_free(&e);
    *ret_mi = mi;
    return 0;
fail:
    D->error_free(&e);
    tk_mutter_idle_close(mi);
    return r;
}

int tk_mutter_idle_fd(struct tk_mutter_idle *mi)
{
    int fd = -1;

    return D->get_unix_fd(mi->conn, &fd) ? fd : -1;
}

int tk_mutter_idle_dispatch(struct tk_mutter_idle *mi, void (*cb)(void *ud, bool idled), void *ud)
{
    DBusMessage *m;

    if (!D->read_write(mi->conn, 0) || !D->is_connected(mi->conn))
        return -EPIPE;
    while ((m = D->pop_message(mi->conn))) {
        dbus_uint32_t id = 0;
        DBusError e;

        D->error_init(&e);
        if (D->is_signal(m, MUTTER_IFACE, "WatchFired") &&
            D->get_args(m, &e, DBUS_TYPE_UINT32, &id, DBUS_TYPE_INVALID)) {
            if (id == mi->idle_watch) {
                cb(ud, true);
                /* A user-active watch fires once: armed again at each idle. */
                if (!mi->active_watch &&
                    add_watch(mi, "AddUserActiveWatch", false, &mi->active_watch) < 0) {
                    D->error_free(&e);
                    D->msg_unref(m);
                    return -EPIPE;
                }
            } else if (id && id == mi->active_watch) {
                mi->active_watch = 0;
                cb(ud, false);
            }
        }
        D->error_free(&e);
        D->msg_unref(m);
    }
    return 0;
}
