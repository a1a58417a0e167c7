/*
 * A minimal HTTP/1.1 client for the benchmarks: one blocking keep-alive
 * connection per caller, Content-Length bodies only (what stintd sends).
 * It measures the server, so it does as little as it can: no TLS, no
 * redirects, no chunked encoding, no proxies.
 *
 * Not for: anything but bench/ (the CLI and the tracker use libcurl).
 *
 * Threads: a struct bh_conn belongs to one thread at a time.
 */
#ifndef STINT_BENCH_HTTP_H
#define STINT_BENCH_HTTP_H

#include <stddef.h>

struct bh_conn;

/* Parses "http://HOST:PORT" (no path); 0 or -EINVAL. host must hold 64 bytes. */
int bh_parse_url(const char *url, char *host, int *ret_port);

/* Connects to host:port (an IPv4 address); NULL with errno set on failure. */
struct bh_conn *bh_connect(const char *host, int port);
/* Closes the connection. Accepts NULL. */
void bh_close(struct bh_conn *c);

/*
 * Sends one request and reads the whole response. token (may be NULL) goes
 * in a Bearer header; body (may be NULL) is sent as application/json. When
 * the server closed the connection, reconnects once and retries. Returns
 * the HTTP status, or a negative error code. *ret_body (NUL-terminated,
 * *ret_len bytes) is borrowed until the next request on c.
 */
int bh_request(struct bh_conn *c, const char *method, const char *path, const char *token,
               const char *body, size_t body_len, const char **ret_body, size_t *ret_len);

/* Seconds on the monotonic clock. */
double bh_now(void);

#endif
