/*
 * Allocation wrappers that abort with a message when memory runs out, so that
 * out-of-memory handling does not spread through every caller. Sizes that a
 * user controls must be capped by the caller before they reach these.
 */
#ifndef STINT_XALLOC_H
#define STINT_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
