/*
 * The WebSocket client of ws.h: the opening handshake by hand over a
 * libcurl CONNECT_ONLY connection, then wslay's event API for frames, with
 * poll() on curl's socket. Received text messages wait in a FIFO until
 * cli_ws_recv hands them out. Not a server, and no extensions
 * (permessage-deflate) or subprotocols.
 */
#include "cli/ws.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <nettle/sha1.h>
#include <poll.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <wslay/wslay.h>

#include "lib/xalloc.h"

/* The 101 answer's head may not be larger than this. */
#define MAX_HANDSHAKE 16384
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct ws_msg {
    struct ws_msg *next;
    size_t len;
    char data[]; /* len bytes and a NUL */
};

struct cli_ws {
    CURL *curl;
    curl_socket_t fd;
    wslay_event_context_ptr ctx;
    /* Bytes read with the 101 answer that already belong to the frames. */
    char *pending;
    size_t pending_len, pending_off;
    struct ws_msg *head, *tail; /* received text messages, oldest first */
    int64_t last_rx_ms;         /* when the last byte came */
    bool eof;                   /* the peer closed the TCP connection */
    bool io_error;              /* curl_easy_send/recv failed */
    bool closed;                /* a close frame came, or the connection broke */
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* SHA-1 (nettle), for Sec-WebSocket-Accept only: not for anything secret. */
void cli_ws_sha1(const void *data, size_t len, unsigned char out[20])
{
    struct sha1_ctx ctx;

    sha1_init(&ctx);
    sha1_update(&ctx, len, data);
    sha1_digest(&ctx, SHA1_DIGEST_SIZE, out);
}

/* wslay callbacks */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user_data)
{
    struct cli_ws *ws = user_data;
    size_t n = 0;
    CURLcode code;

    (void)flags;
    if (ws->pending_off < ws->pending_len) {
        n = ws->pending_len - ws->pending_off;
        if (n > len)
            n = len;
        memcpy(buf, ws->pending + ws->pending_off, n);
        ws->pending_off += n;
        return (ssize_t)n;
    }
    code = curl_easy_recv(ws->curl, buf, len, &n);
    if (code == CURLE_AGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (code != CURLE_OK || n == 0) {
        if (code == CURLE_OK)
            ws->eof = true;
        else
            ws->io_error = true;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    ws->last_rx_ms = now_ms();
    return (ssize_t)n;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user_data)
{
    struct cli_ws *ws = user_data;
    size_t n = 0;
    CURLcode code;

    (void)flags;
    code = curl_easy_send(ws->curl, data, len, &n);
    if (code == CURLE_AGAIN) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (code != CURLE_OK) {
        ws->io_error = true;
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)n;
}

static int on_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user_data)
{
    (void)ctx;
    (void)user_data;
    randombytes_buf(buf, len);
    return 0;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user_data)
{
    struct cli_ws *ws = user_data;
    struct ws_msg *m;

    (void)ctx;
    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        ws->closed = true;
        return;
    }
    if (arg->opcode != WSLAY_TEXT_FRAME)
        return;
    /* wslay already refused anything over CLI_WS_MAX_MESSAGE. */
    m = xmalloc(sizeof(*m) + arg->msg_length + 1);
    m->next = NULL;
    m->len = arg->msg_length;
    memcpy(m->data, arg->msg, arg->msg_length);
    m->data[m->len] = '\0';
    if (ws->tail)
        ws->tail->next = m;
    else
        ws->head = m;
    ws->tail = m;
}

/* The handshake */

struct cancel_ctx {
    volatile sig_atomic_t *cancel;
};

static int on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct cancel_ctx *cc = p;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return cc->cancel && *cc->cancel ? 1 : 0;
}

/* Waits until fd is ready for events, at most until deadline. 0, -ETIMEDOUT or -ECANCELED. */
static int wait_fd(curl_socket_t fd, short events, int64_t deadline,
                   const struct cli_ws_options *opt)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = events};
        int64_t left = deadline - now_ms();
        int r;

        if (opt->cancel && *opt->cancel)
            return -ECANCELED;
        if (left <= 0)
            return -ETIMEDOUT;
        r = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -errno;
    }
}

static int send_all(struct cli_ws *ws, const char *data, size_t len, int64_t deadline,
                    const struct cli_ws_options *opt, char *err, size_t errlen)
{
    while (len > 0) {
        size_t n = 0;
        CURLcode code = curl_easy_send(ws->curl, data, len, &n);
        if (code == CURLE_AGAIN) {
            int r = wait_fd(ws->fd, POLLOUT, deadline, opt);
            if (r < 0) {
                snprintf(err, errlen, "cannot send the upgrade request: %s",
                         r == -ETIMEDOUT ? "timed out" : strerror(-r));
                return r;
            }
            continue;
        }
        if (code != CURLE_OK) {
            snprintf(err, errlen, "cannot send the upgrade request: %s", curl_easy_strerror(code));
            return -ECONNRESET;
        }
        data += n;
        len -= n;
    }
    return 0;
}

/* Finds header name in the head (lines after the status line); borrowed, up to the CR. */
static const char *find_header(const char *head, const char *name, size_t *ret_len)
{
    size_t nlen = strlen(name);
    const char *line = strstr(head, "\r\n");

    while (line && line[2] != '\r' && line[2] != '\0') {
        const char *p = line + 2;
        const char *end = strstr(p, "\r\n");
        if (!end)
            return NULL;
        if ((size_t)(end - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            size_t vlen = (size_t)(end - v);
            while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                vlen--;
            *ret_len = vlen;
            return v;
        }
        line = end;
    }
    return NULL;
}

/* Reads the answer to the upgrade and checks it. */
static int read_answer(struct cli_ws *ws, const char *key, int64_t deadline,
                       const struct cli_ws_options *opt, long *ret_status, char *err, size_t errlen)
{
    char *buf = xmalloc(MAX_HANDSHAKE + 1);
    size_t len = 0;
    char *end = NULL;
    char *accept_in = NULL;
    unsigned char digest[20];
    char expect[sodium_base64_ENCODED_LEN(20, sodium_base64_VARIANT_ORIGINAL)];
    const char *v;
    size_t vlen;
    long status = 0;
    int r;

    while (!end) {
        size_t n = 0;
        CURLcode code;
        if (len == MAX_HANDSHAKE) {
            snprintf(err, errlen, "the answer to the upgrade is too large");
            r = -EPROTO;
            goto out;
        }
        code = curl_easy_recv(ws->curl, buf + len, MAX_HANDSHAKE - len, &n);
        if (code == CURLE_AGAIN) {
            r = wait_fd(ws->fd, POLLIN, deadline, opt);
            if (r < 0) {
                snprintf(err, errlen, "no answer to the upgrade: %s",
                         r == -ETIMEDOUT ? "timed out" : strerror(-r));
                goto out;
            }
            continue;
        }
        if (code != CURLE_OK || n == 0) {
            snprintf(err, errlen, "the server closed the connection during the upgrade");
            r = -ECONNRESET;
            goto out;
        }
        len += n;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (sscanf(buf, "HTTP/1.%*1[01] %3ld", &status) != 1) {
        snprintf(err, errlen, "the answer to the upgrade is not HTTP");
        r = -EPROTO;
        goto out;
    }
    if (ret_status)
        *ret_status = status;
    if (status != 101) {
        snprintf(err, errlen, "the server answered HTTP %ld instead of upgrading", status);
        r = -EPROTO;
        goto out;
    }
    end[2] = '\0'; /* keep the last header's CRLF for find_header */
    accept_in = xasprintf("%s" WS_GUID, key);
    cli_ws_sha1(accept_in, strlen(accept_in), digest);
    sodium_bin2base64(expect, sizeof(expect), digest, sizeof(digest),
                      sodium_base64_VARIANT_ORIGINAL);
    v = find_header(buf, "Sec-WebSocket-Accept", &vlen);
    if (!v || vlen != strlen(expect) || memcmp(v, expect, vlen) != 0) {
        snprintf(err, errlen, "the server's Sec-WebSocket-Accept is wrong");
        r = -EPROTO;
        goto out;
    }
    /* What came after the head is the first frames. */
    ws->pending_len = len - (size_t)(end + 4 - buf);
    ws->pending = xmalloc(ws->pending_len + 1);
    memcpy(ws->pending, end + 4, ws->pending_len);
    r = 0;
out:
    free(accept_in);
    free(buf);
    return r;
}

/* Splits url into the origin curl connects to and the request target. */
static int split_url(const char *url, char **ret_conn, char **ret_host, char **ret_target)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    const char *http;
    int r = -EINVAL;

    if (!u)
        return -ENOMEM;
    if (strncasecmp(url, "ws://", 5) == 0 || strncasecmp(url, "wss://", 6) == 0) {
        char *conv = xasprintf("http%s", url + 2);
        CURLUcode uc = curl_url_set(u, CURLUPART_URL, conv, 0);
        free(conv);
        if (uc != CURLUE_OK)
            goto out;
    } else if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
        goto out;
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
        goto out;
    if (strcasecmp(scheme, "http") == 0)
        http = "http";
    else if (strcasecmp(scheme, "https") == 0)
        http = "https";
    else
        goto out;
    curl_url_get(u, CURLUPART_PORT, &port, 0); /* absent: the scheme's default */
    curl_url_get(u, CURLUPART_QUERY, &query, 0);
    *ret_host = port ? xasprintf("%s:%s", host, port) : xstrdup(host);
    *ret_conn = xasprintf("%s://%s/", http, *ret_host);
    *ret_target = query ? xasprintf("%s?%s", path, query) : xstrdup(path);
    r = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
    return r;
}

int cli_ws_connect(const char *url, const struct cli_ws_options *opt, struct cli_ws **ret_ws,
                   long *ret_status, char *err, size_t errlen)
{
    static const struct cli_ws_options defaults = {0};
    struct wslay_event_callbacks cb = {
        .recv_callback = on_recv,
        .send_callback = on_send,
        .genmask_callback = on_genmask,
        .on_msg_recv_callback = on_msg,
    };
    struct cli_ws *ws = xcalloc(1, sizeof(*ws));
    struct cancel_ctx cc;
    char errbuf[CURL_ERROR_SIZE] = "";
    char *conn_url = NULL, *host = NULL, *target = NULL, *request = NULL;
    unsigned char nonce[16];
    char key[sodium_base64_ENCODED_LEN(16, sodium_base64_VARIANT_ORIGINAL)];
    long timeout_s;
    int64_t deadline;
    CURLcode code;
    int r;

    if (!opt)
        opt = &defaults;
    timeout_s = opt->connect_timeout_s > 0 ? opt->connect_timeout_s : 10;
    cc.cancel = opt->cancel;
    if (ret_status)
        *ret_status = 0;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "cannot start libsodium");
        r = -EIO;
        goto fail;
    }
    r = split_url(url, &conn_url, &host, &target);
    if (r < 0) {
        snprintf(err, errlen, "'%s' is not an http(s):// or ws(s):// URL", url);
        goto fail;
    }
    ws->fd = CURL_SOCKET_BAD;
    ws->curl = curl_easy_init();
    if (!ws->curl) {
        snprintf(err, errlen, "cannot start libcurl");
        r = -ENOMEM;
        goto fail;
    }
    curl_easy_setopt(ws->curl, CURLOPT_URL, conn_url);
    curl_easy_setopt(ws->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(ws->curl, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(ws->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(ws->curl, CURLOPT_CONNECTTIMEOUT, timeout_s);
    curl_easy_setopt(ws->curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(ws->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(ws->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(ws->curl, CURLOPT_XFERINFODATA, &cc);
    code = curl_easy_perform(ws->curl);
    if (code != CURLE_OK) {
        long os_errno = 0;
        curl_easy_getinfo(ws->curl, CURLINFO_OS_ERRNO, &os_errno);
        if (code == CURLE_ABORTED_BY_CALLBACK) {
            r = -ECANCELED;
            snprintf(err, errlen, "cancelled");
        } else if (code == CURLE_OPERATION_TIMEDOUT) {
            r = -ETIMEDOUT;
            snprintf(err, errlen, "timed out");
        } else {
            r = os_errno ? -(int)os_errno : -ECONNREFUSED;
            snprintf(err, errlen, "%s", errbuf[0] ? errbuf : curl_easy_strerror(code));
        }
        goto fail;
    }
    if (curl_easy_getinfo(ws->curl, CURLINFO_ACTIVESOCKET, &ws->fd) != CURLE_OK ||
        ws->fd == CURL_SOCKET_BAD) {
        snprintf(err, errlen, "libcurl gave no socket");
        r = -EIO;
        goto fail;
    }

    randombytes_buf(nonce, sizeof(nonce));
    sodium_bin2base64(key, sizeof(key), nonce, sizeof(nonce), sodium_base64_VARIANT_ORIGINAL);
    request = xasprintf("GET %s HTTP/1.1\r\n"
                        "Host: %s\r\n"
                        "Upgrade: websocket\r\n"
                        "Connection: Upgrade\r\n"
                        "Sec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n"
                        "%s%s%s"
                        "\r\n",
                        target, host, key, opt->user_agent ? "User-Agent: " : "",
                        opt->user_agent ? opt->user_agent : "", opt->user_agent ? "\r\n" : "");
    deadline = now_ms() + timeout_s * 1000;
    r = send_all(ws, request, strlen(request), deadline, opt, err, errlen);
    if (r < 0)
        goto fail;
    r = read_answer(ws, key, deadline, opt, ret_status, err, errlen);
    if (r < 0)
        goto fail;

    if (wslay_event_context_client_init(&ws->ctx, &cb, ws) != 0) {
        snprintf(err, errlen, "out of memory");
        r = -ENOMEM;
        goto fail;
    }
    wslay_event_config_set_max_recv_msg_length(ws->ctx, CLI_WS_MAX_MESSAGE);
    ws->last_rx_ms = now_ms();
    *ret_ws = ws;
    ws = NULL;
    r = 0;
fail:
    free(request);
    free(conn_url);
    free(host);
    free(target);
    cli_ws_free(ws);
    return r;
}

/* Sends what is queued, as far as the socket takes it now. */
static void flush(struct cli_ws *ws)
{
    if (!ws->closed && wslay_event_want_write(ws->ctx) && wslay_event_send(ws->ctx) != 0)
        ws->closed = true;
}

int cli_ws_send_text(struct cli_ws *ws, const char *text, size_t len)
{
    struct wslay_event_msg msg = {
        .opcode = WSLAY_TEXT_FRAME, .msg = (const uint8_t *)text, .msg_length = len};

    if (ws->closed)
        return -ECONNRESET;
    if (wslay_event_queue_msg(ws->ctx, &msg) != 0)
        return -ECONNRESET;
    flush(ws);
    return ws->closed ? -ECONNRESET : 0;
}

int cli_ws_recv(struct cli_ws *ws, int timeout_ms, const sigset_t *sigmask, char **ret_msg,
                size_t *ret_len)
{
    bool first = true;

    for (;;) {
        struct pollfd pfd = {.fd = ws->fd, .events = POLLIN};
        struct timespec ts, *tsp = NULL;
        int r;

        if (ws->head) {
            struct ws_msg *m = ws->head;
            ws->head = m->next;
            if (!ws->head)
                ws->tail = NULL;
            *ret_len = m->len;
            /* Hand over the text: move it to the front of its own block. */
            memmove(m, m->data, m->len + 1);
            *ret_msg = (char *)m;
            return 0;
        }
        if (ws->closed || !wslay_event_get_read_enabled(ws->ctx)) {
            ws->closed = true;
            return ws->eof || ws->io_error || cli_ws_close_code(ws) ? -ECONNRESET : -EPROTO;
        }
        /*
         * The first time round, read without waiting: bytes may already sit
         * in our buffer or in the TLS layer, where poll() cannot see them.
         */
        if (!first) {
            if (timeout_ms >= 0) {
                int64_t left = ws->last_rx_ms + timeout_ms - now_ms();
                if (left <= 0)
                    return -ETIMEDOUT;
                ts.tv_sec = left / 1000;
                ts.tv_nsec = (long)(left % 1000) * 1000000;
                tsp = &ts;
            }
            if (wslay_event_want_write(ws->ctx))
                pfd.events |= POLLOUT;
            r = ppoll(&pfd, 1, tsp, sigmask);
            if (r < 0 && errno == EINTR)
                return -EINTR;
            if (r < 0)
                return -errno;
            if (r == 0)
                continue; /* the deadline check above says so */
        } else {
            pfd.revents = POLLIN;
        }
        first = false;
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            r = wslay_event_recv(ws->ctx);
            if (r != 0 && !ws->head) {
                ws->closed = true;
                continue;
            }
            if (r != 0)
                ws->closed = true; /* hand out what came first, then report */
        }
        /* Pongs and the answer to a close frame go out here. */
        if (wslay_event_want_write(ws->ctx) && wslay_event_send(ws->ctx) != 0)
            ws->closed = true;
    }
}

int cli_ws_close_code(const struct cli_ws *ws)
{
    uint16_t code;

    if (!ws->ctx)
        return 0;
    code = wslay_event_get_status_code_received(ws->ctx);
    return code == WSLAY_CODE_ABNORMAL_CLOSURE || code == WSLAY_CODE_NO_STATUS_RCVD ? 0 : code;
}

void cli_ws_free(struct cli_ws *ws)
{
    if (!ws)
        return;
    if (ws->ctx) {
        if (!ws->closed && !ws->eof && !ws->io_error && wslay_event_get_write_enabled(ws->ctx) &&
            wslay_event_queue_close(ws->ctx, WSLAY_CODE_NORMAL_CLOSURE, NULL, 0) == 0)
            wslay_event_send(ws->ctx); /* best effort: we are leaving */
        wslay_event_context_free(ws->ctx);
    }
    while (ws->head) {
        struct ws_msg *m = ws->head;
        ws->head = m->next;
        free(m);
    }
    if (ws->curl)
        curl_easy_cleanup(ws->curl);
    free(ws->pending);
    free(ws);
}
