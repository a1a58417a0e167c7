/*
 * HTTP for the tracker, on libcurl: one request at a time with a bearer
 * token, a byte cap on answers and timeouts, and the server's error message
 * picked out of {"error":{...}}. Used by the uploader thread and by the
 * engine when it reads the contract's terms. Not the CLI's client
 * (cli/client.h), which prints; this returns.
 *
 * Threads: a struct tk_net belongs to one thread at a time.
 */
#ifndef STINT_TRACKER_NET_H
#define STINT_TRACKER_NET_H

#include <jansson.h>
#include <stddef.h>

#define TK_NET_MAX_ANSWER (4u * 1024 * 1024)

struct tk_net {
    void *curl;
    char *server; /* base URL, no trailing slash */
    char *token;
};

struct tk_net_reply {
    long status;
    json_t *body;      /* the parsed answer when it is a JSON object, else NULL */
    char code[32];     /* error.code of an error answer, or "" */
    char message[256]; /* error.message of an error answer, or "HTTP <status>" */
};

/* Copies server and token; 0 or -ENOMEM when libcurl cannot start. */
int tk_net_init(struct tk_net *n, const char *server, const char *token);
void tk_net_release(struct tk_net *n);

/*
 * Sends METHOD /api/v1PATH with body (len bytes of content_type; NULL for
 * none) and waits at most timeout_s. Returns 0 with *ret filled whatever
 * the HTTP status, or a negative errno when no answer came (-ECONNREFUSED,
 * -ETIMEDOUT, -EHOSTUNREACH, -EIO) with a sentence in err.
 */
int tk_net_request(struct tk_net *n, const char *method, const char *path, const void *body,
                   size_t len, const char *content_type, long timeout_s, struct tk_net_reply *ret,
                   char *err, size_t errlen);
void tk_net_reply_release(struct tk_net_reply *r);

#endif
