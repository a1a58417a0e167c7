/*
 * What the desktop app does to user text before a GtkLabel shows it:
 * Pango markup in which everything the user wrote is escaped and only
 * http(s) URLs become links. Pure functions on GLib strings, no widget,
 * so they are tested on their own (tests/unit/test-desktop-text.c).
 */
#ifndef STINT_TEXT_H
#define STINT_TEXT_H

#include <glib.h>

G_BEGIN_DECLS

/*
 * Returns newly allocated markup for text (valid UTF-8): all of it escaped,
 * each http:// or https:// URL that starts a word an <a href> of itself.
 * A URL ends at white space or one of < > " `, without the punctuation that
 * ends a sentence (. , ; : ! ? ) ] } '). When ret_links is not NULL, the
 * URLs linked are appended to it (newly allocated strings).
 */
char *stint_text_linkify(const char *text, GPtrArray *ret_links);

G_END_DECLS

#endif
