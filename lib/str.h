/*
 * Small string helpers the C library lacks.
 */
#ifndef STINT_STR_H
#define STINT_STR_H

#include <stddef.h>

/*
 * Copies src into dst of size bytes, cutting it short if needed (never in
 * the middle of a UTF-8 character), always NUL-terminated when size > 0.
 * Returns the length of src, so a result ≥ size means it was cut.
 */
size_t st_strlcpy(char *dst, const char *src, size_t size);

/* mkdir -p: creates dir and its missing parents, mode 0700; 0 or -errno. */
int st_mkdir_p(const char *dir);

#endif
