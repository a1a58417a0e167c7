/*
 * lib/os.h on Windows: the known folders, BCryptGenRandom, the unbiased
 * interrupt time (which stops while the machine sleeps, as Linux's
 * CLOCK_MONOTONIC does), LockFileEx and MoveFileExW. Paths are UTF-8 in
 * stint and UTF-16 here, at the edge. Not for Linux (os-posix.c).
 */
#include "lib/os.h"

#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <bcrypt.h>
#include <errno.h>
#include <io.h>
#include <knownfolders.h>
#include <shellapi.h>
#include <shlobj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <winhttp.h>

#include "lib/xalloc.h"

/* A UTF-8 string as UTF-16, newly allocated; NULL when s is not UTF-8. */
static wchar_t *wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w;

    if (n <= 0)
        return NULL;
    w = xmalloc((size_t)n * sizeof(*w));
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        return NULL;
    }
    return w;
}

/* A UTF-16 string as UTF-8, newly allocated; NULL on a broken string. */
static char *narrow(const wchar_t *w)
{
    int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
    char *s;

    if (n <= 0)
        return NULL;
    s = xmalloc((size_t)n);
    if (WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n) {
        free(s);
        return NULL;
    }
    return s;
}

/* <known folder>\stint, newly allocated, or NULL. */
static char *known_dir(REFKNOWNFOLDERID id)
{
    wchar_t *w = NULL;
    char *base, *dir = NULL;

    if (SHGetKnownFolderPath(id, KF_FLAG_CREATE, NULL, &w) != S_OK)
        goto out;
    base = narrow(w);
    if (base) {
        dir = xasprintf("%s\\stint", base);
        free(base);
    }
out:
    CoTaskMemFree(w);
    return dir;
}

char *st_os_config_dir(void)
{
    return known_dir(&FOLDERID_RoamingAppData);
}

char *st_os_data_dir(void)
{
    return known_dir(&FOLDERID_LocalAppData);
}

int st_os_random(void *buf, size_t n)
{
    unsigned char *b = buf;

    while (n > 0) {
        ULONG k = n > 0x10000000 ? 0x10000000 : (ULONG)n;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, b, k, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return -EIO;
        b += k;
        n -= k;
    }
    return 0;
}

int64_t st_os_wall_ms(void)
{
    FILETIME ft;
    ULARGE_INTEGER u;

    /* 100 ns ticks since 1601-01-01; the Unix epoch is 11644473600 s later. */
    GetSystemTimePreciseAsFileTime(&ft);
    u.LowPart = ft.dwLowDateTime;
    u.HighPart = ft.dwHighDateTime;
    return (int64_t)(u.QuadPart / 10000) - INT64_C(11644473600000);
}

int64_t st_os_mono_ms(void)
{
    ULONGLONG t = 0;

    /* 100 ns ticks of interrupt time without the time spent asleep. */
    QueryUnbiasedInterruptTime(&t);
    return (int64_t)(t / 10000);
}

/* The byte the lock takes: far past any content, so reads of the file still work. */
#define LOCK_OFFSET_HIGH 0x40000000u

int st_os_lock(int fd, bool exclusive)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    OVERLAPPED ov = {0};
    DWORD flags = LOCKFILE_FAIL_IMMEDIATELY | (exclusive ? LOCKFILE_EXCLUSIVE_LOCK : 0);

    if (h == INVALID_HANDLE_VALUE)
        return -EBADF;
    ov.OffsetHigh = LOCK_OFFSET_HIGH;
    if (!LockFileEx(h, flags, 0, 1, 0, &ov)) {
        DWORD e = GetLastError();
        return e == ERROR_LOCK_VIOLATION || e == ERROR_IO_PENDING ? -EBUSY : -EIO;
    }
    /* A shared probe must not keep others out: let it go at once. */
    if (!exclusive)
        UnlockFileEx(h, 0, 1, 0, &ov);
    return 0;
}

int st_os_replace(const char *tmp, const char *path)
{
    wchar_t *wt = wide(tmp), *wp = wide(path);
    int r = 0;

    if (!wt || !wp)
        r = -EINVAL;
    else if (!MoveFileExW(wt, wp, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
        r = GetLastError() == ERROR_ACCESS_DENIED ? -EACCES : -EIO;
    free(wt);
    free(wp);
    return r;
}

struct st_os_waker {
    volatile LONG rung;
};

int st_os_waker_new(struct st_os_waker **ret)
{
    *ret = xcalloc(1, sizeof(**ret));
    return 0;
}

void st_os_waker_free(struct st_os_waker *w)
{
    free(w);
}

int st_os_waker_fd(const struct st_os_waker *w)
{
    return -1;
}

void st_os_waker_ring(struct st_os_waker *w)
{
    InterlockedExchange(&w->rung, 1);
}

bool st_os_waker_drain(struct st_os_waker *w)
{
    return InterlockedExchange(&w->rung, 0) != 0;
}

uint32_t arc4random(void)
{
    uint32_t v;

    if (st_os_random(&v, sizeof(v)) < 0)
        abort(); /* as glibc's: there is no way to go on without randomness */
    return v;
}

uint32_t arc4random_uniform(uint32_t upper)
{
    uint32_t v, floor;

    if (upper < 2)
        return 0;
    /* Rejects the low values that would make some results likelier. */
    floor = (uint32_t)(-upper) % upper;
    do
        v = arc4random();
    while (v < floor);
    return v % upper;
}

void st_os_console_utf8(void)
{
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    DWORD mode;

    SetConsoleOutputCP(CP_UTF8);
    SetConsoleCP(CP_UTF8);
    /* The live status line redraws itself with "\r\033[K", as on a Linux terminal. */
    if (out != INVALID_HANDLE_VALUE && GetConsoleMode(out, &mode))
        SetConsoleMode(out, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
}

bool st_os_utf8_text(void)
{
    return true;
}

int st_os_char_width(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ? -1 : 1;
}

int st_os_host_name(char *buf, size_t len)
{
    wchar_t w[MAX_COMPUTERNAME_LENGTH + 1];
    DWORD n = MAX_COMPUTERNAME_LENGTH + 1;
    char *s;

    if (len == 0 || !GetComputerNameW(w, &n))
        return -EINVAL;
    s = narrow(w);
    if (!s)
        return -EINVAL;
    snprintf(buf, len, "%s", s);
    free(s);
    return 0;
}

char **st_os_utf8_argv(int argc, char **argv)
{
    int n = 0;
    wchar_t **w = CommandLineToArgvW(GetCommandLineW(), &n);
    char **out;

    /* Keep what main got when the wide line does not match it. */
    if (!w || n != argc) {
        LocalFree(w);
        return argv;
    }
    out = xcalloc((size_t)n + 1, sizeof(*out));
    for (int i = 0; i < n; i++) {
        out[i] = narrow(w[i]);
        if (!out[i]) {
            LocalFree(w);
            return argv;
        }
    }
    LocalFree(w);
    return out;
}

/* The host of url (scheme://[user@]host[:port]/...), newly allocated; NULL if none. */
static char *url_host(const char *url)
{
    const char *p = strstr(url, "://"), *end, *at;

    if (!p)
        return NULL;
    p += 3;
    end = p + strcspn(p, "/?#");
    at = memchr(p, '@', (size_t)(end - p));
    if (at)
        p = at + 1;
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        return close ? xstrndup(p + 1, (size_t)(close - p - 1)) : NULL;
    }
    return xstrndup(p, strcspn(p, ":/?#"));
}

static bool is_loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "::1") == 0;
}

/* Whether host matches one entry of a bypass list ("*.corp;<local>;10.*"). */
static bool bypassed(const char *host, const char *list)
{
    char *copy = xstrdup(list), *save = NULL;
    bool hit = false;

    for (char *e = strtok_r(copy, "; \t", &save); e && !hit; e = strtok_r(NULL, "; \t", &save)) {
        size_t hn = strlen(host), en = strlen(e);
        if (strcmp(e, "<local>") == 0)
            hit = !strchr(host, '.') && !strchr(host, ':');
        else if (e[0] == '*')
            hit = hn >= en - 1 && _stricmp(host + hn - (en - 1), e + 1) == 0;
        else if (en > 0 && e[en - 1] == '*')
            hit = _strnicmp(host, e, en - 1) == 0;
        else
            hit = _stricmp(host, e) == 0;
    }
    free(copy);
    return hit;
}

/* From "http=a:1;https=b:2" or "a:1": the proxy for scheme, newly allocated, or NULL. */
static char *pick_proxy(const char *list, const char *scheme)
{
    char *copy = xstrdup(list), *save = NULL, *out = NULL;
    size_t sn = strlen(scheme);

    if (!strchr(list, '=')) {
        out = xstrndup(list, strcspn(list, "; \t"));
    } else {
        for (char *e = strtok_r(copy, "; \t", &save); e; e = strtok_r(NULL, "; \t", &save)) {
            if (_strnicmp(e, scheme, sn) == 0 && e[sn] == '=') {
                out = xstrdup(e + sn + 1);
                break;
            }
        }
    }
    free(copy);
    if (out && !*out) {
        free(out);
        out = NULL;
    }
    return out;
}

char *st_os_proxy_for(const char *url)
{
    WINHTTP_CURRENT_USER_IE_PROXY_CONFIG cfg = {0};
    char *host = url_host(url), *list = NULL, *bypass = NULL, *proxy = NULL;
    const char *scheme = strncmp(url, "https:", 6) == 0 ? "https" : "http";

    if (!host || is_loopback(host) || !WinHttpGetIEProxyConfigForCurrentUser(&cfg))
        goto out;
    if (!cfg.lpszProxy)
        goto out;
    list = narrow(cfg.lpszProxy);
    bypass = cfg.lpszProxyBypass ? narrow(cfg.lpszProxyBypass) : NULL;
    if (list && !(bypass && bypassed(host, bypass)))
        proxy = pick_proxy(list, scheme);
out:
    if (cfg.lpszProxy)
        GlobalFree(cfg.lpszProxy);
    if (cfg.lpszProxyBypass)
        GlobalFree(cfg.lpszProxyBypass);
    if (cfg.lpszAutoConfigUrl)
        GlobalFree(cfg.lpszAutoConfigUrl);
    free(host);
    free(list);
    free(bypass);
    return proxy;
}

int st_os_cond_init(pthread_cond_t *c)
{
    return -pthread_cond_init(c, NULL);
}

/* The deadline is a point of st_os_mono_ms, kept in a timespec. */
void st_os_cond_deadline(int64_t ms, struct timespec *ret)
{
    int64_t at = st_os_mono_ms() + ms;

    ret->tv_sec = (time_t)(at / 1000);
    ret->tv_nsec = (long)(at % 1000) * 1000000;
}

int st_os_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *deadline)
{
    int64_t left = (int64_t)deadline->tv_sec * 1000 + deadline->tv_nsec / 1000000 - st_os_mono_ms();
    struct timespec rel;
    int r;

    if (left <= 0)
        return ETIMEDOUT;
    rel.tv_sec = (time_t)(left / 1000);
    rel.tv_nsec = (long)(left % 1000) * 1000000;
    r = pthread_cond_timedwait_relative_np(c, m, &rel);
    return r == ETIMEDOUT && st_os_mono_ms() < deadline->tv_sec * 1000 + deadline->tv_nsec / 1000000
               ? 0 /* woke a little early: the caller waits again */
               : r;
}
