/*
 * POSIX spellings that mingw-w64 lacks, for the Windows build only: meson
 * passes it with -include to every C file of the cross build (as git's
 * compat/mingw.h), so callers keep one spelling and never #ifdef. Only
 * names whose meaning is the same on both systems belong here; what
 * behaves differently (locks, durable replace, random bytes, clocks,
 * directories) is a function of lib/os.h instead.
 */
#ifndef STINT_COMPAT_WIN32_H
#define STINT_COMPAT_WIN32_H

#include <direct.h>
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

/* Linux's "no keyring" code, which mingw's errno.h lacks (lib/secret.h returns it). */
#ifndef ENOKEY
#define ENOKEY 126
#endif

/* Handles are not inherited by the programs stint starts (it starts none). */
#ifndef O_CLOEXEC
#define O_CLOEXEC _O_NOINHERIT
#endif
#ifndef O_NOCTTY
#define O_NOCTTY 0
#endif

/*
 * Files are bytes, as on Linux: without _O_BINARY msvcrt's open() turns
 * "\r\n" into "\n" and stops at ^Z, which breaks a JPEG and any size
 * checked against fstat. Every open() names one of these three.
 */
#undef O_RDONLY
#undef O_WRONLY
#undef O_RDWR
#define O_RDONLY (_O_RDONLY | _O_BINARY)
#define O_WRONLY (_O_WRONLY | _O_BINARY)
#define O_RDWR (_O_RDWR | _O_BINARY)

/* Windows has no permission bits to give a new directory: %APPDATA% is the user's. */
#define mkdir(path, mode) _mkdir(path)

static inline struct tm *stint_compat_gmtime_r(const time_t *t, struct tm *ret)
{
    return gmtime_s(ret, t) == 0 ? ret : NULL;
}
#undef gmtime_r
#define gmtime_r stint_compat_gmtime_r

/* A wipe the compiler may not drop (secrets leave memory before it is freed). */
static inline void stint_compat_explicit_bzero(void *p, size_t n)
{
    volatile unsigned char *v = p;
    while (n--)
        *v++ = 0;
}
#define explicit_bzero stint_compat_explicit_bzero

/* _commit flushes the file to the disk, as fsync does. */
#define fsync _commit

/* Windows has no mode bits: files under the user's profile are the user's by its ACL. */
static inline int stint_compat_fchmod(int fd, int mode)
{
    (void)fd;
    (void)mode;
    return 0;
}
#define fchmod stint_compat_fchmod

/* pread/pwrite on small files only (the journal's lock file); they move the offset. */
static inline ssize_t stint_compat_pread(int fd, void *buf, size_t n, off_t off)
{
    if (_lseeki64(fd, off, SEEK_SET) < 0)
        return -1;
    return _read(fd, buf, (unsigned)n);
}
static inline ssize_t stint_compat_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (_lseeki64(fd, off, SEEK_SET) < 0)
        return -1;
    return _write(fd, buf, (unsigned)n);
}
#define pread stint_compat_pread
#define pwrite stint_compat_pwrite

/* BSD's random numbers (glibc has them too), from BCryptGenRandom: lib/os-win32.c. */
uint32_t arc4random(void);
uint32_t arc4random_uniform(uint32_t upper);

#endif
