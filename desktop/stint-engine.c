/*
 * StintEngine (stint-engine.h): owns one struct tk_engine and the two
 * main-loop sources that drive it, and turns its callbacks into signals.
 */
#include "desktop/stint-engine.h"

#include <errno.h>
#include <glib-unix.h>

#include "tracker/upload-pass.h"

#define CHANGED_EVERY_US (500 * 1000)

struct _StintEngine {
    GObject parent_instance;
    struct tk_engine *e;
    struct tk_settings settings;
    guint fd_source;
    guint timeout_source;
    gint64 last_changed; /* monotonic µs of the last "changed" */
    gboolean event_seen; /* an event came during this tick */
    gboolean running;    /* the timer runs: from the start to the STOPPED event */
    gboolean starting;   /* a start waits for the server's answers on a worker thread */
    /*
     * The status as of the last engine call: it only changes inside engine
     * calls (the uploader wakes us through the fd), and reading it costs a
     * few SQLite queries, so every reader between two ticks shares one copy.
     */
    struct tk_status status;
    gboolean status_valid;
};

G_DEFINE_TYPE(StintEngine, stint_engine, G_TYPE_OBJECT)
G_DEFINE_QUARK(stint_engine_error, stint_engine_error)

enum { SIGNAL_EVENT, SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void arm_timeout(StintEngine *self);

static void tick(StintEngine *self)
{
    gint64 now;

    self->event_seen = FALSE;
    self->status_valid = FALSE;
    tk_engine_tick(self->e);
    self->status_valid = FALSE;
    now = g_get_monotonic_time();
    if (self->event_seen || now - self->last_changed >= CHANGED_EVERY_US) {
        self->last_changed = now;
        g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
    }
}

static gboolean on_timeout(gpointer user_data)
{
    StintEngine *self = user_data;

    self->timeout_source = 0;
    tick(self);
    arm_timeout(self);
    return G_SOURCE_REMOVE;
}

/* The engine says when it wants the next tick at the latest; ask again after every tick. */
static void arm_timeout(StintEngine *self)
{
    if (self->timeout_source)
        g_source_remove(self->timeout_source);
    self->timeout_source = g_timeout_add(MAX(tk_engine_timeout_ms(self->e), 1), on_timeout, self);
}

static gboolean on_fd(int fd, GIOCondition condition, gpointer user_data)
{
    StintEngine *self = user_data;

    tick(self);
    arm_timeout(self);
    return G_SOURCE_CONTINUE;
}

static void on_engine_event(const struct tk_event *ev, void *userdata)
{
    StintEngine *self = userdata;

    self->event_seen = TRUE;
    self->status_valid = FALSE;
    if (ev->type == TK_EVENT_STARTED)
        self->running = TRUE;
    else if (ev->type == TK_EVENT_STOPPED)
        self->running = FALSE;
    g_signal_emit(self, signals[SIGNAL_EVENT], 0, (gpointer)ev);
}

static void stint_engine_dispose(GObject *object)
{
    StintEngine *self = STINT_ENGINE(object);

    g_clear_handle_id(&self->fd_source, g_source_remove);
    g_clear_handle_id(&self->timeout_source, g_source_remove);
    if (self->e) {
        /* tk_engine_free stops a running timer and emits STOPPED: nobody hears a dying object. */
        struct tk_engine *e = self->e;
        self->e = NULL;
        tk_engine_free(e);
    }
    G_OBJECT_CLASS(stint_engine_parent_class)->dispose(object);
}

static void stint_engine_class_init(StintEngineClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = stint_engine_dispose;
    signals[SIGNAL_EVENT] = g_signal_new("event", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
    signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void stint_engine_init(StintEngine *self)
{
}

/* Events of an engine that is being freed go nowhere. */
static void on_engine_event_trampoline(const struct tk_event *ev, void *userdata)
{
    StintEngine *self = userdata;

    if (self->e)
        on_engine_event(ev, self);
}

StintEngine *stint_engine_new(const char *server, const char *token, const char *email,
                              const struct tk_settings *settings, GError **error)
{
    StintEngine *self = g_object_new(STINT_TYPE_ENGINE, NULL);
    struct tk_engine_opts o = {0};
    char err[512] = "";
    int r;

    self->settings = *settings;
    o.server = server;
    o.token = token;
    o.account = email ? email : "";
    /* The app links libcurl anyway (through the engine): requests run on the uploader's thread. */
    o.transport = &tk_transport_curl;
    tk_settings_apply(&self->settings, &o);
    r = tk_engine_new(&o, on_engine_event_trampoline, self, &self->e, err, sizeof(err));
    if (r < 0) {
        self->e = NULL;
        g_set_error(error, STINT_ENGINE_ERROR,
                    r == -EBUSY ? STINT_ENGINE_ERROR_BUSY : STINT_ENGINE_ERROR_FAILED, "%s",
                    err[0] ? err : g_strerror(-r));
        g_object_unref(self);
        return NULL;
    }
    self->fd_source = g_unix_fd_add(tk_engine_fd(self->e), G_IO_IN, on_fd, self);
    arm_timeout(self);
    return self;
}

static int start_error_code(int r)
{
    switch (r) {
    case -EINVAL:
    case -EPERM:
    case -ENOENT:
    case -ENOSPC:
        return STINT_ENGINE_ERROR_REFUSED;
    case -EACCES:
        return STINT_ENGINE_ERROR_NOAUTH;
    case -EHOSTUNREACH:
        return STINT_ENGINE_ERROR_OFFLINE;
    default:
        return STINT_ENGINE_ERROR_FAILED;
    }
}

struct start {
    struct tk_engine *e; /* for the worker: alive as long as the task holds the engine */
    char *contract_id;
    char *memo;
    GStrv tags;
    struct tk_start_info *info;
};

static void start_free(struct start *st)
{
    tk_start_info_free(st->info);
    g_free(st->contract_id);
    g_free(st->memo);
    g_strfreev(st->tags);
    g_free(st);
}

/* The worker: the server's answers only; the engine's state is the main thread's. */
static void fetch_thread(GTask *task, gpointer source, gpointer task_data,
                         GCancellable *cancellable)
{
    struct start *st = task_data;

    st->info = tk_engine_fetch_start(st->e, st->contract_id);
    g_task_return_boolean(task, TRUE);
}

/* Back on the main thread: the timer starts, unless the start was cancelled meanwhile. */
static void on_fetched(GObject *source, GAsyncResult *res, gpointer user_data)
{
    StintEngine *self = STINT_ENGINE(source);
    GTask *task = user_data;
    struct start *st = g_task_get_task_data(G_TASK(res));
    char err[512] = "";
    int r;

    self->starting = FALSE;
    self->status_valid = FALSE;
    if (g_task_return_error_if_cancelled(task)) {
        g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
        g_object_unref(task);
        return;
    }
    r = tk_engine_start_with(self->e, st->info, st->memo, (const char *const *)st->tags, err,
                             sizeof(err));
    if (r < 0) {
        g_task_return_new_error(task, STINT_ENGINE_ERROR, start_error_code(r), "%s",
                                err[0] ? err : g_strerror(-r));
    } else {
        self->running = TRUE;
        arm_timeout(self);
        g_task_return_boolean(task, TRUE);
    }
    g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
    g_object_unref(task);
}

void stint_engine_start_async(StintEngine *self, const char *contract_id, const char *memo,
                              const char *const *tags, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(self, cancellable, callback, user_data);
    GTask *fetch;
    struct start *st;

    g_task_set_source_tag(task, stint_engine_start_async);
    if (self->starting || self->running) {
        g_task_return_new_error(task, STINT_ENGINE_ERROR, STINT_ENGINE_ERROR_BUSY, "%s",
                                self->running ? "the timer already runs"
                                              : "the timer is starting already");
        g_object_unref(task);
        return;
    }
    st = g_new0(struct start, 1);
    st->e = self->e;
    st->contract_id = g_strdup(contract_id);
    st->memo = memo && *memo ? g_strdup(memo) : NULL;
    st->tags = g_strdupv((char **)tags);
    self->starting = TRUE;
    fetch = g_task_new(self, cancellable, on_fetched, task);
    g_task_set_task_data(fetch, st, (GDestroyNotify)start_free);
    g_task_run_in_thread(fetch, fetch_thread);
    g_object_unref(fetch);
    g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

gboolean stint_engine_start_finish(StintEngine *self, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

gboolean stint_engine_is_starting(StintEngine *self)
{
    return self->starting;
}

gboolean stint_engine_stop(StintEngine *self)
{
    gboolean stopped = tk_engine_stop(self->e) == 0;

    self->status_valid = FALSE;

    g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
    return stopped;
}

gboolean stint_engine_set_memo(StintEngine *self, const char *memo, GError **error)
{
    char err[512] = "";

    self->status_valid = FALSE;
    if (tk_engine_set_memo(self->e, memo && *memo ? memo : NULL, err, sizeof(err)) < 0) {
        g_set_error(error, STINT_ENGINE_ERROR, STINT_ENGINE_ERROR_REFUSED, "%s", err);
        return FALSE;
    }
    return TRUE;
}

gboolean stint_engine_set_tags(StintEngine *self, const char *const *tags, GError **error)
{
    char err[512] = "";

    self->status_valid = FALSE;
    if (tk_engine_set_tags(self->e, tags, err, sizeof(err)) < 0) {
        g_set_error(error, STINT_ENGINE_ERROR, STINT_ENGINE_ERROR_REFUSED, "%s", err);
        return FALSE;
    }
    return TRUE;
}

gboolean stint_engine_answer_idle(StintEngine *self, enum tk_idle_answer answer)
{
    gboolean ok = tk_engine_answer_idle(self->e, answer) == 0;

    self->status_valid = FALSE;

    if (ok)
        tick(self);
    return ok;
}

void stint_engine_kick(StintEngine *self)
{
    tk_engine_kick(self->e);
}

void stint_engine_get_status(StintEngine *self, struct tk_status *ret)
{
    if (!self->status_valid) {
        tk_engine_status(self->e, &self->status);
        self->status_valid = TRUE;
    }
    *ret = self->status;
}

gboolean stint_engine_is_running(StintEngine *self)
{
    return self->running;
}

const char *stint_engine_get_data_dir(StintEngine *self)
{
    return tk_engine_data_dir(self->e);
}

char *stint_engine_describe_platform(StintEngine *self)
{
    char d[1024];

    tk_engine_describe_platform(self->e, d, sizeof(d));
    return g_strdup(d);
}
