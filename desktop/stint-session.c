/*
 * StintSession (stint-session.h): the sign-in, the engine's lifetime, and
 * the server's view of the contracts (week hours, today, recent memos)
 * refreshed once a minute with async requests. The engine's own totals win
 * for the contract being tracked, as they include what is not uploaded yet.
 */
#include "desktop/stint-session.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/signin.h"
#include "lib/tz.h"
#include "lib/week.h"

#define REFRESH_S 60
#define BUSY_RETRY_S 3
#define RECENT_MEMOS_MAX 8
#define MEMO_DAYS 14
#define DEFAULT_SERVER "http://127.0.0.1:8080"
#define SETTINGS_SETTLE_MS 1500
#define AUTH_SETTLE_MS 300

struct _StintSession {
    GObject parent_instance;

    struct tk_settings settings;
    char *settings_error;
    gboolean settings_stale; /* saved while tracking: the engine takes them at the next stop */

    struct st_signin signin; /* server, token, email; all NULL when signed out */
    char *user_id;
    char *user_name;
    char *timezone;
    StintApi *api;
    GCancellable *cancellable; /* cancelled at sign-out: answers for the old sign-in are dropped */

    StintEngine *engine;
    char *engine_error;
    gboolean busy;
    guint retry_source;
    guint refresh_source;
    guint recreate_source;
    guint later_source;         /* a refresh a few seconds after a stop */
    GFileMonitor *auth_monitor; /* auth.json, which `stint login` may change */
    guint auth_source;
    gboolean auth_stale; /* it changed while the timer ran: follow at the stop */

    GListStore *contracts;
    gboolean contracts_loaded;
    GHashTable *memos; /* contract id → GStrv, newest first */
    GHashTable *today; /* contract id → gint64 * seconds today */

    char *shot_path;
    char *shot_segment;
    gint64 shot_at;
    gint64 shot_segment_start;

    gboolean reachable;     /* the latest observation: did the server answer? */
    gboolean engine_online; /* the engine's "online" at the last status read */
    StintConnection connection;
};

G_DEFINE_TYPE(StintSession, stint_session, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_ENGINE_EVENT, SIGNAL_CONNECTION_LOST, SIGNAL_SIGNED_OUT, N_SIGNALS };
static guint signals[N_SIGNALS];

static void open_engine(StintSession *self);
static void close_engine(StintSession *self);
static gboolean reload_signin(gpointer user_data);
static void watch_signin(StintSession *self);
static void update_connection(StintSession *self);
static gboolean engine_in_use(StintSession *self);

static void changed(StintSession *self)
{
    g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

/* ---- lifetime ---- */

static void stint_session_dispose(GObject *object)
{
    StintSession *self = STINT_SESSION(object);

    if (self->cancellable)
        g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->cancellable);
    g_clear_handle_id(&self->retry_source, g_source_remove);
    g_clear_handle_id(&self->refresh_source, g_source_remove);
    g_clear_handle_id(&self->recreate_source, g_source_remove);
    g_clear_handle_id(&self->later_source, g_source_remove);
    g_clear_handle_id(&self->auth_source, g_source_remove);
    if (self->auth_monitor)
        g_signal_handlers_disconnect_by_data(self->auth_monitor, self);
    g_clear_object(&self->auth_monitor);
    close_engine(self);
    /* Answers still on their way find no session (and were cancelled above). */
    if (self->api) {
        g_object_set_data(G_OBJECT(self->api), "stint-session", NULL);
        g_signal_handlers_disconnect_by_data(self->api, self);
    }
    g_clear_object(&self->api);
    g_clear_object(&self->contracts);
    g_clear_pointer(&self->memos, g_hash_table_unref);
    g_clear_pointer(&self->today, g_hash_table_unref);
    G_OBJECT_CLASS(stint_session_parent_class)->dispose(object);
}

static void stint_session_finalize(GObject *object)
{
    StintSession *self = STINT_SESSION(object);

    st_signin_release(&self->signin);
    g_free(self->settings_error);
    g_free(self->user_id);
    g_free(self->user_name);
    g_free(self->timezone);
    g_free(self->engine_error);
    g_free(self->shot_path);
    g_free(self->shot_segment);
    G_OBJECT_CLASS(stint_session_parent_class)->finalize(object);
}

static void stint_session_class_init(StintSessionClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = stint_session_dispose;
    object_class->finalize = stint_session_finalize;
    signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
    signals[SIGNAL_ENGINE_EVENT] =
        g_signal_new("engine-event", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
    signals[SIGNAL_CONNECTION_LOST] =
        g_signal_new("connection-lost", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 0);
    signals[SIGNAL_SIGNED_OUT] =
        g_signal_new("signed-out", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void stint_session_init(StintSession *self)
{
    char err[512] = "";

    self->contracts = g_list_store_new(STINT_TYPE_CONTRACT);
    self->memos =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_strfreev);
    self->today = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    watch_signin(self);
    tk_settings_init(&self->settings);
    if (tk_settings_load(&self->settings, err, sizeof(err)) < 0) {
        /* A broken file must not keep the app from starting: say so and use the defaults. */
        self->settings_error = g_strdup(err);
        tk_settings_init(&self->settings);
    }
}

StintSession *stint_session_new(void)
{
    return g_object_new(STINT_TYPE_SESSION, NULL);
}

/* ---- the server's view: contracts, week hours, today, memos ---- */

static char *utc_date(gint64 t)
{
    int y, m, d;

    st_tz_local_date(st_tz_get("UTC"), t, &y, &m, &d);
    return g_strdup_printf("%04d-%02d-%02d", y, m, d);
}

static const struct st_tz *zone(StintSession *self)
{
    const struct st_tz *tz = st_tz_get(self->timezone ? self->timezone : "UTC");

    return tz ? tz : st_tz_get("UTC");
}

/* The diary of one contract: this week's hours (UTC) and its memos of the last two weeks. */
static void on_diary(GObject *source, GAsyncResult *res, gpointer user_data)
{
    g_autoptr(StintContract) contract = user_data;
    g_autoptr(GError) error = NULL;
    StintSession *self;
    json_t *body = stint_api_call_finish(STINT_API(source), res, &error);
    json_t *days, *segs;
    g_autofree char *monday = NULL;
    GPtrArray *memos;
    gint64 week = 0;
    size_t i;

    if (!body)
        return;
    self = g_object_get_data(G_OBJECT(source), "stint-session");
    if (!self) {
        json_decref(body);
        return;
    }
    monday = utc_date(st_week_start(time(NULL)));
    days = json_object_get(body, "days");
    for (i = 0; i < json_array_size(days); i++) {
        json_t *d = json_array_get(days, i);
        const char *date = json_string_value(json_object_get(d, "date"));
        if (date && strcmp(date, monday) >= 0)
            week += json_integer_value(json_object_get(d, "tracked_s")) +
                    json_integer_value(json_object_get(d, "manual_s"));
    }
    if (!self->engine || !stint_engine_is_running(self->engine))
        stint_contract_set_week_seconds(contract, week);
    else {
        struct tk_status st;
        stint_engine_get_status(self->engine, &st);
        if (strcmp(st.contract_id, stint_contract_get_id(contract)) != 0)
            stint_contract_set_week_seconds(contract, week);
    }

    /* Memos, newest first, each once. */
    memos = g_ptr_array_new();
    segs = json_object_get(body, "segments");
    for (i = json_array_size(segs); i-- > 0 && memos->len < RECENT_MEMOS_MAX;) {
        const char *memo = json_string_value(json_object_get(json_array_get(segs, i), "memo"));
        gboolean seen = FALSE;
        if (!memo || !*memo)
            continue;
        for (guint k = 0; k < memos->len && !seen; k++)
            seen = strcmp(memos->pdata[k], memo) == 0;
        if (!seen)
            g_ptr_array_add(memos, g_strdup(memo));
    }
    g_ptr_array_add(memos, NULL);
    g_hash_table_replace(self->memos, g_strdup(stint_contract_get_id(contract)),
                         g_ptr_array_free(memos, FALSE));
    json_decref(body);
    changed(self);
}

static void on_today(GObject *source, GAsyncResult *res, gpointer user_data)
{
    g_autofree char *id = user_data;
    g_autoptr(GError) error = NULL;
    json_t *body = stint_api_call_finish(STINT_API(source), res, &error);
    StintSession *self;
    json_t *totals;
    gint64 *v;

    if (!body)
        return;
    self = g_object_get_data(G_OBJECT(source), "stint-session");
    totals = json_object_get(body, "totals");
    if (self) {
        v = g_new(gint64, 1);
        *v = json_integer_value(json_object_get(totals, "tracked_s")) +
             json_integer_value(json_object_get(totals, "manual_s"));
        g_hash_table_replace(self->today, g_steal_pointer(&id), v);
        changed(self);
    }
    json_decref(body);
}

static void refresh_contract(StintSession *self, StintContract *c)
{
    gint64 now = time(NULL);
    g_autofree char *from = utc_date(MIN(st_week_start(now), now - (MEMO_DAYS - 1) * 86400));
    g_autofree char *to = utc_date(now);
    g_autofree char *path = NULL, *today = NULL, *zone_path = NULL;
    g_autofree char *escaped = NULL;
    int y, m, d;

    path = g_strdup_printf("/contracts/%s/diary?from=%s&to=%s&tz=UTC", stint_contract_get_id(c),
                           from, to);
    stint_api_call_async(self->api, "GET", path, NULL, self->cancellable, on_diary,
                         g_object_ref(c));
    st_tz_local_date(zone(self), now, &y, &m, &d);
    today = g_strdup_printf("%04d-%02d-%02d", y, m, d);
    escaped = g_uri_escape_string(st_tz_name(zone(self)), NULL, FALSE);
    zone_path = g_strdup_printf("/contracts/%s/diary?from=%s&to=%s&tz=%s", stint_contract_get_id(c),
                                today, today, escaped);
    stint_api_call_async(self->api, "GET", zone_path, NULL, self->cancellable, on_today,
                         g_strdup(stint_contract_get_id(c)));
}

static void on_contracts(GObject *source, GAsyncResult *res, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    json_t *body = stint_api_call_finish(STINT_API(source), res, &error);
    StintSession *self = g_object_get_data(G_OBJECT(source), "stint-session");
    json_t *list;
    GPtrArray *fresh;
    size_t i;

    if (!self || g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        json_decref(body);
        return;
    }
    if (!body) {
        if (g_error_matches(error, STINT_API_ERROR, 401)) {
            g_autofree char *why = g_strdup_printf(
                "The server no longer accepts this sign-in (%s). Sign in again.", error->message);
            if (!stint_session_is_tracking(self)) {
                stint_session_sign_out(self);
                g_signal_emit(self, signals[SIGNAL_SIGNED_OUT], 0, why);
            }
        }
        changed(self);
        return;
    }
    list = json_object_get(body, "contracts");
    fresh = g_ptr_array_new_with_free_func(g_object_unref);
    for (i = 0; i < json_array_size(list); i++) {
        json_t *c = json_array_get(list, i);
        const char *fl = json_string_value(json_object_get(json_object_get(c, "freelancer"), "id"));
        const char *state = json_string_value(json_object_get(c, "state"));
        const char *id = json_string_value(json_object_get(c, "id"));
        StintContract *existing;

        /* Only the freelancer's own active contracts take time. */
        if (g_strcmp0(state, "active") != 0 || (self->user_id && g_strcmp0(fl, self->user_id) != 0))
            continue;
        existing = id ? stint_session_find_contract(self, id) : NULL;
        if (existing) {
            stint_contract_update(existing, c);
            g_ptr_array_add(fresh, g_object_ref(existing));
        } else {
            StintContract *nc = stint_contract_new_from_json(c);
            if (nc)
                g_ptr_array_add(fresh, nc);
        }
    }
    /* Replace the list only when it changed, so the picker keeps its selection. */
    {
        guint n = g_list_model_get_n_items(G_LIST_MODEL(self->contracts));
        gboolean same = n == fresh->len;
        for (guint k = 0; same && k < n; k++) {
            g_autoptr(StintContract) c = g_list_model_get_item(G_LIST_MODEL(self->contracts), k);
            same = c == fresh->pdata[k];
        }
        if (!same)
            g_list_store_splice(self->contracts, 0, n, fresh->pdata, fresh->len);
    }
    for (i = 0; i < fresh->len; i++)
        refresh_contract(self, fresh->pdata[i]);
    self->contracts_loaded = TRUE;
    g_ptr_array_unref(fresh);
    json_decref(body);
    changed(self);
}

static void on_me(GObject *source, GAsyncResult *res, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    json_t *body = stint_api_call_finish(STINT_API(source), res, &error);
    StintSession *self = g_object_get_data(G_OBJECT(source), "stint-session");
    json_t *user;

    if (!self || !body) {
        json_decref(body);
        return;
    }
    user = json_object_get(body, "user");
    g_free(self->user_id);
    g_free(self->user_name);
    g_free(self->timezone);
    self->user_id = g_strdup(json_string_value(json_object_get(user, "id")));
    self->user_name = g_strdup(json_string_value(json_object_get(user, "name")));
    self->timezone = g_strdup(json_string_value(json_object_get(user, "timezone")));
    json_decref(body);
    stint_api_call_async(self->api, "GET", "/contracts", NULL, self->cancellable, on_contracts,
                         NULL);
    changed(self);
}

void stint_session_refresh(StintSession *self)
{
    if (!self->api)
        return;
    /* /me first: the contracts list needs to know who "me" is. */
    stint_api_call_async(self->api, "GET", "/me", NULL, self->cancellable, on_me, NULL);
}

static gboolean on_refresh_timer(gpointer user_data)
{
    stint_session_refresh(user_data);
    return G_SOURCE_CONTINUE;
}

/* ---- the engine ---- */

static void on_reachable(StintApi *api, gboolean reachable, StintSession *self)
{
    self->reachable = reachable;
    update_connection(self);
}

static void update_connection(StintSession *self)
{
    StintConnection prev = self->connection, now;
    struct tk_status st = {0};

    if (self->engine) {
        stint_engine_get_status(self->engine, &st);
        if (st.online != self->engine_online) {
            /* The uploader has news: that is the latest observation. */
            self->engine_online = st.online;
            self->reachable = st.online;
        }
    }
    if (self->engine && st.uploading && st.queued > 0 && self->reachable)
        now = STINT_CONNECTION_UPLOADING;
    else
        now = self->reachable ? STINT_CONNECTION_ONLINE : STINT_CONNECTION_OFFLINE;
    self->connection = now;
    if (prev != STINT_CONNECTION_OFFLINE && now == STINT_CONNECTION_OFFLINE &&
        stint_session_is_tracking(self))
        g_signal_emit(self, signals[SIGNAL_CONNECTION_LOST], 0);
    if (prev != now)
        changed(self);
}

static gboolean recreate_engine(gpointer user_data)
{
    StintSession *self = user_data;

    self->recreate_source = 0;
    if (engine_in_use(self))
        return G_SOURCE_REMOVE;
    close_engine(self);
    open_engine(self);
    self->settings_stale = FALSE;
    changed(self);
    return G_SOURCE_REMOVE;
}

static gboolean refresh_later(gpointer user_data)
{
    StintSession *self = user_data;

    self->later_source = 0;
    stint_session_refresh(self);
    return G_SOURCE_REMOVE;
}

static void take_event(StintSession *self, const struct tk_event *ev)
{
    switch (ev->type) {
    case TK_EVENT_SCREENSHOT:
        if (ev->path) {
            g_free(self->shot_path);
            g_free(self->shot_segment);
            self->shot_path = g_strdup(ev->path);
            self->shot_segment = g_strdup(ev->segment_id);
            self->shot_at = ev->at;
            self->shot_segment_start = ev->segment_start;
        }
        break;
    case TK_EVENT_STOPPED:
        /* The server's totals move once the last segment is up; look again shortly. */
        if (!self->later_source)
            self->later_source = g_timeout_add_seconds(3, refresh_later, self);
        if (self->settings_stale && !self->recreate_source)
            self->recreate_source = g_idle_add(recreate_engine, self);
        if (self->auth_stale && !self->auth_source)
            self->auth_source = g_idle_add(reload_signin, self);
        break;
    default:
        break;
    }
}

static void on_engine_event(StintEngine *engine, gpointer event, StintSession *self)
{
    const struct tk_event *ev = event;

    take_event(self, ev);
    g_signal_emit(self, signals[SIGNAL_ENGINE_EVENT], 0, event);
    if (ev->type == TK_EVENT_UPLOAD)
        update_connection(self);
}

static void on_engine_changed(StintEngine *engine, StintSession *self)
{
    struct tk_status st;

    stint_engine_get_status(engine, &st);
    if (st.running && st.contract_id[0]) {
        StintContract *c = stint_session_find_contract(self, st.contract_id);
        if (c)
            stint_contract_set_week_seconds(c, st.week_s);
    }
    update_connection(self);
    changed(self);
}

static gboolean on_retry(gpointer user_data)
{
    StintSession *self = user_data;

    open_engine(self);
    if (self->engine) {
        self->retry_source = 0;
        changed(self);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void open_engine(StintSession *self)
{
    g_autoptr(GError) error = NULL;

    if (self->engine || !self->signin.token)
        return;
    self->engine = stint_engine_new(self->signin.server, self->signin.token, self->signin.email,
                                    &self->settings, &error);
    g_clear_pointer(&self->engine_error, g_free);
    self->busy = FALSE;
    if (!self->engine) {
        self->engine_error = g_strdup(error->message);
        self->busy = g_error_matches(error, STINT_ENGINE_ERROR, STINT_ENGINE_ERROR_BUSY);
        /* The other tracker may quit at any time: look again every few seconds. */
        if (self->busy && !self->retry_source)
            self->retry_source = g_timeout_add_seconds(BUSY_RETRY_S, on_retry, self);
        return;
    }
    {
        struct tk_status st;
        stint_engine_get_status(self->engine, &st);
        self->engine_online = st.online;
    }
    g_signal_connect(self->engine, "event", G_CALLBACK(on_engine_event), self);
    g_signal_connect(self->engine, "changed", G_CALLBACK(on_engine_changed), self);
}

static void close_engine(StintSession *self)
{
    if (!self->engine)
        return;
    g_signal_handlers_disconnect_by_data(self->engine, self);
    g_clear_object(&self->engine);
}

void stint_session_retry_engine(StintSession *self)
{
    open_engine(self);
    changed(self);
}

/* ---- sign-in ---- */

/* Everything that follows a sign-in, whether typed here, restored, or made by `stint login`. */
static void signed_in(StintSession *self)
{
    if (self->api) {
        g_object_set_data(G_OBJECT(self->api), "stint-session", NULL);
        g_signal_handlers_disconnect_by_data(self->api, self);
    }
    g_clear_object(&self->api);
    if (self->cancellable)
        g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->cancellable);
    self->cancellable = g_cancellable_new();
    self->api = stint_api_new(self->signin.server, self->signin.token);
    g_object_set_data(G_OBJECT(self->api), "stint-session", self);
    g_signal_connect(self->api, "reachable", G_CALLBACK(on_reachable), self);
    open_engine(self);
    stint_session_refresh(self);
    if (!self->refresh_source)
        self->refresh_source = g_timeout_add_seconds(REFRESH_S, on_refresh_timer, self);
    changed(self);
}

gboolean stint_session_restore(StintSession *self)
{
    struct st_signin s = {0};

    if (st_signin_load(&s) < 0)
        return FALSE;
    st_signin_release(&self->signin);
    self->signin = s;
    signed_in(self);
    return TRUE;
}

char *stint_session_dup_default_server(void)
{
    struct st_signin s = {0};
    const char *env = g_getenv("STINT_SERVER");
    char *url;

    if (st_signin_peek(&s) == 0)
        url = g_strdup(s.server);
    else
        url = g_strdup(env && *env ? env : DEFAULT_SERVER);
    st_signin_release(&s);
    return url;
}

struct sign_in {
    StintApi *api;
    char *server;
    char *email;
};

static void sign_in_free(struct sign_in *si)
{
    g_clear_object(&si->api);
    g_free(si->server);
    g_free(si->email);
    g_free(si);
}

static void on_login(GObject *source, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    StintSession *self = g_task_get_source_object(task);
    struct sign_in *si = g_task_get_task_data(task);
    GError *error = NULL;
    json_t *body = stint_api_call_finish(STINT_API(source), res, &error);
    const char *token;
    json_t *user;
    struct st_signin s = {0};
    int r;

    if (!body) {
        if (g_error_matches(error, STINT_API_ERROR, 401)) {
            g_clear_error(&error);
            error = g_error_new_literal(STINT_API_ERROR, 401, "The email or password is wrong.");
        } else if (stint_api_error_is_network(error)) {
            GError *e = g_error_new(error->domain, error->code, "Cannot reach %s: %s", si->server,
                                    error->message);
            g_clear_error(&error);
            error = e;
        }
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    token = json_string_value(json_object_get(body, "token"));
    user = json_object_get(body, "user");
    if (!token || !*token) {
        g_task_return_new_error(task, STINT_API_ERROR, 0, "The server's answer has no token.");
        goto out;
    }
    s.server = si->server;
    s.token = (char *)token;
    s.email = (char *)(json_string_value(json_object_get(user, "email")) ?: si->email);
    if ((r = st_signin_save(&s)) < 0) {
        g_autofree char *path = st_signin_path();
        g_task_return_new_error(task, G_IO_ERROR, g_io_error_from_errno(-r),
                                "Cannot save the sign-in to %s: %s", path ? path : "auth.json",
                                g_strerror(-r));
        goto out;
    }
    close_engine(self);
    st_signin_release(&self->signin);
    self->signin.server = g_strdup(s.server);
    self->signin.token = g_strdup(token);
    self->signin.email = g_strdup(s.email);
    g_free(self->user_id);
    g_free(self->user_name);
    g_free(self->timezone);
    self->user_id = g_strdup(json_string_value(json_object_get(user, "id")));
    self->user_name = g_strdup(json_string_value(json_object_get(user, "name")));
    self->timezone = g_strdup(json_string_value(json_object_get(user, "timezone")));
    signed_in(self);
    g_task_return_boolean(task, TRUE);
out:
    /* The token lives on in self->signin only. */
    {
        json_t *t = json_object_get(body, "token");
        if (json_is_string(t))
            explicit_bzero((char *)json_string_value(t), strlen(json_string_value(t)));
    }
    json_decref(body);
    g_object_unref(task);
}

/* "https://x.org/" → "https://x.org"; NULL when it is not an http(s) URL. */
static char *normalize_server(const char *in)
{
    g_autofree char *s = g_strstrip(g_strdup(in));
    size_t len = strlen(s);

    while (len > 0 && s[len - 1] == '/')
        s[--len] = '\0';
    if (!g_str_has_prefix(s, "http://") && !g_str_has_prefix(s, "https://"))
        return NULL;
    if (len <= 8 || strpbrk(s, " ?#") || len > 2048)
        return NULL;
    return g_steal_pointer(&s);
}

void stint_session_sign_in_async(StintSession *self, const char *server, const char *email,
                                 const char *password, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(self, cancellable, callback, user_data);
    struct sign_in *si = g_new0(struct sign_in, 1);
    char host[256] = "";
    g_autofree char *device = NULL;
    json_t *req;

    g_task_set_task_data(task, si, (GDestroyNotify)sign_in_free);
    si->server = normalize_server(server);
    si->email = g_strstrip(g_strdup(email));
    if (!si->server) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                "The server address must start with http:// or https://.");
        g_object_unref(task);
        return;
    }
    if (engine_in_use(self)) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_BUSY,
                                "Stop the timer before signing in as someone else.");
        g_object_unref(task);
        return;
    }
    if (gethostname(host, sizeof(host) - 1) < 0 || !host[0])
        g_strlcpy(host, "unknown host", sizeof(host));
    device = g_strdup_printf("stint desktop on %s", host);
    si->api = stint_api_new(si->server, NULL);
    req = json_pack("{s:s, s:s, s:s}", "email", si->email, "password", password, "device", device);
    if (!req) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                "The email and password must be UTF-8 text.");
        g_object_unref(task);
        return;
    }
    stint_api_call_async(si->api, "POST", "/login", req, cancellable, on_login, task);
    explicit_bzero((char *)json_string_value(json_object_get(req, "password")), strlen(password));
    json_decref(req);
}

gboolean stint_session_sign_in_finish(StintSession *self, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

static void on_logout(GObject *source, GAsyncResult *res, gpointer user_data)
{
    json_decref(stint_api_call_finish(STINT_API(source), res, NULL));
}

/* Drops everything of the current sign-in here; the file is the caller's business. */
static void forget(StintSession *self)
{
    if (self->cancellable)
        g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->cancellable);
    g_clear_handle_id(&self->retry_source, g_source_remove);
    g_clear_handle_id(&self->refresh_source, g_source_remove);
    close_engine(self);
    if (self->api) {
        g_object_set_data(G_OBJECT(self->api), "stint-session", NULL);
        g_signal_handlers_disconnect_by_data(self->api, self);
    }
    g_clear_object(&self->api);
    st_signin_release(&self->signin);
    g_clear_pointer(&self->user_id, g_free);
    g_clear_pointer(&self->user_name, g_free);
    g_clear_pointer(&self->engine_error, g_free);
    self->busy = FALSE;
    g_list_store_remove_all(self->contracts);
    self->contracts_loaded = FALSE;
    g_hash_table_remove_all(self->memos);
    g_hash_table_remove_all(self->today);
    g_clear_pointer(&self->shot_path, g_free);
    g_clear_pointer(&self->shot_segment, g_free);
}

void stint_session_sign_out(StintSession *self)
{
    if (engine_in_use(self))
        return;
    /* Revoke the token on the server (best effort), then forget it here and for the CLI. */
    if (self->api && self->signin.token) {
        StintApi *api = stint_api_new(self->signin.server, self->signin.token);
        stint_api_call_async(api, "POST", "/logout", NULL, NULL, on_logout, NULL);
        g_object_unref(api);
    }
    st_signin_remove();
    forget(self);
    changed(self);
}

/*
 * auth.json changed under us: `stint login` or `stint logout` in a
 * terminal. The app follows, once the timer is stopped (a running timer
 * keeps the sign-in it started with).
 */
static gboolean reload_signin(gpointer user_data)
{
    StintSession *self = user_data;
    struct st_signin s = {0};
    int r;

    self->auth_source = 0;
    if (engine_in_use(self)) {
        self->auth_stale = TRUE;
        return G_SOURCE_REMOVE;
    }
    self->auth_stale = FALSE;
    r = st_signin_load(&s);
    if (r < 0 && stint_session_is_signed_in(self)) {
        forget(self);
        changed(self);
        g_signal_emit(self, signals[SIGNAL_SIGNED_OUT], 0,
                      "You were signed out (the sign-in was removed, e.g. by stint logout).");
    } else if (r == 0 &&
               (!stint_session_is_signed_in(self) || g_strcmp0(s.token, self->signin.token) != 0 ||
                g_strcmp0(s.server, self->signin.server) != 0)) {
        forget(self);
        self->signin = s;
        memset(&s, 0, sizeof(s));
        signed_in(self);
    }
    st_signin_release(&s);
    return G_SOURCE_REMOVE;
}

static void on_auth_changed(GFileMonitor *monitor, GFile *file, GFile *other,
                            GFileMonitorEvent event, StintSession *self)
{
    if (event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED ||
        event == G_FILE_MONITOR_EVENT_PRE_UNMOUNT || event == G_FILE_MONITOR_EVENT_UNMOUNTED)
        return;
    /* A rename onto the file comes as several events: look once they are over. */
    g_clear_handle_id(&self->auth_source, g_source_remove);
    self->auth_source = g_timeout_add(AUTH_SETTLE_MS, reload_signin, self);
}

static void watch_signin(StintSession *self)
{
    g_autofree char *path = st_signin_path();
    g_autoptr(GFile) file = NULL;

    if (!path)
        return;
    file = g_file_new_for_path(path);
    self->auth_monitor = g_file_monitor_file(file, G_FILE_MONITOR_NONE, NULL, NULL);
    if (self->auth_monitor)
        g_signal_connect(self->auth_monitor, "changed", G_CALLBACK(on_auth_changed), self);
}

/* ---- getters ---- */

gboolean stint_session_is_signed_in(StintSession *self)
{
    return self->signin.token != NULL;
}

const char *stint_session_get_server(StintSession *self)
{
    return self->signin.server;
}

const char *stint_session_get_email(StintSession *self)
{
    return self->signin.email;
}

const char *stint_session_get_user_name(StintSession *self)
{
    return self->user_name;
}

StintEngine *stint_session_get_engine(StintSession *self)
{
    return self->engine;
}

const char *stint_session_get_engine_error(StintSession *self)
{
    return self->engine_error;
}

gboolean stint_session_is_busy(StintSession *self)
{
    return self->busy;
}

gboolean stint_session_is_tracking(StintSession *self)
{
    return self->engine && stint_engine_is_running(self->engine);
}

GListModel *stint_session_get_contracts(StintSession *self)
{
    return G_LIST_MODEL(self->contracts);
}

StintContract *stint_session_find_contract(StintSession *self, const char *id)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->contracts));

    for (guint i = 0; i < n; i++) {
        g_autoptr(StintContract) c = g_list_model_get_item(G_LIST_MODEL(self->contracts), i);
        if (g_strcmp0(stint_contract_get_id(c), id) == 0)
            return c; /* the store keeps its reference */
    }
    return NULL;
}

gboolean stint_session_contracts_loaded(StintSession *self)
{
    return self->contracts_loaded;
}

const char *const *stint_session_get_recent_memos(StintSession *self, const char *contract_id)
{
    static const char *const none[] = {NULL};
    GStrv memos = contract_id ? g_hash_table_lookup(self->memos, contract_id) : NULL;

    return memos ? (const char *const *)memos : none;
}

gint64 stint_session_get_today_seconds(StintSession *self, const char *contract_id)
{
    gint64 *v = contract_id ? g_hash_table_lookup(self->today, contract_id) : NULL;

    return v ? *v : -1;
}

const char *stint_session_get_last_shot_path(StintSession *self)
{
    return self->shot_path;
}

const char *stint_session_get_last_shot_segment(StintSession *self)
{
    return self->shot_segment;
}

gint64 stint_session_get_last_shot_at(StintSession *self)
{
    return self->shot_at;
}

gint64 stint_session_get_last_shot_segment_start(StintSession *self)
{
    return self->shot_segment_start;
}

StintConnection stint_session_get_connection(StintSession *self)
{
    return self->connection;
}

const char *stint_session_get_timezone(StintSession *self)
{
    return st_tz_name(zone(self));
}

const struct tk_settings *stint_session_get_settings(StintSession *self)
{
    return &self->settings;
}

const char *stint_session_get_settings_error(StintSession *self)
{
    return self->settings_error;
}

/* ---- actions ---- */

/* Puts memo first in the contract's recent memos. */
static void remember_memo(StintSession *self, const char *contract_id, const char *memo)
{
    const char *const *old = stint_session_get_recent_memos(self, contract_id);
    GPtrArray *memos = g_ptr_array_new();

    if (!memo || !*memo)
        return;
    g_ptr_array_add(memos, g_strdup(memo));
    for (size_t i = 0; old[i] && memos->len < RECENT_MEMOS_MAX; i++)
        if (strcmp(old[i], memo) != 0)
            g_ptr_array_add(memos, g_strdup(old[i]));
    g_ptr_array_add(memos, NULL);
    g_hash_table_replace(self->memos, g_strdup(contract_id), g_ptr_array_free(memos, FALSE));
}

static void on_started(GObject *source, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    StintSession *self = g_task_get_source_object(task);
    GError *error = NULL;

    if (stint_engine_start_finish(STINT_ENGINE(source), res, &error)) {
        const char *const *start = g_task_get_task_data(task); /* contract id, memo */
        remember_memo(self, start[0], start[1]);
        g_task_return_boolean(task, TRUE);
    } else {
        g_task_return_error(task, error);
    }
    /* What waited for the start to end (settings, a new sign-in) follows a start that failed. */
    if (!stint_session_is_tracking(self)) {
        if (self->settings_stale && self->signin.token && !self->recreate_source)
            self->recreate_source = g_idle_add(recreate_engine, self);
        if (self->auth_stale && !self->auth_source)
            self->auth_source = g_idle_add(reload_signin, self);
    }
    changed(self);
    g_object_unref(task);
}

void stint_session_start_async(StintSession *self, const char *contract_id, const char *memo,
                               const char *const *tags, GAsyncReadyCallback callback,
                               gpointer user_data)
{
    GTask *task = g_task_new(self, self->cancellable, callback, user_data);
    char **start;

    if (!self->engine) {
        g_task_return_new_error(task, STINT_ENGINE_ERROR, STINT_ENGINE_ERROR_BUSY, "%s",
                                self->engine_error ? self->engine_error
                                                   : "the tracker is not ready");
        g_object_unref(task);
        return;
    }
    start = g_new0(char *, 3);
    start[0] = g_strdup(contract_id);
    start[1] = g_strdup(memo);
    g_task_set_task_data(task, start, (GDestroyNotify)g_strfreev);
    stint_engine_start_async(self->engine, contract_id, memo, tags, self->cancellable, on_started,
                             task);
    changed(self);
}

gboolean stint_session_start_finish(StintSession *self, GAsyncResult *result, GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

gboolean stint_session_is_starting(StintSession *self)
{
    return self->engine && stint_engine_is_starting(self->engine);
}

/* The engine must stay as it is: the timer runs, or a start waits for the server. */
static gboolean engine_in_use(StintSession *self)
{
    return stint_session_is_tracking(self) || stint_session_is_starting(self);
}

void stint_session_stop(StintSession *self)
{
    if (self->engine)
        stint_engine_stop(self->engine);
    changed(self);
}

static void on_deleted(GObject *source, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    StintSession *self = g_task_get_source_object(task);
    const char *id = g_task_get_task_data(task);
    GError *error = NULL;
    json_t *body = stint_api_call_finish(STINT_API(source), res, &error);

    if (!body) {
        if (g_error_matches(error, STINT_API_ERROR, 404)) {
            g_clear_error(&error);
            error = g_error_new_literal(STINT_API_ERROR, 404,
                                        "This segment has not reached the server yet. Try again "
                                        "once it is uploaded.");
        }
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    json_decref(body);
    if (g_strcmp0(self->shot_segment, id) == 0) {
        g_clear_pointer(&self->shot_path, g_free);
        g_clear_pointer(&self->shot_segment, g_free);
        self->shot_at = 0;
    }
    stint_session_refresh(self);
    changed(self);
    g_task_return_boolean(task, TRUE);
    g_object_unref(task);
}

void stint_session_delete_last_segment_async(StintSession *self, GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(self, cancellable, callback, user_data);
    g_autofree char *path = NULL;

    if (!self->api || !self->shot_segment) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "There is no segment.");
        g_object_unref(task);
        return;
    }
    g_task_set_task_data(task, g_strdup(self->shot_segment), g_free);
    path = g_strdup_printf("/segments/%s", self->shot_segment);
    stint_api_call_async(self->api, "DELETE", path, NULL, cancellable, on_deleted, task);
}

gboolean stint_session_delete_last_segment_finish(StintSession *self, GAsyncResult *result,
                                                  GError **error)
{
    return g_task_propagate_boolean(G_TASK(result), error);
}

gboolean stint_session_set_settings(StintSession *self, const struct tk_settings *settings,
                                    GError **error)
{
    char err[512] = "";
    int r = tk_settings_save(settings, err, sizeof(err));

    if (r < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(-r), "%s", err);
        return FALSE;
    }
    self->settings = *settings;
    g_clear_pointer(&self->settings_error, g_free);
    self->settings_stale = TRUE;
    /*
     * The engine reads its options when it opens: reopen it unless the timer
     * runs, once the settings have been still for a moment (a spin button
     * sends a change per click, and reopening waits for the uploader's
     * request in flight).
     */
    if (!engine_in_use(self) && self->signin.token) {
        g_clear_handle_id(&self->recreate_source, g_source_remove);
        self->recreate_source = g_timeout_add(SETTINGS_SETTLE_MS, recreate_engine, self);
    }
    changed(self);
    return TRUE;
}

/* ---- state for tests and scripts ---- */

json_t *stint_session_dup_state(StintSession *self)
{
    static const char *const connections[] = {"offline", "online", "uploading"};
    struct tk_status st = {0};
    json_t *bars = json_array();

    if (self->engine)
        stint_engine_get_status(self->engine, &st);
    for (int i = 0; i < ST_SEG_BUCKETS && self->engine && st.running; i++)
        json_array_append_new(bars,
                              json_pack("{s:i,s:i,s:i}", "tracked_s", st.buckets[i].tracked_s,
                                        "keys", st.buckets[i].keys, "mouse", st.buckets[i].mouse));
    return json_pack(
        "{s:b,s:s?,s:s?,s:b,s:s?,s:b,s:s,s:s,s:b,s:s?,s:i,s:i,s:I,s:I,s:s?,s:s?,s:I,s:o,s:s?}",
        "signed_in", stint_session_is_signed_in(self), "server", self->signin.server, "email",
        self->signin.email, "engine", self->engine != NULL, "engine_error", self->engine_error,
        "busy", self->busy, "connection", connections[self->connection], "data_dir",
        self->engine ? stint_engine_get_data_dir(self->engine) : "", "tracking", (int)st.running,
        "contract_id", st.running ? st.contract_id : NULL, "activity", st.activity, "queue",
        st.queued, "today_s", (json_int_t)st.today_s, "week_s", (json_int_t)st.week_s,
        "last_shot_segment", self->shot_segment, "last_shot_path", self->shot_path, "segment_start",
        (json_int_t)st.segment_start, "engine_buckets", bars, "settings_error",
        self->settings_error);
}
