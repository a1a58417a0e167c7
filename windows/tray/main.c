/*
 * stint-tracker.exe, the Windows face of the tracker: a notification-area
 * icon and a small window (window.h) over the same engine, journal,
 * settings and sign-in as stint.exe. One instance per user: a second start
 * brings the first one's window forward and ends. --background starts with
 * the icon only (the Run key's "start at sign-in").
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <commctrl.h>

#include <stdbool.h>
#include <stdio.h>
#include <wchar.h>

#include <curl/curl.h>

#include "windows/tray/window.h"

/* A per-user name: the session's namespace, and the user's name in it (fast user switching). */
static HANDLE single_instance(bool *ret_first)
{
    wchar_t user[256] = L"", name[320];
    DWORD n = 256;
    HANDLE m;

    GetUserNameW(user, &n);
    swprintf(name, 320, L"Local\\stint-tracker-%ls", user);
    m = CreateMutexW(NULL, TRUE, name);
    *ret_first = m && GetLastError() != ERROR_ALREADY_EXISTS;
    return m;
}

int WINAPI WinMain(HINSTANCE inst, HINSTANCE prev, LPSTR cmd_ansi, int show)
{
    INITCOMMONCONTROLSEX icc = {.dwSize = sizeof(icc), .dwICC = ICC_STANDARD_CLASSES};
    const wchar_t *cmd = GetCommandLineW();
    bool first, background = cmd && wcsstr(cmd, L"--background") != NULL;
    HANDLE mutex;
    HACCEL acc;
    HWND wnd;
    MSG msg;

    (void)prev;
    (void)cmd_ansi;
    (void)show;
    mutex = single_instance(&first);
    if (!first) {
        HWND other = FindWindowW(TRAY_WINDOW_CLASS, NULL);
        if (other) {
            DWORD pid = 0;
            GetWindowThreadProcessId(other, &pid);
            AllowSetForegroundWindow(pid);
            PostMessageW(other, TRAY_MSG_SHOW, 0, 0);
        }
        fprintf(stderr, "stint-tracker: already running; its window was brought forward\n");
        fflush(stderr);
        if (mutex)
            CloseHandle(mutex);
        return 0;
    }
    InitCommonControlsEx(&icc);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    wnd = tray_window_create(inst, background);
    if (!wnd) {
        MessageBoxW(NULL, L"stint cannot open its window.", L"stint", MB_OK | MB_ICONERROR);
        return 1;
    }
    acc = tray_window_accelerators();
    while (GetMessageW(&msg, NULL, 0, 0) > 0) {
        if (TranslateAcceleratorW(wnd, acc, &msg))
            continue;
        if (IsDialogMessageW(wnd, &msg))
            continue;
        TranslateMessage(&msg);
        DispatchMessageW(&msg);
    }
    DestroyAcceleratorTable(acc);
    curl_global_cleanup();
    CloseHandle(mutex);
    return (int)msg.wParam;
}
