/*
 * The capture route of the Wayland backend where the compositor offers no
 * wlr-screencopy (GNOME's mutter, KDE's KWin): the ScreenCast portal
 * (org.freedesktop.portal.ScreenCast) shares one monitor as a PipeWire
 * stream, and pw-frame.c takes one frame from it. The portal asks the user
 * once; its restore token (persist_mode 2) is kept in a 0600 file beside
 * the journal, so later captures do not ask again while the consent holds.
 *
 * For tests only: with STINT_SCREENCAST_SOURCE=mutter the stream comes
 * from org.gnome.Mutter.ScreenCast (RecordMonitor) instead of the portal,
 * so the PipeWire path can be tested on a headless mutter where no one can
 * answer the portal's dialog. Nothing else reads that variable.
 *
 * Every wait is bounded (SCREENCAST_MS in screencast.c): a refusal, a
 * missing portal or a silent one end in an error sentence, never a hang.
 * libdbus and libpipewire are loaded with dlopen() only when a capture is
 * tried (dbus-dl.h, pw-frame.h).
 *
 * Threads: one capture at a time (the engine's capture thread).
 * Errors: negative errno-style codes with a lowercase sentence in err:
 * -EACCES and "... permission refused ..." when the portal answered with a
 * non-zero response (the user cancelled or the desktop refused).
 */
#ifndef STINT_TRACKER_SCREENCAST_H
#define STINT_TRACKER_SCREENCAST_H

#include <stdbool.h>
#include <stddef.h>

#include "tracker/platform/pw-frame.h"

/* Where the restore token is kept (malloc()ed), or NULL without a home. */
char *tk_screencast_token_path(void);
/* Whether a restore token is kept, i.e. the user consented before. */
bool tk_screencast_consent_kept(void);
/* One frame of the monitor the user shares; see above for the errors. */
int tk_screencast_frame(struct tk_pw_frame *ret_frame, char *err, size_t errlen);

#endif
