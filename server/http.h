/*
 * The HTTP layer of stintd on libmicrohttpd: it reads requests (capping
 * bodies before buffering them), finds the route, authenticates, calls the
 * handler and sends what the handler put in struct http_resp. Handlers never
 * touch libmicrohttpd.
 *
 * Ownership: a handler fills resp through the http_reply_* functions, which
 * take ownership of what they are given. Strings in req are borrowed for the
 * duration of the handler.
 */
#ifndef STINT_HTTP_H
#define STINT_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "server/users.h"

struct server;
struct MHD_Connection;
struct MHD_UpgradeResponseHandle;

/* The phases of a ROUTE_STREAM handler (see below). */
enum http_stream_phase {
    HTTP_STREAM_NONE = 0, /* not a streaming route */
    HTTP_STREAM_BEGIN,    /* headers checked, token valid, no body yet */
    HTTP_STREAM_CHUNK,    /* body/body_len hold the next piece of the body */
    HTTP_STREAM_END,      /* the whole body was passed; reply now */
    HTTP_STREAM_ABORT,    /* the request ends without END (cap passed, client gone) */
};

#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_HEADERS 6

struct http_req {
    struct server *srv;
    const char *method;
    const char *path;
    const char *params[HTTP_MAX_PARAMS]; /* the ":name" parts of the route, in order */
    int nparams;
    const char *body; /* NUL-terminated copy; body_len bytes */
    size_t body_len;
    const char *content_type;
    bool authenticated;
    struct user user;        /* valid when authenticated */
    char token_hash[65];     /* the stored form of the token used, when authenticated */
    struct MHD_Connection *conn;
    /*
     * ROUTE_STREAM handlers are called once per phase, on the same req:
     * BEGIN (may set stream_state; replying there refuses the request and
     * no other phase but ABORT follows), CHUNK for each piece (replying
     * there refuses too: ABORT follows at once, the answer once the body
     * has ended), then END (the reply) or ABORT (free stream_state, no
     * reply). The body is capped at server_max_file_bytes().
     */
    enum http_stream_phase phase;
    void *stream_state;
};

struct http_resp {
    int status;
    json_t *json;
    void *data; /* freed with free() */
    size_t len;
    int fd; /* when >= 0: send len bytes of this file, then close it */
    const char *content_type;
    const char *headers[HTTP_MAX_HEADERS][2];
    char *header_values[HTTP_MAX_HEADERS]; /* owned copies */
    int nheaders;
    /* Set by http_reply_upgrade: answer 101 and hand the socket over. */
    void (*upgrade_fn)(void *cls, int fd, const char *extra, size_t extra_len,
                       struct MHD_UpgradeResponseHandle *urh);
    void *upgrade_cls;
};

typedef void (*http_handler)(struct http_req *req, struct http_resp *resp);

enum {
    ROUTE_AUTH = 1 << 0,     /* a valid token is required */
    ROUTE_RAW_BODY = 1 << 1, /* the body is not JSON (images) */
    ROUTE_STREAM = 1 << 2,   /* the body is streamed to the handler (see enum http_stream_phase) */
    ROUTE_UPGRADE = 1 << 3,  /* may answer 101 and take the socket (http_reply_upgrade) */
};

struct route {
    const char *method;
    const char *pattern; /* "/api/v1/segments/:id/screenshot" */
    http_handler fn;
    unsigned flags;
    size_t max_body;           /* 0: SERVER_MAX_JSON */
    const char *const *query;  /* allowed query parameters, NULL-terminated; NULL: none */
};

/* The route table (routes.c). */
extern const struct route http_routes[];

/*
 * Finds the route for method and path (already percent-decoded), as every
 * request does. On a match returns it, with copies of its ":name" parts in
 * params (HTTP_MAX_PARAMS slots; the caller frees the *ret_n it gets).
 * Otherwise returns NULL and the status to answer in ret_status: 400 for a
 * path too long or not UTF-8, 405 for a known path with another method,
 * 404 for anything else (a part that cannot be an id included).
 */
const struct route *http_route_find(const char *method, const char *path, char **params, int *ret_n,
                                    int *ret_status);

/* Starts serving; returns 0 and the bound port, or a negative error. */
int http_start(struct server *srv, int *ret_port);
void http_stop(void);

/* Replies with a JSON value (ownership taken). */
void http_reply_json(struct http_resp *resp, int status, json_t *json);
/* Replies {"error":{"code","message"}}. */
void http_reply_error(struct http_resp *resp, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Replies with no body (204, or a status with no content). */
void http_reply_empty(struct http_resp *resp, int status);
/* Replies with bytes (ownership of data taken; freed with free()). */
void http_reply_bytes(struct http_resp *resp, int status, const char *type, void *data,
                      size_t len);
/* Replies with len bytes read from fd (ownership taken). */
void http_reply_fd(struct http_resp *resp, int status, const char *type, int fd, size_t len);
/* Adds a response header; the value is copied. */
void http_add_header(struct http_resp *resp, const char *name, const char *value);

/*
 * Answers 101 Switching Protocols with resp's headers and, once it is sent,
 * calls fn on a libmicrohttpd thread with the connection's socket (already
 * non-blocking is not promised), the bytes the client sent after its
 * request (extra) and the handle to pass to http_upgrade_close() when done.
 * fn must not block. Only for ROUTE_UPGRADE routes.
 */
void http_reply_upgrade(struct http_resp *resp,
                        void (*fn)(void *cls, int fd, const char *extra, size_t extra_len,
                                   struct MHD_UpgradeResponseHandle *urh),
                        void *cls);
/* Closes an upgraded connection and releases it; from any thread, once. */
void http_upgrade_close(struct MHD_UpgradeResponseHandle *urh);

/* The largest body POST /files takes: cfg.max_file_mb MB (100 MB when unset). */
size_t server_max_file_bytes(const struct server *srv);

/* Common replies. */
void http_reply_not_found(struct http_resp *resp);
/* Maps a negative store error to a reply (-ENOSPC: 503, others 500). */
void http_reply_store_error(struct http_resp *resp, int err);

/*
 * Parses the body as a JSON object and checks it against fields. On failure
 * it has already replied 400 and returns NULL; else a new reference.
 */
struct st_json_field;
json_t *http_json_body(struct http_req *req, struct http_resp *resp,
                       const struct st_json_field *fields);
/* A query parameter (decoded), or NULL; NULL too when req->conn is NULL (no connection). */
const char *http_query(struct http_req *req, const char *name);
/* A request header, or NULL; NULL too when req->conn is NULL. */
const char *http_header(struct http_req *req, const char *name);

#endif
