/*
 * String helpers. See str.h.
 */
#include "lib/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xalloc.h"

size_t st_strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src), n;

    if (size == 0)
        return len;
    n = len < size - 1 ? len : size - 1;
    /* Do not leave half a character at the cut. */
    if (n < len)
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return len;
}

int st_mkdir_p(const char *dir)
{
    char *p = xstrdup(dir);
    int r = 0;

    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, 0700) < 0 && errno != EEXIST) {
            r = -errno;
            break;
        }
        *s = saved;
        if (saved == '\0')
            break;
    }
    free(p);
    return r;
}

size_t st_utf8_decode(const unsigned char *s, long *ret_cp)
{
    size_t n;
    long cp;

    if (s[0] < 0x80) {
        *ret_cp = s[0];
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 1;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 2;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 3;
        cp = s[0] & 0x07;
    } else {
        *ret_cp = -1;
        return 1;
    }
    for (size_t k = 1; k <= n; k++) {
        if ((s[k] & 0xC0) != 0x80) {
            *ret_cp = -1;
            return 1;
        }
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
        *ret_cp = -1;
        return 1;
    }
    *ret_cp = cp;
    return n + 1;
}

int st_capbuf_add(struct st_capbuf *b, const void *p, size_t n)
{
    if (b->too_big || n > b->max - b->len) {
        b->too_big = true;
        return -1;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > b->max + 1)
            cap = b->max + 1;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

size_t st_capbuf_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    size_t n = size * nmemb;

    return st_capbuf_add(userdata, ptr, n) < 0 ? 0 : n;
}

char *st_read_secret_line(int fd, size_t max)
{
    char *buf = xmalloc(max + 2);
    size_t used = 0, line;

    /* Read to the end (or one byte past max): a sender's close is the boundary, not a newline. */
    while (used < max + 1) {
        ssize_t n = read(fd, buf + used, max + 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
    }
    buf[used] = '\0';
    line = strcspn(buf, "\n");
    if (line == 0 || line > max) {
        explicit_bzero(buf, used);
        free(buf);
        return NULL;
    }
    buf[line] = '\0';
    return buf;
}
