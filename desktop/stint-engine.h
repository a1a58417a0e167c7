/*
 * StintEngine: the tracker engine (tracker/engine.h) on the GLib main loop.
 * It watches tk_engine_fd() with g_unix_fd_add() and re-arms a timeout of
 * tk_engine_timeout_ms() after every tick, exactly as `stint track` polls
 * them, so the desktop app records what the CLI would. Every engine call
 * and every signal happens on the main thread, but for the server requests
 * of a start, which run on a worker (stint_engine_start_async).
 *
 * Signals:
 *   "event" (gpointer event): a const struct tk_event *, borrowed for the
 *       duration of the emission. A handler must not drop the last
 *       reference to the engine (tk_engine_free is not allowed from inside
 *       an engine callback): defer that to an idle.
 *   "changed": the status may have changed (after events, and at most
 *       twice a second otherwise); read it with stint_engine_get_status().
 *
 * Not for: what the window shows or when (StintSession), HTTP requests of
 * the app's own (StintApi).
 */
#ifndef STINT_ENGINE_H
#define STINT_ENGINE_H

#include <gio/gio.h>

#include "tracker/engine.h"

G_BEGIN_DECLS

#define STINT_ENGINE_ERROR (stint_engine_error_quark())
GQuark stint_engine_error_quark(void);

typedef enum {
    STINT_ENGINE_ERROR_FAILED,  /* the journal or the display cannot be used */
    STINT_ENGINE_ERROR_BUSY,    /* another tracker holds the journal */
    STINT_ENGINE_ERROR_REFUSED, /* a start the contract's rules refuse (memo, tag, state) */
    STINT_ENGINE_ERROR_NOAUTH,  /* the server no longer takes the sign-in */
    STINT_ENGINE_ERROR_OFFLINE, /* the server is out of reach and nothing is cached */
} StintEngineError;

#define STINT_TYPE_ENGINE (stint_engine_get_type())
G_DECLARE_FINAL_TYPE(StintEngine, stint_engine, STINT, ENGINE, GObject)

/*
 * Opens the journal (taking its lock) and starts the uploader. settings
 * is copied. NULL and STINT_ENGINE_ERROR_BUSY with the engine's sentence
 * ("another stint tracker (pid N) is using DIR") when another tracker runs.
 */
StintEngine *stint_engine_new(const char *server, const char *token, const char *email,
                              const struct tk_settings *settings, GError **error);

/*
 * Starts the timer without making the main loop wait for the server: the
 * contract's terms are fetched on a worker thread (tk_engine_fetch_start,
 * up to 15 s when the server is slow), then the timer starts back on the
 * main thread and the callback runs. tags is NULL-terminated (may be
 * NULL); everything is copied. While the start is pending,
 * stint_engine_is_starting() is TRUE and another start fails with
 * STINT_ENGINE_ERROR_BUSY. Cancelling cancellable drops the start before
 * the timer runs (G_IO_ERROR_CANCELLED). The engine stays alive until the
 * callback has run.
 */
void stint_engine_start_async(StintEngine *self, const char *contract_id, const char *memo,
                              const char *const *tags, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
gboolean stint_engine_start_finish(StintEngine *self, GAsyncResult *result, GError **error);
gboolean stint_engine_is_starting(StintEngine *self);
/* Stops the timer (the partial segment is written and queued); FALSE when it did not run. */
gboolean stint_engine_stop(StintEngine *self);
gboolean stint_engine_set_memo(StintEngine *self, const char *memo, GError **error);
gboolean stint_engine_set_tags(StintEngine *self, const char *const *tags, GError **error);
/* FALSE when no idle prompt is open. */
gboolean stint_engine_answer_idle(StintEngine *self, enum tk_idle_answer answer);
void stint_engine_kick(StintEngine *self);

void stint_engine_get_status(StintEngine *self, struct tk_status *ret);
gboolean stint_engine_is_running(StintEngine *self);
const char *stint_engine_get_data_dir(StintEngine *self);
/* The desktop tracked here and how (tk_engine_describe_platform); free with g_free(). */
char *stint_engine_describe_platform(StintEngine *self);

G_END_DECLS

#endif
