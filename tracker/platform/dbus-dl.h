/*
 * libdbus loaded with dlopen() on first use (dbus-dl.c), shared by the
 * Wayland backend's D-Bus routes (mutter-idle.c: GNOME's idle monitor;
 * screencast.c: the ScreenCast portal), so that the X11 path and wlroots
 * sessions never map libdbus (docs/benchmarks.md, footprint). Only the
 * functions those files use are resolved. Not for: anything that could
 * link libdbus directly.
 *
 * Threads: the table is filled once (pthread_once); any thread may call.
 */
#ifndef STINT_TRACKER_DBUS_DL_H
#define STINT_TRACKER_DBUS_DL_H

#include <dbus/dbus.h>

struct tk_dbus {
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
    typeof(dbus_message_get_path) *get_path;
    typeof(dbus_message_unref) *msg_unref;
    typeof(dbus_message_iter_init) *iter_init;
    typeof(dbus_message_iter_init_append) *iter_init_append;
    typeof(dbus_message_iter_open_container) *iter_open;
    typeof(dbus_message_iter_close_container) *iter_close;
    typeof(dbus_message_iter_append_basic) *iter_append;
    typeof(dbus_message_iter_get_arg_type) *iter_type;
    typeof(dbus_message_iter_recurse) *iter_recurse;
    typeof(dbus_message_iter_next) *iter_next;
    typeof(dbus_message_iter_get_basic) *iter_get;
};

/* The table, or NULL when libdbus-1.so.3 cannot be loaded. */
const struct tk_dbus *tk_dbus_load(void);

#endif
