/* libdbus loaded with dlopen() on first use (dbus-dl.h). */
#include "tracker/platform/dbus-dl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

static struct tk_dbus D;
static bool loaded;
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
         SYM(get_path, "dbus_message_get_path") && SYM(msg_unref, "dbus_message_unref") &&
         SYM(iter_init, "dbus_message_iter_init") &&
         SYM(iter_init_append, "dbus_message_iter_init_append") &&
         SYM(iter_open, "dbus_message_iter_open_container") &&
         SYM(iter_close, "dbus_message_iter_close_container") &&
         SYM(iter_append, "dbus_message_iter_append_basic") &&
         SYM(iter_type, "dbus_message_iter_get_arg_type") &&
         SYM(iter_recurse, "dbus_message_iter_recurse") &&
         SYM(iter_next, "dbus_message_iter_next") && SYM(iter_get, "dbus_message_iter_get_basic");
#undef SYM
    if (!ok) {
        dlclose(so);
        return;
    }
    loaded = true;
}

const struct tk_dbus *tk_dbus_load(void)
{
    pthread_once(&load_once, load);
    return loaded ? &D : NULL;
}
