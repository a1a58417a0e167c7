/*
 * Rooms over HTTP: list, create, show, rename/archive, add and remove
 * members, move the read marker. Parsing and replies only; the rules are
 * in rooms.c. A room exists only for its members: anyone else gets the
 * 404 of an id that does not exist.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "server/api.h"
#include "server/hub.h"
#include "server/rooms.h"
#include "server/server.h"
#include "server/store.h"

/* api.h */
void api_reply_room_error(struct http_resp *resp, int r, const char *why)
{
    if (r == -ENOENT)
        http_reply_not_found(resp);
    else if (r == -EPERM)
        http_reply_error(resp, 403, "forbidden", "%s", why[0] ? why : "not allowed");
    else if (r == -EBUSY)
        http_reply_error(resp, 409, "conflict", "%s", why[0] ? why : "conflict");
    else if (r == -EINVAL)
        http_reply_error(resp, 400, "invalid_argument", "%s", why[0] ? why : "invalid request");
    else
        http_reply_store_error(resp, r);
}

static bool title_valid(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* One request on one room: who asks, which room, what to do in it. */
struct room_ctx {
    struct http_req *req;
    json_t *body;
    int (*fn)(struct store_tx *tx, struct room_ctx *rc, struct room *r);
    json_t *out;  /* the room as the caller now sees it */
    bool no_room; /* fn left the caller outside the room: reply 204 */
    char why[ROOM_WHY_LEN];
};

static int run_room(struct store_tx *tx, void *arg)
{
    struct room_ctx *rc = arg;
    struct room r;
    int err = rooms_get_for(tx, rc->req->params[0], rc->req->user.id, &r);

    if (err < 0)
        return err;
    if (rc->fn && (err = rc->fn(tx, rc, &r)) < 0)
        return err;
    if (rc->no_room)
        return 0;
    /* A change of role (handing the room over) is reloaded with the room. */
    if ((err = rooms_get_for(tx, r.id, rc->req->user.id, &r)) < 0)
        return err;
    return rooms_to_json(tx, &r, rc->req->user.id, &rc->out);
}

static void do_room(struct http_req *req, struct http_resp *resp, struct room_ctx *rc, bool write)
{
    int r;

    rc->req = req;
    r = write ? store_write(req->srv->store, run_room, rc)
              : store_read(req->srv->store, run_room, rc);
    if (r < 0) {
        json_decref(rc->out); /* built before a commit that then failed */
        api_reply_room_error(resp, r, rc->why);
        return;
    }
    if (write)
        hub_notify(req->srv->hub);
    if (rc->no_room)
        http_reply_empty(resp, 204);
    else
        http_reply_json(resp, 200, json_pack("{s:o}", "room", rc->out));
}

static int list_rooms(struct store_tx *tx, void *arg)
{
    struct room_ctx *rc = arg;
    return rooms_list_json(tx, rc->req->user.id, &rc->out);
}

void api_rooms_list(struct http_req *req, struct http_resp *resp)
{
    struct room_ctx rc = {.req = req};
    int r = store_read(req->srv->store, list_rooms, &rc);

    if (r < 0)
        api_reply_room_error(resp, r, "");
    else
        http_reply_json(resp, 200, rc.out);
}

static int create_room(struct store_tx *tx, void *arg)
{
    struct room_ctx *rc = arg;
    struct room r;
    int err = rooms_create_group(tx, rc->req->user.id, st_json_str(rc->body, "title", ""),
                                 json_object_get(rc->body, "member_ids"), server_now(rc->req->srv),
                                 &r, rc->why);

    if (err < 0)
        return err;
    return rooms_to_json(tx, &r, rc->req->user.id, &rc->out);
}

void api_rooms_create(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"title", ST_JSON_STRING, true, false, 1, ROOM_TITLE_MAX},
        {"member_ids", ST_JSON_ARRAY, true, false, 0, ROOM_MEMBER_IDS_MAX},
        {NULL, 0, false, false, 0, 0},
    };
    struct room_ctx rc = {.req = req};
    size_t i;
    json_t *v;
    int r;

    if (!(rc.body = http_json_body(req, resp, fields)))
        return;
    if (!title_valid(st_json_str(rc.body, "title", ""))) {
        http_reply_error(resp, 400, "invalid_argument", "'title' holds control characters");
        goto out;
    }
    json_array_foreach(json_object_get(rc.body, "member_ids"), i, v) {
        if (!json_is_string(v)) {
            http_reply_error(resp, 400, "invalid_argument", "'member_ids' must hold user ids");
            goto out;
        }
    }
    r = store_write(req->srv->store, create_room, &rc);
    if (r < 0) {
        json_decref(rc.out);
        api_reply_room_error(resp, r, rc.why);
        goto out;
    }
    hub_notify(req->srv->hub);
    http_reply_json(resp, 201, json_pack("{s:o}", "room", rc.out));
out:
    json_decref(rc.body);
}

void api_rooms_get(struct http_req *req, struct http_resp *resp)
{
    struct room_ctx rc = {0};
    do_room(req, resp, &rc, false);
}

static int patch_fn(struct store_tx *tx, struct room_ctx *rc, struct room *r)
{
    json_t *archived = json_object_get(rc->body, "archived");

    return rooms_update(tx, r, st_json_str(rc->body, "title", NULL),
                        archived ? json_is_true(archived) : -1, server_now(rc->req->srv), rc->why);
}

void api_rooms_patch(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"title", ST_JSON_STRING, false, false, 1, ROOM_TITLE_MAX},
        {"archived", ST_JSON_BOOL, false, false, 0, 0},
        {NULL, 0, false, false, 0, 0},
    };
    struct room_ctx rc = {.fn = patch_fn};

    if (!(rc.body = http_json_body(req, resp, fields)))
        return;
    if (json_object_size(rc.body) == 0)
        http_reply_error(resp, 400, "invalid_argument", "nothing to change");
    else if (!title_valid(st_json_str(rc.body, "title", "")))
        http_reply_error(resp, 400, "invalid_argument", "'title' holds control characters");
    else
        do_room(req, resp, &rc, true);
    json_decref(rc.body);
}

static int add_member_fn(struct store_tx *tx, struct room_ctx *rc, struct room *r)
{
    return rooms_set_member(tx, r, rc->req->user.id, st_json_str(rc->body, "user_id", ""),
                            st_json_str(rc->body, "role", "member"), server_now(rc->req->srv),
                            rc->why);
}

void api_rooms_add_member(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"user_id", ST_JSON_STRING, true, false, 1, 128},
        {"role", ST_JSON_STRING, false, false, 1, 16},
        {NULL, 0, false, false, 0, 0},
    };
    struct room_ctx rc = {.fn = add_member_fn};
    const char *role;

    if (!(rc.body = http_json_body(req, resp, fields)))
        return;
    role = st_json_str(rc.body, "role", "member");
    if (strcmp(role, "member") != 0 && strcmp(role, "admin") != 0 && strcmp(role, "owner") != 0)
        http_reply_error(resp, 400, "invalid_argument",
                         "'role' must be \"member\", \"admin\" or \"owner\"");
    else
        do_room(req, resp, &rc, true);
    json_decref(rc.body);
}

static int remove_member_fn(struct store_tx *tx, struct room_ctx *rc, struct room *r)
{
    rc->no_room = true;
    return rooms_remove_member(tx, r, rc->req->user.id, rc->req->params[1],
                               server_now(rc->req->srv), rc->why);
}

void api_rooms_remove_member(struct http_req *req, struct http_resp *resp)
{
    struct room_ctx rc = {.fn = remove_member_fn};
    do_room(req, resp, &rc, true);
}

static int read_fn(struct store_tx *tx, struct room_ctx *rc, struct room *r)
{
    return rooms_mark_read(tx, r, rc->req->user.id, st_json_str(rc->body, "message_id", ""),
                           server_now(rc->req->srv), rc->why);
}

void api_rooms_read(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"message_id", ST_JSON_STRING, true, false, 1, 128},
        {NULL, 0, false, false, 0, 0},
    };
    struct room_ctx rc = {.fn = read_fn};

    if (!(rc.body = http_json_body(req, resp, fields)))
        return;
    do_room(req, resp, &rc, true);
    json_decref(rc.body);
}
