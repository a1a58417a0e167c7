/*
 * StintMessages: the desktop app's side of messaging (docs/api.md
 * "Messaging"), on the main thread, with no widget: the rooms of the
 * signed-in user with their unread counts, the threads opened so far, one
 * WebSocket to /api/v1/ws for live events (reconnected with backoff and
 * `since`, so nothing is missed and nothing is applied twice), sending
 * (with one file streamed from disk) and saving a file. It follows the
 * session: signing out forgets everything, signing in (again, or as
 * someone else) starts over.
 *
 * Rooms and messages are the server's JSON objects (jansson), borrowed:
 * valid until the next signal. A thread is an array oldest first, at most
 * STINT_MESSAGES_THREAD_MAX messages (the oldest are dropped past it).
 *
 * Signals:
 *   "changed": the rooms, their unread counts or the connection changed.
 *   "thread-changed" (gchar *room_id): a thread gained, changed or lost
 *       messages, or finished loading.
 *   "message-arrived" (gchar *room_id, gpointer json_t *message): a message
 *       by someone else, new to this app (not part of a page loaded).
 *   "typing" (gchar *room_id, gchar *name): someone else types in the room.
 */
#ifndef STINT_MESSAGES_H
#define STINT_MESSAGES_H

#include <gio/gio.h>
#include <jansson.h>

#include "desktop/stint-session.h"

G_BEGIN_DECLS

#define STINT_MESSAGES_THREAD_MAX 2000
#define STINT_MESSAGES_PAGE 50
/* A WebSocket message larger than this closes the connection (1009), then reconnects. */
#define STINT_MESSAGES_MAX_EVENT (1024 * 1024)
/* The server takes at most this many characters of text per message. */
#define STINT_MESSAGES_MAX_TEXT 10000

#define STINT_TYPE_MESSAGES (stint_messages_get_type())
G_DECLARE_FINAL_TYPE(StintMessages, stint_messages, STINT, MESSAGES, GObject)

/* Watches session; connects shortly after it is signed in (not at once: start-up comes first). */
StintMessages *stint_messages_new(StintSession *session);

/* Whether the WebSocket is open and welcomed. */
gboolean stint_messages_is_connected(StintMessages *self);
/* Whether the first room list arrived. */
gboolean stint_messages_rooms_loaded(StintMessages *self);
/* The signed-in user's id (from the server's welcome), or NULL before it. */
const char *stint_messages_get_user_id(StintMessages *self);
/* The rooms, most recent activity first: a borrowed array of room objects. */
json_t *stint_messages_get_rooms(StintMessages *self);
json_t *stint_messages_find_room(StintMessages *self, const char *room_id);
/* Unread messages over the rooms that are not archived. */
int stint_messages_get_unread_total(StintMessages *self);
/* The newest message known in the room ("Name: text"), or NULL. */
const char *stint_messages_get_preview(StintMessages *self, const char *room_id);

/* The thread, oldest first (borrowed), or NULL before it was loaded. */
json_t *stint_messages_get_thread(StintMessages *self, const char *room_id);
/* Loads the newest page when not loaded yet; "thread-changed" follows. */
void stint_messages_load_thread(StintMessages *self, const char *room_id);
/* Loads the page before the oldest message held. */
void stint_messages_load_older(StintMessages *self, const char *room_id);
gboolean stint_messages_has_older(StintMessages *self, const char *room_id);
gboolean stint_messages_is_loading(StintMessages *self, const char *room_id);
/* Why the last load of the thread failed, or NULL. */
const char *stint_messages_get_thread_error(StintMessages *self, const char *room_id);

/*
 * Posts text (may be empty when file is given) with file, when not NULL,
 * uploaded first: streamed from disk, never read whole. The message shows
 * in the thread as soon as the server answers.
 */
void stint_messages_send_async(StintMessages *self, const char *room_id, const char *text,
                               GFile *file, GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean stint_messages_send_finish(StintMessages *self, GAsyncResult *result, GError **error);

/* Moves the read marker to the newest message of the thread (nothing when already there). */
void stint_messages_mark_read(StintMessages *self, const char *room_id);
/* Tells the room's other members that the user types (at most once per 3 seconds). */
void stint_messages_typing(StintMessages *self, const char *room_id);

/* Downloads file (a file object of a message) to dest, streamed; replaces dest. */
void stint_messages_save_file_async(StintMessages *self, json_t *file, GFile *dest,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean stint_messages_save_file_finish(StintMessages *self, GAsyncResult *result, GError **error);

/* For tests: connection, last event id, rooms with unread counts and previews. */
json_t *stint_messages_dup_state(StintMessages *self);

G_END_DECLS

#endif
