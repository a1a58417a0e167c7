/*
 * What differs between the systems stint's faces run on, for lib/ and
 * tracker/: per-user directories (and, as the Windows port grows, file
 * locks, durable replace, random bytes, clocks). One header, one file per
 * system: os-posix.c on Linux, os-win32.c on Windows; lib/meson.build
 * picks the file by host_machine.system(), callers never #ifdef. Not for
 * the desktop's own seams (tracker/platform/platform.h holds those).
 */
#ifndef STINT_OS_H
#define STINT_OS_H

/*
 * stint's per-user folder for settings and the sign-in, newly allocated,
 * without a trailing separator: $XDG_CONFIG_HOME/stint (an absolute value
 * only, as the XDG spec says), else $HOME/.config/stint, else the passwd
 * entry's home; on Windows %APPDATA%\stint (roaming). NULL when no home is
 * known. The folder may not exist yet.
 */
char *st_os_config_dir(void);

/*
 * stint's per-user folder for the journal and the screenshots, newly
 * allocated: $XDG_DATA_HOME/stint, else $HOME/.local/share/stint; on
 * Windows %LOCALAPPDATA%\stint (not roaming: the journal stays on the
 * machine). NULL when no home is known.
 */
char *st_os_data_dir(void);

#endif
