/*
 * StintPreferencesWindow: the tracker's settings on this computer, saved
 * in $XDG_CONFIG_HOME/stint/tracker.conf (shared with `stint track`) as
 * soon as they change: the screenshot thumbnail, the screens captured,
 * blur, the idle threshold, start at login (XDG autostart), the data
 * folder and its disk quota. While the timer runs, changes apply at the
 * next start (the engine reads them when it opens).
 */
#ifndef STINT_PREFERENCES_WINDOW_H
#define STINT_PREFERENCES_WINDOW_H

#include <gtk/gtk.h>

#include "desktop/stint-session.h"

G_BEGIN_DECLS

#define STINT_TYPE_PREFERENCES_WINDOW (stint_preferences_window_get_type())
G_DECLARE_FINAL_TYPE(StintPreferencesWindow, stint_preferences_window, STINT, PREFERENCES_WINDOW,
                     GtkWindow)

StintPreferencesWindow *stint_preferences_window_new(StintSession *session);

G_END_DECLS

#endif
