/*
 * What the X11 backend (x11.c) tells tests beyond struct tk_platform: how
 * many times its capture function ran in this process, which is how the
 * privacy tests prove that nothing was captured while the timer was stopped.
 * Every read of the screen's pixels in x11.c goes through that function.
 */
#ifndef STINT_TRACKER_X11_H
#define STINT_TRACKER_X11_H

/* Calls of tk_platform_x11.capture since the process started (any ctx, any thread). */
int tk_x11_capture_calls(void);

#endif
