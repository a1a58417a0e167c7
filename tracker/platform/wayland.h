/*
 * What the Wayland backend (wayland.c) tells tests beyond struct
 * tk_platform: how many times its capture function ran in this process, so
 * that the privacy tests can prove nothing was captured while the timer was
 * stopped. Every read of the screen's pixels in wayland.c goes through it.
 */
#ifndef STINT_TRACKER_WAYLAND_H
#define STINT_TRACKER_WAYLAND_H

/* Calls of tk_platform_wayland's capture since the process started (any ctx, any thread). */
int tk_wayland_capture_calls(void);

#endif
