/*
 * What the Windows backend (win32.c) tells tests beyond struct tk_platform:
 * how many times it was asked to read the screen in this process, which is
 * how the privacy tests prove that nothing was captured while the timer was
 * stopped. Every read of the screen's pixels in win32.c goes through the one
 * function that counts.
 */
#ifndef STINT_TRACKER_WIN32_H
#define STINT_TRACKER_WIN32_H

/* Calls of tk_platform_native.capture / capture_rows since the process started (any ctx). */
int tk_win32_capture_calls(void);

#endif
