/*
 * The one place where the command-line client talks HTTP. Every request
 * goes through cli_client_send; every failure is put into words by
 * report_transport or cli_reply_fail. Not for the tracker's uploads, which
 * have their own retry and journal rules.
 */
#include "cli/client.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "lib/os.h"
#include "lib/signin.h"
#include "lib/str.h"
#include "lib/xalloc.h"

int cli_client_open(struct cli_ctx *ctx, bool need_auth, struct cli_client *ret)
{
    struct cli_client c = {.server = ctx->server};
    struct st_signin st = {0};
    int r;

    if (!ctx->server) {
        fprintf(stderr, "stint: '%s' is not a server URL (http://HOST:PORT or https://...)\n",
                ctx->bad_server ? ctx->bad_server : "");
        return CLI_USAGE;
    }
    if (need_auth) {
        r = st_signin_load(&st);
        if (r == -ENOENT) {
            fprintf(stderr, "stint: not signed in: run 'stint login --email EMAIL'\n");
            return CLI_NOAUTH;
        }
        if (r == -ENOKEY || r == -EACCES) {
            fprintf(stderr,
                    "stint: the sign-in's token is in the keyring, which %s: unlock it, or "
                    "run 'stint login' again\n",
                    r == -EACCES ? "is locked"
                                 : "does not answer now (or STINT_NO_KEYRING is set)");
            return CLI_NOAUTH;
        }
        if (r < 0) {
            char *path = st_signin_path();
            fprintf(stderr, "stint: cannot read '%s': %s\n", path ? path : "auth.json",
                    r == -EINVAL ? "not a stint sign-in file" : cli_strerror(-r));
            free(path);
            return CLI_NOAUTH;
        }
        if (strcmp(st.server, ctx->server) != 0) {
            /* Never send a token to a server it was not issued by. */
            fprintf(stderr, "stint: not signed in to %s (signed in to %s): run 'stint login'\n",
                    ctx->server, st.server);
            st_signin_release(&st);
            return CLI_NOAUTH;
        }
        c.token = st.token;
        c.email = st.email;
        st.token = st.email = NULL;
        st_signin_release(&st);
    }
    c.curl = curl_easy_init();
    if (!c.curl) {
        fprintf(stderr, "stint: cannot start libcurl\n");
        free(c.token);
        free(c.email);
        return CLI_FAILED;
    }
    *ret = c;
    return CLI_OK;
}

void cli_client_release(struct cli_client *c)
{
    if (c->token) {
        explicit_bzero(c->token, strlen(c->token));
        free(c->token);
    }
    free(c->email);
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->token = c->email = NULL;
    c->curl = NULL;
}

/* Says why no HTTP answer came, in the words a user expects. */
static void report_transport(struct cli_client *c, CURLcode code, const char *errbuf)
{
    long os_errno = 0;
    char why[CURL_ERROR_SIZE + 64];

    curl_easy_getinfo(c->curl, CURLINFO_OS_ERRNO, &os_errno);
    switch (code) {
    case CURLE_COULDNT_CONNECT:
        snprintf(why, sizeof(why), "%s",
                 os_errno ? cli_strerror((int)os_errno) : "connection refused");
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(why, sizeof(why), "unknown host");
        break;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(why, sizeof(why), "timed out");
        break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        snprintf(why, sizeof(why), "not an http:// or https:// URL");
        break;
    default:
        snprintf(why, sizeof(why), "%s", errbuf[0] ? errbuf : curl_easy_strerror(code));
        why[0] = (char)tolower((unsigned char)why[0]);
        break;
    }
    fprintf(stderr, "stint: cannot reach %s: %s\n", c->server, why);
}

void cli_request_begin(struct cli_client *c, const char *path, struct cli_request *rq)
{
    CURL *curl = c->curl;

    _Static_assert(sizeof(rq->errbuf) >= CURL_ERROR_SIZE, "errbuf is curl's size");
    memset(rq, 0, sizeof(*rq));
    rq->url = xasprintf("%s/api/v1%s", c->server, path);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, rq->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    /* A stalled server: give up after 60 s with less than one byte a second. */
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "stint/" STINT_VERSION);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, rq->errbuf);
    /* The system's proxy (Windows' settings); NULL on Linux, where libcurl reads the environment. */
    {
        char *proxy = st_os_proxy_for(rq->url);
        if (proxy) {
            curl_easy_setopt(curl, CURLOPT_PROXY, proxy);
            free(proxy);
        }
    }
    if (c->token) {
        rq->auth = xasprintf("Authorization: Bearer %s", c->token);
        rq->headers = curl_slist_append(rq->headers, rq->auth);
    }
}

void cli_request_end(struct cli_request *rq)
{
    curl_slist_free_all(rq->headers);
    if (rq->auth) {
        explicit_bzero(rq->auth, strlen(rq->auth));
        free(rq->auth);
    }
    free(rq->url);
    memset(rq, 0, sizeof(*rq));
}

void cli_request_report(struct cli_client *c, int curl_code, const struct cli_request *rq)
{
    report_transport(c, (CURLcode)curl_code, rq->errbuf);
}

int cli_client_send(struct cli_client *c, const char *method, const char *path, json_t *body,
                    struct cli_reply *ret)
{
    CURL *curl = c->curl;
    struct cli_request rq;
    struct st_capbuf buf = {.max = CLI_MAX_RESPONSE};
    char *payload = NULL;
    CURLcode code;
    long status = 0;
    int r = CLI_FAILED;

    cli_request_begin(c, path, &rq);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, st_capbuf_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CLI_MAX_RESPONSE);
    rq.headers = curl_slist_append(rq.headers, "Accept: application/json");
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        if (!payload) {
            fprintf(stderr, "stint: cannot encode the request as JSON\n");
            goto out;
        }
        rq.headers = curl_slist_append(rq.headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(payload));
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, "");
    }
    /* Without this, curl would send "Expect: 100-continue" for larger bodies. */
    rq.headers = curl_slist_append(rq.headers, "Expect:");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, rq.headers);
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);

    code = curl_easy_perform(curl);
    if (buf.too_big || code == CURLE_FILESIZE_EXCEEDED) {
        fprintf(stderr, "stint: the answer from %s is larger than %u MiB\n", c->server,
                CLI_MAX_RESPONSE / (1024 * 1024));
        goto out;
    }
    if (code != CURLE_OK) {
        cli_request_report(c, code, &rq);
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    ret->status = status;
    ret->body = NULL;
    ret->len = buf.len;
    if (buf.len > 0) {
        json_t *v = json_loadb(buf.data, buf.len, JSON_REJECT_DUPLICATES, NULL);
        if (json_is_object(v))
            ret->body = v;
        else
            json_decref(v);
    }
    r = CLI_OK;
out:
    cli_request_end(&rq);
    if (payload) {
        /* The payload may hold a password. */
        explicit_bzero(payload, strlen(payload));
        free(payload);
    }
    free(buf.data);
    return r;
}

int cli_reply_fail(struct cli_client *c, const struct cli_reply *reply)
{
    json_t *err = json_object_get(reply->body, "error");
    const char *message = json_string_value(json_object_get(err, "message"));
    char *clean = message ? cli_clean(message) : xasprintf("HTTP status %ld", reply->status);
    int r;

    if (reply->status == 401) {
        fprintf(stderr, "stint: not signed in: %s\n", clean);
        r = CLI_NOAUTH;
    } else if (reply->status >= 400 && reply->status < 500) {
        fprintf(stderr, "stint: refused: %s\n", clean);
        r = CLI_REFUSED;
    } else {
        fprintf(stderr, "stint: server error at %s: %s\n", c->server, clean);
        r = CLI_FAILED;
    }
    free(clean);
    return r;
}

int cli_reply_fail_body(struct cli_client *c, long status, const char *data, size_t len)
{
    struct cli_reply reply = {.status = status, .len = len};
    json_t *v = len ? json_loadb(data, len, 0, NULL) : NULL;
    int r;

    reply.body = json_is_object(v) ? v : NULL;
    if (!reply.body)
        json_decref(v);
    r = cli_reply_fail(c, &reply);
    cli_reply_release(&reply);
    return r;
}

void cli_reply_release(struct cli_reply *reply)
{
    json_decref(reply->body);
    reply->body = NULL;
}

int cli_call(struct cli_client *c, const char *method, const char *path, json_t *body,
             json_t **ret_body)
{
    struct cli_reply reply = {0};
    int r;

    r = cli_client_send(c, method, path, body, &reply);
    if (r != CLI_OK)
        return r;
    if (reply.status < 200 || reply.status > 299) {
        r = cli_reply_fail(c, &reply);
        goto out;
    }
    if (!reply.body && reply.len > 0) {
        fprintf(stderr, "stint: bad answer from %s: not a JSON object\n", c->server);
        r = CLI_FAILED;
        goto out;
    }
    if (ret_body) {
        *ret_body = reply.body;
        reply.body = NULL;
    }
    r = CLI_OK;
out:
    cli_reply_release(&reply);
    return r;
}

char *cli_query_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *copy;

    if (!e) {
        fprintf(stderr, "fatal: out of memory\n");
        abort();
    }
    copy = xstrdup(e);
    curl_free(e);
    return copy;
}

char *cli_path(const char *prefix, const char *id, const char *suffix)
{
    char *e = cli_query_escape(id);
    char *p = xasprintf("%s%s%s", prefix, e, suffix);

    free(e);
    return p;
}

void cli_json_wipe(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));

    /* jansson owns the buffer; wiping it in place leaves a valid empty-looking string. */
    if (s)
        explicit_bzero((char *)s, strlen(s));
}
