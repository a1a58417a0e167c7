/*
 * String helpers. See str.h.
 */
#include "lib/str.h"

#include <string.h>

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
