/*
 * StintApi: the desktop app's HTTP client for stintd, on libsoup 3 and the
 * GLib main loop, so no request ever blocks the window. JSON in and out
 * (jansson, as everywhere in stint). Not for the tracker's uploads: the
 * engine's own thread does those (tracker/uploader.c).
 *
 * Errors: a request that got no HTTP answer fails with the GIOError libsoup
 * gives; an answer that is not 2xx fails with STINT_API_ERROR and the HTTP
 * status as the code, and the server's error.message as the message.
 *
 * Ownership: bodies passed in are borrowed; the json_t returned by
 * stint_api_call_finish() is the caller's (json_decref).
 */
#ifndef STINT_API_H
#define STINT_API_H

#include <gio/gio.h>
#include <jansson.h>

G_BEGIN_DECLS

#define STINT_API_ERROR (stint_api_error_quark())
GQuark stint_api_error_quark(void);

/* An answer's JSON is not read past this. */
#define STINT_API_MAX_ANSWER (4 * 1024 * 1024)

#define STINT_TYPE_API (stint_api_get_type())
G_DECLARE_FINAL_TYPE(StintApi, stint_api, STINT, API, GObject)

/* server: base URL without the trailing slash; token may be NULL (for /login). */
StintApi *stint_api_new(const char *server, const char *token);
const char *stint_api_get_server(StintApi *self);

/*
 * Sends METHOD /api/v1PATH with body (NULL for none). The "reachable"
 * signal (gboolean) is emitted when it ends: TRUE for any HTTP answer,
 * FALSE when none came.
 */
void stint_api_call_async(StintApi *self, const char *method, const char *path, json_t *body,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data);
/* The parsed answer (an empty object for 204), or NULL and error. */
json_t *stint_api_call_finish(StintApi *self, GAsyncResult *result, GError **error);

/* Whether error means the server could not be reached (no HTTP answer). */
gboolean stint_api_error_is_network(const GError *error);

G_END_DECLS

#endif
