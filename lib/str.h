/*
 * Small string helpers the C library lacks.
 */
#ifndef STINT_STR_H
#define STINT_STR_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Copies src into dst of size bytes, cutting it short if needed (never in
 * the middle of a UTF-8 character), always NUL-terminated when size > 0.
 * Returns the length of src, so a result ≥ size means it was cut.
 */
size_t st_strlcpy(char *dst, const char *src, size_t size);

/*
 * Decodes the UTF-8 sequence at s (NUL-terminated, or at least 4 bytes
 * readable). Returns its length and the code point in *ret_cp, or 1 and -1
 * for a byte that does not start a valid sequence (overlong forms,
 * surrogates and values past U+10FFFF included).
 */
size_t st_utf8_decode(const unsigned char *s, long *ret_cp);

/*
 * A growing byte buffer with a cap, for answers read from the network:
 * appending past max is refused before anything is allocated (too_big is
 * set and stays set). data is NUL-terminated after len bytes once anything
 * was appended; free it with free().
 */
struct st_capbuf {
    char *data;
    size_t len, cap, max;
    bool too_big;
};

/* Appends n bytes; 0, or -1 (and too_big) when it would pass max. */
int st_capbuf_add(struct st_capbuf *b, const void *p, size_t n);

/*
 * The same as a libcurl CURLOPT_WRITEFUNCTION (the userdata is the
 * struct st_capbuf): returns size * nmemb, or 0 to make libcurl stop.
 */
size_t st_capbuf_write(char *ptr, size_t size, size_t nmemb, void *userdata);

/* mkdir -p: creates dir and its missing parents, mode 0700; 0 or -errno. */
int st_mkdir_p(const char *dir);

/*
 * A secret handed over on a descriptor (a token on a pipe): the first line
 * of what fd gives until its end, at most max bytes. Newly allocated, or
 * NULL when it is empty, longer than max, or unreadable. Does not close fd.
 */
char *st_read_secret_line(int fd, size_t max);

#endif
