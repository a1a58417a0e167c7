/*
 * Messages over HTTP: a room's history and posting in it, editing and
 * deleting one's messages, and search. Parsing and replies only; the rules
 * are in messages.c. A message exists only for the members of its room.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "server/api.h"
#include "server/hub.h"
#include "server/messages.h"
#include "server/rooms.h"
#include "server/server.h"
#include "server/store.h"


/* The "limit" query parameter: 1..MESSAGE_PAGE_MAX, def when absent; -1 when invalid. */
static int query_limit(struct http_req *req, int def)
{
    const char *s = http_query(req, "limit");
    long v = 0;

    if (!s)
        return def;
    if (!*s || strlen(s) > 3)
        return -1;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    return v >= 1 && v <= MESSAGE_PAGE_MAX ? (int)v : -1;
}

struct msg_ctx {
    struct http_req *req;
    json_t *body;
    const char *before;
    const char *q;
    int limit;
    json_t *out;
    char why[ROOM_WHY_LEN];
};

static int list_fn(struct store_tx *tx, void *arg)
{
    struct msg_ctx *mc = arg;
    struct room r;
    int err = rooms_get_for(tx, mc->req->params[0], mc->req->user.id, &r);

    if (err < 0)
        return err;
    return messages_page(tx, r.id, mc->before, mc->limit, &mc->out, mc->why);
}

void api_messages_list(struct http_req *req, struct http_resp *resp)
{
    struct msg_ctx mc = {.req = req};
    int r;

    mc.limit = query_limit(req, MESSAGE_PAGE_DEFAULT);
    if (mc.limit < 0) {
        http_reply_error(resp, 400, "invalid_argument", "'limit' must be 1 to %d",
                         MESSAGE_PAGE_MAX);
        return;
    }
    mc.before = http_query(req, "before");
    r = store_read(req->srv->store, list_fn, &mc);
    if (r < 0)
        api_reply_room_error(resp, r, mc.why);
    else
        http_reply_json(resp, 200, mc.out);
}

static int create_fn(struct store_tx *tx, void *arg)
{
    struct msg_ctx *mc = arg;
    struct message_new m = {
        .author_id = mc->req->user.id,
        .text = st_json_str(mc->body, "text", ""),
        .file_ids = json_object_get(mc->body, "file_ids"),
        .reply_to = st_json_str(mc->body, "reply_to", NULL),
    };
    struct room r;
    int err = rooms_get_for(tx, mc->req->params[0], mc->req->user.id, &r);

    if (err < 0)
        return err;
    return messages_post(tx, &r, &m, server_now(mc->req->srv), &mc->out, mc->why);
}

void api_messages_create(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"text", ST_JSON_STRING, true, false, 0, MESSAGE_TEXT_MAX},
        {"file_ids", ST_JSON_ARRAY, false, false, 0, MESSAGE_FILES_MAX},
        {"reply_to", ST_JSON_STRING, false, false, 1, 128},
        {NULL, 0, false, false, 0, 0},
    };
    struct msg_ctx mc = {.req = req};
    size_t i;
    json_t *v;
    int r;

    if (!(mc.body = http_json_body(req, resp, fields)))
        return;
    json_array_foreach(json_object_get(mc.body, "file_ids"), i, v) {
        if (!json_is_string(v) || strlen(json_string_value(v)) > 128) {
            http_reply_error(resp, 400, "invalid_argument", "'file_ids' must hold file ids");
            goto out;
        }
    }
    r = store_write(req->srv->store, create_fn, &mc);
    if (r < 0) {
        json_decref(mc.out); /* built before a commit that then failed */
        api_reply_room_error(resp, r, mc.why);
        goto out;
    }
    hub_notify(req->srv->hub);
    http_reply_json(resp, 201, json_pack("{s:o}", "message", mc.out));
out:
    json_decref(mc.body);
}

static int edit_fn(struct store_tx *tx, void *arg)
{
    struct msg_ctx *mc = arg;
    return messages_edit(tx, mc->req->params[0], mc->req->user.id,
                         st_json_str(mc->body, "text", ""), server_now(mc->req->srv), &mc->out,
                         mc->why);
}

void api_messages_patch(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"text", ST_JSON_STRING, true, false, 0, MESSAGE_TEXT_MAX},
        {NULL, 0, false, false, 0, 0},
    };
    struct msg_ctx mc = {.req = req};
    int r;

    if (!(mc.body = http_json_body(req, resp, fields)))
        return;
    r = store_write(req->srv->store, edit_fn, &mc);
    if (r < 0) {
        json_decref(mc.out);
        api_reply_room_error(resp, r, mc.why);
    } else {
        hub_notify(req->srv->hub);
        http_reply_json(resp, 200, json_pack("{s:o}", "message", mc.out));
    }
    json_decref(mc.body);
}

static int delete_fn(struct store_tx *tx, void *arg)
{
    struct msg_ctx *mc = arg;
    return messages_delete(tx, mc->req->params[0], mc->req->user.id, server_now(mc->req->srv),
                           mc->why);
}

void api_messages_delete(struct http_req *req, struct http_resp *resp)
{
    struct msg_ctx mc = {.req = req};
    int r = store_write(req->srv->store, delete_fn, &mc);

    if (r < 0) {
        api_reply_room_error(resp, r, mc.why);
        return;
    }
    hub_notify(req->srv->hub);
    http_reply_empty(resp, 204);
}

static int search_fn(struct store_tx *tx, void *arg)
{
    struct msg_ctx *mc = arg;
    return messages_search(tx, mc->req->user.id, mc->q, mc->limit, &mc->out, mc->why);
}

void api_search(struct http_req *req, struct http_resp *resp)
{
    struct msg_ctx mc = {.req = req};
    size_t n;
    int r;

    mc.q = http_query(req, "q");
    n = mc.q ? st_utf8_length(mc.q) : 0;
    if (n < 1 || n > MESSAGE_QUERY_MAX) {
        http_reply_error(resp, 400, "invalid_argument", "'q' must be 1 to %d characters",
                         MESSAGE_QUERY_MAX);
        return;
    }
    mc.limit = query_limit(req, MESSAGE_PAGE_DEFAULT);
    if (mc.limit < 0) {
        http_reply_error(resp, 400, "invalid_argument", "'limit' must be 1 to %d",
                         MESSAGE_PAGE_MAX);
        return;
    }
    r = store_read(req->srv->store, search_fn, &mc);
    if (r < 0)
        api_reply_room_error(resp, r, mc.why);
    else
        http_reply_json(resp, 200, mc.out);
}
