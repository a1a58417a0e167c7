/*
 * Start at login (stint-autostart.h): write or remove one key file.
 */
#include "desktop/stint-autostart.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#define ENTRY_NAME "dev.stint.Tracker.desktop"

char *stint_autostart_dup_path(void)
{
    return g_build_filename(g_get_user_config_dir(), "autostart", ENTRY_NAME, NULL);
}

gboolean stint_autostart_is_enabled(void)
{
    g_autofree char *path = stint_autostart_dup_path();

    return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

gboolean stint_autostart_set(gboolean enabled, GError **error)
{
    g_autofree char *path = stint_autostart_dup_path();
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *exe = NULL, *quoted = NULL, *text = NULL;

    if (!enabled) {
        if (g_unlink(path) < 0 && errno != ENOENT) {
            g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "Cannot remove %s: %s",
                        path, g_strerror(errno));
            return FALSE;
        }
        return TRUE;
    }
    /* The binary that runs now, so a build tree's app starts as well as an installed one. */
    exe = g_file_read_link("/proc/self/exe", NULL);
    quoted = g_shell_quote(exe ? exe : "stint-tracker");
    text = g_strdup_printf("[Desktop Entry]\n"
                           "Type=Application\n"
                           "Name=stint Tracker\n"
                           "Comment=Track time on hourly contracts\n"
                           "Exec=%s\n"
                           "Icon=dev.stint.Tracker\n"
                           "Terminal=false\n"
                           "X-GNOME-Autostart-enabled=true\n",
                           quoted);
    if (g_mkdir_with_parents(dir, 0700) < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "Cannot create %s: %s", dir,
                    g_strerror(errno));
        return FALSE;
    }
    return g_file_set_contents(path, text, -1, error);
}
