/*
 * StintSession: what the desktop app knows while a freelancer uses it, on
 * the main thread: the shared sign-in (lib/signin.h, the file `stint
 * login` writes), the engine that records (StintEngine, one per journal:
 * a second tracker gets a clear "busy" instead), the freelancer's active
 * contracts with this week's hours and recent memos, the last screenshot,
 * the connection state and the settings (tracker.conf, shared with the
 * CLI). Windows observe it; it never touches a widget.
 *
 * Signals:
 *   "changed": anything shown may have changed (cheap to re-read).
 *   "engine-event" (gpointer): a const struct tk_event *, forwarded from
 *       the engine after the session has taken note of it.
 *   "connection-lost": the server stopped answering while the timer runs.
 *   "signed-out" (gchar *reason): the sign-in was removed or refused (reason may be NULL).
 */
#ifndef STINT_SESSION_H
#define STINT_SESSION_H

#include <gio/gio.h>
#include <jansson.h>

#include "desktop/stint-api.h"
#include "desktop/stint-contract.h"
#include "desktop/stint-engine.h"

G_BEGIN_DECLS

typedef enum {
    STINT_CONNECTION_OFFLINE,
    STINT_CONNECTION_ONLINE,
    STINT_CONNECTION_UPLOADING,
} StintConnection;

#define STINT_TYPE_SESSION (stint_session_get_type())
G_DECLARE_FINAL_TYPE(StintSession, stint_session, STINT, SESSION, GObject)

StintSession *stint_session_new(void);

/*
 * Reads the saved sign-in (and tracker.conf); when there is one, the
 * session is signed in: it opens the engine and loads the contracts.
 * FALSE when nobody is signed in.
 */
gboolean stint_session_restore(StintSession *self);
/* POST /login, then saves the sign-in where `stint login` does. */
void stint_session_sign_in_async(StintSession *self, const char *server, const char *email,
                                 const char *password, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean stint_session_sign_in_finish(StintSession *self, GAsyncResult *result, GError **error);
/* Forgets the sign-in (for the CLI too). Not while the timer runs. */
void stint_session_sign_out(StintSession *self);

gboolean stint_session_is_signed_in(StintSession *self);
const char *stint_session_get_server(StintSession *self);
const char *stint_session_get_email(StintSession *self);
const char *stint_session_get_user_name(StintSession *self);
/* The server URL to offer on the sign-in page: the saved one, $STINT_SERVER, or the default. */
char *stint_session_dup_default_server(void);

/* The engine, or NULL while another tracker holds the journal (see get_engine_error). */
StintEngine *stint_session_get_engine(StintSession *self);
/* Why there is no engine ("another stint tracker (pid 123) is using ..."), or NULL. */
const char *stint_session_get_engine_error(StintSession *self);
gboolean stint_session_is_busy(StintSession *self);
gboolean stint_session_is_tracking(StintSession *self);
/* Tries to open the engine again now (after the other tracker quit). */
void stint_session_retry_engine(StintSession *self);

/* The active contracts (StintContract), newest first. */
GListModel *stint_session_get_contracts(StintSession *self);
StintContract *stint_session_find_contract(StintSession *self, const char *id);
/* Whether the first contract list has arrived. */
gboolean stint_session_contracts_loaded(StintSession *self);
/* Reloads contracts, week hours, recent memos and today's time from the server. */
void stint_session_refresh(StintSession *self);
/* Memos of the contract's last two weeks, newest first; NULL-terminated, borrowed. */
const char *const *stint_session_get_recent_memos(StintSession *self, const char *contract_id);
/* Seconds today (the account's zone) on a contract, from the server; -1 when unknown. */
gint64 stint_session_get_today_seconds(StintSession *self, const char *contract_id);

/*
 * Starts the timer without blocking the main loop (stint_engine_start_async);
 * remembers the memo once it runs. While it is pending,
 * stint_session_is_starting() is TRUE. Signing out drops a pending start.
 */
void stint_session_start_async(StintSession *self, const char *contract_id, const char *memo,
                               const char *const *tags, GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean stint_session_start_finish(StintSession *self, GAsyncResult *result, GError **error);
gboolean stint_session_is_starting(StintSession *self);
void stint_session_stop(StintSession *self);

/* The last screenshot taken here: file, segment and time; NULL path when none. */
const char *stint_session_get_last_shot_path(StintSession *self);
const char *stint_session_get_last_shot_segment(StintSession *self);
gint64 stint_session_get_last_shot_at(StintSession *self);
gint64 stint_session_get_last_shot_segment_start(StintSession *self);
/* DELETE /segments/{id} of the last screenshot's segment; forgets the screenshot on success. */
void stint_session_delete_last_segment_async(StintSession *self, GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data);
gboolean stint_session_delete_last_segment_finish(StintSession *self, GAsyncResult *result,
                                                  GError **error);

StintConnection stint_session_get_connection(StintSession *self);
/* The account's zone (IANA), for "today" and clock times. */
const char *stint_session_get_timezone(StintSession *self);

/* tracker.conf as loaded; borrowed. */
const struct tk_settings *stint_session_get_settings(StintSession *self);
/* An error reading tracker.conf at start (the defaults are used then), or NULL. */
const char *stint_session_get_settings_error(StintSession *self);
/*
 * Saves the settings; the engine takes them at once when the timer is
 * stopped, else at the next stop.
 */
gboolean stint_session_set_settings(StintSession *self, const struct tk_settings *settings,
                                    GError **error);

/* The session's part of the app's state for tests and scripts (dev.stint.Tracker.State). */
json_t *stint_session_dup_state(StintSession *self);

G_END_DECLS

#endif
