/*
 * String helpers. See str.h.
 */
#include "lib/str.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
