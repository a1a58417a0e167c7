/*
 * The tracker's HTTP requests. Kept apart from the uploader so that the
 * engine's one-off reads (config, contract) share the same timeouts and
 * error words. Not for retries: the caller decides those.
 */
#include "tracker/net.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/os.h"
#include "lib/str.h"
#include "lib/xalloc.h"

int tk_net_init(struct tk_net *n, const char *server, const char *token)
{
    memset(n, 0, sizeof(*n));
    n->curl = curl_easy_init();
    if (!n->curl)
        return -ENOMEM;
    n->server = xstrdup(server ? server : "");
    n->token = xstrdup(token ? token : "");
    return 0;
}

void tk_net_release(struct tk_net *n)
{
    if (n->curl)
        curl_easy_cleanup(n->curl);
    if (n->token) {
        explicit_bzero(n->token, strlen(n->token));
        free(n->token);
    }
    free(n->server);
    memset(n, 0, sizeof(*n));
}

void tk_net_reply_release(struct tk_net_reply *r)
{
    json_decref(r->body);
    r->body = NULL;
}

static int transport_error(CURLcode code, const char *errbuf, const char *server, char *err,
                           size_t errlen)
{
    int r;
    const char *why;

    switch (code) {
    case CURLE_COULDNT_CONNECT:
        r = -ECONNREFUSED;
        why = "connection refused";
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
        r = -EHOSTUNREACH;
        why = "unknown host";
        break;
    case CURLE_OPERATION_TIMEDOUT:
        r = -ETIMEDOUT;
        why = "timed out";
        break;
    default:
        r = -EIO;
        why = errbuf[0] ? errbuf : curl_easy_strerror(code);
        break;
    }
    snprintf(err, errlen, "cannot reach %s: %s", server, why);
    return r;
}

int tk_net_request(struct tk_net *n, const char *method, const char *path, const void *body,
                   size_t len, const char *content_type, long timeout_s, struct tk_net_reply *ret,
                   char *err, size_t errlen)
{
    CURL *curl = n->curl;
    struct curl_slist *headers = NULL;
    struct st_capbuf a = {.max = TK_NET_MAX_ANSWER};
    char errbuf[CURL_ERROR_SIZE] = "";
    char *url = xasprintf("%s/api/v1%s", n->server, path);
    char *auth = NULL, *ctype = NULL;
    struct tk_net_reply reply = {0};
    CURLcode code;
    int r = 0;

    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "stint-tracker/" STINT_VERSION);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    {
        /* The system's proxy (Windows' settings); NULL on Linux (libcurl reads the environment). */
        char *proxy = st_os_proxy_for(url);
        if (proxy) {
            curl_easy_setopt(curl, CURLOPT_PROXY, proxy);
            free(proxy);
        }
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, st_capbuf_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Expect:");
    if (n->token[0]) {
        auth = xasprintf("Authorization: Bearer %s", n->token);
        headers = curl_slist_append(headers, auth);
    }
    if (body) {
        ctype = xasprintf("Content-Type: %s", content_type ? content_type : "application/json");
        headers = curl_slist_append(headers, ctype);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);

    code = curl_easy_perform(curl);
    if (a.too_big) {
        snprintf(err, errlen, "the answer from %s is too large", n->server);
        r = -EIO;
        goto out;
    }
    if (code != CURLE_OK) {
        r = transport_error(code, errbuf, n->server, err, errlen);
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
    if (a.len > 0) {
        json_t *v = json_loadb(a.data, a.len, 0, NULL);
        if (json_is_object(v))
            reply.body = v;
        else
            json_decref(v);
    }
    if (reply.status >= 300) {
        json_t *e = json_object_get(reply.body, "error");
        snprintf(reply.code, sizeof(reply.code), "%s", st_json_str(e, "code", ""));
        if (st_json_str(e, "message", NULL))
            snprintf(reply.message, sizeof(reply.message), "%s", st_json_str(e, "message", ""));
        else
            snprintf(reply.message, sizeof(reply.message), "HTTP %ld", reply.status);
    }
    *ret = reply;
out:
    curl_slist_free_all(headers);
    if (auth) {
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    free(ctype);
    free(a.data);
    free(url);
    return r;
}
