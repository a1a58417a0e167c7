/*
 * StintApi (stint-api.h): one SoupSession, one GTask per request, and the
 * mapping from an HTTP answer to JSON or a GError.
 */
#include "desktop/stint-api.h"

#include <libsoup/soup.h>

#define TIMEOUT_S 15

struct _StintApi {
    GObject parent_instance;
    SoupSession *session;
    char *server;
    char *token;
};

G_DEFINE_TYPE(StintApi, stint_api, G_TYPE_OBJECT)
G_DEFINE_QUARK(stint_api_error, stint_api_error)

enum { SIGNAL_REACHABLE, N_SIGNALS };
static guint signals[N_SIGNALS];

static void stint_api_finalize(GObject *object)
{
    StintApi *self = STINT_API(object);

    g_clear_object(&self->session);
    g_free(self->server);
    if (self->token) {
        explicit_bzero(self->token, strlen(self->token));
        g_free(self->token);
    }
    G_OBJECT_CLASS(stint_api_parent_class)->finalize(object);
}

static void stint_api_class_init(StintApiClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = stint_api_finalize;
    signals[SIGNAL_REACHABLE] =
        g_signal_new("reachable", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void stint_api_init(StintApi *self)
{
    self->session =
        soup_session_new_with_options("timeout", TIMEOUT_S, "idle-timeout", 60, "user-agent",
                                      "stint-tracker/" STINT_VERSION, NULL);
}

StintApi *stint_api_new(const char *server, const char *token)
{
    StintApi *self = g_object_new(STINT_TYPE_API, NULL);

    self->server = g_strdup(server);
    self->token = g_strdup(token);
    return self;
}

const char *stint_api_get_server(StintApi *self)
{
    return self->server;
}

gboolean stint_api_error_is_network(const GError *error)
{
    return error && error->domain != STINT_API_ERROR &&
           !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Request bodies may hold a password: wipe them before they go back to the allocator. */
static void wipe_free(gpointer text)
{
    explicit_bzero(text, strlen(text));
    free(text);
}

static void on_sent(GObject *source, GAsyncResult *res, gpointer user_data)
{
    GTask *task = user_data;
    StintApi *self = g_task_get_source_object(task);
    SoupMessage *msg = g_task_get_task_data(task);
    GError *error = NULL;
    GBytes *bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &error);
    json_t *body = NULL;
    guint status;
    gsize len = 0;
    const char *data;

    if (!bytes) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_signal_emit(self, signals[SIGNAL_REACHABLE], 0, FALSE);
        g_task_return_error(task, error);
        g_object_unref(task);
        return;
    }
    g_signal_emit(self, signals[SIGNAL_REACHABLE], 0, TRUE);
    status = soup_message_get_status(msg);
    data = g_bytes_get_data(bytes, &len);
    if (len > 0 && len <= STINT_API_MAX_ANSWER)
        body = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
    if (status >= 200 && status < 300) {
        if (!body && len == 0)
            body = json_object();
        if (json_is_object(body))
            g_task_return_pointer(task, json_incref(body), (GDestroyNotify)json_decref);
        else
            g_task_return_new_error(task, STINT_API_ERROR, 0,
                                    "the server's answer is not JSON (HTTP %u)", status);
    } else {
        json_t *err = json_object_get(body, "error");
        const char *message = json_string_value(json_object_get(err, "message"));
        g_task_return_new_error(task, STINT_API_ERROR, (int)status, "%s",
                                message && *message ? message : soup_status_get_phrase(status));
    }
    json_decref(body);
    g_bytes_unref(bytes);
    g_object_unref(task);
}

void stint_api_call_async(StintApi *self, const char *method, const char *path, json_t *body,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
    g_autofree char *url = g_strconcat(self->server, "/api/v1", path, NULL);
    SoupMessage *msg = soup_message_new(method, url);
    GTask *task = g_task_new(self, cancellable, callback, user_data);

    g_task_set_source_tag(task, stint_api_call_async);
    if (!msg) {
        g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                "'%s' is not a valid server address", self->server);
        g_object_unref(task);
        return;
    }
    g_task_set_task_data(task, msg, g_object_unref);
    if (self->token) {
        g_autofree char *auth = g_strconcat("Bearer ", self->token, NULL);
        soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization", auth);
    }
    if (body) {
        char *text = json_dumps(body, JSON_COMPACT);
        GBytes *bytes;
        if (!text) {
            g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                    "the request is not valid JSON");
            g_object_unref(task);
            return;
        }
        bytes = g_bytes_new_with_free_func(text, strlen(text), wipe_free, text);
        soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
        g_bytes_unref(bytes);
    }
    soup_session_send_and_read_async(self->session, msg, G_PRIORITY_DEFAULT, cancellable, on_sent,
                                     task);
}

json_t *stint_api_call_finish(StintApi *self, GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, self), NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}
