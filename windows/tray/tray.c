/*
 * The notification-area icon (tray.h) through Shell_NotifyIconW, with the
 * state icons made once per size at first use.
 */
#include "windows/tray/tray.h"

#include <shellapi.h>
#include <wchar.h>

#define TRAY_ID 1

static HICON icons[4];
static enum tray_state shown = TRAY_STOPPED;
static wchar_t shown_tip[128];

static HICON icon_of(enum tray_state s)
{
    if (!icons[s])
        icons[s] = tray_icon_make(s, GetSystemMetrics(SM_CXSMICON));
    return icons[s];
}

static void fill(NOTIFYICONDATAW *n, HWND wnd)
{
    memset(n, 0, sizeof(*n));
    n->cbSize = sizeof(*n);
    n->hWnd = wnd;
    n->uID = TRAY_ID;
}

bool tray_add(HWND wnd, enum tray_state state, const wchar_t *tip)
{
    NOTIFYICONDATAW n;

    fill(&n, wnd);
    n.uFlags = NIF_ICON | NIF_MESSAGE | NIF_TIP | NIF_SHOWTIP;
    n.uCallbackMessage = TRAY_MSG;
    n.hIcon = icon_of(state);
    wcsncpy(n.szTip, tip, sizeof(n.szTip) / sizeof(n.szTip[0]) - 1);
    shown = state;
    wcsncpy(shown_tip, tip, sizeof(shown_tip) / sizeof(shown_tip[0]) - 1);
    if (!Shell_NotifyIconW(NIM_ADD, &n))
        return false;
    n.uVersion = NOTIFYICON_VERSION_4;
    Shell_NotifyIconW(NIM_SETVERSION, &n);
    return true;
}

void tray_readd(HWND wnd)
{
    wchar_t tip[128];

    wcscpy(tip, shown_tip);
    tray_add(wnd, shown, tip);
}

void tray_set(HWND wnd, enum tray_state state, const wchar_t *tip)
{
    NOTIFYICONDATAW n;

    if (state == shown && wcscmp(tip, shown_tip) == 0)
        return;
    fill(&n, wnd);
    n.uFlags = NIF_ICON | NIF_TIP | NIF_SHOWTIP;
    n.hIcon = icon_of(state);
    wcsncpy(n.szTip, tip, sizeof(n.szTip) / sizeof(n.szTip[0]) - 1);
    shown = state;
    wcsncpy(shown_tip, tip, sizeof(shown_tip) / sizeof(shown_tip[0]) - 1);
    Shell_NotifyIconW(NIM_MODIFY, &n);
}

void tray_balloon(HWND wnd, const wchar_t *title, const wchar_t *text, bool error)
{
    NOTIFYICONDATAW n;

    fill(&n, wnd);
    n.uFlags = NIF_INFO;
    n.dwInfoFlags = error ? NIIF_ERROR : NIIF_INFO;
    wcsncpy(n.szInfoTitle, title, sizeof(n.szInfoTitle) / sizeof(n.szInfoTitle[0]) - 1);
    wcsncpy(n.szInfo, text, sizeof(n.szInfo) / sizeof(n.szInfo[0]) - 1);
    Shell_NotifyIconW(NIM_MODIFY, &n);
}

void tray_remove(HWND wnd)
{
    NOTIFYICONDATAW n;

    fill(&n, wnd);
    Shell_NotifyIconW(NIM_DELETE, &n);
}
