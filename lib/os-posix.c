/*
 * lib/os.h on Linux (and other POSIX systems): the XDG base directories.
 * Not for Windows (os-win32.c).
 */
#include "lib/os.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

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

int st_os_random(void *buf, size_t n)
{
    unsigned char *b = buf;
    size_t got = 0;

    while (got < n) {
        ssize_t k = getrandom(b + got, n - got, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -EIO;
        }
        got += (size_t)k;
    }
    return 0;
}

static int64_t ts_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t st_os_wall_ms(void)
{
    return ts_ms(CLOCK_REALTIME);
}

int64_t st_os_mono_ms(void)
{
    return ts_ms(CLOCK_MONOTONIC);
}

int st_os_lock(int fd, bool exclusive)
{
    if (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0)
        return errno == EWOULDBLOCK ? -EBUSY : -errno;
    return 0;
}

int st_os_replace(const char *tmp, const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd, r = 0;

    if (rename(tmp, path) < 0)
        return -errno;
    /* The rename is durable once the folder that holds path is synced. */
    dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        r = -errno;
    else if (fsync(fd) < 0)
        r = -errno;
    if (fd >= 0)
        close(fd);
    free(dir);
    return r;
}

struct st_os_waker {
    int epfd, rd, wr;
};

int st_os_waker_new(struct st_os_waker **ret)
{
    struct st_os_waker *w = xcalloc(1, sizeof(*w));
    struct epoll_event ev = {.events = EPOLLIN};
    int fds[2], r;

    w->epfd = w->rd = w->wr = -1;
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0 || (w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        r = -errno;
        st_os_waker_free(w);
        return r;
    }
    w->rd = fds[0];
    w->wr = fds[1];
    ev.data.fd = w->rd;
    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->rd, &ev);
    *ret = w;
    return 0;
}

void st_os_waker_free(struct st_os_waker *w)
{
    if (!w)
        return;
    if (w->epfd >= 0)
        close(w->epfd);
    if (w->rd >= 0)
        close(w->rd);
    if (w->wr >= 0)
        close(w->wr);
    free(w);
}

int st_os_waker_fd(const struct st_os_waker *w)
{
    return w->epfd;
}

void st_os_waker_ring(struct st_os_waker *w)
{
    char c = 1;

    if (write(w->wr, &c, 1) < 0) {
        /* Full pipe: the main loop is already due to look. */
    }
}

bool st_os_waker_drain(struct st_os_waker *w)
{
    char buf[64];
    bool rung = false;

    while (read(w->rd, buf, sizeof(buf)) > 0)
        rung = true;
    return rung;
}

void st_os_console_utf8(void)
{
}

bool st_os_utf8_text(void)
{
    return strcasecmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

int st_os_char_width(uint32_t cp)
{
    return wcwidth((wchar_t)cp);
}

int st_os_host_name(char *buf, size_t len)
{
    if (len == 0)
        return -EINVAL;
    if (gethostname(buf, len - 1) < 0)
        return -errno;
    buf[len - 1] = '\0';
    return 0;
}

char **st_os_utf8_argv(int argc, char **argv)
{
    return argv;
}

char *st_os_proxy_for(const char *url)
{
    return NULL;
}

int st_os_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t ca;
    int r;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    r = pthread_cond_init(c, &ca);
    pthread_condattr_destroy(&ca);
    return -r;
}

void st_os_cond_deadline(int64_t ms, struct timespec *ret)
{
    clock_gettime(CLOCK_MONOTONIC, ret);
    ret->tv_sec += ms / 1000;
    ret->tv_nsec += (ms % 1000) * 1000000;
    if (ret->tv_nsec >= 1000000000) {
        ret->tv_sec++;
        ret->tv_nsec -= 1000000000;
    }
}

int st_os_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *deadline)
{
    return pthread_cond_timedwait(c, m, deadline);
}
