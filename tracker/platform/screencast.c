/*
 * The ScreenCast portal route (screencast.h): CreateSession,
 * SelectSources (a monitor, persist_mode 2, the kept restore token), Start,
 * OpenPipeWireRemote, one frame from PipeWire, Close. Each portal request
 * answers with a Request object whose Response signal carries a code (0:
 * granted, 1: the user cancelled, 2: refused otherwise) and the results.
 */
#include "tracker/platform/screencast.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "tracker/platform/dbus-dl.h"

#define PORTAL_NAME "org.freedesktop.portal.Desktop"
#define PORTAL_PATH "/org/freedesktop/portal/desktop"
#define PORTAL_IFACE "org.freedesktop.portal.ScreenCast"
#define REQUEST_IFACE "org.freedesktop.portal.Request"
#define MUTTER_NAME "org.gnome.Mutter.ScreenCast"
#define MUTTER_PATH "/org/gnome/Mutter/ScreenCast"
#define SCREENCAST_MS 8000 /* the whole D-Bus exchange, consent included */
#define FRAME_MS 10000     /* the first frame once the stream is there (0.1-0.3 s when idle) */
#define TOKEN_MAX 512

static const struct tk_dbus *D;

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t deadline)
{
    int64_t l = deadline - mono_ms();

    return l > 0 ? (int)l : 0;
}

char *tk_screencast_token_path(void)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

    /* The journal's directory (journal.c, tk_journal_default_dir). */
    if (xdg && xdg[0] == '/')
        return xasprintf("%s/stint/screencast-restore-token", xdg);
    if (!home || home[0] != '/') {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || home[0] != '/')
        return NULL;
    return xasprintf("%s/.local/share/stint/screencast-restore-token", home);
}

/* The kept token into buf ("" when none). */
static void token_read(char *buf, size_t len)
{
    char *path = tk_screencast_token_path();
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
    ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;

    buf[n > 0 ? n : 0] = '\0';
    buf[strcspn(buf, "\n")] = '\0';
    if (fd >= 0)
        close(fd);
    free(path);
}

bool tk_screencast_consent_kept(void)
{
    char buf[TOKEN_MAX];

    token_read(buf, sizeof(buf));
    return buf[0] != '\0';
}

/* Keeps a new token (0600, replaced atomically), or forgets it when token is NULL. */
static void token_write(const char *token)
{
    char *path = tk_screencast_token_path(), *tmp, *slash;
    int fd;

    if (!path)
        return;
    if (!token || !*token || strlen(token) >= TOKEN_MAX) {
        unlink(path);
        free(path);
        return;
    }
    tmp = xasprintf("%s.tmp", path);
    slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0700); /* the journal makes it too; EEXIST is the usual answer */
    *slash = '/';
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        size_t n = strlen(token);
        bool ok = write(fd, token, n) == (ssize_t)n && fsync(fd) == 0;
        close(fd);
        if (!ok || rename(tmp, path) < 0)
            unlink(tmp);
    }
    free(tmp);
    free(path);
}

/* An a{sv} entry; val points at the value (a char * for strings). */
static void dict_add(DBusMessageIter *dict, const char *key, int type, const void *val)
{
    DBusMessageIter e, v;
    char sig[2] = {(char)type, '\0'};

    D->iter_open(dict, DBUS_TYPE_DICT_ENTRY, NULL, &e);
    D->iter_append(&e, DBUS_TYPE_STRING, &key);
    D->iter_open(&e, DBUS_TYPE_VARIANT, sig, &v);
    D->iter_append(&v, type, val);
    D->iter_close(&e, &v);
    D->iter_close(dict, &e);
}

/* What a Response's results hold that we use. */
struct results {
    char session[256];
    char token[TOKEN_MAX];
    uint32_t node;
    bool have_node;
};

static void parse_results(DBusMessageIter *arr, struct results *res)
{
    DBusMessageIter ent, var;

    if (D->iter_type(arr) != DBUS_TYPE_ARRAY)
        return;
    D->iter_recurse(arr, &ent);
    for (; D->iter_type(&ent) == DBUS_TYPE_DICT_ENTRY; D->iter_next(&ent)) {
        DBusMessageIter kv;
        const char *key = NULL, *s = NULL;

        D->iter_recurse(&ent, &kv);
        if (D->iter_type(&kv) != DBUS_TYPE_STRING)
            continue;
        D->iter_get(&kv, &key);
        D->iter_next(&kv);
        if (D->iter_type(&kv) != DBUS_TYPE_VARIANT)
            continue;
        D->iter_recurse(&kv, &var);
        if (strcmp(key, "session_handle") == 0 && (D->iter_type(&var) == DBUS_TYPE_STRING ||
                                                   D->iter_type(&var) == DBUS_TYPE_OBJECT_PATH)) {
            D->iter_get(&var, &s);
            snprintf(res->session, sizeof(res->session), "%s", s);
        } else if (strcmp(key, "restore_token") == 0 && D->iter_type(&var) == DBUS_TYPE_STRING) {
            D->iter_get(&var, &s);
            if (strlen(s) < sizeof(res->token))
                snprintf(res->token, sizeof(res->token), "%s", s);
        } else if (strcmp(key, "streams") == 0 && D->iter_type(&var) == DBUS_TYPE_ARRAY) {
            DBusMessageIter st, fields;
            D->iter_recurse(&var, &st);
            if (D->iter_type(&st) == DBUS_TYPE_STRUCT) {
                D->iter_recurse(&st, &fields);
                if (D->iter_type(&fields) == DBUS_TYPE_UINT32) {
                    D->iter_get(&fields, &res->node);
                    res->have_node = true;
                }
            }
        }
    }
}

/*
 * Sends m (consumed), whose reply is an object path (a portal Request or a
 * mutter object) into ret_path. 0, or < 0 with err.
 */
static int call_path(DBusConnection *c, DBusMessage *m, int64_t deadline, const char *what,
                     char *ret_path, size_t pathlen, char *err, size_t errlen)
{
    DBusError e;
    DBusMessage *reply;
    const char *path = NULL;
    int r = 0;

    D->error_init(&e);
    reply = D->call(c, m, left_ms(deadline) + 1, &e);
    D->msg_unref(m);
    if (!reply) {
        bool gone = e.name && (strcmp(e.name, DBUS_ERROR_SERVICE_UNKNOWN) == 0 ||
                               strcmp(e.name, DBUS_ERROR_UNKNOWN_METHOD) == 0 ||
                               strcmp(e.name, DBUS_ERROR_UNKNOWN_INTERFACE) == 0 ||
                               strcmp(e.name, DBUS_ERROR_UNKNOWN_OBJECT) == 0);
        bool slow = e.name && (strcmp(e.name, DBUS_ERROR_NO_REPLY) == 0 ||
                               strcmp(e.name, DBUS_ERROR_TIMEOUT) == 0);
        snprintf(err, errlen, "cannot capture the screen: %s %s (%s)", what,
                 gone   ? "is not on the session bus"
                 : slow ? "did not answer in time"
                        : "failed",
                 e.message ? e.message : "no reason given");
        r = gone ? -ENOENT : slow ? -ETIMEDOUT : -EIO;
    } else if (!D->get_args(reply, &e, DBUS_TYPE_OBJECT_PATH, &path, DBUS_TYPE_INVALID) ||
               strlen(path) >= pathlen) {
        snprintf(err, errlen, "cannot capture the screen: %s answered without a path", what);
        r = -EIO;
    } else {
        snprintf(ret_path, pathlen, "%s", path);
    }
    if (reply)
        D->msg_unref(reply);
    D->error_free(&e);
    return r;
}

/*
 * Waits for the signal iface.member on object path; fills res from a
 * portal Response (code in *ret_code) or a PipeWireStreamAdded (the node).
 */
static int wait_signal(DBusConnection *c, const char *iface, const char *member, const char *path,
                       int64_t deadline, uint32_t *ret_code, struct results *res, char *err,
                       size_t errlen, const char *what)
{
    for (;;) {
        DBusMessage *m;

        while ((m = D->pop_message(c))) {
            bool match = D->is_signal(m, iface, member) && D->get_path(m) &&
                         strcmp(D->get_path(m), path) == 0;
            if (match) {
                DBusMessageIter it;
                uint32_t u = 0;
                if (D->iter_init(m, &it) && D->iter_type(&it) == DBUS_TYPE_UINT32) {
                    D->iter_get(&it, &u);
                    D->iter_next(&it);
                }
                if (ret_code)
                    *ret_code = u;
                else {
                    res->node = u;
                    res->have_node = true;
                }
                parse_results(&it, res);
                D->msg_unref(m);
                return 0;
            }
            D->msg_unref(m);
        }
        if (left_ms(deadline) <= 0) {
            snprintf(err, errlen,
                     "cannot capture the screen: %s did not answer within %d s (a consent "
                     "dialog may be waiting, unanswered)",
                     what, SCREENCAST_MS / 1000);
            return -ETIMEDOUT;
        }
        if (!D->read_write(c, left_ms(deadline)) || !D->is_connected(c)) {
            snprintf(err, errlen, "cannot capture the screen: the session bus went away");
            return -EPIPE;
        }
    }
}

/* One portal request: method (built by the caller into m) and its Response. */
static int portal_request(DBusConnection *c, DBusMessage *m, const char *method, int64_t deadline,
                          struct results *res, char *err, size_t errlen)
{
    char request[256];
    uint32_t code = 0;
    int r;

    if ((r = call_path(c, m, deadline, "the ScreenCast portal", request, sizeof(request), err,
                       errlen)) < 0)
        return r;
    if ((r = wait_signal(c, REQUEST_IFACE, "Response", request, deadline, &code, res, err,
                         errlen, "the ScreenCast portal")) < 0)
        return r;
    if (code != 0) {
        snprintf(err, errlen,
                 "cannot capture the screen: permission refused (the ScreenCast portal answered "
                 "%s to %s: %s)",
                 code == 1 ? "cancelled" : "refused", method,
                 code == 1 ? "the user cancelled the screen sharing dialog"
                           : "the desktop did not allow screen sharing");
        return -EACCES;
    }
    return 0;
}

static DBusMessage *portal_call(const char *method)
{
    return D->new_call(PORTAL_NAME, PORTAL_PATH, PORTAL_IFACE, method);
}

/* The portal route: a session, one monitor, Start, the PipeWire remote's fd. */
static int via_portal(DBusConnection *c, int64_t deadline, char *session, size_t sessionlen,
                      int *ret_fd, uint32_t *ret_node, char *err, size_t errlen)
{
    DBusMessageIter args, dict;
    struct results res = {0};
    DBusMessage *m, *reply;
    DBusError e;
    char kept[TOKEN_MAX];
    const char *tok = "stint", *sess = session, *parent = "";
    uint32_t monitor = 1, persist = 2;
    int r, fd = -1;

    D->add_match(c, "type='signal',interface='" REQUEST_IFACE "',member='Response'", NULL);
    /* CreateSession */
    if (!(m = portal_call("CreateSession")))
        return -ENOMEM;
    D->iter_init_append(m, &args);
    D->iter_open(&args, DBUS_TYPE_ARRAY, "{sv}", &dict);
    dict_add(&dict, "handle_token", DBUS_TYPE_STRING, &tok);
    dict_add(&dict, "session_handle_token", DBUS_TYPE_STRING, &tok);
    D->iter_close(&args, &dict);
    if ((r = portal_request(c, m, "CreateSession", deadline, &res, err, errlen)) < 0)
        return r;
    if (!res.session[0]) {
        snprintf(err, errlen, "cannot capture the screen: the ScreenCast portal gave no session");
        return -EIO;
    }
    snprintf(session, sessionlen, "%s", res.session);
    /* SelectSources: one monitor, the consent kept until revoked. */
    if (!(m = portal_call("SelectSources")))
        return -ENOMEM;
    D->iter_init_append(m, &args);
    D->iter_append(&args, DBUS_TYPE_OBJECT_PATH, &sess);
    D->iter_open(&args, DBUS_TYPE_ARRAY, "{sv}", &dict);
    dict_add(&dict, "handle_token", DBUS_TYPE_STRING, &tok);
    dict_add(&dict, "types", DBUS_TYPE_UINT32, &monitor);
    dict_add(&dict, "persist_mode", DBUS_TYPE_UINT32, &persist);
    token_read(kept, sizeof(kept));
    if (kept[0]) {
        const char *k = kept;
        dict_add(&dict, "restore_token", DBUS_TYPE_STRING, &k);
    }
    D->iter_close(&args, &dict);
    if ((r = portal_request(c, m, "SelectSources", deadline, &res, err, errlen)) < 0)
        return r;
    /* Start: the dialog, unless the restore token stands for the consent. */
    if (!(m = portal_call("Start")))
        return -ENOMEM;
    D->iter_init_append(m, &args);
    D->iter_append(&args, DBUS_TYPE_OBJECT_PATH, &sess);
    D->iter_append(&args, DBUS_TYPE_STRING, &parent);
    D->iter_open(&args, DBUS_TYPE_ARRAY, "{sv}", &dict);
    dict_add(&dict, "handle_token", DBUS_TYPE_STRING, &tok);
    D->iter_close(&args, &dict);
    res.token[0] = '\0';
    if ((r = portal_request(c, m, "Start", deadline, &res, err, errlen)) < 0) {
        if (r == -EACCES)
            token_write(NULL); /* refused or revoked: the old token stands for nothing */
        return r;
    }
    /* A token is good once: each Start gives the next one. */
    token_write(res.token[0] ? res.token : NULL);
    if (!res.have_node) {
        snprintf(err, errlen, "cannot capture the screen: the ScreenCast portal shared no stream");
        return -EIO;
    }
    /* OpenPipeWireRemote: a plain call answering a file descriptor. */
    if (!(m = portal_call("OpenPipeWireRemote")))
        return -ENOMEM;
    D->iter_init_append(m, &args);
    D->iter_append(&args, DBUS_TYPE_OBJECT_PATH, &sess);
    D->iter_open(&args, DBUS_TYPE_ARRAY, "{sv}", &dict);
    D->iter_close(&args, &dict);
    D->error_init(&e);
    reply = D->call(c, m, left_ms(deadline) + 1, &e);
    D->msg_unref(m);
    if (!reply || !D->get_args(reply, &e, DBUS_TYPE_UNIX_FD, &fd, DBUS_TYPE_INVALID)) {
        snprintf(err, errlen, "cannot capture the screen: no PipeWire remote from the portal (%s)",
                 e.message ? e.message : "no reason given");
        r = -EIO;
    } else {
        *ret_fd = fd;
        *ret_node = res.node;
    }
    if (reply)
        D->msg_unref(reply);
    D->error_free(&e);
    return r;
}

/* The test route (STINT_SCREENCAST_SOURCE=mutter): mutter's own ScreenCast. */
static int via_mutter(DBusConnection *c, int64_t deadline, char *session, size_t sessionlen,
                      uint32_t *ret_node, char *err, size_t errlen)
{
    DBusMessageIter args, dict;
    struct results res = {0};
    DBusMessage *m;
    char stream[256];
    const char *connector = "";
    int r;

    D->add_match(c,
                 "type='signal',interface='" MUTTER_NAME ".Stream',member='PipeWireStreamAdded'",
                 NULL);
    if (!(m = D->new_call(MUTTER_NAME, MUTTER_PATH, MUTTER_NAME, "CreateSession")))
        return -ENOMEM;
    D->iter_init_append(m, &args);
    D->iter_open(&args, DBUS_TYPE_ARRAY, "{sv}", &dict);
    D->iter_close(&args, &dict);
    if ((r = call_path(c, m, deadline, MUTTER_NAME, session, sessionlen, err, errlen)) < 0)
        return r;
    if (!(m = D->new_call(MUTTER_NAME, session, MUTTER_NAME ".Session", "RecordMonitor")))
        return -ENOMEM;
    D->iter_init_append(m, &args);
    D->iter_append(&args, DBUS_TYPE_STRING, &connector);
    D->iter_open(&args, DBUS_TYPE_ARRAY, "{sv}", &dict);
    D->iter_close(&args, &dict);
    if ((r = call_path(c, m, deadline, MUTTER_NAME, stream, sizeof(stream), err, errlen)) < 0)
        return r;
    if (!(m = D->new_call(MUTTER_NAME, session, MUTTER_NAME ".Session", "Start")))
        return -ENOMEM;
    {
        DBusError e;
        DBusMessage *reply;
        D->error_init(&e);
        reply = D->call(c, m, left_ms(deadline) + 1, &e);
        D->msg_unref(m);
        if (!reply) {
            snprintf(err, errlen, "cannot capture the screen: %s did not start (%s)",
                     MUTTER_NAME, e.message ? e.message : "no reason given");
            D->error_free(&e);
            return -EIO;
        }
        D->msg_unref(reply);
        D->error_free(&e);
    }
    if ((r = wait_signal(c, MUTTER_NAME ".Stream", "PipeWireStreamAdded", stream, deadline, NULL,
                         &res, err, errlen, MUTTER_NAME)) < 0)
        return r;
    *ret_node = res.node;
    return 0;
}

/* Ends a session, portal's or mutter's, without waiting for an answer. */
static void session_close(DBusConnection *c, const char *session, bool mutter)
{
    DBusMessage *m, *reply;

    if (!session[0])
        return;
    m = mutter ? D->new_call(MUTTER_NAME, session, MUTTER_NAME ".Session", "Stop")
               : D->new_call(PORTAL_NAME, session, "org.freedesktop.portal.Session", "Close");
    if (!m)
        return;
    reply = D->call(c, m, 1000, NULL);
    D->msg_unref(m);
    if (reply)
        D->msg_unref(reply);
}

int tk_screencast_frame(struct tk_pw_frame *ret_frame, char *err, size_t errlen)
{
    const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
    const char *source = getenv("STINT_SCREENCAST_SOURCE");
    bool mutter = source && strcmp(source, "mutter") == 0;
    int64_t deadline = mono_ms() + SCREENCAST_MS;
    char session[256] = "";
    DBusConnection *c;
    DBusError e;
    uint32_t node = 0;
    int r, fd = -1;

    if (!addr || !*addr) {
        snprintf(err, errlen,
                 "cannot capture the screen: no session bus for the ScreenCast portal "
                 "($DBUS_SESSION_BUS_ADDRESS is not set)");
        return -ENXIO;
    }
    if (!(D = tk_dbus_load())) {
        snprintf(err, errlen, "cannot capture the screen: libdbus-1.so.3 cannot be loaded");
        return -ENXIO;
    }
    D->error_init(&e);
    c = D->open_private(addr, &e);
    if (!c || !D->bus_register(c, &e)) {
        snprintf(err, errlen, "cannot capture the screen: cannot connect to the session bus: %s",
                 e.message ? e.message : "refused");
        D->error_free(&e);
        if (c) {
            D->close(c);
            D->unref(c);
        }
        return -ENXIO;
    }
    D->error_free(&e);
    r = mutter ? via_mutter(c, deadline, session, sizeof(session), &node, err, errlen)
               : via_portal(c, deadline, session, sizeof(session), &fd, &node, err, errlen);
    if (r == 0) {
        char why[256];
        /* The session stays open (this connection) while the frame is read. */
        r = tk_pw_take_frame(fd, node, FRAME_MS, ret_frame, why, sizeof(why));
        if (r < 0)
            snprintf(err, errlen, "cannot capture the screen: %s", why);
    }
    session_close(c, session, mutter);
    D->close(c);
    D->unref(c);
    return r;
}
