/*
 * Segments: the tracker's idempotent, extend-only upload (PUT), reading one,
 * editing memo and tags, deleting, and adding manual time. Every rule that
 * decides depends on the server's clock (server_now) and runs inside the
 * write transaction, so two uploads of one segment cannot both win.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/utc.h"
#include "lib/uuid.h"
#include "lib/week.h"
#include "lib/xalloc.h"
#include "server/api.h"
#include "server/blob.h"
#include "server/contracts.h"
#include "server/segments.h"
#include "server/server.h"
#include "server/store.h"

/* The outcome of a write: a status and message the handler turns into a reply. */
struct outcome {
    int status;
    const char *code;
    char msg[256];
};

static int fail(struct outcome *o, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct outcome *o, int status, const char *code, const char *fmt, ...)
{
    va_list ap;

    o->status = status;
    o->code = code;
    va_start(ap, fmt);
    vsnprintf(o->msg, sizeof(o->msg), fmt, ap);
    va_end(ap);
    return -EPERM;
}

static void reply_outcome(struct http_resp *resp, int r, struct outcome *o)
{
    if (r == -ENOENT)
        http_reply_not_found(resp);
    else if (r == -EPERM)
        http_reply_error(resp, o->status, o->code, "%s", o->msg);
    else
        http_reply_store_error(resp, r);
}

/* PUT /segments/{id} */

struct put_ctx {
    struct http_req *req;
    struct seg_row row;
    struct outcome o;
    int status;
};

static int put_segment(struct store_tx *tx, void *arg)
{
    struct put_ctx *pc = arg;
    struct seg_row *row = &pc->row;
    struct server *srv = pc->req->srv;
    int64_t now = server_now(srv), bucket_s = srv->cfg.segment_s / ST_SEG_BUCKETS;
    struct seg_row old;
    struct contract c;
    int r;

    if ((r = contracts_get_for(tx, row->s.contract_id, &pc->req->user, &c)) < 0)
        return r == -ENOENT ? fail(&pc->o, 400, "invalid_argument", "no such contract") : r;
    if (!contracts_is_freelancer(&c, &pc->req->user)) {
        r = fail(&pc->o, 403, "forbidden", "only the contract's freelancer uploads time");
        goto out;
    }
    if (st_week_locked(row->s.start, now)) {
        r = fail(&pc->o, 409, "locked", "the week of this segment is locked");
        goto out;
    }
    if (row->s.start > now + SERVER_FUTURE_SKEW_S) {
        r = fail(&pc->o, 400, "invalid_argument", "the segment starts in the future");
        goto out;
    }
    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        if (row->s.b[i].tracked_s && row->s.start + i * bucket_s > now + SERVER_FUTURE_SKEW_S) {
            r = fail(&pc->o, 400, "invalid_argument", "minutes[%d] is in the future", i);
            goto out;
        }
    }
    r = segments_get(tx, c.id, row->s.id, &old);
    if (r == 0) {
        bool same_owner = strcmp(old.freelancer_id, pc->req->user.id) == 0 &&
                          strcmp(old.s.contract_id, row->s.contract_id) == 0;
        bool extends = same_owner && !old.deleted && !old.manual &&
                       st_segment_extends(&old.s, &row->s);
        if (old.deleted && same_owner)
            r = fail(&pc->o, 409, "conflict", "this segment was deleted");
        else if (!extends)
            r = fail(&pc->o, 409, "conflict",
                     "a different segment with this id exists; an upload may only extend it");
        else {
            /* What this upload leaves out of the screenshot stays as stored. */
            if (row->s.shot_status == ST_SHOT_NONE) {
                row->s.shot_status = old.s.shot_status;
                row->s.shot_taken_at = old.s.shot_taken_at;
                snprintf(row->s.shot_reason, sizeof(row->s.shot_reason), "%s",
                         old.s.shot_reason);
            } else if (!row->s.shot_reason[0]) {
                snprintf(row->s.shot_reason, sizeof(row->s.shot_reason), "%s",
                         old.s.shot_reason);
            }
            r = segments_update_extend(tx, row, now);
        }
        if (r == 0) {
            pc->status = 200;
            /* Keep what the first upload stored (screenshot blob, time received). */
            snprintf(row->shot_blob, sizeof(row->shot_blob), "%s", old.shot_blob);
            snprintf(row->thumb_blob, sizeof(row->thumb_blob), "%s", old.thumb_blob);
            snprintf(row->shot_type, sizeof(row->shot_type), "%s", old.shot_type);
            row->received_at = old.received_at;
        }
        segments_release(&old);
        if (r < 0)
            goto out;
    } else if (r == -ENOENT) {
        if ((r = contracts_active_during(tx, c.id, row->s.start,
                                         row->s.start + srv->cfg.segment_s)) < 0)
            goto out;
        if (r == 0) {
            r = fail(&pc->o, 400, "invalid_argument",
                     "the contract was not active during this segment");
            goto out;
        }
        row->received_at = now;
        if ((r = segments_insert(tx, row, now)) < 0) {
            if (r == -EEXIST)
                r = fail(&pc->o, 409, "conflict", "a segment with this id exists");
            goto out;
        }
        pc->status = 201;
    } else {
        goto out;
    }
    /*
     * The single writer does not load the week for the answer (that made
     * every upload cost the whole week): the reply carries the flags the
     * segment has on its own; the diary and GET show the week's.
     */
    segments_compute_own(row, c.screenshots_enabled);
out:
    contracts_release(&c);
    return r;
}

void api_segments_put(struct http_req *req, struct http_resp *resp)
{
    struct put_ctx pc = {.req = req};
    char err[256];
    json_t *body;
    const char *id = req->params[0];
    int r;

    if (!st_uuid_valid(id)) {
        http_reply_error(resp, 400, "invalid_argument", "a segment id is a UUID");
        return;
    }
    if (strcmp(req->user.role, "freelancer") != 0) {
        http_reply_error(resp, 403, "forbidden", "only freelancers upload time");
        return;
    }
    body = st_json_parse_object(req->body, req->body_len, err, sizeof(err));
    if (!body) {
        http_reply_error(resp, 400, "invalid_argument", "%s", err);
        return;
    }
    if (st_segment_from_json(body, req->srv->cfg.segment_s, &pc.row.s, err, sizeof(err)) < 0) {
        http_reply_error(resp, 400, "invalid_argument", "%s", err);
        goto out;
    }
    if (pc.row.s.id[0] && strcasecmp(pc.row.s.id, id) != 0) {
        http_reply_error(resp, 400, "invalid_argument", "'id' differs from the id in the path");
        goto out;
    }
    snprintf(pc.row.s.id, sizeof(pc.row.s.id), "%s", id);
    for (char *p = pc.row.s.id; *p; p++)
        *p = (char)((*p >= 'A' && *p <= 'F') ? *p - 'A' + 'a' : *p);
    snprintf(pc.row.freelancer_id, sizeof(pc.row.freelancer_id), "%s", req->user.id);
    pc.row.seg_s = req->srv->cfg.segment_s;
    r = store_write(req->srv->store, put_segment, &pc);
    if (r < 0)
        reply_outcome(resp, r, &pc.o);
    else
        http_reply_json(resp, pc.status,
                        json_pack("{s:o}", "segment", segments_to_json(&pc.row)));
out:
    segments_release(&pc.row);
    json_decref(body);
}

/* Loads a segment for a party of its contract; strangers get -ENOENT. */
static int load_for_party(struct store_tx *tx, struct http_req *req, struct seg_row *ret_row,
                          struct contract *ret_c)
{
    struct seg_row row;
    struct contract c;
    int r;

    if (!st_uuid_valid(req->params[0]))
        return -ENOENT;
    if ((r = segments_find_for(tx, req->params[0], req->user.id, &row)) < 0)
        return r;
    if ((r = contracts_get_for(tx, row.s.contract_id, &req->user, &c)) < 0) {
        segments_release(&row);
        return r;
    }
    *ret_row = row;
    *ret_c = c;
    return 0;
}

struct get_ctx {
    struct http_req *req;
    json_t *out;
};

static int get_segment(struct store_tx *tx, void *arg)
{
    struct get_ctx *gc = arg;
    struct seg_row row;
    struct contract c;
    int r;

    if ((r = load_for_party(tx, gc->req, &row, &c)) < 0)
        return r;
    if ((r = segments_compute_one(tx, &row)) == 0)
        gc->out = segments_to_json(&row);
    segments_release(&row);
    contracts_release(&c);
    return r;
}

void api_segments_get(struct http_req *req, struct http_resp *resp)
{
    struct get_ctx gc = {.req = req};
    int r = store_read(req->srv->store, get_segment, &gc);

    if (r == -ENOENT)
        http_reply_not_found(resp);
    else if (r < 0)
        http_reply_store_error(resp, r);
    else
        http_reply_json(resp, 200, json_pack("{s:o}", "segment", gc.out));
}

/* PATCH /segments/{id} */

struct patch_ctx {
    struct http_req *req;
    json_t *body;
    struct outcome o;
    json_t *out;
};

static int patch_segment(struct store_tx *tx, void *arg)
{
    struct patch_ctx *pc = arg;
    int64_t now = server_now(pc->req->srv);
    json_t *memo = json_object_get(pc->body, "memo"), *tags = json_object_get(pc->body, "tags");
    struct store_stmt *st;
    struct seg_row row;
    struct contract c;
    char *tags_s;
    int r;

    if ((r = load_for_party(tx, pc->req, &row, &c)) < 0)
        return r;
    if (row.deleted) {
        r = -ENOENT;
        goto out;
    }
    if (memo && !contracts_is_freelancer(&c, &pc->req->user)) {
        r = fail(&pc->o, 403, "forbidden", "only the freelancer edits memos");
        goto out;
    }
    if (st_week_locked(row.s.start, now)) {
        r = fail(&pc->o, 409, "locked", "the week of this segment is locked");
        goto out;
    }
    if (memo) {
        free(row.s.memo);
        row.s.memo = xstrdup(json_string_value(memo));
    }
    if (tags) {
        json_decref(row.s.tags);
        row.s.tags = json_incref(tags);
    }
    tags_s = json_dumps(row.s.tags, JSON_COMPACT);
    st = store_prepare(tx, "UPDATE segments SET memo = ?, tags = ?, updated_at = ?"
                           " WHERE contract_id = ? AND id = ?");
    store_bind_text(st, 1, row.s.memo);
    store_bind_text(st, 2, tags_s);
    store_bind_int(st, 3, now);
    store_bind_text(st, 4, row.s.contract_id);
    store_bind_text(st, 5, row.s.id);
    free(tags_s);
    if ((r = store_run(st)) < 0 ||
        (r = segments_audit(tx, now, pc->req->user.id, "segment.edit", row.s.id, pc->body)) < 0 ||
        (r = segments_compute_one(tx, &row)) < 0)
        goto out;
    pc->out = segments_to_json(&row);
out:
    segments_release(&row);
    contracts_release(&c);
    return r;
}

static bool memo_printable(const char *s)
{
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t') || *s == 0x7f)
            return false;
    return true;
}

void api_segments_patch(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"memo", ST_JSON_STRING, false, false, 0, ST_SEG_MEMO_MAX},
        {"tags", ST_JSON_ARRAY, false, false, 0, ST_SEG_TAGS_MAX},
        {NULL, 0, false, false, 0, 0},
    };
    struct patch_ctx pc = {.req = req};
    char err[200];
    int r;

    if (!(pc.body = http_json_body(req, resp, fields)))
        return;
    if (json_object_size(pc.body) == 0) {
        http_reply_error(resp, 400, "invalid_argument", "nothing to change: give memo or tags");
        goto out;
    }
    if (!memo_printable(st_json_str(pc.body, "memo", ""))) {
        http_reply_error(resp, 400, "invalid_argument", "'memo' holds control characters");
        goto out;
    }
    if (json_object_get(pc.body, "tags") &&
        st_segment_check_tags(json_object_get(pc.body, "tags"), err, sizeof(err)) < 0) {
        http_reply_error(resp, 400, "invalid_argument", "%s", err);
        goto out;
    }
    r = store_write(req->srv->store, patch_segment, &pc);
    if (r < 0) {
        json_decref(pc.out); /* built before a commit that then failed */
        reply_outcome(resp, r, &pc.o);
    }
    else
        http_reply_json(resp, 200, json_pack("{s:o}", "segment", pc.out));
out:
    json_decref(pc.body);
}

/* DELETE /segments/{id} */

struct delete_ctx {
    struct http_req *req;
    struct outcome o;
    char blobs[2][65]; /* blobs no other segment uses: destroyed after the commit */
};

static int unused_elsewhere(struct store_tx *tx, const char *blob)
{
    /* Files in messages share the blob store: the same bytes may be one of them too. */
    struct store_stmt *st = store_prepare(
        tx, "SELECT 1 FROM segments WHERE (shot_blob = ? OR thumb_blob = ?)"
            " UNION ALL SELECT 1 FROM files WHERE blob = ? OR thumb_blob = ? LIMIT 1");

    for (int i = 1; i <= 4; i++)
        store_bind_text(st, i, blob);
    return store_step(st) == 0;
}

static int delete_segment(struct store_tx *tx, void *arg)
{
    struct delete_ctx *dc = arg;
    int64_t now = server_now(dc->req->srv);
    struct store_stmt *st;
    struct seg_row row;
    struct contract c;
    json_t *detail;
    int r;

    if ((r = load_for_party(tx, dc->req, &row, &c)) < 0)
        return r;
    if (row.deleted) {
        r = -ENOENT;
        goto out;
    }
    if (!contracts_is_freelancer(&c, &dc->req->user)) {
        r = fail(&dc->o, 403, "forbidden", "only the freelancer deletes time");
        goto out;
    }
    if (st_week_locked(row.s.start, now)) {
        r = fail(&dc->o, 409, "locked", "the week of this segment is locked");
        goto out;
    }
    st = store_prepare(tx, "UPDATE segments SET deleted = 1, deleted_at = ?, shot_blob = NULL,"
                           " thumb_blob = NULL, updated_at = ? WHERE contract_id = ? AND id = ?");
    store_bind_int(st, 1, now);
    store_bind_int(st, 2, now);
    store_bind_text(st, 3, row.s.contract_id);
    store_bind_text(st, 4, row.s.id);
    if ((r = store_run(st)) < 0)
        goto out;
    detail = json_pack("{s:i,s:b}", "tracked_s", st_segment_tracked(&row.s), "screenshot",
                       row.shot_blob[0] != 0);
    r = segments_audit(tx, now, dc->req->user.id, "segment.delete", row.s.id, detail);
    json_decref(detail);
    if (r < 0)
        goto out;
    if (row.shot_blob[0] && unused_elsewhere(tx, row.shot_blob))
        snprintf(dc->blobs[0], sizeof(dc->blobs[0]), "%s", row.shot_blob);
    if (row.thumb_blob[0] && unused_elsewhere(tx, row.thumb_blob))
        snprintf(dc->blobs[1], sizeof(dc->blobs[1]), "%s", row.thumb_blob);
out:
    segments_release(&row);
    contracts_release(&c);
    return r;
}

void api_segments_delete(struct http_req *req, struct http_resp *resp)
{
    struct delete_ctx dc = {.req = req};
    int r = store_write(req->srv->store, delete_segment, &dc);

    if (r < 0) {
        reply_outcome(resp, r, &dc.o);
        return;
    }
    for (int i = 0; i < 2; i++)
        if (dc.blobs[i][0])
            blob_delete(req->srv->blobs, dc.blobs[i]);
    http_reply_empty(resp, 204);
}

/* POST /contracts/{id}/manual */

struct manual_ctx {
    struct http_req *req;
    int64_t start, end;
    const char *memo;
    json_t *tags;
    struct outcome o;
    json_t *out;
};

static int add_manual(struct store_tx *tx, void *arg)
{
    struct manual_ctx *mc = arg;
    struct server *srv = mc->req->srv;
    int seg_s = srv->cfg.segment_s, bucket_s = seg_s / ST_SEG_BUCKETS;
    int64_t now = server_now(srv), first = st_slot_start(mc->start, seg_s);
    struct seg_row *rows = NULL;
    struct contract c;
    size_t n = 0;
    int r;

    if ((r = contracts_get_for(tx, mc->req->params[0], &mc->req->user, &c)) < 0)
        return r;
    if (!contracts_is_freelancer(&c, &mc->req->user)) {
        r = fail(&mc->o, 403, "forbidden", "only the freelancer adds manual time");
        goto out;
    }
    if (!c.manual_time_allowed) {
        r = fail(&mc->o, 403, "forbidden", "this contract does not allow manual time");
        goto out;
    }
    if (mc->end > now) {
        r = fail(&mc->o, 400, "invalid_argument", "manual time cannot end in the future");
        goto out;
    }
    if (st_week_start(mc->start) != st_week_start(now) ||
        st_week_start(mc->end - 1) != st_week_start(now)) {
        r = fail(&mc->o, 400, "invalid_argument",
                 "manual time must lie within the current week (from Monday 00:00 UTC)");
        goto out;
    }
    if ((r = segments_list(tx, c.id, first, mc->end, &rows, &n)) < 0)
        goto out;
    mc->out = json_array();
    for (int64_t slot = first; slot < mc->end; slot += seg_s) {
        struct seg_row row = {0};
        int64_t seconds = 0;

        if ((r = contracts_active_during(tx, c.id, slot, slot + seg_s)) <= 0) {
            if (r == 0)
                r = fail(&mc->o, 400, "invalid_argument",
                         "the contract was not active during that time");
            goto out;
        }
        for (int b = 0; b < ST_SEG_BUCKETS; b++) {
            int64_t bs = slot + b * bucket_s, be = bs + bucket_s;
            int64_t from = mc->start > bs ? mc->start : bs, to = mc->end < be ? mc->end : be;
            if (to <= from)
                continue;
            for (size_t k = 0; k < n; k++) {
                if (rows[k].s.start == slot && rows[k].s.b[b].tracked_s > 0) {
                    char when[ST_TIME_STRLEN];
                    st_utc_format(bs, when);
                    r = fail(&mc->o, 409, "conflict",
                             "manual time overlaps time already recorded at %s", when);
                    goto out;
                }
            }
            row.s.b[b].tracked_s = (int)(to - from);
            seconds += to - from;
        }
        if (seconds == 0)
            continue;
        st_uuid_new(row.s.id);
        snprintf(row.s.contract_id, sizeof(row.s.contract_id), "%s", c.id);
        snprintf(row.s.device_id, sizeof(row.s.device_id), "manual");
        snprintf(row.freelancer_id, sizeof(row.freelancer_id), "%s", mc->req->user.id);
        row.s.start = slot;
        row.s.memo = (char *)mc->memo;
        row.s.tags = mc->tags;
        row.seg_s = seg_s;
        row.manual = true;
        row.received_at = now;
        if ((r = segments_insert(tx, &row, now)) < 0)
            goto out;
        row.flags = ST_FLAG_MANUAL;
        row.billable_s = (int)seconds;
        json_array_append_new(mc->out, segments_to_json(&row));
    }
    r = segments_audit(tx, now, mc->req->user.id, "manual.add", c.id, NULL);
out:
    segments_free_rows(rows, n);
    contracts_release(&c);
    return r;
}

void api_manual_create(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"start", ST_JSON_STRING, true, false, 1, 40},
        {"end", ST_JSON_STRING, true, false, 1, 40},
        {"memo", ST_JSON_STRING, true, false, 1, ST_SEG_MEMO_MAX},
        {"tags", ST_JSON_ARRAY, false, false, 0, ST_SEG_TAGS_MAX},
        {NULL, 0, false, false, 0, 0},
    };
    struct manual_ctx mc = {.req = req};
    char err[200];
    json_t *body;
    int r;

    if (!(body = http_json_body(req, resp, fields)))
        return;
    if (st_utc_parse(st_json_str(body, "start", ""), &mc.start) < 0 ||
        st_utc_parse(st_json_str(body, "end", ""), &mc.end) < 0) {
        http_reply_error(resp, 400, "invalid_argument", "'start' and 'end' are RFC 3339 times");
        goto out;
    }
    if (mc.end <= mc.start) {
        http_reply_error(resp, 400, "invalid_argument", "'end' must be after 'start'");
        goto out;
    }
    mc.memo = st_json_str(body, "memo", "");
    if (!memo_printable(mc.memo)) {
        http_reply_error(resp, 400, "invalid_argument", "'memo' holds control characters");
        goto out;
    }
    mc.tags = json_object_get(body, "tags");
    if (mc.tags && st_segment_check_tags(mc.tags, err, sizeof(err)) < 0) {
        http_reply_error(resp, 400, "invalid_argument", "%s", err);
        goto out;
    }
    mc.tags = mc.tags ? json_incref(mc.tags) : json_array();
    r = store_write(req->srv->store, add_manual, &mc);
    json_decref(mc.tags);
    if (r < 0) {
        json_decref(mc.out);
        reply_outcome(resp, r, &mc.o);
    } else {
        http_reply_json(resp, 201, json_pack("{s:o}", "segments", mc.out));
    }
out:
    json_decref(body);
}
