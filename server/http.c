/*
 * libmicrohttpd glue: request bodies are capped before they are buffered,
 * routes come from the table in routes.c, tokens are checked before the
 * body is read, and every error leaves as JSON. The thread pool runs on
 * epoll; handlers may block (store_write waits for its group commit).
 *
 * Not for: what any endpoint does (api-*.c).
 */
#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/auth.h"
#include "server/server.h"

#define MAX_PATH 1024
#define MAX_PARAM 128
#define MAX_QUERY_VALUE 256
/*
 * A refusal decided from the headers waits for a body up to this size, read
 * and dropped, so that the connection stays open for the next request;
 * libmicrohttpd closes it when the answer is queued before the body. A
 * larger or chunked body is refused at once and the connection closed.
 */
#define MAX_DISCARD_BODY (64 * 1024)
/*
 * libmicrohttpd takes no answer while a body is arriving, only after its
 * headers or its end. A streamed body refused midway (past the cap, or by
 * its handler) is read and dropped up to this much more, then answered; a
 * client still sending after that has its connection closed.
 */
#define MAX_LATE_DISCARD (1024 * 1024)

struct req_ctx {
    bool started;    /* begin_request has run */
    bool bad_escape; /* the raw path holds %00 or %2F (see uri_seen) */
    bool small_body; /* no body, or one of at most MAX_DISCARD_BODY bytes */
    const struct route *route;
    char *param_copies[HTTP_MAX_PARAMS];
    char *body;
    size_t len, cap, max;
    bool too_large;
    bool replied; /* a response was queued early; ignore the rest */
    bool streaming; /* a ROUTE_STREAM handler got BEGIN and still needs END or ABORT */
    size_t streamed; /* body bytes passed to a ROUTE_STREAM handler */
    /*
     * A refusal waiting for the end of the body (libmicrohttpd takes no
     * answer before): one decided from the headers (refuse), or a streamed
     * body's (stream_chunk). Up to late_max body bytes are read and dropped
     * meanwhile; a client sending more has its connection closed.
     */
    struct http_resp *late;
    size_t late_dropped, late_max;
    /* What http_reply_upgrade asked for, kept for upgraded(). */
    void (*upgrade_fn)(void *cls, int fd, const char *extra, size_t extra_len,
                       struct MHD_UpgradeResponseHandle *urh);
    void *upgrade_cls;
    struct http_req req;
};

static struct MHD_Daemon *daemon_handle;

void http_reply_json(struct http_resp *resp, int status, json_t *json)
{
    json_decref(resp->json);
    resp->status = status;
    resp->json = json;
}

void http_reply_error(struct http_resp *resp, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    http_reply_json(resp, status,
                    json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg));
}

void http_reply_empty(struct http_resp *resp, int status)
{
    json_decref(resp->json);
    resp->json = NULL;
    resp->status = status;
}

void http_reply_bytes(struct http_resp *resp, int status, const char *type, void *data,
                      size_t len)
{
    http_reply_empty(resp, status);
    free(resp->data);
    resp->data = data;
    resp->len = len;
    resp->content_type = type;
}

void http_reply_fd(struct http_resp *resp, int status, const char *type, int fd, size_t len)
{
    http_reply_empty(resp, status);
    if (resp->fd >= 0)
        close(resp->fd);
    resp->fd = fd;
    resp->len = len;
    resp->content_type = type;
}

void http_reply_upgrade(struct http_resp *resp,
                        void (*fn)(void *cls, int fd, const char *extra, size_t extra_len,
                                   struct MHD_UpgradeResponseHandle *urh),
                        void *cls)
{
    http_reply_empty(resp, 101);
    resp->upgrade_fn = fn;
    resp->upgrade_cls = cls;
}

void http_upgrade_close(struct MHD_UpgradeResponseHandle *urh)
{
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
}

size_t server_max_file_bytes(const struct server *srv)
{
    int mb = srv->cfg.max_file_mb > 0 ? srv->cfg.max_file_mb : 100;
    return (size_t)mb * 1000 * 1000;
}

void http_add_header(struct http_resp *resp, const char *name, const char *value)
{
    if (resp->nheaders == HTTP_MAX_HEADERS)
        return;
    resp->header_values[resp->nheaders] = xstrdup(value);
    resp->headers[resp->nheaders][0] = name;
    resp->headers[resp->nheaders][1] = resp->header_values[resp->nheaders];
    resp->nheaders++;
}

void http_reply_not_found(struct http_resp *resp)
{
    http_reply_error(resp, 404, "not_found", "not found");
}

void http_reply_store_error(struct http_resp *resp, int err)
{
    if (err == -ENOSPC) {
        http_reply_error(resp, 503, "unavailable",
                         "the server's disk is full; nothing was saved, try again later");
        http_add_header(resp, "Retry-After", "60");
    } else {
        http_reply_error(resp, 500, "internal", "the server could not complete the request");
    }
}

json_t *http_json_body(struct http_req *req, struct http_resp *resp,
                       const struct st_json_field *fields)
{
    char err[256];
    json_t *obj = st_json_parse_object(req->body, req->body_len, err, sizeof(err));

    if (!obj) {
        http_reply_error(resp, 400, "invalid_argument", "%s", err);
        return NULL;
    }
    if (st_json_check(obj, fields, err, sizeof(err)) < 0) {
        http_reply_error(resp, 400, "invalid_argument", "%s", err);
        json_decref(obj);
        return NULL;
    }
    return obj;
}

const char *http_query(struct http_req *req, const char *name)
{
    /* In-process callers (the fuzz targets) have no connection and no query. */
    if (!req->conn)
        return NULL;
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_header(struct http_req *req, const char *name)
{
    if (!req->conn)
        return NULL;
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* Route parameters: ids and names, never path tricks. */
static bool param_valid(const char *s, size_t n)
{
    if (n == 0 || n > MAX_PARAM || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

/*
 * Matches path against pattern; on success fills params with copies.
 * Returns 1 on a match, 0 on none, -1 when the shape matches but a
 * parameter is not a possible id (the caller answers 404).
 */
static int match_route(const char *pattern, const char *path, char **params, int *ret_n)
{
    const char *p = pattern, *u = path;
    int n = 0;

    while (*p && *u) {
        if (*p == ':') {
            const char *end = strchr(u, '/');
            size_t len = end ? (size_t)(end - u) : strlen(u);
            if (n == HTTP_MAX_PARAMS || len == 0)
                goto nomatch;
            if (!param_valid(u, len)) {
                /* Still a match in shape if the rest matches; treat as not found. */
                for (int i = 0; i < n; i++)
                    free(params[i]);
                return -1;
            }
            params[n++] = xstrndup(u, len);
            while (*p && *p != '/')
                p++;
            u += len;
            continue;
        }
        if (*p != *u)
            goto nomatch;
        p++;
        u++;
    }
    if (*p || *u)
        goto nomatch;
    *ret_n = n;
    return 1;
nomatch:
    for (int i = 0; i < n; i++)
        free(params[i]);
    return 0;
}

/* libmicrohttpd's upgrade handler: passes the socket to what the route asked for. */
static void upgraded(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                     size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    struct req_ctx *ctx = req_cls;

    ctx->req.phase = HTTP_STREAM_NONE;
    if (!ctx->upgrade_fn) {
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    ctx->upgrade_fn(ctx->upgrade_cls, sock, extra_in, extra_in_size, urh);
}

static enum MHD_Result queue_resp(struct MHD_Connection *conn, struct http_resp *resp)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    const char *type = resp->content_type;

    if (resp->upgrade_fn) {
        r = MHD_create_response_for_upgrade(upgraded, NULL);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, "Upgrade", "websocket");
        for (int i = 0; i < resp->nheaders; i++)
            MHD_add_response_header(r, resp->headers[i][0], resp->headers[i][1]);
        ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (resp->json) {
        char *s = json_dumps(resp->json, JSON_COMPACT);
        size_t n = strlen(s);
        s = xrealloc(s, n + 2);
        s[n++] = '\n';
        r = MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
        type = "application/json";
    } else if (resp->fd >= 0) {
        r = MHD_create_response_from_fd(resp->len, resp->fd);
        resp->fd = -1;
    } else if (resp->data) {
        r = MHD_create_response_from_buffer(resp->len, resp->data, MHD_RESPMEM_MUST_FREE);
        resp->data = NULL;
    } else {
        r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return MHD_NO;
    if (type)
        MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    for (int i = 0; i < resp->nheaders; i++)
        MHD_add_response_header(r, resp->headers[i][0], resp->headers[i][1]);
    /* API answers are never cached; static files (web.c) say otherwise. */
    if (!MHD_get_response_header(r, "Cache-Control"))
        MHD_add_response_header(r, "Cache-Control", "no-store");
    ret = MHD_queue_response(conn, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    return ret;
}

static void resp_release(struct http_resp *resp)
{
    json_decref(resp->json);
    free(resp->data);
    if (resp->fd >= 0)
        close(resp->fd);
    for (int i = 0; i < resp->nheaders; i++)
        free(resp->header_values[i]);
}

/* The error answer of a refusal (with WWW-Authenticate for a 401). */
static void refusal(struct http_resp *resp, int status, const char *code, const char *msg)
{
    http_reply_error(resp, status, code, "%s", msg);
    if (status == 401)
        http_add_header(resp, "WWW-Authenticate", "Bearer");
}

/* Keeps resp (moved) to answer once the body has ended; see req_ctx.late. */
static void answer_after_body(struct req_ctx *ctx, struct http_resp *resp, size_t max_dropped)
{
    ctx->late = xmalloc(sizeof(*ctx->late));
    *ctx->late = *resp;
    ctx->late_max = max_dropped;
}

static enum MHD_Result reply_now(struct MHD_Connection *conn, struct req_ctx *ctx, int status,
                                 const char *code, const char *msg)
{
    struct http_resp resp = {.fd = -1};
    enum MHD_Result r;

    refusal(&resp, status, code, msg);
    r = queue_resp(conn, &resp);
    resp_release(&resp);
    ctx->replied = true;
    return r;
}

/*
 * Refuses the request from its headers: at once when a large or chunked
 * body follows (it is not read; the connection closes), else once the
 * small body has been read and dropped (the connection stays open).
 */
static enum MHD_Result refuse(struct MHD_Connection *conn, struct req_ctx *ctx, int status,
                              const char *code, const char *msg)
{
    struct http_resp resp = {.fd = -1};

    if (!ctx->small_body || status == 413)
        return reply_now(conn, ctx, status, code, msg);
    refusal(&resp, status, code, msg);
    answer_after_body(ctx, &resp, MAX_DISCARD_BODY);
    return MHD_YES;
}

static bool body_is_small(struct MHD_Connection *conn)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end;
    unsigned long long v;

    if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return false;
    if (!cl)
        return true;
    errno = 0;
    v = strtoull(cl, &end, 10);
    return !errno && !*end && end != cl && v <= MAX_DISCARD_BODY;
}

struct query_check {
    const char *const *allowed;
    char bad[96];
};

static enum MHD_Result check_query_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                       const char *value)
{
    struct query_check *qc = cls;
    bool ok = false;

    for (const char *const *a = qc->allowed; a && *a; a++)
        if (strcmp(*a, key) == 0)
            ok = true;
    if (!ok) {
        snprintf(qc->bad, sizeof(qc->bad), "unknown query parameter '%.40s'", key);
        return MHD_NO;
    }
    if (value && (strlen(value) > MAX_QUERY_VALUE || !st_utf8_valid(value, strlen(value)))) {
        snprintf(qc->bad, sizeof(qc->bad), "query parameter '%.40s' is too long or not UTF-8",
                 key);
        return MHD_NO;
    }
    return MHD_YES;
}

const struct route *http_route_find(const char *method, const char *path, char **params, int *ret_n,
                                    int *ret_status)
{
    bool path_known = false;

    if (strlen(path) > MAX_PATH || !st_utf8_valid(path, strlen(path))) {
        *ret_status = 400;
        return NULL;
    }
    for (const struct route *r = http_routes; r->pattern; r++) {
        int n = 0, m = match_route(r->pattern, path, params, &n);
        if (m <= 0)
            continue; /* a parameter that cannot be an id is a 404 like any unknown path */
        path_known = true;
        if (strcmp(r->method, method) != 0) {
            for (int i = 0; i < n; i++)
                free(params[i]);
            continue;
        }
        *ret_n = n;
        return r;
    }
    *ret_status = path_known ? 405 : 404;
    return NULL;
}

static void fill_req(struct server *srv, struct MHD_Connection *conn, const char *url,
                     const char *method, struct req_ctx *ctx)
{
    ctx->req.srv = srv;
    ctx->req.method = method;
    ctx->req.path = url;
    ctx->req.content_type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    ctx->req.conn = conn;
}

/* Queues what a handler replied and marks the request answered. */
static enum MHD_Result send_reply(struct MHD_Connection *conn, struct req_ctx *ctx,
                                  struct http_resp *resp)
{
    enum MHD_Result r;

    if (resp->upgrade_fn) {
        ctx->upgrade_fn = resp->upgrade_fn;
        ctx->upgrade_cls = resp->upgrade_cls;
    }
    r = queue_resp(conn, resp);
    resp_release(resp);
    ctx->replied = true;
    return r;
}

/* Ends a stream that will not get END: the handler frees its state. */
static void stream_abort(struct req_ctx *ctx)
{
    if (!ctx->streaming)
        return;
    ctx->streaming = false;
    ctx->req.phase = HTTP_STREAM_ABORT;
    ctx->req.body = NULL;
    ctx->req.body_len = 0;
    ctx->route->fn(&ctx->req, &(struct http_resp){.fd = -1});
}

/* A ROUTE_STREAM request passed every check: its handler begins. */
static enum MHD_Result stream_begin(struct server *srv, struct MHD_Connection *conn,
                                    const char *url, const char *method, struct req_ctx *ctx)
{
    struct http_resp resp = {.status = 0, .fd = -1};

    fill_req(srv, conn, url, method, ctx);
    ctx->req.phase = HTTP_STREAM_BEGIN;
    ctx->streaming = true;
    ctx->route->fn(&ctx->req, &resp);
    if (resp.status == 0) {
        resp_release(&resp);
        return MHD_YES;
    }
    stream_abort(ctx);
    return send_reply(conn, ctx, &resp);
}

/*
 * One piece of a streamed body; refuses past the cap or when the handler
 * says so. The handler is told at once (ABORT); the answer waits for the
 * end of the body (see MAX_LATE_DISCARD).
 */
static enum MHD_Result stream_chunk(struct MHD_Connection *conn, struct req_ctx *ctx,
                                    const char *data, size_t n)
{
    struct http_resp resp = {.status = 0, .fd = -1};

    if (n > ctx->max - ctx->streamed) {
        http_reply_error(&resp, 413, "too_large", "the file is larger than this server takes");
    } else {
        ctx->streamed += n;
        ctx->req.phase = HTTP_STREAM_CHUNK;
        ctx->req.body = data;
        ctx->req.body_len = n;
        ctx->route->fn(&ctx->req, &resp);
        if (resp.status == 0) {
            resp_release(&resp);
            return MHD_YES;
        }
    }
    stream_abort(ctx);
    answer_after_body(ctx, &resp, MAX_LATE_DISCARD);
    return MHD_YES;
}

/*
 * Finds the route, checks the query, the announced size and the token; refuses
 * (see refuse) when one of them is wrong.
 */
static enum MHD_Result begin_request(struct server *srv, struct MHD_Connection *conn,
                                     const char *url, const char *method, struct req_ctx *ctx)
{
    const char *cl, *auth;
    struct query_check qc = {0};
    char *params[HTTP_MAX_PARAMS];
    int n = 0, status = 404;

    ctx->small_body = body_is_small(conn);
    if (ctx->bad_escape)
        return refuse(conn, ctx, 400, "invalid_argument", "the request path is not valid");
    ctx->route = http_route_find(method, url, params, &n, &status);
    if (!ctx->route) {
        if (status == 400)
            return refuse(conn, ctx, 400, "invalid_argument", "the request path is not valid");
        if (status == 405)
            return refuse(conn, ctx, 405, "method_not_allowed", "that method is not allowed here");
        return refuse(conn, ctx, 404, "not_found", "not found");
    }
    for (int i = 0; i < n; i++) {
        ctx->param_copies[i] = params[i];
        ctx->req.params[i] = params[i];
    }
    ctx->req.nparams = n;

    qc.allowed = ctx->route->query;
    if (MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_query_arg, &qc) < 0 ||
        qc.bad[0])
        return refuse(conn, ctx, 400, "invalid_argument", qc.bad);

    if (ctx->route->flags & ROUTE_STREAM)
        ctx->max = server_max_file_bytes(srv);
    else
        ctx->max = ctx->route->max_body ? ctx->route->max_body : SERVER_MAX_JSON;
    cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        unsigned long long v;
        errno = 0;
        v = strtoull(cl, &end, 10);
        if (errno || *end || end == cl)
            return refuse(conn, ctx, 400, "invalid_argument", "bad Content-Length");
        if (v > ctx->max)
            return refuse(conn, ctx, 413, "too_large", "the request body is too large");
    }

    if (ctx->route->flags & ROUTE_AUTH) {
        auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!auth || strncmp(auth, "Bearer ", 7) != 0)
            return refuse(conn, ctx, 401, "unauthenticated", "sign in first");
        if (auth_user_from_token(srv, auth + 7, &ctx->req.user) < 0)
            return refuse(conn, ctx, 401, "unauthenticated",
                          "the token is not valid; sign in again");
        auth_token_hash(auth + 7, ctx->req.token_hash);
        ctx->req.authenticated = true;
    }
    if (ctx->route->flags & ROUTE_STREAM)
        return stream_begin(srv, conn, url, method, ctx);
    return MHD_YES;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    struct server *srv = cls;
    struct req_ctx *ctx = *con_cls;
    struct http_resp resp = {.status = 500, .fd = -1};
    enum MHD_Result r;

    if (!ctx) { /* uri_seen normally made it; this is only a fallback */
        ctx = xcalloc(1, sizeof(*ctx));
        *con_cls = ctx;
    }
    if (!ctx->started) {
        ctx->started = true;
        return begin_request(srv, conn, url, method, ctx);
    }
    if (ctx->replied) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (ctx->late) {
        struct http_resp *late = ctx->late;
        if (*upload_data_size) {
            ctx->late_dropped += *upload_data_size;
            *upload_data_size = 0;
            return ctx->late_dropped > ctx->late_max ? MHD_NO : MHD_YES;
        }
        ctx->late = NULL;
        r = send_reply(conn, ctx, late);
        free(late);
        return r;
    }
    if (ctx->streaming) {
        if (*upload_data_size) {
            size_t n = *upload_data_size;
            *upload_data_size = 0;
            return stream_chunk(conn, ctx, upload_data, n);
        }
        ctx->streaming = false;
        ctx->req.phase = HTTP_STREAM_END;
        ctx->req.body = NULL;
        ctx->req.body_len = 0;
        ctx->route->fn(&ctx->req, &resp);
        return send_reply(conn, ctx, &resp);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (ctx->too_large || n > ctx->max - ctx->len) {
            ctx->too_large = true;
            return MHD_YES;
        }
        if (ctx->len + n + 1 > ctx->cap) {
            size_t want = ctx->cap ? ctx->cap * 2 : 4096;
            while (want < ctx->len + n + 1)
                want *= 2;
            if (want > ctx->max + 1)
                want = ctx->max + 1;
            ctx->body = xrealloc(ctx->body, want);
            ctx->cap = want;
        }
        memcpy(ctx->body + ctx->len, upload_data, n);
        ctx->len += n;
        return MHD_YES;
    }
    if (ctx->too_large)
        return reply_now(conn, ctx, 413, "too_large", "the request body is too large");

    if (!ctx->body)
        ctx->body = xcalloc(1, 1);
    ctx->body[ctx->len] = '\0';
    fill_req(srv, conn, url, method, ctx);
    ctx->req.body = ctx->body;
    ctx->req.body_len = ctx->len;
    ctx->route->fn(&ctx->req, &resp);
    return send_reply(conn, ctx, &resp);
}

/*
 * Called with the raw request URI before libmicrohttpd decodes it; what it
 * returns is the request's *con_cls, freed in request_completed.
 *
 * Decoding would let an id smuggle path structure past the router: %00
 * becomes a NUL that cuts the path ("/contracts/ID%00/pause" is read as
 * "/contracts/ID") and %2F a slash ("/contracts/ID%2Fdiary" becomes the
 * diary). No id holds either, and no query value a NUL, so such a request
 * is refused whole.
 */
static void *uri_seen(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct req_ctx *ctx = xcalloc(1, sizeof(*ctx));
    const char *path_end;

    if (!uri)
        return ctx;
    path_end = strchr(uri, '?');
    if (!path_end)
        path_end = uri + strlen(uri);
    for (const char *p = uri; *p; p++) {
        if (p[0] != '%' || !p[1] || !p[2])
            continue;
        if (p[1] == '0' && p[2] == '0')
            ctx->bad_escape = true;
        if (p < path_end && p[1] == '2' && (p[2] == 'f' || p[2] == 'F'))
            ctx->bad_escape = true;
    }
    return ctx;
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct req_ctx *ctx = *con_cls;

    if (!ctx)
        return;
    stream_abort(ctx); /* the client went away mid-body */
    if (ctx->late) {
        resp_release(ctx->late);
        free(ctx->late);
    }
    for (int i = 0; i < HTTP_MAX_PARAMS; i++)
        free(ctx->param_copies[i]);
    free(ctx->body);
    free(ctx);
    *con_cls = NULL;
}

int http_start(struct server *srv, int *ret_port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    const union MHD_DaemonInfo *info;
    struct rlimit nofile;

    /* WebSockets hold a descriptor each: take what the hard limit allows. */
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        setrlimit(RLIMIT_NOFILE, &nofile);
    }
    addr.sin_port = htons((uint16_t)srv->cfg.listen_port);
    if (inet_pton(AF_INET, srv->cfg.listen_addr, &addr.sin_addr) != 1)
        return -EINVAL;
    daemon_handle = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE, 0,
        NULL, NULL,
        access_handler, srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)srv->cfg.connection_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)(4000 + (srv->cfg.ws_max_connections > 0 ? srv->cfg.ws_max_connections : 0)),
        MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL, MHD_OPTION_URI_LOG_CALLBACK, uri_seen,
        NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (!daemon_handle)
        return -EADDRINUSE;
    info = MHD_get_daemon_info(daemon_handle, MHD_DAEMON_INFO_BIND_PORT);
    *ret_port = info ? info->port : srv->cfg.listen_port;
    return 0;
}

void http_stop(void)
{
    if (daemon_handle)
        MHD_stop_daemon(daemon_handle);
    daemon_handle = NULL;
}
