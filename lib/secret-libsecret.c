/*
 * The keyring backend of lib/secret.h on libsecret-1's synchronous API.
 * The only GLib code under lib/: it is built as the module stint-secret.so
 * (lib/meson.build), which secret-dl.c loads when the keyring is needed, so
 * no program links GLib for it. Not for: deciding whether to ask the
 * keyring at all (secret-dl.c: STINT_NO_KEYRING, no session bus) nor
 * between the keyring and auth.json (lib/signin.c).
 */
#include "lib/secret.h"

#include <errno.h>
#include <libsecret/secret.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define SECRETS_NAME "org.freedesktop.secrets"

static const SecretSchema token_schema = {
    .name = "dev.stint.Token",
    .flags = SECRET_SCHEMA_NONE,
    .attributes =
        {
            {"server", SECRET_SCHEMA_ATTRIBUTE_STRING},
            {"email", SECRET_SCHEMA_ATTRIBUTE_STRING},
            {NULL, 0},
        },
};

/*
 * A deadline for synchronous GLib calls, which take a GCancellable but no
 * timeout: a helper thread cancels the call when it has not returned in
 * time. deadline_end() joins the thread, so nothing outlives the call.
 */
struct deadline {
    GMutex mu;
    GCond cond;
    gboolean done;
    gint64 until; /* monotonic µs */
    GCancellable *cancellable;
    GThread *thread;
};

static gpointer deadline_main(gpointer data)
{
    struct deadline *d = data;

    g_mutex_lock(&d->mu);
    while (!d->done) {
        if (!g_cond_wait_until(&d->cond, &d->mu, d->until)) {
            if (!d->done)
                g_cancellable_cancel(d->cancellable);
            break;
        }
    }
    g_mutex_unlock(&d->mu);
    return NULL;
}

static void deadline_begin(struct deadline *d, int ms)
{
    g_mutex_init(&d->mu);
    g_cond_init(&d->cond);
    d->done = FALSE;
    d->until = g_get_monotonic_time() + (gint64)ms * 1000;
    d->cancellable = g_cancellable_new();
    d->thread = g_thread_new("stint-keyring-deadline", deadline_main, d);
}

static void deadline_end(struct deadline *d)
{
    g_mutex_lock(&d->mu);
    d->done = TRUE;
    g_cond_signal(&d->cond);
    g_mutex_unlock(&d->mu);
    g_thread_join(d->thread);
    g_object_unref(d->cancellable);
    g_cond_clear(&d->cond);
    g_mutex_clear(&d->mu);
}

/*
 * Whether a Secret Service runs on the session bus now; at most
 * ST_SECRET_PROBE_MS. secret-dl.c has made sure that a bus is configured,
 * so GLib does not autolaunch one.
 */
static bool service_running(void)
{
    struct deadline d;
    GDBusConnection *bus;
    GVariant *v = NULL;
    gboolean owned = FALSE;

    deadline_begin(&d, ST_SECRET_PROBE_MS);
    bus = g_bus_get_sync(G_BUS_TYPE_SESSION, d.cancellable, NULL);
    if (bus) {
        v = g_dbus_connection_call_sync(
            bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
            "NameHasOwner", g_variant_new("(s)", SECRETS_NAME), G_VARIANT_TYPE("(b)"),
            G_DBUS_CALL_FLAGS_NO_AUTO_START, ST_SECRET_PROBE_MS, d.cancellable, NULL);
        g_object_unref(bus);
    }
    deadline_end(&d);
    if (v) {
        g_variant_get(v, "(b)", &owned);
        g_variant_unref(v);
    }
    return owned;
}

/* The keyring's errors as errnos: a keyring that did not answer is no keyring. */
static int errno_of(GError *error)
{
    if (!error)
        return -EIO;
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
        g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) || error->domain == G_DBUS_ERROR)
        return -ENOKEY;
    if (g_error_matches(error, SECRET_ERROR, SECRET_ERROR_IS_LOCKED))
        return -EACCES;
    return -EIO;
}

static int secret_store(const char *server, const char *email, const char *token)
{
    struct deadline d;
    GError *error = NULL;
    char *label;
    gboolean ok;
    int r = 0;

    if (!service_running())
        return -ENOKEY;
    label = xasprintf("stint sign-in of %s on %s", email && *email ? email : "?", server);
    deadline_begin(&d, ST_SECRET_OP_MS);
    /* One sign-in, one item: an earlier account's token goes first. */
    secret_password_clear_sync(&token_schema, d.cancellable, &error, NULL);
    if (error) {
        r = errno_of(error);
        g_clear_error(&error);
    }
    if (r == 0) {
        ok = secret_password_store_sync(&token_schema, SECRET_COLLECTION_DEFAULT, label, token,
                                        d.cancellable, &error, "server", server, "email",
                                        email ? email : "", NULL);
        if (!ok)
            r = errno_of(error);
        g_clear_error(&error);
    }
    deadline_end(&d);
    free(label);
    return r;
}

static int secret_lookup(const char *server, const char *email, char **ret_token)
{
    struct deadline d;
    GError *error = NULL;
    char *token;
    int r;

    if (!service_running())
        return -ENOKEY;
    deadline_begin(&d, ST_SECRET_OP_MS);
    token = secret_password_lookup_sync(&token_schema, d.cancellable, &error, "server", server,
                                        "email", email ? email : "", NULL);
    deadline_end(&d);
    if (token) {
        *ret_token = xstrdup(token);
        secret_password_free(token); /* wipes it */
        r = 0;
    } else {
        r = error ? errno_of(error) : -ENOENT;
    }
    g_clear_error(&error);
    return r;
}

static int secret_clear(void)
{
    struct deadline d;
    GError *error = NULL;
    int r = 0;

    if (!service_running())
        return -ENOKEY;
    deadline_begin(&d, ST_SECRET_OP_MS);
    secret_password_clear_sync(&token_schema, d.cancellable, &error, NULL);
    deadline_end(&d);
    if (error)
        r = errno_of(error);
    g_clear_error(&error);
    return r;
}

/* The one exported symbol (the module is built with hidden visibility). */
__attribute__((visibility("default"))) const struct st_secret_ops *stint_secret_module_v1(void)
{
    static const struct st_secret_ops ops = {
        .store = secret_store,
        .lookup = secret_lookup,
        .clear = secret_clear,
    };

    return &ops;
}
