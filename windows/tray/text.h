/*
 * UTF-8 (the engine's and the library's strings) to UTF-16 (Windows' wide
 * API) and back, for the tray app. Both return newly allocated strings
 * (xmalloc: out of memory aborts) that the caller frees; NULL in gives NULL.
 * Invalid input is converted with U+FFFD, never refused.
 */
#ifndef STINT_TRAY_TEXT_H
#define STINT_TRAY_TEXT_H

#include <wchar.h>

wchar_t *tray_wide(const char *utf8);
char *tray_utf8(const wchar_t *wide);
/* The text of a window (an edit control) as UTF-8, newly allocated; "" when empty. */
char *tray_window_text(void *hwnd);
/* "1:05" from seconds (hours:minutes), into out. */
void tray_hm(long long seconds, wchar_t *out, size_t n);

#endif
