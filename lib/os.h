/*
 * What differs between the systems stint's faces run on, for lib/ and
 * tracker/: per-user directories (and, as the Windows port grows, file
 * locks, durable replace, random bytes, clocks). One header, one file per
 * system: os-posix.c on Linux, os-win32.c on Windows; lib/meson.build
 * picks the file by host_machine.system(), callers never #ifdef. Not for
 * the desktop's own seams (tracker/platform/platform.h holds those).
 *
 * Every function returns 0 or a negative errno unless it says otherwise,
 * and prints nothing.
 */
#ifndef STINT_OS_H
#define STINT_OS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

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

/*
 * Fills buf with n bytes from the system's random source (getrandom;
 * BCryptGenRandom). Never short; -EIO when the source fails.
 */
int st_os_random(void *buf, size_t n);

/* Milliseconds since the Unix epoch, as the wall clock says. */
int64_t st_os_wall_ms(void);
/*
 * Milliseconds of a clock that never goes back and does NOT count time the
 * machine spends asleep (CLOCK_MONOTONIC; QueryUnbiasedInterruptTime): a
 * resume shows up as a jump of the wall clock against this one, which the
 * recorder flags as clock_jump.
 */
int64_t st_os_mono_ms(void);

/*
 * Timed waits on a condition variable measured on the monotonic clock, so
 * that a wall-clock change neither cuts a wait short nor stretches it.
 * st_os_cond_init initialises c for them (Linux: the condition's clock is
 * CLOCK_MONOTONIC; Windows: winpthreads refuses that clock, so the wait is
 * made relative). st_os_cond_deadline writes the deadline ms from now;
 * st_os_cond_timedwait waits until it (m held) and returns 0 when woken
 * (spuriously too, as pthread_cond_timedwait) or ETIMEDOUT once it passed.
 */
int st_os_cond_init(pthread_cond_t *c);
void st_os_cond_deadline(int64_t ms, struct timespec *ret);
int st_os_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *deadline);

/*
 * Takes a lock on the open file fd without waiting: exclusive, or shared,
 * which is a probe (it succeeds only while nobody holds the exclusive one;
 * Windows lets it go at once). -EBUSY when another process holds a lock
 * that conflicts. Closing fd or the process ending releases it (flock;
 * LockFileEx on a byte far past the end, so the file's contents stay
 * readable by others on Windows too).
 */
int st_os_lock(int fd, bool exclusive);

/*
 * Puts the written, closed and fsynced file tmp in place of path, durably:
 * rename and an fsync of the folder (Linux), MoveFileExW with
 * MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH (Windows). On failure
 * path is untouched and tmp is left for the caller to remove.
 */
int st_os_replace(const char *tmp, const char *path);

/*
 * Text at the terminal. st_os_console_utf8 makes the console take and show
 * UTF-8 and understand the few escape sequences stint prints (Windows:
 * SetConsoleOutputCP/SetConsoleCP(CP_UTF8) and virtual terminal
 * processing; Linux: nothing, the locale and the terminal say). st_os_utf8_text tells whether text out is UTF-8
 * (Linux: the locale's codeset; Windows: always, after the call above).
 * st_os_char_width is the number of terminal cells of code point cp
 * (wcwidth; 1 on Windows), -1 for a control character.
 */
void st_os_console_utf8(void);
bool st_os_utf8_text(void);
int st_os_char_width(uint32_t cp);

/*
 * The program's arguments as UTF-8: argv itself on Linux; on Windows, where
 * main's argv is in the ANSI code page, the wide command line
 * (GetCommandLineW) converted, newly allocated for the life of the process.
 */
char **st_os_utf8_argv(int argc, char **argv);

/*
 * The proxy the system's settings give for url ("host:port", newly
 * allocated), or NULL for none: always NULL on Linux (libcurl reads
 * $https_proxy and friends itself); on Windows the proxy set in Windows'
 * settings (WinHttpGetIEProxyConfigForCurrentUser: a fixed proxy, per
 * scheme or for all, and its bypass list with <local>). A loopback URL
 * never goes through a proxy. Automatic configuration (PAC, WPAD) is not
 * followed.
 */
char *st_os_proxy_for(const char *url);

/* This machine's name into buf (NUL-terminated, cut to fit); 0 or a negative errno. */
int st_os_host_name(char *buf, size_t len);

/*
 * A wake-up that worker threads ring and one main loop waits on. On Linux
 * its fd (an epoll set holding a pipe) turns readable when rung; Windows
 * has no descriptor a loop could poll alongside a console, so the fd is -1
 * there and the loop looks on its next timeout instead (drain tells it).
 */
struct st_os_waker;
int st_os_waker_new(struct st_os_waker **ret);
/* Accepts NULL. */
void st_os_waker_free(struct st_os_waker *w);
/* The descriptor to poll for reading, or -1 when there is none (Windows). */
int st_os_waker_fd(const struct st_os_waker *w);
/* Rings it; from any thread, never blocks. */
void st_os_waker_ring(struct st_os_waker *w);
/* Whether it was rung since the last drain; resets it. The main loop's thread only. */
bool st_os_waker_drain(struct st_os_waker *w);

#endif
