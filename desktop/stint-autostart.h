/*
 * Start at login, the XDG way: a copy of our .desktop entry in
 * $XDG_CONFIG_HOME/autostart/dev.stint.Tracker.desktop. The file itself is
 * the setting: it exists or it does not. Not for: anything else about
 * settings (tracker/settings.h).
 */
#ifndef STINT_AUTOSTART_H
#define STINT_AUTOSTART_H

#include <glib.h>

G_BEGIN_DECLS

/* The path of the autostart entry, newly allocated. */
char *stint_autostart_dup_path(void);
gboolean stint_autostart_is_enabled(void);
/* Writes (pointing at this very binary) or removes the entry. */
gboolean stint_autostart_set(gboolean enabled, GError **error);

G_END_DECLS

#endif
