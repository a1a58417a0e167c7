/*
 * StintWindow: the main window: the sign-in page or the timer page, a
 * header bar with the app menu, a status bar with the connection state
 * and the upload queue, and the idle prompt when the engine asks.
 *
 * Actions: "win.toggle-tracking" (Ctrl+Space), "win.focus-memo" (Ctrl+M).
 * The header's Messages button (with the unread count) switches to the
 * Messages page, which is built the first time it is opened.
 */
#ifndef STINT_WINDOW_H
#define STINT_WINDOW_H

#include <gtk/gtk.h>
#include <jansson.h>

#include "desktop/stint-messages-view.h"
#include "desktop/stint-session.h"

G_BEGIN_DECLS

typedef struct _StintApplication StintApplication;

#define STINT_TYPE_WINDOW (stint_window_get_type())
G_DECLARE_FINAL_TYPE(StintWindow, stint_window, STINT, WINDOW, GtkApplicationWindow)

StintWindow *stint_window_new(StintApplication *app, StintSession *session);
/* Shows the Messages page, and the room's thread when room_id is not NULL. */
void stint_window_show_messages(StintWindow *self, const char *room_id);
/* The Messages page, or NULL when it was never opened. */
StintMessagesView *stint_window_get_messages_view(StintWindow *self);
/* What the window shows, for tests and scripts. */
json_t *stint_window_dup_state(StintWindow *self);

G_END_DECLS

#endif
