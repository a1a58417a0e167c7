/*
 * cli/console.h on Windows: a console control handler (Ctrl-C, Ctrl-Break,
 * the console closing, log-off, shut-down) sets a stop event; `stint sync`
 * nudges the timer of process PID through the named event
 * Local\stint-sync-PID; the loop waits on both (WaitForMultipleObjects)
 * with the engine's timeout, since the engine has no fd here (engine.h).
 * The terminal counts as having input when its queue holds a key press.
 * Not for Linux (console-posix.c).
 */
#include "cli/console.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <errno.h>
#include <io.h>
#include <stdio.h>
#include <unistd.h>

static HANDLE stop_event, kick_event;

static BOOL WINAPI on_control(DWORD type)
{
    SetEvent(stop_event);
    /* Closing the console gives a few seconds: the loop stops and flushes meanwhile. */
    if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT)
        Sleep(5000);
    return TRUE;
}

static void kick_name(int pid, wchar_t *buf, size_t len)
{
    _snwprintf(buf, len, L"Local\\stint-sync-%d", pid);
    buf[len - 1] = L'\0';
}

int cli_console_open(void)
{
    wchar_t name[64];

    kick_name((int)GetCurrentProcessId(), name, 64);
    stop_event = CreateEventW(NULL, FALSE, FALSE, NULL);
    kick_event = CreateEventW(NULL, FALSE, FALSE, name);
    if (!stop_event || !kick_event || !SetConsoleCtrlHandler(on_control, TRUE)) {
        cli_console_close();
        return -EIO;
    }
    return 0;
}

void cli_console_close(void)
{
    SetConsoleCtrlHandler(on_control, FALSE);
    if (stop_event)
        CloseHandle(stop_event);
    if (kick_event)
        CloseHandle(kick_event);
    stop_event = kick_event = NULL;
}

/* Whether the console's input queue holds a key press; other events are dropped. */
static bool key_waiting(HANDLE in)
{
    INPUT_RECORD rec;
    DWORD n;

    while (PeekConsoleInputW(in, &rec, 1, &n) && n == 1) {
        if (rec.EventType == KEY_EVENT && rec.Event.KeyEvent.bKeyDown &&
            rec.Event.KeyEvent.uChar.UnicodeChar)
            return true;
        ReadConsoleInputW(in, &rec, 1, &n);
    }
    return false;
}

unsigned cli_console_wait(int engine_fd, int timeout_ms, bool want_input)
{
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    HANDLE h[3] = {stop_event, kick_event, in};
    DWORD n = want_input && cli_console_is_tty() ? 3 : 2;
    DWORD w;
    unsigned got = 0;

    (void)engine_fd; /* always -1 here: the engine is ticked on its timeout */
    if (n == 3 && key_waiting(in))
        return CLI_CONSOLE_INPUT;
    w = WaitForMultipleObjects(n, h, FALSE, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
    if (w == WAIT_OBJECT_0)
        got |= CLI_CONSOLE_STOP;
    else if (w == WAIT_OBJECT_0 + 1)
        got |= CLI_CONSOLE_KICK;
    else if (w == WAIT_OBJECT_0 + 2 && key_waiting(in))
        got |= CLI_CONSOLE_INPUT;
    return got;
}

ssize_t cli_console_read(char *buf, size_t len)
{
    return _read(_fileno(stdin), buf, (unsigned)len);
}

bool cli_console_is_tty(void)
{
    DWORD mode;

    return GetConsoleMode(GetStdHandle(STD_INPUT_HANDLE), &mode) != 0;
}

int cli_console_poke(int pid)
{
    wchar_t name[64];
    HANDLE h;

    kick_name(pid, name, 64);
    h = OpenEventW(EVENT_MODIFY_STATE, FALSE, name);
    if (!h)
        return GetLastError() == ERROR_FILE_NOT_FOUND ? -ESRCH : -EIO;
    SetEvent(h);
    CloseHandle(h);
    return 0;
}
