/*
 * HTTP for the stint command-line client, on libcurl: JSON in, JSON out,
 * the bearer token from the saved sign-in, and one mapping from what went
 * wrong to a message on stderr and an exit status (cli.h). This is program
 * code, so unlike lib/ it prints: each failure is reported once, here.
 */
#ifndef STINT_CLI_CLIENT_H
#define STINT_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cli/cli.h"

/* No response body is read past this; the request fails instead. */
#define CLI_MAX_RESPONSE (64u * 1024 * 1024)

struct cli_client {
    const char *server; /* borrowed from the context */
    char *token;        /* owned; NULL when the command needs no sign-in */
    char *email;        /* who signed in, from the saved state; owned, may be NULL */
    void *curl;         /* one handle per command, so requests reuse the connection */
};

struct curl_slist;

/*
 * One request being made: cli_request_begin resets c->curl with what every
 * request of the CLI shares (http/https only, 10 s to connect, giving up
 * after 60 s under a byte a second, the user agent, errbuf for curl's
 * words, the URL of /api/v1PATH) and appends the bearer token, when signed
 * in, to headers. The caller adds its own options and headers, sets
 * CURLOPT_HTTPHEADER, performs, and ends with cli_request_end (which wipes
 * the token's copy).
 */
struct cli_request {
    char *url;
    char *auth; /* "Authorization: Bearer ..." or NULL */
    struct curl_slist *headers;
    char errbuf[256]; /* CURL_ERROR_SIZE */
};
void cli_request_begin(struct cli_client *c, const char *path, struct cli_request *rq);
void cli_request_end(struct cli_request *rq);
/* Says on stderr why no HTTP answer came (curl_code: a CURLcode). */
void cli_request_report(struct cli_client *c, int curl_code, const struct cli_request *rq);

/* What the server answered. */
struct cli_reply {
    long status;
    json_t *body; /* parsed JSON object, or NULL when the body was empty or not JSON */
    size_t len;   /* bytes of body received */
};

/*
 * Prepares a client for ctx->server. With need_auth, loads the saved token
 * and fails with CLI_NOAUTH ("not signed in") when there is none or it was
 * saved for another server. Returns CLI_OK or an exit status, after
 * printing why.
 */
int cli_client_open(struct cli_ctx *ctx, bool need_auth, struct cli_client *ret);
void cli_client_release(struct cli_client *c);

/*
 * Sends METHOD /api/v1PATH with body (borrowed; NULL for none). Returns
 * CLI_OK and fills ret (the caller releases it with cli_reply_release)
 * whatever the HTTP status; returns CLI_FAILED, after printing why, when no
 * HTTP answer came (connection refused, timeout, a body over the cap).
 */
int cli_client_send(struct cli_client *c, const char *method, const char *path, json_t *body,
                    struct cli_reply *ret);

/*
 * Maps a reply that is not 2xx to its exit status and prints the server's
 * message: 401 → CLI_NOAUTH, other 4xx → CLI_REFUSED ("stint: refused: ..."),
 * anything else → CLI_FAILED.
 */
int cli_reply_fail(struct cli_client *c, const struct cli_reply *reply);
/* The same for a raw body (len bytes, an error object or anything else). */
int cli_reply_fail_body(struct cli_client *c, long status, const char *data, size_t len);
void cli_reply_release(struct cli_reply *reply);

/*
 * cli_client_send and cli_reply_fail in one: on a 2xx answer returns CLI_OK
 * and hands the parsed body to *ret_body (NULL for an empty body; ret_body
 * may be NULL when the caller does not want it). A 2xx body that is not
 * empty and not a JSON object is a failure.
 */
int cli_call(struct cli_client *c, const char *method, const char *path, json_t *body,
             json_t **ret_body);

/*
 * Overwrites the string obj[key] in place (a password in a request) before
 * the object is freed. Does nothing when there is no such string.
 */
void cli_json_wipe(json_t *obj, const char *key);

/* Returns prefix + the URL-escaped id + suffix, newly allocated. */
char *cli_path(const char *prefix, const char *id, const char *suffix);
/* Returns s URL-escaped for a query string, newly allocated. */
char *cli_query_escape(const char *s);

#endif
