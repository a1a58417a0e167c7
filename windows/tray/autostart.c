/* The Run key value of "start at sign-in" (autostart.h). */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include "windows/tray/autostart.h"

#include <errno.h>
#include <stdio.h>
#include <wchar.h>

static const wchar_t RUN_KEY[] = L"Software\\Microsoft\\Windows\\CurrentVersion\\Run";
static const wchar_t VALUE[] =
    L"stint tracker"; /* the installer's uninstaller removes it by this name */

bool tray_autostart_enabled(void)
{
    HKEY k;
    DWORD type = 0;
    LONG rc;

    if (RegOpenKeyExW(HKEY_CURRENT_USER, RUN_KEY, 0, KEY_QUERY_VALUE, &k) != ERROR_SUCCESS)
        return false;
    rc = RegQueryValueExW(k, VALUE, NULL, &type, NULL, NULL);
    RegCloseKey(k);
    return rc == ERROR_SUCCESS && type == REG_SZ;
}

int tray_autostart_set(bool on)
{
    wchar_t exe[MAX_PATH], cmd[MAX_PATH + 32];
    HKEY k;
    LONG rc;

    if (RegCreateKeyExW(HKEY_CURRENT_USER, RUN_KEY, 0, NULL, 0, KEY_SET_VALUE, NULL, &k, NULL) !=
        ERROR_SUCCESS)
        return -EACCES;
    if (on) {
        DWORD n = GetModuleFileNameW(NULL, exe, MAX_PATH);
        if (n == 0 || n >= MAX_PATH) {
            RegCloseKey(k);
            return -ENAMETOOLONG;
        }
        swprintf(cmd, MAX_PATH + 32, L"\"%ls\" --background", exe);
        rc = RegSetValueExW(k, VALUE, 0, REG_SZ, (const BYTE *)cmd,
                            (DWORD)((wcslen(cmd) + 1) * sizeof(wchar_t)));
    } else {
        rc = RegDeleteValueW(k, VALUE);
        if (rc == ERROR_FILE_NOT_FOUND)
            rc = ERROR_SUCCESS;
    }
    RegCloseKey(k);
    return rc == ERROR_SUCCESS ? 0 : -EIO;
}
