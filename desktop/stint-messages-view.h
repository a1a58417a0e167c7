/*
 * StintMessagesView: the Messages page of the main window: the rooms with
 * their unread counts and newest message, and one room's thread (author,
 * local time, text shown as text with http(s) links, "edited" and
 * "deleted", files with a Save button) above a composer (Enter sends; a
 * file may be attached, streamed up when sent). It marks a room read while
 * its thread is on screen in the active window.
 *
 * The window builds it the first time Messages is opened, not before: the
 * tracker's page stays as light as it was. Everything it shows comes from
 * StintMessages, and every change goes through it.
 */
#ifndef STINT_MESSAGES_VIEW_H
#define STINT_MESSAGES_VIEW_H

#include <gtk/gtk.h>
#include <jansson.h>

#include "desktop/stint-messages.h"

G_BEGIN_DECLS

#define STINT_TYPE_MESSAGES_VIEW (stint_messages_view_get_type())
G_DECLARE_FINAL_TYPE(StintMessagesView, stint_messages_view, STINT, MESSAGES_VIEW, GtkWidget)

StintMessagesView *stint_messages_view_new(StintMessages *messages);
/* Shows the room's thread (loading it when needed), or the room list for NULL. */
void stint_messages_view_open_room(StintMessagesView *self, const char *room_id);
/* The room whose thread is shown, or NULL on the list. */
const char *stint_messages_view_get_room(StintMessagesView *self);
/* Puts the focus where the user goes next: the composer in a thread, else the list. */
void stint_messages_view_focus(StintMessagesView *self);

/*
 * What the composer does, for scripts and tests: send text as if typed and
 * Enter pressed; attach file as if chosen in the file chooser; save the
 * file with that id as if dest was chosen after its Save button.
 */
void stint_messages_view_send_text(StintMessagesView *self, const char *text);
void stint_messages_view_attach(StintMessagesView *self, GFile *file);
void stint_messages_view_save_file(StintMessagesView *self, const char *file_id, GFile *dest);

/* What the view shows, for tests. */
json_t *stint_messages_view_dup_state(StintMessagesView *self);

G_END_DECLS

#endif
