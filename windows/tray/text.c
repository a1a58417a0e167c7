/*
 * The tray app's string conversions (text.h): one place that knows
 * MultiByteToWideChar's two-call dance.
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include "windows/tray/text.h"

#include <stdio.h>

#include "lib/xalloc.h"

wchar_t *tray_wide(const char *utf8)
{
    int n;
    wchar_t *w;

    if (!utf8)
        return NULL;
    n = MultiByteToWideChar(CP_UTF8, 0, utf8, -1, NULL, 0);
    if (n <= 0)
        n = 1;
    w = xmalloc((size_t)n * sizeof(*w));
    if (MultiByteToWideChar(CP_UTF8, 0, utf8, -1, w, n) <= 0)
        w[0] = 0;
    return w;
}

char *tray_utf8(const wchar_t *wide)
{
    int n;
    char *s;

    if (!wide)
        return NULL;
    n = WideCharToMultiByte(CP_UTF8, 0, wide, -1, NULL, 0, NULL, NULL);
    if (n <= 0)
        n = 1;
    s = xmalloc((size_t)n);
    if (WideCharToMultiByte(CP_UTF8, 0, wide, -1, s, n, NULL, NULL) <= 0)
        s[0] = 0;
    return s;
}

char *tray_window_text(void *hwnd)
{
    int n = GetWindowTextLengthW((HWND)hwnd);
    wchar_t *w = xmalloc(((size_t)n + 1) * sizeof(*w));
    char *s;

    w[0] = 0;
    GetWindowTextW((HWND)hwnd, w, n + 1);
    s = tray_utf8(w);
    free(w);
    return s;
}

void tray_hm(long long seconds, wchar_t *out, size_t n)
{
    if (seconds < 0)
        seconds = 0;
    swprintf(out, n, L"%lld:%02lld", seconds / 3600, seconds / 60 % 60);
}
