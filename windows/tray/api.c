/*
 * The tray app's own requests (api.h) over libcurl, the library the engine
 * uploads with on Windows (Schannel: Windows' certificate store).
 */
#include "windows/tray/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "lib/json.h"
#include "lib/xalloc.h"

#define BODY_MAX (1024 * 1024)

struct body {
    char *buf;
    size_t len;
    bool too_big;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct body *b = ud;
    size_t add = size * n;

    if (b->len + add > BODY_MAX) {
        b->too_big = true;
        return 0;
    }
    b->buf = xrealloc(b->buf, b->len + add + 1);
    memcpy(b->buf + b->len, p, add);
    b->len += add;
    b->buf[b->len] = 0;
    return add;
}

/* The server's error sentence from {"error":{"message"}}, or a default. */
static void error_of(const struct body *b, long status, char *err, size_t errlen)
{
    json_t *o = b->buf ? json_loadb(b->buf, b->len, 0, NULL) : NULL;
    const char *msg =
        o ? json_string_value(json_object_get(json_object_get(o, "error"), "message")) : NULL;

    if (msg)
        snprintf(err, errlen, "%s", msg);
    else
        snprintf(err, errlen, "the server answered %ld", status);
    json_decref(o);
}

/*
 * One request: method on server + "/api/v1" + path, with an optional JSON
 * body and bearer token. *ret_status and *ret_body (parsed, may be NULL for
 * an empty answer) on success.
 */
static int request(const char *method, const char *server, const char *path, const char *token,
                   const char *json, long *ret_status, struct body *ret_body, char *err,
                   size_t errlen)
{
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    char *url, *auth = NULL;
    CURLcode cc;
    int rc = 0;

    if (!c) {
        snprintf(err, errlen, "cannot start a request");
        return -ENOMEM;
    }
    url = xasprintf("%s/api/v1%s", server, path);
    h = curl_slist_append(h, "Accept: application/json");
    if (json)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (token) {
        auth = xasprintf("Authorization: Bearer %s", token);
        h = curl_slist_append(h, auth);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, ret_body);
    if (json)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
    cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        if (ret_body->too_big)
            snprintf(err, errlen, "the server's answer is over %d bytes", BODY_MAX);
        else
            snprintf(err, errlen, "cannot reach %s: %s", server, curl_easy_strerror(cc));
        rc = ret_body->too_big ? -EPROTO : -ECONNREFUSED;
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_status);
    }
    curl_slist_free_all(h);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    free(url);
    curl_easy_cleanup(c);
    return rc;
}

int tray_api_login(const char *server, const char *email, const char *password, char **ret_token,
                   char *err, size_t errlen)
{
    json_t *req = json_pack("{s:s, s:s, s:s}", "email", email, "password", password, "device",
                            "stint-tracker (Windows)");
    char *json = req ? json_dumps(req, JSON_COMPACT) : NULL;
    struct body b = {0};
    json_t *o = NULL;
    const char *token;
    long status = 0;
    int rc;

    json_decref(req);
    if (!json) {
        snprintf(err, errlen, "the email or the password is not valid text");
        return -EINVAL;
    }
    rc = request("POST", server, "/login", NULL, json, &status, &b, err, errlen);
    memset(json, 0, strlen(json));
    free(json);
    if (rc < 0)
        goto out;
    if (status != 200) {
        error_of(&b, status, err, errlen);
        rc = status == 401 || status == 429 ? -EACCES : -EPROTO;
        goto out;
    }
    o = b.buf ? json_loadb(b.buf, b.len, 0, NULL) : NULL;
    token = o ? json_string_value(json_object_get(o, "token")) : NULL;
    if (!token) {
        snprintf(err, errlen, "the server's answer to the sign-in has no token");
        rc = -EPROTO;
        goto out;
    }
    *ret_token = xstrdup(token);
out:
    json_decref(o);
    if (b.buf) {
        memset(b.buf, 0, b.len);
        free(b.buf);
    }
    return rc;
}

int tray_api_contracts(const char *server, const char *token, json_t **ret, char *err,
                       size_t errlen)
{
    struct body b = {0};
    json_t *o = NULL, *list;
    long status = 0;
    int rc = request("GET", server, "/contracts", token, NULL, &status, &b, err, errlen);

    if (rc < 0)
        goto out;
    if (status != 200) {
        error_of(&b, status, err, errlen);
        rc = status == 401 ? -EACCES : -EPROTO;
        goto out;
    }
    o = b.buf ? json_loadb(b.buf, b.len, 0, NULL) : NULL;
    list = o ? json_object_get(o, "contracts") : NULL;
    if (!json_is_array(list)) {
        snprintf(err, errlen, "the server's list of contracts is not a list");
        rc = -EPROTO;
        goto out;
    }
    *ret = json_incref(list);
out:
    json_decref(o);
    free(b.buf);
    return rc;
}

int tray_api_delete_segment(const char *server, const char *token, const char *id, char *err,
                            size_t errlen)
{
    struct body b = {0};
    char *path = xasprintf("/segments/%s", id);
    long status = 0;
    int rc = request("DELETE", server, path, token, NULL, &status, &b, err, errlen);

    if (rc == 0 && status != 204 && status != 200) {
        error_of(&b, status, err, errlen);
        rc = -EPROTO;
    }
    free(path);
    free(b.buf);
    return rc;
}
