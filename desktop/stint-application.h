/*
 * StintApplication: the app's lifetime. One instance per session bus
 * (GtkApplication, id dev.stint.Tracker): a second launch presents the
 * first one's window. It owns the StintSession, the actions and their
 * shortcuts, the notifications, and what happens when the window closes
 * while the timer runs (the app stays, holding itself, and says so in a
 * notification; launching it again shows the window).
 *
 * On D-Bus, besides the actions GtkApplication exports (org.gtk.Actions),
 * the object /dev/stint/Tracker has dev.stint.Tracker.State.Get() → a JSON
 * string of what the window shows, for tests and scripts.
 *
 * A message from someone else that arrives while the window is hidden or
 * not focused is a notification; clicking it runs "app.open-room" with the
 * room's id.
 */
#ifndef STINT_APPLICATION_H
#define STINT_APPLICATION_H

#include <gtk/gtk.h>

#include "desktop/stint-messages.h"
#include "desktop/stint-session.h"

G_BEGIN_DECLS

#define STINT_APP_ID "dev.stint.Tracker"

#define STINT_TYPE_APPLICATION (stint_application_get_type())
G_DECLARE_FINAL_TYPE(StintApplication, stint_application, STINT, APPLICATION, GtkApplication)

StintApplication *stint_application_new(void);
StintSession *stint_application_get_session(StintApplication *self);
/* The rooms, threads and live events of the signed-in user. */
StintMessages *stint_application_get_messages(StintApplication *self);

G_END_DECLS

#endif
