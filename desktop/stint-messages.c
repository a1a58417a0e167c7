/*
 * StintMessages (stint-messages.h): the rooms and threads as the server
 * last said them, one WebSocket with its reconnect loop, and the REST calls
 * that load, send, mark read and save. Not for widgets: the Messages view
 * (stint-messages-view.c) shows what this holds and asks it to act.
 *
 * Every callback of a request checks for G_IO_ERROR_CANCELLED before it
 * touches self: signing out and dispose cancel self->cancellable.
 */
#include "desktop/stint-messages.h"

#include <libsoup/soup.h>
#include <string.h>

#include "lib/signin.h"

#define START_DELAY_MS 400
#define BACKOFF_MAX_S 30
#define KEEPALIVE_S 25
#define HTTP_TIMEOUT_S 60
#define TYPING_EVERY_US (3 * G_USEC_PER_SEC)
#define PREVIEW_CHARS 120
#define PREVIEWS_MAX 40
#define KNOWN_MAX 50000

struct room {
    char *id;
    json_t *json;     /* the server's room object, "unread" kept current */
    char *preview;    /* "Name: text" of the newest message known, or NULL */
    char *preview_id; /* that message's id */
    json_t *messages; /* oldest first; NULL until a load starts */
    gboolean loaded;  /* the newest page arrived */
    gboolean loading; /* a page is on its way */
    gboolean previewing;
    GHashTable *known;  /* ids of the messages seen, so that each counts once */
    char *next_before;  /* the id for the next older page; NULL at the start of the room */
    char *error;        /* why the last load failed */
    char *read_sent;    /* the message id last sent as read */
    gint64 typing_sent; /* monotonic µs */
};

struct _StintMessages {
    GObject parent_instance;
    StintSession *session; /* weak: the application owns both */
    char *server;          /* the sign-in followed; NULL when signed out */
    char *email;
    char *token;
    StintApi *api;
    SoupSession *http; /* uploads and downloads */
    SoupSession *ws_session;
    SoupWebsocketConnection *ws;
    GCancellable *cancellable;
    guint start_source;
    guint backoff_s;
    gboolean connected;
    gboolean rooms_loaded;
    gboolean want_previews;
    gboolean have_event_id;
    guint64 last_event_id;
    char *user_id;
    GPtrArray *rooms;  /* struct room *, most recent activity first */
    GHashTable *by_id; /* id → struct room * (owned by rooms) */
    json_t *rooms_json;
};

G_DEFINE_TYPE(StintMessages, stint_messages, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_THREAD_CHANGED, SIGNAL_MESSAGE_ARRIVED, SIGNAL_TYPING, N_SIGNALS };
static guint signals[N_SIGNALS];

static void connect_ws(StintMessages *self);
static void load_rooms(StintMessages *self);
static void load_previews(StintMessages *self);

/* ---- rooms ---- */

static void room_free(struct room *room)
{
    g_free(room->id);
    json_decref(room->json);
    g_free(room->preview);
    g_free(room->preview_id);
    json_decref(room->messages);
    g_hash_table_unref(room->known);
    g_free(room->next_before);
    g_free(room->error);
    g_free(room->read_sent);
    g_free(room);
}

static struct room *room_new(StintMessages *self, const char *id, json_t *json)
{
    struct room *room = g_new0(struct room, 1);

    room->id = g_strdup(id);
    room->json = json_incref(json);
    room->known = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_ptr_array_add(self->rooms, room);
    g_hash_table_insert(self->by_id, room->id, room);
    return room;
}

static struct room *find(StintMessages *self, const char *id)
{
    return id ? g_hash_table_lookup(self->by_id, id) : NULL;
}

static const char *str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static const char *activity(const struct room *room)
{
    const char *at = str(room->json, "last_message_at");

    if (!at)
        at = str(room->json, "created_at");
    return at ? at : "";
}

static int room_cmp(gconstpointer a, gconstpointer b)
{
    const struct room *ra = *(struct room *const *)a;
    const struct room *rb = *(struct room *const *)b;

    return strcmp(activity(rb), activity(ra));
}

static void remove_room(StintMessages *self, struct room *room)
{
    g_hash_table_remove(self->by_id, room->id);
    g_ptr_array_remove(self->rooms, room); /* frees it */
}

/* Sorts, rebuilds the array get_rooms() hands out, and says so. */
static void rooms_changed(StintMessages *self)
{
    g_ptr_array_sort(self->rooms, room_cmp);
    json_array_clear(self->rooms_json);
    for (guint i = 0; i < self->rooms->len; i++) {
        struct room *room = g_ptr_array_index(self->rooms, i);
        json_array_append(self->rooms_json, room->json);
    }
    g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

static int unread_of(json_t *room)
{
    json_int_t n = json_integer_value(json_object_get(room, "unread"));

    return n > 0 && n < G_MAXINT ? (int)n : 0;
}

static void set_unread(struct room *room, json_int_t n)
{
    json_object_set_new(room->json, "unread", json_integer(n < 0 ? 0 : n));
}

/* "Name: text" on one line, short; "You: …" for the user's own. */
static void set_preview(StintMessages *self, struct room *room, json_t *msg)
{
    json_t *author = json_object_get(msg, "author");
    const char *who =
        g_strcmp0(str(author, "id"), self->user_id) == 0 ? "You" : str(author, "name");
    const char *text = str(msg, "text");
    json_t *files = json_object_get(msg, "files");
    g_autofree char *body = NULL;

    if (json_is_true(json_object_get(msg, "deleted")))
        body = g_strdup("Message deleted");
    else if (text && *text)
        body = g_utf8_make_valid(text, -1);
    else if (json_array_size(files) > 0) {
        const char *name = str(json_array_get(files, 0), "name");
        body = g_strdup_printf("File: %s", name ? name : "file");
    } else
        body = g_strdup("");
    if (g_utf8_strlen(body, -1) > PREVIEW_CHARS) {
        char *cut = g_utf8_substring(body, 0, PREVIEW_CHARS);
        g_free(body);
        body = g_strconcat(cut, "…", NULL);
        g_free(cut);
    }
    for (char *p = body; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    g_free(room->preview);
    room->preview = g_strdup_printf("%s: %s", who ? who : "Someone", body);
    g_free(room->preview_id);
    room->preview_id = g_strdup(str(msg, "id"));
}

/*
 * Puts msg into the thread, by id: replaces the message it already holds,
 * else inserts it (at the start for an older page, else by time from the
 * end). Returns whether the id was new to this app.
 */
static gboolean upsert(struct room *room, json_t *msg, gboolean older)
{
    const char *id = str(msg, "id");
    const char *at = str(msg, "created_at");
    gboolean is_new;
    size_t n, pos;

    if (!id || !at)
        return FALSE;
    is_new = !g_hash_table_contains(room->known, id);
    if (is_new) {
        if (g_hash_table_size(room->known) >= KNOWN_MAX)
            g_hash_table_remove_all(room->known);
        g_hash_table_add(room->known, g_strdup(id));
    }
    if (!room->messages)
        return is_new;
    n = json_array_size(room->messages);
    for (size_t i = n; i-- > 0;) {
        if (g_strcmp0(str(json_array_get(room->messages, i), "id"), id) == 0) {
            json_array_set(room->messages, i, msg);
            return is_new;
        }
    }
    if (older) {
        pos = 0;
    } else {
        pos = n;
        while (pos > 0 &&
               g_strcmp0(str(json_array_get(room->messages, pos - 1), "created_at"), at) > 0)
            pos--;
    }
    json_array_insert(room->messages, pos, msg);
    if (json_array_size(room->messages) > STINT_MESSAGES_THREAD_MAX) {
        /* The oldest go; "load older" brings them back. */
        if (older) {
            json_array_remove(room->messages, json_array_size(room->messages) - 1);
        } else {
            json_array_remove(room->messages, 0);
            g_free(room->next_before);
            room->next_before = g_strdup(str(json_array_get(room->messages, 0), "id"));
        }
    }
    return is_new;
}

static json_t *newest(struct room *room)
{
    size_t n = json_array_size(room->messages);

    return n ? json_array_get(room->messages, n - 1) : NULL;
}

/* The room's preview follows its newest message. */
static void update_preview(StintMessages *self, struct room *room, json_t *msg)
{
    json_t *last = newest(room);

    if (last && json_equal(last, msg))
        set_preview(self, room, msg);
    else if (!room->messages &&
             (!room->preview_id || g_strcmp0(room->preview_id, str(msg, "id")) == 0 ||
              g_strcmp0(str(msg, "created_at"), activity(room)) >= 0))
        set_preview(self, room, msg);
}

/* ---- the REST side ---- */

static void on_rooms(GObject *source, GAsyncResult *res, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    json_t *body = stint_api_call_finish(STINT_API(source), res, &error);
    StintMessages *self = user_data;
    json_t *list, *room;
    size_t i;
    g_autoptr(GHashTable) seen = NULL;

    if (!body) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_debug("cannot load the rooms: %s", error->message);
        return;
    }
    list = json_object_get(body, "rooms");
    seen = g_hash_table_new(g_str_hash, g_str_equal);
    json_array_foreach(list, i, room)
    {
        const char *id = str(room, "id");
        struct room *r;
        if (!id || !json_is_object(room))
            continue;
        r = find(self, id);
        if (r) {
            json_decref(r->json);
            r->json = json_incref(room);
        } else {
            r = room_new(self, id, room);
        }
        g_hash_table_add(seen, r->id);
    }
    for (guint k = self->rooms->len; k-- > 0;) {
        struct room *r = g_ptr_array_index(self->rooms, k);
        if (!g_hash_table_contains(seen, r->id))
            remove_room(self, r);
    }
    self->rooms_loaded = TRUE;
    json_decref(body);
    rooms_changed(self);
    if (self->want_previews)
        load_previews(self);
}

static void load_rooms(StintMessages *self)
{
    if (self->api)
        stint_api_call_async(self->api, "GET", "/rooms", NULL, self->cancellable, on_rooms, self);
}

static char *room_path(const char *room_id, const char *rest)
{
    g_autofree char *id = g_uri_escape_string(room_id, NULL, FALSE);

    return g_strconcat("/rooms/", id, rest, NULL);
}

struct page {
    StintMessages *self;
    char *room_id;
    gboolean older;
    gboolean preview; /* only the room's preview wanted */
};

static void page_free(struct page *p)
{
    g_free(p->room_id);
    g_free(p);
}

static void on_page(GObject *source, GAsyncResult *res, gpointer user_data)
{
    struct page *p = user_data;
    g_autoptr(GError) error = NULL;
    json_t *body = stint_api_call_finish(STINT_API(source), res, &error);
    StintMessages *self = p->self;
    struct room *room;
    json_t *list;
    size_t n;

    if (!body && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        page_free(p);
        return;
    }
    room = find(self, p->room_id);
    if (!room) {
        json_decref(body);
        page_free(p);
        return;
    }
    if (p->preview) {
        room->previewing = FALSE;
        list = json_object_get(body, "messages");
        if (json_array_size(list) > 0 && !room->preview)
            set_preview(self, room, json_array_get(list, 0));
        json_decref(body);
        page_free(p);
        rooms_changed(self);
        return;
    }
    room->loading = FALSE;
    g_clear_pointer(&room->error, g_free);
    if (!body) {
        room->error = g_strdup(error->message);
        if (!room->loaded && json_array_size(room->messages) == 0)
            g_clear_pointer(&room->messages, json_decref);
    } else {
        list = json_object_get(body, "messages");
        n = json_array_size(list);
        if (!room->messages)
            room->messages = json_array();
        /* Newest first: an older page goes in newest first at the start, the first oldest
         * first by time (live events may already be there). */
        for (size_t i = 0; i < n; i++) {
            json_t *m = json_array_get(list, p->older ? i : n - 1 - i);
            if (json_is_object(m))
                upsert(room, m, p->older);
        }
        if (!p->older || json_array_size(room->messages) < STINT_MESSAGES_THREAD_MAX) {
            g_free(room->next_before);
            room->next_before = g_strdup(str(body, "next_before"));
        }
        if (!p->older) {
            room->loaded = TRUE;
            if (newest(room))
                set_preview(self, room, newest(room));
        }
        json_decref(body);
    }
    g_signal_emit(self, signals[SIGNAL_THREAD_CHANGED], 0, room->id);
    if (!p->older)
        rooms_changed(self);
    page_free(p);
}

static void load_page(StintMessages *self, struct room *room, gboolean older, gboolean preview)
{
    struct page *p = g_new0(struct page, 1);
    g_autofree char *query = NULL;
    g_autofree char *path = NULL;

    p->self = self;
    p->room_id = g_strdup(room->id);
    p->older = older;
    p->preview = preview;
    if (preview) {
        query = g_strdup("/messages?limit=1");
    } else if (older && room->next_before) {
        g_autofree char *before = g_uri_escape_string(room->next_before, NULL, FALSE);
        query = g_strdup_printf("/messages?limit=%d&before=%s", STINT_MESSAGES_PAGE, before);
    } else {
        query = g_strdup_printf("/messages?limit=%d", STINT_MESSAGES_PAGE);
    }
    path = room_path(room->id, query);
    stint_api_call_async(self->api, "GET", path, NULL, self->cancellable, on_page, p);
}

/* The newest message of the first rooms, for the list; asked for once the view shows. */
static void load_previews(StintMessages *self)
{
    guint asked = 0;

    if (!self->api)
        return;
    for (guint i = 0; i < self->rooms->len && asked < PREVIEWS_MAX; i++) {
        struct room *room = g_ptr_array_index(self->rooms, i);
        if (room->preview || room->previewing || room->messages ||
            !str(room->json, "last_message_at"))
            continue;
        room->previewing = TRUE;
        load_page(self, room, FALSE, TRUE);
        asked++;
    }
}

void stint_messages_load_thread(StintMessages *self, const char *room_id)
{
    struct room *room = find(self, room_id);

    if (!room || !self->api || room->loading || room->loaded)
        return;
    room->loading = TRUE;
    if (!room->messages)
        room->messages = json_array();
    load_page(self, room, FALSE, FALSE);
}

void stint_messages_load_older(StintMessages *self, const char *room_id)
{
    struct room *room = find(self, room_id);

    if (!room || !self->api || room->loading || !room->loaded || !room->next_before)
        return;
    room->loading = TRUE;
    load_page(self, room, TRUE, FALSE);
}

static void on_read(GObject *source, GAsyncResult *res, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    json_t *body = stint_api_call_finish(STINT_API(source), res, &error);
    StintMessages *self = user_data;
    json_t *room_json;
    struct room *room;

    if (!body) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_debug("cannot mark as read: %s", error->message);
        return;
    }
    room_json = json_object_get(body, "room");
    room = find(self, str(room_json, "id"));
    if (room && json_is_object(room_json)) {
        json_decref(room->json);
        room->json = json_incref(room_json);
        rooms_changed(self);
    }
    json_decref(body);
}

void stint_messages_mark_read(StintMessages *self, const char *room_id)
{
    struct room *room = find(self, room_id);
    const char *id;
    g_autofree char *path = NULL;
    json_t *body;

    if (!room || !room->loaded || !self->api || !newest(room))
        return;
    id = str(newest(room), "id");
    if (unread_of(room->json) == 0 || g_strcmp0(room->read_sent, id) == 0)
        return;
    g_free(room->read_sent);
    room->read_sent = g_strdup(id);
    set_unread(room, 0); /* at once; the server's answer confirms */
    rooms_changed(self);
    path = room_path(room->id, "/read");
    body = json_pack("{s:s}", "message_id", id);
    stint_api_call_async(self->api, "POST", path, body, self->cancellable, on_read, self);
    json_decref(body);
}

/* ---- sending ---- */

struct send {
    char *room_id;
    char *text;
    GFile *file;
    char *name;
    goffset size;
    SoupMessage *msg;
};

static void send_free(struct send *s)
{
    g_free(s->room_id);
    g_free(s->text);
    g_clear_object(&s->file);
    g_free(s->name);
    g_clear_object(&s->msg);
    g_free(s);
}

/* A message the user sent shows at once, as a live event would show it (the event is then a
 * no-op). */
static void take_own(StintMessages *self, json_t *msg)
{
    struct room *room = find(self, str(msg, "room_id"));

    if (!room)
        return;
    upsert(room, msg, FALSE);
    json_object_set(room->json, "last_message_at", json_object_get(msg, "created_at"));
    update_preview(self, room, msg);
    g_signal_emit(self, signals[SIGNAL_THREAD_CHANGED], 0, room->id);
    rooms_changed(self);
}

static void on_posted(GObject *source, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    StintMessages *self = g_task_get_source_object(task);
    GError *error = NULL;
    json_t *body = stint_api_call_finish(STINT_API(source), res, &error);
    json_t *msg;

    if (!body) {
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    msg = json_object_get(body, "message");
    if (json_is_object(msg))
        take_own(self, msg);
    json_decref(body);
    g_task_return_boolean(task, TRUE);
    g_object_unref(task);
}

static void post_message(GTask *task, const char *file_id)
{
    StintMessages *self = g_task_get_source_object(task);
    struct send *s = g_task_get_task_data(task);
    g_autofree char *path = room_path(s->room_id, "/messages");
    json_t *body;

    if (!self->api) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "signed out");
        g_object_unref(task);
        return;
    }
    body = json_pack("{s:s}", "text", s->text);
    if (file_id)
        json_object_set_new(body, "file_ids", json_pack("[s]", file_id));
    stint_api_call_async(self->api, "POST", path, body, g_task_get_cancellable(task), on_posted,
                         task);
    json_decref(body);
}

/* The server's error.message of a non-2xx answer, else the HTTP phrase. */
static GError *answer_error(guint status, GBytes *bytes)
{
    gsize len = 0;
    const char *data = bytes ? g_bytes_get_data(bytes, &len) : NULL;
    json_t *body = len > 0 && len <= STINT_API_MAX_ANSWER ? json_loadb(data, len, 0, NULL) : NULL;
    const char *message = str(json_object_get(body, "error"), "message");
    GError *error = g_error_new(STINT_API_ERROR, (int)status, "%s",
                                message && *message ? message : soup_status_get_phrase(status));

    json_decref(body);
    return error;
}

static void on_uploaded(GObject *source, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    struct send *s = g_task_get_task_data(task);
    GError *error = NULL;
    GBytes *bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
    guint status;
    json_t *body = NULL;
    const char *file_id;
    gsize len = 0;
    const char *data;

    if (!bytes) {
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    status = soup_message_get_status(s->msg);
    if (status == SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE) {
        g_task_return_new_error(task, STINT_API_ERROR, (int)status,
                                "“%s” is larger than the server accepts.", s->name);
        g_bytes_unref(bytes);
        g_object_unref(task);
        return;
    }
    if (status != 201 && status != 200) {
        g_task_return_error(task, answer_error(status, bytes));
        g_bytes_unref(bytes);
        g_object_unref(task);
        return;
    }
    data = g_bytes_get_data(bytes, &len);
    if (len > 0 && len <= STINT_API_MAX_ANSWER)
        body = json_loadb(data, len, 0, NULL);
    g_bytes_unref(bytes);
    file_id = str(json_object_get(body, "file"), "id");
    if (!file_id) {
        g_task_return_new_error(task, STINT_API_ERROR, 0, "the server's answer has no file id");
        g_object_unref(task);
    } else {
        post_message(task, file_id);
    }
    json_decref(body);
}

static void on_file_opened(GObject *source, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    StintMessages *self = g_task_get_source_object(task);
    struct send *s = g_task_get_task_data(task);
    GError *error = NULL;
    g_autoptr(GFileInputStream) in = g_file_read_finish(G_FILE(source), res, &error);
    g_autofree char *url = NULL;
    g_autofree char *auth = NULL;
    g_autofree char *name = NULL;
    SoupMessageHeaders *headers;

    if (!in) {
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    if (!self->server || !self->token) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "signed out");
        g_object_unref(task);
        return;
    }
    url = g_strconcat(self->server, "/api/v1/files", NULL);
    s->msg = soup_message_new("POST", url);
    if (!s->msg) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                "'%s' is not a valid server address", self->server);
        g_object_unref(task);
        return;
    }
    headers = soup_message_get_request_headers(s->msg);
    auth = g_strconcat("Bearer ", self->token, NULL);
    soup_message_headers_replace(headers, "Authorization", auth);
    /* As encodeURIComponent makes it (docs/api.md). */
    name = g_uri_escape_string(s->name, "!~*'()", FALSE);
    soup_message_headers_replace(headers, "X-Filename", name);
    /* The server may refuse the file (too large) before a byte of it is sent. */
    soup_message_headers_set_expectations(headers, SOUP_EXPECTATION_CONTINUE);
    /* Streamed from the file with its length, so a file too large is refused before it is sent. */
    soup_message_set_request_body(s->msg, "application/octet-stream", G_INPUT_STREAM(in), s->size);
    soup_session_send_and_read_async(self->http, s->msg, G_PRIORITY_DEFAULT,
                                     g_task_get_cancellable(task), on_uploaded, task);
}

static void on_file_info(GObject *source, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    struct send *s = g_task_get_task_data(task);
    GError *error = NULL;
    g_autoptr(GFileInfo) info = g_file_query_info_finish(G_FILE(source), res, &error);

    if (!info) {
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    if (g_file_info_get_file_type(info) != G_FILE_TYPE_REGULAR) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "'%s' is not a file",
                                g_file_info_get_display_name(info));
        g_object_unref(task);
        return;
    }
    s->name = g_strdup(g_file_info_get_display_name(info));
    s->size = g_file_info_get_size(info);
    g_file_read_async(s->file, G_PRIORITY_DEFAULT, g_task_get_cancellable(task), on_file_opened,
                      task);
}

void stint_messages_send_async(StintMessages *self, const char *room_id, const char *text,
                               GFile *file, GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
    GTask *task = g_task_new(self, cancellable, callback, user_data);
    struct send *s;

    g_task_set_source_tag(task, stint_messages_send_async);
    if (!text)
        text = "";
    if (!self->api || !find(self, room_id)) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                                "not connected to the server");
        g_object_unref(task);
        return;
    }
    if (!g_utf8_validate(text, -1, NULL) || g_utf8_strlen(text, -1) > STINT_MESSAGES_MAX_TEXT) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                "A message holds at most %d characters.", STINT_MESSAGES_MAX_TEXT);
        g_object_unref(task);
        return;
    }
    if (!*text && !file) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                "The message is empty.");
        g_object_unref(task);
        return;
    }
    s = g_new0(struct send, 1);
    s->room_id = g_strdup(room_id);
    s->text = g_strdup(text);
    s->file = file ? g_object_ref(file) : NULL;
    g_task_set_task_data(task, s, (GDestroyNotify)send_free);
    if (!file) {
        post_message(task, NULL);
        return;
    }
    g_file_query_info_async(
        file,
        G_FILE_ATTRIBUTE_STANDARD_TYPE "," G_FILE_ATTRIBUTE_STANDARD_SIZE
                                       "," G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME,
        G_FILE_QUERY_INFO_NONE, G_PRIORITY_DEFAULT, cancellable, on_file_info, task);
}

gboolean stint_messages_send_finish(StintMessages *self, GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
    return g_task_propagate_boolean(G_TASK(result), error);
}

/* ---- saving a file ---- */

struct save {
    GFile *dest;
    SoupMessage *msg;
    GInputStream *in;
};

static void save_free(struct save *s)
{
    g_clear_object(&s->dest);
    g_clear_object(&s->msg);
    g_clear_object(&s->in);
    g_free(s);
}

static void on_spliced(GObject *source, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    GError *error = NULL;

    if (g_output_stream_splice_finish(G_OUTPUT_STREAM(source), res, &error) < 0)
        g_task_return_error(task, error);
    else
        g_task_return_boolean(task, TRUE);
    g_object_unref(task);
}

static void on_dest_opened(GObject *source, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    struct save *s = g_task_get_task_data(task);
    GError *error = NULL;
    g_autoptr(GFileOutputStream) out = g_file_replace_finish(G_FILE(source), res, &error);

    if (!out) {
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    g_output_stream_splice_async(
        G_OUTPUT_STREAM(out), s->in,
        G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE | G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
        G_PRIORITY_DEFAULT, g_task_get_cancellable(task), on_spliced, task);
}

static void on_download_started(GObject *source, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    struct save *s = g_task_get_task_data(task);
    GError *error = NULL;
    guint status;

    s->in = soup_session_send_finish(SOUP_SESSION(source), res, &error);
    if (!s->in) {
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    status = soup_message_get_status(s->msg);
    if (status != 200) {
        g_task_return_error(task, answer_error(status, NULL));
        g_object_unref(task);
        return;
    }
    g_file_replace_async(s->dest, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                         G_PRIORITY_DEFAULT, g_task_get_cancellable(task), on_dest_opened, task);
}

void stint_messages_save_file_async(StintMessages *self, json_t *file, GFile *dest,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
    GTask *task = g_task_new(self, cancellable, callback, user_data);
    const char *path = str(file, "url");
    struct save *s;
    g_autofree char *url = NULL;
    g_autofree char *auth = NULL;

    g_task_set_source_tag(task, stint_messages_save_file_async);
    /* The token goes to this server's file URLs only, whatever an answer says. */
    if (!self->server || !self->token || !path || !g_str_has_prefix(path, "/api/v1/files/") ||
        strstr(path, "..") || strpbrk(path, "?#\\")) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                "the file cannot be downloaded");
        g_object_unref(task);
        return;
    }
    s = g_new0(struct save, 1);
    s->dest = g_object_ref(dest);
    url = g_strconcat(self->server, path, NULL);
    s->msg = soup_message_new("GET", url);
    g_task_set_task_data(task, s, (GDestroyNotify)save_free);
    if (!s->msg) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                "'%s' is not a valid server address", self->server);
        g_object_unref(task);
        return;
    }
    auth = g_strconcat("Bearer ", self->token, NULL);
    soup_message_headers_replace(soup_message_get_request_headers(s->msg), "Authorization", auth);
    soup_session_send_async(self->http, s->msg, G_PRIORITY_DEFAULT, cancellable,
                            on_download_started, task);
}

gboolean stint_messages_save_file_finish(StintMessages *self, GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
    return g_task_propagate_boolean(G_TASK(result), error);
}

/* ---- the WebSocket ---- */

static gboolean parse_event_id(json_t *v, guint64 *ret)
{
    guint64 id;

    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *ret = (guint64)json_integer_value(v);
        return TRUE;
    }
    if (!json_is_string(v) ||
        !g_ascii_string_to_unsigned(json_string_value(v), 10, 0, G_MAXUINT64, &id, NULL))
        return FALSE;
    *ret = id;
    return TRUE;
}

static void drop_ws(StintMessages *self)
{
    if (!self->ws)
        return;
    g_signal_handlers_disconnect_by_data(self->ws, self);
    if (soup_websocket_connection_get_state(self->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(self->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    g_clear_object(&self->ws);
}

static gboolean reconnect(gpointer user_data)
{
    StintMessages *self = user_data;

    self->start_source = 0;
    connect_ws(self);
    return G_SOURCE_REMOVE;
}

/* 1, 2, 4 … 30 seconds, with a little jitter so that many apps do not come back at once. */
static void schedule_reconnect(StintMessages *self)
{
    guint delay_ms;

    if (!self->server || self->start_source)
        return;
    self->backoff_s = self->backoff_s ? MIN(self->backoff_s * 2, BACKOFF_MAX_S) : 1;
    delay_ms = self->backoff_s * 1000 + (guint)g_random_int_range(0, 500);
    self->start_source = g_timeout_add(delay_ms, reconnect, self);
}

static void apply_message_event(StintMessages *self, const char *type, struct room *room,
                                json_t *msg)
{
    gboolean is_new = upsert(room, msg, FALSE);
    const char *author = str(json_object_get(msg, "author"), "id");

    if (g_str_equal(type, "message.created")) {
        json_object_set(room->json, "last_message_at", json_object_get(msg, "created_at"));
        if (is_new && g_strcmp0(author, self->user_id) != 0 &&
            !json_is_true(json_object_get(msg, "deleted")))
            set_unread(room, unread_of(room->json) + 1);
    }
    update_preview(self, room, msg);
    g_signal_emit(self, signals[SIGNAL_THREAD_CHANGED], 0, room->id);
    rooms_changed(self);
    if (is_new && g_str_equal(type, "message.created") && g_strcmp0(author, self->user_id) != 0)
        g_signal_emit(self, signals[SIGNAL_MESSAGE_ARRIVED], 0, room->id, msg);
}

static void apply_room_event(StintMessages *self, const char *room_id, json_t *ev)
{
    struct room *room = find(self, room_id);
    json_t *json = json_object_get(ev, "room");

    if (json_is_true(json_object_get(ev, "removed"))) {
        if (room) {
            remove_room(self, room);
            g_signal_emit(self, signals[SIGNAL_THREAD_CHANGED], 0, room_id);
        }
        rooms_changed(self);
        return;
    }
    if (!json_is_object(json))
        return;
    /* The event's room has no "unread" nor "my_role": those are the caller's. */
    if (room) {
        json_object_set(json, "unread", json_object_get(room->json, "unread"));
        if (json_object_get(room->json, "my_role"))
            json_object_set(json, "my_role", json_object_get(room->json, "my_role"));
        json_decref(room->json);
        room->json = json_incref(json);
    } else {
        json_object_set_new(json, "unread", json_integer(0));
        room_new(self, room_id, json);
    }
    rooms_changed(self);
}

static void apply_event(StintMessages *self, json_t *ev)
{
    const char *type = str(ev, "type");
    const char *room_id = str(ev, "room_id");
    struct room *room = find(self, room_id);
    guint64 id;

    if (g_str_equal(type, "typing")) {
        const char *name = str(json_object_get(ev, "user"), "name");
        if (room && name)
            g_signal_emit(self, signals[SIGNAL_TYPING], 0, room->id, name);
        return;
    }
    if (!parse_event_id(json_object_get(ev, "id"), &id))
        return;
    /* Replays after a reconnect start after `since`; this makes sure twice is never. */
    if (self->have_event_id && id <= self->last_event_id)
        return;
    self->last_event_id = id;
    self->have_event_id = TRUE;
    if (!room_id)
        return;
    if (g_str_has_prefix(type, "message.")) {
        json_t *msg = json_object_get(ev, "message");
        if (!json_is_object(msg))
            return;
        if (!room) {
            /* A room this app did not know yet: the list says what it is. */
            load_rooms(self);
            return;
        }
        apply_message_event(self, type, room, msg);
    } else if (g_str_equal(type, "room.updated")) {
        apply_room_event(self, room_id, ev);
    } else if (g_str_equal(type, "read") && room) {
        set_unread(room, json_integer_value(json_object_get(ev, "unread")));
        rooms_changed(self);
    }
}

static void on_ws_message(SoupWebsocketConnection *ws, int type, GBytes *bytes, StintMessages *self)
{
    gsize len = 0;
    const char *data = g_bytes_get_data(bytes, &len);
    json_t *ev;
    const char *kind;

    if (type != SOUP_WEBSOCKET_DATA_TEXT || len > STINT_MESSAGES_MAX_EVENT)
        return;
    ev = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    kind = str(ev, "type");
    if (!kind) {
        json_decref(ev);
        return;
    }
    if (g_str_equal(kind, "welcome")) {
        g_free(self->user_id);
        self->user_id = g_strdup(str(ev, "user_id"));
        /* Without a `since` the live stream starts here; with one, the replay follows. */
        if (!self->have_event_id &&
            parse_event_id(json_object_get(ev, "last_event_id"), &self->last_event_id))
            self->have_event_id = TRUE;
        self->connected = TRUE;
        self->backoff_s = 0;
        load_rooms(self);
        rooms_changed(self);
    } else if (self->connected) {
        apply_event(self, ev);
    }
    json_decref(ev);
}

static void on_ws_closed(SoupWebsocketConnection *ws, StintMessages *self)
{
    g_debug("the event stream closed (%u)", soup_websocket_connection_get_close_code(ws));
    drop_ws(self);
    self->connected = FALSE;
    rooms_changed(self);
    schedule_reconnect(self);
}

static void on_ws_error(SoupWebsocketConnection *ws, GError *error, StintMessages *self)
{
    g_debug("the event stream failed: %s", error->message);
}

static void on_ws_connected(GObject *source, GAsyncResult *res, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    SoupWebsocketConnection *ws =
        soup_session_websocket_connect_finish(SOUP_SESSION(source), res, &error);
    StintMessages *self = user_data;
    json_t *hello;
    char *text;

    if (!ws) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return;
        g_debug("cannot open the event stream: %s", error->message);
        schedule_reconnect(self);
        return;
    }
    self->ws = ws;
    soup_websocket_connection_set_max_incoming_payload_size(ws, STINT_MESSAGES_MAX_EVENT);
    soup_websocket_connection_set_keepalive_interval(ws, KEEPALIVE_S);
    g_signal_connect(ws, "message", G_CALLBACK(on_ws_message), self);
    g_signal_connect(ws, "closed", G_CALLBACK(on_ws_closed), self);
    g_signal_connect(ws, "error", G_CALLBACK(on_ws_error), self);
    hello = json_pack("{s:s,s:s}", "type", "hello", "token", self->token);
    if (self->have_event_id) {
        char since[24];
        g_snprintf(since, sizeof since, "%" G_GUINT64_FORMAT, self->last_event_id);
        json_object_set_new(hello, "since", json_string(since));
    }
    text = json_dumps(hello, JSON_COMPACT);
    if (text) {
        soup_websocket_connection_send_text(ws, text);
        explicit_bzero(text, strlen(text));
        free(text);
    }
    json_decref(hello);
}

static void signin_free(struct st_signin *si)
{
    st_signin_release(si);
    g_free(si);
}

/* In a thread: the token may be in the keyring, which is asked over D-Bus. */
static void load_signin(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    struct st_signin *si = g_new0(struct st_signin, 1);
    int r = st_signin_load(si);

    if (r != 0) {
        g_free(si);
        g_task_return_new_error(task, G_IO_ERROR, g_io_error_from_errno(-r),
                                "cannot read the sign-in: %s", g_strerror(-r));
        return;
    }
    g_task_return_pointer(task, si, (GDestroyNotify)signin_free);
}

static void on_signin_loaded(GObject *source, GAsyncResult *res, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    struct st_signin *si = g_task_propagate_pointer(G_TASK(res), &error);
    StintMessages *self = user_data;
    g_autofree char *url = NULL;
    SoupMessage *msg;

    if (!si && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    /* The sign-in changed meanwhile (the session follows it and so will this). */
    if (!si || !si->token || g_strcmp0(si->server, self->server) != 0) {
        if (si)
            signin_free(si);
        schedule_reconnect(self);
        return;
    }
    if (g_strcmp0(si->token, self->token) != 0) {
        if (self->token) {
            explicit_bzero(self->token, strlen(self->token));
            g_free(self->token);
        }
        self->token = g_strdup(si->token);
        g_clear_object(&self->api);
    }
    signin_free(si);
    if (!self->api)
        self->api = stint_api_new(self->server, self->token);
    url = g_strconcat(self->server, "/api/v1/ws", NULL);
    msg = soup_message_new("GET", url);
    if (!msg)
        return;
    soup_session_websocket_connect_async(self->ws_session, msg, NULL, NULL, G_PRIORITY_DEFAULT,
                                         self->cancellable, on_ws_connected, self);
    g_object_unref(msg);
}

/* Reads the token again each time: `stint login` may have replaced it. */
static void connect_ws(StintMessages *self)
{
    GTask *task;

    if (!self->server || self->ws)
        return;
    /* No source object: the callback checks the cancellable before it looks at self. */
    task = g_task_new(NULL, self->cancellable, on_signin_loaded, self);
    g_task_run_in_thread(task, load_signin);
    g_object_unref(task);
}

/* ---- following the sign-in ---- */

static void forget(StintMessages *self)
{
    g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->cancellable);
    self->cancellable = g_cancellable_new();
    g_clear_handle_id(&self->start_source, g_source_remove);
    drop_ws(self);
    g_clear_object(&self->api);
    if (self->token) {
        explicit_bzero(self->token, strlen(self->token));
        g_clear_pointer(&self->token, g_free);
    }
    g_clear_pointer(&self->server, g_free);
    g_clear_pointer(&self->email, g_free);
    g_clear_pointer(&self->user_id, g_free);
    g_hash_table_remove_all(self->by_id);
    g_ptr_array_set_size(self->rooms, 0);
    self->connected = FALSE;
    self->rooms_loaded = FALSE;
    self->have_event_id = FALSE;
    self->last_event_id = 0;
    self->backoff_s = 0;
}

static void on_session_changed(StintSession *session, StintMessages *self)
{
    gboolean in = stint_session_is_signed_in(session);
    const char *server = in ? stint_session_get_server(session) : NULL;
    const char *email = in ? stint_session_get_email(session) : NULL;

    if (g_strcmp0(server, self->server) == 0 && g_strcmp0(email, self->email) == 0)
        return;
    forget(self);
    if (server) {
        self->server = g_strdup(server);
        self->email = g_strdup(email);
        /* Start-up first: the tracker's page is what the window shows at once. */
        self->start_source = g_timeout_add(START_DELAY_MS, reconnect, self);
    }
    rooms_changed(self);
}

/* ---- the object ---- */

static void stint_messages_dispose(GObject *object)
{
    StintMessages *self = STINT_MESSAGES(object);

    if (self->session) {
        g_signal_handlers_disconnect_by_data(self->session, self);
        g_object_remove_weak_pointer(G_OBJECT(self->session), (gpointer *)&self->session);
        self->session = NULL;
    }
    if (self->cancellable) {
        forget(self);
        g_cancellable_cancel(self->cancellable);
        g_clear_object(&self->cancellable);
    }
    g_clear_object(&self->http);
    g_clear_object(&self->ws_session);
    G_OBJECT_CLASS(stint_messages_parent_class)->dispose(object);
}

static void stint_messages_finalize(GObject *object)
{
    StintMessages *self = STINT_MESSAGES(object);

    g_hash_table_unref(self->by_id);
    g_ptr_array_unref(self->rooms);
    json_decref(self->rooms_json);
    G_OBJECT_CLASS(stint_messages_parent_class)->finalize(object);
}

static void stint_messages_class_init(StintMessagesClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = stint_messages_dispose;
    object_class->finalize = stint_messages_finalize;
    signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
    signals[SIGNAL_THREAD_CHANGED] =
        g_signal_new("thread-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    signals[SIGNAL_MESSAGE_ARRIVED] =
        g_signal_new("message-arrived", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_POINTER);
    signals[SIGNAL_TYPING] =
        g_signal_new("typing", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void stint_messages_init(StintMessages *self)
{
    self->rooms = g_ptr_array_new_with_free_func((GDestroyNotify)room_free);
    self->by_id = g_hash_table_new(g_str_hash, g_str_equal);
    self->rooms_json = json_array();
    self->cancellable = g_cancellable_new();
    self->http = soup_session_new_with_options("timeout", HTTP_TIMEOUT_S, "user-agent",
                                               "stint-tracker/" STINT_VERSION, NULL);
    /* No I/O timeout on the event stream: it is quiet for long; keep-alive pings watch it. */
    self->ws_session =
        soup_session_new_with_options("user-agent", "stint-tracker/" STINT_VERSION, NULL);
}

StintMessages *stint_messages_new(StintSession *session)
{
    StintMessages *self = g_object_new(STINT_TYPE_MESSAGES, NULL);

    self->session = session;
    g_object_add_weak_pointer(G_OBJECT(session), (gpointer *)&self->session);
    g_signal_connect(session, "changed", G_CALLBACK(on_session_changed), self);
    on_session_changed(session, self);
    return self;
}

/* ---- reading ---- */

gboolean stint_messages_is_connected(StintMessages *self)
{
    return self->connected;
}

gboolean stint_messages_rooms_loaded(StintMessages *self)
{
    return self->rooms_loaded;
}

const char *stint_messages_get_user_id(StintMessages *self)
{
    return self->user_id;
}

json_t *stint_messages_get_rooms(StintMessages *self)
{
    /* Previews are wanted from the moment someone looks at the list. */
    if (!self->want_previews) {
        self->want_previews = TRUE;
        load_previews(self);
    }
    return self->rooms_json;
}

json_t *stint_messages_find_room(StintMessages *self, const char *room_id)
{
    struct room *room = find(self, room_id);

    return room ? room->json : NULL;
}

int stint_messages_get_unread_total(StintMessages *self)
{
    int total = 0;

    for (guint i = 0; i < self->rooms->len; i++) {
        struct room *room = g_ptr_array_index(self->rooms, i);
        if (!json_is_true(json_object_get(room->json, "archived")))
            total += MIN(unread_of(room->json), G_MAXINT / 2 - total);
    }
    return total;
}

const char *stint_messages_get_preview(StintMessages *self, const char *room_id)
{
    struct room *room = find(self, room_id);

    return room ? room->preview : NULL;
}

json_t *stint_messages_get_thread(StintMessages *self, const char *room_id)
{
    struct room *room = find(self, room_id);

    return room && room->loaded ? room->messages : NULL;
}

gboolean stint_messages_has_older(StintMessages *self, const char *room_id)
{
    struct room *room = find(self, room_id);

    return room && room->loaded && room->next_before;
}

gboolean stint_messages_is_loading(StintMessages *self, const char *room_id)
{
    struct room *room = find(self, room_id);

    return room && room->loading;
}

const char *stint_messages_get_thread_error(StintMessages *self, const char *room_id)
{
    struct room *room = find(self, room_id);

    return room ? room->error : NULL;
}

void stint_messages_typing(StintMessages *self, const char *room_id)
{
    struct room *room = find(self, room_id);
    gint64 now = g_get_monotonic_time();
    json_t *msg;
    char *text;

    if (!room || !self->connected || !self->ws || now - room->typing_sent < TYPING_EVERY_US)
        return;
    room->typing_sent = now;
    msg = json_pack("{s:s,s:s}", "type", "typing", "room_id", room->id);
    text = json_dumps(msg, JSON_COMPACT);
    if (text)
        soup_websocket_connection_send_text(self->ws, text);
    free(text);
    json_decref(msg);
}

json_t *stint_messages_dup_state(StintMessages *self)
{
    json_t *rooms = json_array();
    char last[24] = "";

    for (guint i = 0; i < self->rooms->len; i++) {
        struct room *room = g_ptr_array_index(self->rooms, i);
        json_array_append_new(
            rooms, json_pack("{s:s,s:s?,s:i,s:b,s:s?,s:b}", "id", room->id, "title",
                             str(room->json, "title"), "unread", unread_of(room->json), "archived",
                             json_is_true(json_object_get(room->json, "archived")), "preview",
                             room->preview, "loaded", room->loaded));
    }
    if (self->have_event_id)
        g_snprintf(last, sizeof last, "%" G_GUINT64_FORMAT, self->last_event_id);
    return json_pack("{s:b,s:b,s:s?,s:s,s:i,s:o}", "connected", self->connected, "rooms_loaded",
                     self->rooms_loaded, "user_id", self->user_id, "last_event_id", last, "unread",
                     stint_messages_get_unread_total(self), "rooms", rooms);
}
