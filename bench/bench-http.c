/*
 * The benchmarks' HTTP/1.1 client. See bench-http.h.
 */
#include "bench/bench-http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/xalloc.h"

#define HEAD_MAX 8192

struct bh_conn {
    char host[64];
    int port;
    int fd;
    char *buf; /* the response: headers, then the body */
    size_t len, cap;
    char *req; /* the request being sent */
    size_t req_cap;
};

double bh_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bh_parse_url(const char *url, char *host, int *ret_port)
{
    const char *p = url, *colon;
    char *end;
    long port;

    if (strncmp(p, "http://", 7) != 0)
        return -EINVAL;
    p += 7;
    colon = strchr(p, ':');
    if (!colon || colon == p || (size_t)(colon - p) >= 64)
        return -EINVAL;
    port = strtol(colon + 1, &end, 10);
    if ((*end && strcmp(end, "/") != 0) || port <= 0 || port > 65535)
        return -EINVAL;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    *ret_port = (int)port;
    return 0;
}

static int dial(struct bh_conn *c)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
    int one = 1;

    if (inet_pton(AF_INET, c->host, &addr.sin_addr) != 1)
        return -EINVAL;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -errno;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int r = -errno;
        close(c->fd);
        c->fd = -1;
        return r;
    }
    return 0;
}

struct bh_conn *bh_connect(const char *host, int port)
{
    struct bh_conn *c = xcalloc(1, sizeof(*c));
    int r;

    snprintf(c->host, sizeof(c->host), "%s", host);
    c->port = port;
    if ((r = dial(c)) < 0) {
        free(c);
        errno = -r;
        return NULL;
    }
    return c;
}

void bh_close(struct bh_conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    free(c->req);
    free(c);
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more bytes into c->buf; 0 on EOF, else the count or a negative error. */
static ssize_t fill(struct bh_conn *c)
{
    ssize_t n;

    if (c->cap - c->len < 4096) {
        c->cap = c->cap ? c->cap * 2 : 65536;
        c->buf = xrealloc(c->buf, c->cap);
    }
    do
        n = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    c->len += (size_t)n;
    return n;
}

/* Finds a header's value in the head (NUL-terminated); NULL when absent. */
static const char *header(const char *head, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p, "\r\n")) {
        p += 2;
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            p += n + 1;
            while (*p == ' ')
                p++;
            return p;
        }
    }
    return NULL;
}

static int exchange(struct bh_conn *c, size_t req_len, const char **ret_body, size_t *ret_len,
                    bool *ret_retry)
{
    size_t head_len = 0, body_len;
    const char *cl, *conn;
    char *end;
    int status, r;
    ssize_t n;

    *ret_retry = false;
    if (c->fd < 0 && (r = dial(c)) < 0)
        return r;
    if ((r = send_all(c->fd, c->req, req_len)) < 0) {
        *ret_retry = true;
        return r;
    }
    c->len = 0;
    for (;;) {
        if ((n = fill(c)) <= 0) {
            *ret_retry = c->len == 0; /* closed before answering: a stale keep-alive */
            return n < 0 ? (int)n : -ECONNRESET;
        }
        c->buf[c->len] = '\0';
        end = strstr(c->buf, "\r\n\r\n");
        if (end) {
            head_len = (size_t)(end - c->buf) + 4;
            break;
        }
        if (c->len > HEAD_MAX)
            return -EPROTO;
    }
    c->buf[head_len - 2] = '\0'; /* the head alone, for header() */
    if (sscanf(c->buf, "HTTP/1.%*d %d", &status) != 1)
        return -EPROTO;
    if (header(c->buf, "Transfer-Encoding"))
        return -EPROTONOSUPPORT;
    cl = header(c->buf, "Content-Length");
    body_len = cl ? strtoul(cl, NULL, 10) : 0;
    conn = header(c->buf, "Connection");
    while (c->len < head_len + body_len) {
        if ((n = fill(c)) <= 0)
            return n < 0 ? (int)n : -ECONNRESET;
    }
    c->buf[head_len + body_len] = '\0';
    if (conn && strncasecmp(conn, "close", 5) == 0) {
        close(c->fd);
        c->fd = -1;
    }
    *ret_body = c->buf + head_len;
    *ret_len = body_len;
    return status;
}

int bh_request(struct bh_conn *c, const char *method, const char *path, const char *token,
               const char *body, size_t body_len, const char **ret_body, size_t *ret_len)
{
    size_t need = strlen(method) + strlen(path) + (token ? strlen(token) : 0) + body_len + 512;
    const char *rb = NULL;
    size_t rl = 0;
    bool retry;
    int n, r;

    if (need > c->req_cap) {
        c->req_cap = need;
        c->req = xrealloc(c->req, need);
    }
    n = snprintf(c->req, c->req_cap,
                 "%s %s HTTP/1.1\r\nHost: %s:%d\r\n%s%s%s%s"
                 "Content-Length: %zu\r\n\r\n",
                 method, path, c->host, c->port, token ? "Authorization: Bearer " : "",
                 token ? token : "", token ? "\r\n" : "",
                 body ? "Content-Type: application/json\r\n" : "", body_len);
    if (body_len)
        memcpy(c->req + n, body, body_len);
    for (int attempt = 0; attempt < 2; attempt++) {
        r = exchange(c, (size_t)n + body_len, &rb, &rl, &retry);
        if (r >= 0 || !retry)
            break;
        if (c->fd >= 0)
            close(c->fd);
        c->fd = -1;
    }
    if (r < 0 && c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    if (r >= 0) {
        if (ret_body)
            *ret_body = rb;
        if (ret_len)
            *ret_len = rl;
    }
    return r;
}
