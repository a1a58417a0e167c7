/*
 * The tray app's state icons, drawn at run time (no image files, no
 * third-party art): a disc in the state's colour, with a shape of its own
 * so that the states differ without colour too. Stopped: a grey ring.
 * Tracking: a green disc with a white dot. Offline: an amber disc with a
 * white bar. Error: a red disc with a white cross.
 */
#ifndef STINT_TRAY_ICONS_H
#define STINT_TRAY_ICONS_H

#include <windows.h>

enum tray_state {
    TRAY_STOPPED,
    TRAY_TRACKING,
    TRAY_OFFLINE,
    TRAY_ERROR,
};

/* An icon of size x size pixels for state; the caller destroys it (DestroyIcon). NULL on failure.
 */
HICON tray_icon_make(enum tray_state state, int size);

#endif
