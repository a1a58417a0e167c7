/*
 * cli_tty_read_quiet on Windows: the password is read from the console
 * (CONIN$) with ENABLE_ECHO_INPUT cleared. A console control handler puts
 * the mode back when Ctrl-C ends the program meanwhile. Not for Linux
 * (tty-posix.c).
 */
#include "cli/prompt.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <string.h>

static HANDLE con_in = INVALID_HANDLE_VALUE;
static DWORD saved_mode;

static BOOL WINAPI restore(DWORD type)
{
    if (con_in != INVALID_HANDLE_VALUE)
        SetConsoleMode(con_in, saved_mode);
    return FALSE; /* the default handler ends the program */
}

int cli_tty_read_quiet(const char *prompt, char *buf, size_t len)
{
    HANDLE h = CreateFileW(L"CONIN$", GENERIC_READ | GENERIC_WRITE,
                           FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    int fd, r;

    if (h == INVALID_HANDLE_VALUE)
        return -ENOTTY;
    if (!GetConsoleMode(h, &saved_mode)) {
        CloseHandle(h);
        return -ENOTTY;
    }
    fd = _open_osfhandle((intptr_t)h, _O_RDONLY);
    if (fd < 0) {
        CloseHandle(h);
        return -ENOTTY;
    }
    con_in = h;
    SetConsoleCtrlHandler(restore, TRUE);
    fputs(prompt, stderr);
    fflush(stderr);
    SetConsoleMode(h, (saved_mode & ~(DWORD)ENABLE_ECHO_INPUT) | ENABLE_LINE_INPUT);
    r = cli_read_line(fd, buf, len);
    SetConsoleMode(h, saved_mode);
    fputc('\n', stderr);
    SetConsoleCtrlHandler(restore, FALSE);
    con_in = INVALID_HANDLE_VALUE;
    _close(fd); /* closes h too */
    return r;
}
