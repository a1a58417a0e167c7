/*
 * org.gnome.Mutter.IdleMonitor as "idled" / "resumed" notifications
 * (mutter-idle.h), over libdbus loaded with dlopen() on first use. Not for
 * anything but mutter's idle monitor: capture on GNOME needs the
 * ScreenCast portal, which is not built.
 */
#include "tracker/platform/mutter-idle.h"

#include <dbus/dbus.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define MUTTER_NAME "org.gnome.Mutter.IdleMonitor"
#define MUTTER_PATH "/org/gnome/Mutter/IdleMonitor/Core"
#define MUTTER_IFACE "org.gnome.Mutter.IdleMonitor"
#define IDLE_TIMEOUT_MS 1000
#define CALL_MS 5000

/* The libdbus functions used here, resolved once. */
static struct {
    bool loaded;
    void *so;
    typeof(dbus_error_init) *error_init;
    typeof(dbus_error_free) *error_free;
    typeof(dbus_connection_open_private) *open_private;
    typeof(dbus_bus_register) *bus_register;
    typeof(dbus_bus_add_match) *add_match;
    typeof(dbus_connection_close) *close;
    typeof(dbus_connection_unref) *unref;
    typeof(dbus_connection_get_unix_fd) *get_unix_fd;
    typeof(dbus_connection_read_write) *read_write;
    typeof(dbus_connection_pop_message) *pop_message;
    typeof(dbus_connection_send_with_reply_and_block) *call;
    typeof(dbus_connection_get_is_connected) *is_connected;
    typeof(dbus_message_new_method_call) *new_call;
    typeof(dbus_message_append_args) *append_args;
    typeof(dbus_message_get_args) *get_args;
    typeof(dbus_message_is_signal) *is_signal;
    typeof(dbus_message_unref) *msg_unref;
} D;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
    void *so = dlopen("libdbus-1.so.3", RTLD_NOW | RTLD_LOCAL);
    bool ok;

    if (!so)
        return;
#define SYM(field, name) (D.field = (typeof(D.field))dlsym(so, name)) != NULL
    ok = SYM(error_init, "dbus_error_init") && SYM(error_free, "dbus_error_free") &&
         SYM(open_private, "dbus_connection_open_private") &&
         SYM(bus_register, "dbus_bus_register") && SYM(add_match, "dbus_bus_add_match") &&
         SYM(close, "dbus_connection_close") && SYM(unref, "dbus_connection_unref") &&
         SYM(get_unix_fd, "dbus_connection_get_unix_fd") &&
         SYM(read_write, "dbus_connection_read_write") &&
         SYM(pop_message, "dbus_connection_pop_message") &&
         SYM(call, "dbus_connection_send_with_reply_and_block") &&
         SYM(is_connected, "dbus_connection_get_is_connected") &&
         SYM(new_call, "dbus_message_new_method_call") &&
         SYM(append_args, "dbus_message_append_args") &&
         SYM(get_args, "dbus_message_get_args") && SYM(is_signal, "dbus_message_is_signal") &&
         SYM(msg_unref, "dbus_message_unref");
#undef SYM
    if (!ok) {
        dlclose(so);
        return;
    }
    D.so = so;
    D.loaded = true;
}

struct tk_mutter_idle {
    DBusConnection *conn;
    uint32_t idle_watch;
    uint32_t active_watch; /* 0: none armed (the user is active) */
};

/* Calls an IdleMonitor method that answers a watch id (uint32). 0 or -EIO. */
static int add_watch(struct tk_mutter_idle *mi, const char *method, bool with_interval,
                     uint32_t *ret_id)
{
    DBusMessage *m = D.new_call(MUTTER_NAME, MUTTER_PATH, MUTTER_IFACE, method), *reply;
    dbus_uint64_t interval = IDLE_TIMEOUT_MS;
    dbus_uint32_t id = 0;
    DBusError e;
    int r = -EIO;

    if (!m)
        return -ENOMEM;
    if (with_interval && !D.append_args(m, DBUS_TYPE_UINT64, &interval, DBUS_TYPE_INVALID)) {
        D.msg_unref(m);
        return -ENOMEM;
    }
    D.error_init(&e);
    reply = D.call(mi->conn, m, CALL_MS, &e);
    D.msg_unref(m);
    if (reply && D.get_args(reply, &e, DBUS_TYPE_UINT32, &id, DBUS_TYPE_INVALID) && id) {
        *ret_id = id;
        r = 0;
    }
    if (reply)
        D.msg_unref(reply);
    D.error_free(&e);
    return r;
}

void tk_mutter_idle_close(struct tk_mutter_idle *mi)
{
    if (!mi)
        return;
    if (mi->conn) {
        D.close(mi->conn);
        D.unref(mi->conn);
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
    pthread_once(&load_once, load);
    if (!D.loaded) {
        snprintf(err, errlen, "libdbus-1.so.3 cannot be loaded");
        return -ENXIO;
    }
    mi = xcalloc(1, sizeof(*mi));
    D.error_init(&e);
    mi->conn = D.open_private(addr, &e);
    if (!mi->conn || !D.bus_register(mi->conn, &e)) {
        snprintf(err, errlen, "cannot connect to the session bus: %s",
                 e.message ? e.message : "refused");
        r = -ENXIO;
        goto fail;
    }
    D.add_match(mi->conn,
                "type='signal',interface='" MUTTER_IFACE "',member='WatchFired',path='" MUTTER_PATH
                "'",
                &e);
    D.error_free(&e); /* without the match no notification comes: AddIdleWatch tells */
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
    D.error_free(&e);
    *ret_mi = mi;
    return 0;
fail:
    D.error_free(&e);
    tk_mutter_idle_close(mi);
    return r;
}

int tk_mutter_idle_fd(struct tk_mutter_idle *mi)
{
    int fd = -1;

    return D.get_unix_fd(mi->conn, &fd) ? fd : -1;
}

int tk_mutter_idle_dispatch(struct tk_mutter_idle *mi, void (*cb)(void *ud, bool idled), void *ud)
{
    DBusMessage *m;

    if (!D.read_write(mi->conn, 0) || !D.is_connected(mi->conn))
        return -EPIPE;
    while ((m = D.pop_message(mi->conn))) {
        dbus_uint32_t id = 0;
        DBusError e;

        D.error_init(&e);
        if (D.is_signal(m, MUTTER_IFACE, "WatchFired") &&
            D.get_args(m, &e, DBUS_TYPE_UINT32, &id, DBUS_TYPE_INVALID)) {
            if (id == mi->idle_watch) {
                cb(ud, true);
                /* A user-active watch fires once: armed again at each idle. */
                if (!mi->active_watch &&
                    add_watch(mi, "AddUserActiveWatch", false, &mi->active_watch) < 0) {
                    D.error_free(&e);
                    D.msg_unref(m);
                    return -EPIPE;
                }
            } else if (id && id == mi->active_watch) {
                mi->active_watch = 0;
                cb(ud, false);
            }
        }
        D.error_free(&e);
        D.msg_unref(m);
    }
    return 0;
}
