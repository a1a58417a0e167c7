/*
 * Contracts: offer (client), accept (freelancer), pause/resume (client),
 * end (either party), edit terms (client), list and show (parties only).
 * An outsider gets 404 for a contract, never 403: they must not learn it
 * exists.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "lib/utc.h"
#include "lib/week.h"
#include "server/api.h"
#include "server/contracts.h"
#include "server/hub.h"
#include "server/rooms.h"
#include "server/server.h"
#include "server/store.h"

#define LIMIT_MAX_S (168 * 3600)

/* Checks a "tags" array: strings, 1..CONTRACT_TAG_MAX characters, no duplicates. */
static int check_tags(json_t *tags, char *err, size_t errlen)
{
    size_t i, j;
    json_t *t;

    if (json_array_size(tags) > CONTRACT_TAGS_MAX) {
        snprintf(err, errlen, "at most %d tags", CONTRACT_TAGS_MAX);
        return -EINVAL;
    }
    json_array_foreach(tags, i, t) {
        const char *s;
        size_t n;
        if (!json_is_string(t)) {
            snprintf(err, errlen, "'tags' must hold strings");
            return -EINVAL;
        }
        s = json_string_value(t);
        n = st_utf8_length(s);
        if (n == 0 || n > CONTRACT_TAG_MAX) {
            snprintf(err, errlen, "a tag must be 1 to %d characters", CONTRACT_TAG_MAX);
            return -EINVAL;
        }
        for (const char *p = s; *p; p++) {
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                snprintf(err, errlen, "a tag holds control characters");
                return -EINVAL;
            }
        }
        for (j = 0; j < i; j++) {
            if (strcmp(json_string_value(json_array_get(tags, j)), s) == 0) {
                snprintf(err, errlen, "tag '%.40s' is listed twice", s);
                return -EINVAL;
            }
        }
    }
    return 0;
}

static bool currency_valid(const char *s)
{
    return strlen(s) == 3 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
           s[2] >= 'A' && s[2] <= 'Z';
}

static bool title_valid(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

struct create_ctx {
    struct http_req *req;
    struct contract c;
    char freelancer_email[USER_EMAIL_MAX + 1];
    int64_t limit;
    json_t *out;
};

static int create_contract(struct store_tx *tx, void *arg)
{
    struct create_ctx *cc = arg;
    struct user f;
    int64_t now = server_now(cc->req->srv);
    int r = users_get_by_email(tx, cc->freelancer_email, &f, NULL);

    if (r < 0)
        return r;
    if (strcmp(f.role, "freelancer") != 0)
        return -ENOENT;
    snprintf(cc->c.freelancer_id, sizeof(cc->c.freelancer_id), "%s", f.id);
    snprintf(cc->c.freelancer_name, sizeof(cc->c.freelancer_name), "%s", f.name);
    snprintf(cc->c.freelancer_tz, sizeof(cc->c.freelancer_tz), "%s", f.timezone);
    if ((r = contracts_insert(tx, &cc->c, cc->limit, now)) < 0)
        return r;
    cc->out = contracts_to_json(tx, &cc->c, now);
    return 0;
}

void api_contracts_create(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"freelancer_email", ST_JSON_STRING, true, false, 3, USER_EMAIL_MAX},
        {"title", ST_JSON_STRING, true, false, 1, CONTRACT_TITLE_MAX},
        {"hourly_rate_cents", ST_JSON_INT, true, false, 0, CONTRACT_RATE_MAX},
        {"currency", ST_JSON_STRING, true, false, 3, 3},
        {"weekly_limit_s", ST_JSON_INT, false, true, 0, LIMIT_MAX_S},
        {"manual_time_allowed", ST_JSON_BOOL, false, false, 0, 0},
        {"screenshots_enabled", ST_JSON_BOOL, false, false, 0, 0},
        {"memo_required", ST_JSON_BOOL, false, false, 0, 0},
        {"tags", ST_JSON_ARRAY, false, false, 0, CONTRACT_TAGS_MAX},
        {"tag_required", ST_JSON_BOOL, false, false, 0, 0},
        {NULL, 0, false, false, 0, 0},
    };
    struct create_ctx cc = {.req = req};
    char err[128];
    json_t *body, *tags;
    int r;

    if (strcmp(req->user.role, "client") != 0) {
        http_reply_error(resp, 403, "forbidden", "only clients offer contracts");
        return;
    }
    if (!(body = http_json_body(req, resp, fields)))
        return;
    snprintf(cc.freelancer_email, sizeof(cc.freelancer_email), "%s",
             st_json_str(body, "freelancer_email", ""));
    if (users_normalize_email(cc.freelancer_email) < 0) {
        http_reply_error(resp, 400, "invalid_argument", "'freelancer_email' is not an email");
        goto out;
    }
    if (!title_valid(st_json_str(body, "title", ""))) {
        http_reply_error(resp, 400, "invalid_argument", "'title' holds control characters");
        goto out;
    }
    if (!currency_valid(st_json_str(body, "currency", ""))) {
        http_reply_error(resp, 400, "invalid_argument",
                         "'currency' must be an ISO 4217 code such as \"USD\"");
        goto out;
    }
    tags = json_object_get(body, "tags");
    if (tags && check_tags(tags, err, sizeof(err)) < 0) {
        http_reply_error(resp, 400, "invalid_argument", "%s", err);
        goto out;
    }
    if (st_json_bool(body, "tag_required", false) && json_array_size(tags) == 0) {
        http_reply_error(resp, 400, "invalid_argument", "'tag_required' needs 'tags'");
        goto out;
    }
    snprintf(cc.c.client_id, sizeof(cc.c.client_id), "%s", req->user.id);
    snprintf(cc.c.client_name, sizeof(cc.c.client_name), "%s", req->user.name);
    snprintf(cc.c.title, sizeof(cc.c.title), "%s", st_json_str(body, "title", ""));
    snprintf(cc.c.state, sizeof(cc.c.state), "offered");
    snprintf(cc.c.currency, sizeof(cc.c.currency), "%s", st_json_str(body, "currency", ""));
    cc.c.hourly_rate_cents = st_json_int(body, "hourly_rate_cents", 0);
    cc.c.manual_time_allowed = st_json_bool(body, "manual_time_allowed", true);
    cc.c.screenshots_enabled = st_json_bool(body, "screenshots_enabled", true);
    cc.c.memo_required = st_json_bool(body, "memo_required", true);
    cc.c.tag_required = st_json_bool(body, "tag_required", false);
    cc.c.tags = tags ? json_incref(tags) : json_array();
    cc.limit = st_json_int(body, "weekly_limit_s", CONTRACT_NO_LIMIT);

    r = store_write(req->srv->store, create_contract, &cc);
    if (r < 0)
        json_decref(cc.out); /* built before a commit that then failed */
    if (r == -ENOENT)
        http_reply_error(resp, 400, "invalid_argument", "no freelancer has the email '%s'",
                         cc.freelancer_email);
    else if (r < 0)
        http_reply_store_error(resp, r);
    else
        http_reply_json(resp, 201, json_pack("{s:o}", "contract", cc.out));
    contracts_release(&cc.c);
out:
    json_decref(body);
}

struct list_ctx {
    struct http_req *req;
    json_t *out;
};

static int list_contracts(struct store_tx *tx, void *arg)
{
    struct list_ctx *lc = arg;
    struct store_stmt *st = store_prepare(
        tx, "SELECT id FROM contracts WHERE client_id = ? OR freelancer_id = ?"
            " ORDER BY created_at DESC, id LIMIT 1000");
    int64_t now = server_now(lc->req->srv);
    char ids[1000][37];
    int n = 0, r;

    store_bind_text(st, 1, lc->req->user.id);
    store_bind_text(st, 2, lc->req->user.id);
    while ((r = store_step(st)) == 1 && n < 1000)
        snprintf(ids[n++], sizeof(ids[0]), "%s", store_col_text(st, 0));
    if (r < 0)
        return r;
    lc->out = json_array();
    for (int i = 0; i < n; i++) {
        struct contract c;
        if ((r = contracts_get(tx, ids[i], &c)) < 0)
            return r;
        json_array_append_new(lc->out, contracts_to_json(tx, &c, now));
        contracts_release(&c);
    }
    return 0;
}

void api_contracts_list(struct http_req *req, struct http_resp *resp)
{
    struct list_ctx lc = {.req = req};
    int r = store_read(req->srv->store, list_contracts, &lc);

    if (r < 0) {
        json_decref(lc.out);
        http_reply_store_error(resp, r);
        return;
    }
    http_reply_json(resp, 200, json_pack("{s:o}", "contracts", lc.out));
}

/* What an action on one contract needs: who asks, which, and what to do. */
struct action_ctx {
    struct http_req *req;
    json_t *body;
    int (*fn)(struct store_tx *tx, struct action_ctx *ac, struct contract *c);
    json_t *out;
    int status;
    char err_code[32];
    char err[256];
    int64_t limit_from;
    bool limit_changed;
};

static int refuse(struct action_ctx *ac, int status, const char *code, const char *msg)
{
    ac->status = status;
    snprintf(ac->err_code, sizeof(ac->err_code), "%s", code);
    snprintf(ac->err, sizeof(ac->err), "%s", msg);
    return -EPERM;
}

static int run_action(struct store_tx *tx, void *arg)
{
    struct action_ctx *ac = arg;
    struct contract c;
    int r = contracts_get_for(tx, ac->req->params[0], &ac->req->user, &c);

    if (r < 0)
        return r;
    if (ac->fn && (r = ac->fn(tx, ac, &c)) < 0)
        goto out;
    ac->out = contracts_to_json(tx, &c, server_now(ac->req->srv));
out:
    contracts_release(&c);
    return r;
}

static void do_action(struct http_req *req, struct http_resp *resp, struct action_ctx *ac,
                      bool write)
{
    int r;

    ac->req = req;
    r = write ? store_write(req->srv->store, run_action, ac)
              : store_read(req->srv->store, run_action, ac);
    if (r < 0) {
        json_decref(ac->out); /* built before a commit that then failed */
        ac->out = NULL;
    }
    if (r == -ENOENT) {
        http_reply_not_found(resp);
    } else if (r == -EPERM) {
        http_reply_error(resp, ac->status, ac->err_code, "%s", ac->err);
    } else if (r < 0) {
        http_reply_store_error(resp, r);
    } else {
        json_t *out = json_pack("{s:o}", "contract", ac->out);
        if (ac->limit_changed) {
            char from[ST_TIME_STRLEN];
            st_utc_format(ac->limit_from, from);
            json_object_set_new(
                out, "effective",
                json_pack("{s:{s:O,s:s}}", "weekly_limit_s", "value",
                          json_object_get(ac->body, "weekly_limit_s"), "from", from));
        }
        http_reply_json(resp, 200, out);
    }
}

void api_contracts_get(struct http_req *req, struct http_resp *resp)
{
    struct action_ctx ac = {0};
    do_action(req, resp, &ac, false);
}

static int transition(struct store_tx *tx, struct action_ctx *ac, struct contract *c,
                      const char *who, const char *from, const char *to)
{
    bool client = contracts_is_client(c, &ac->req->user);
    bool allowed = strcmp(who, "both") == 0 || (strcmp(who, "client") == 0 && client) ||
                   (strcmp(who, "freelancer") == 0 && !client);
    char msg[128];

    if (!allowed) {
        snprintf(msg, sizeof(msg), "only the %s may do that", who);
        return refuse(ac, 403, "forbidden", msg);
    }
    if (strcmp(from, "any") == 0 ? strcmp(c->state, "ended") == 0 : strcmp(c->state, from) != 0) {
        snprintf(msg, sizeof(msg), "the contract is %s", c->state);
        return refuse(ac, 409, "conflict", msg);
    }
    return contracts_set_state(tx, c, to, server_now(ac->req->srv));
}

static int accept_fn(struct store_tx *tx, struct action_ctx *ac, struct contract *c)
{
    return transition(tx, ac, c, "freelancer", "offered", "active");
}

static int pause_fn(struct store_tx *tx, struct action_ctx *ac, struct contract *c)
{
    return transition(tx, ac, c, "client", "active", "paused");
}

static int resume_fn(struct store_tx *tx, struct action_ctx *ac, struct contract *c)
{
    return transition(tx, ac, c, "client", "paused", "active");
}

static int end_fn(struct store_tx *tx, struct action_ctx *ac, struct contract *c)
{
    return transition(tx, ac, c, "both", "any", "ended");
}

void api_contracts_accept(struct http_req *req, struct http_resp *resp)
{
    struct action_ctx ac = {.fn = accept_fn};
    do_action(req, resp, &ac, true);
}

void api_contracts_pause(struct http_req *req, struct http_resp *resp)
{
    struct action_ctx ac = {.fn = pause_fn};
    do_action(req, resp, &ac, true);
}

void api_contracts_resume(struct http_req *req, struct http_resp *resp)
{
    struct action_ctx ac = {.fn = resume_fn};
    do_action(req, resp, &ac, true);
}

void api_contracts_end(struct http_req *req, struct http_resp *resp)
{
    struct action_ctx ac = {.fn = end_fn};
    do_action(req, resp, &ac, true);
}

static int patch_fn(struct store_tx *tx, struct action_ctx *ac, struct contract *c)
{
    json_t *b = ac->body, *v;
    int64_t now = server_now(ac->req->srv);
    struct store_stmt *st;
    char *tags;
    int r;

    if (!contracts_is_client(c, &ac->req->user))
        return refuse(ac, 403, "forbidden", "only the client edits the contract's terms");
    if (strcmp(c->state, "ended") == 0)
        return refuse(ac, 409, "conflict", "the contract has ended");
    if ((v = json_object_get(b, "title")))
        snprintf(c->title, sizeof(c->title), "%s", json_string_value(v));
    if ((v = json_object_get(b, "manual_time_allowed")))
        c->manual_time_allowed = json_is_true(v);
    if ((v = json_object_get(b, "screenshots_enabled")))
        c->screenshots_enabled = json_is_true(v);
    if ((v = json_object_get(b, "tags"))) {
        json_decref(c->tags);
        c->tags = json_incref(v);
    }
    if ((v = json_object_get(b, "tag_required")))
        c->tag_required = json_is_true(v);
    if (c->tag_required && json_array_size(c->tags) == 0)
        return refuse(ac, 400, "invalid_argument", "'tag_required' needs 'tags'");
    tags = json_dumps(c->tags, JSON_COMPACT);
    st = store_prepare(tx, "UPDATE contracts SET title = ?, manual_time_allowed = ?,"
                           " screenshots_enabled = ?, tags = ?, tag_required = ?,"
                           " updated_at = ? WHERE id = ?");
    store_bind_text(st, 1, c->title);
    store_bind_int(st, 2, c->manual_time_allowed);
    store_bind_int(st, 3, c->screenshots_enabled);
    store_bind_text(st, 4, tags);
    store_bind_int(st, 5, c->tag_required);
    store_bind_int(st, 6, now);
    store_bind_text(st, 7, c->id);
    free(tags);
    if ((r = store_run(st)) < 0)
        return r;
    if (json_object_get(b, "title")) {
        /* The contract's room is called what the contract is. */
        char room_id[sizeof(c->id) + 2], why[ROOM_WHY_LEN];
        struct room room;
        snprintf(room_id, sizeof(room_id), "c-%s", c->id);
        if ((r = rooms_get_for(tx, room_id, ac->req->user.id, &room)) < 0 ||
            (r = rooms_update(tx, &room, c->title, -1, now, why)) < 0)
            return r;
    }
    if ((v = json_object_get(b, "weekly_limit_s"))) {
        int64_t limit = json_is_null(v) ? CONTRACT_NO_LIMIT : json_integer_value(v);
        if ((r = contracts_set_limit(tx, c->id, limit, now, &ac->limit_from)) < 0)
            return r;
        ac->limit_changed = true;
    }
    return 0;
}

void api_contracts_patch(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"title", ST_JSON_STRING, false, false, 1, CONTRACT_TITLE_MAX},
        {"weekly_limit_s", ST_JSON_INT, false, true, 0, LIMIT_MAX_S},
        {"manual_time_allowed", ST_JSON_BOOL, false, false, 0, 0},
        {"screenshots_enabled", ST_JSON_BOOL, false, false, 0, 0},
        {"tags", ST_JSON_ARRAY, false, false, 0, CONTRACT_TAGS_MAX},
        {"tag_required", ST_JSON_BOOL, false, false, 0, 0},
        {NULL, 0, false, false, 0, 0},
    };
    struct action_ctx ac = {.fn = patch_fn};
    char err[128];
    json_t *tags;

    if (!(ac.body = http_json_body(req, resp, fields)))
        return;
    if (json_object_size(ac.body) == 0) {
        http_reply_error(resp, 400, "invalid_argument", "nothing to change");
        goto out;
    }
    if (!title_valid(st_json_str(ac.body, "title", ""))) {
        http_reply_error(resp, 400, "invalid_argument", "'title' holds control characters");
        goto out;
    }
    tags = json_object_get(ac.body, "tags");
    if (tags && check_tags(tags, err, sizeof(err)) < 0) {
        http_reply_error(resp, 400, "invalid_argument", "%s", err);
        goto out;
    }
    do_action(req, resp, &ac, true);
    hub_notify(req->srv->hub); /* a new title renames the contract's room */
out:
    json_decref(ac.body);
}
