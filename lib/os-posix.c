/*
 * lib/os.h on Linux (and other POSIX systems): the XDG base directories.
 * Not for Windows (os-win32.c).
 */
#include "lib/os.h"

#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "lib/xalloc.h"

/* $<xdg_var>/stint when that is absolute, else <home>/<fallback>/stint. */
static char *xdg_dir(const char *xdg_var, const char *fallback)
{
    const char *xdg = getenv(xdg_var);
    const char *home;

    /* The XDG spec says a relative value is invalid and must be ignored. */
    if (xdg && xdg[0] == '/')
        return xasprintf("%s/stint", xdg);
    home = getenv("HOME");
    if (!home || home[0] != '/') {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || home[0] != '/')
        return NULL;
    return xasprintf("%s/%s/stint", home, fallback);
}

char *st_os_config_dir(void)
{
    return xdg_dir("XDG_CONFIG_HOME", ".config");
}

char *st_os_data_dir(void)
{
    return xdg_dir("XDG_DATA_HOME", ".local/share");
}
