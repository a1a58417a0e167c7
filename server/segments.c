/*
 * Segment rows and the week rules. See segments.h.
 */
#include "server/segments.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "lib/utc.h"
#include "lib/uuid.h"
#include "lib/week.h"
#include "lib/xalloc.h"
#include "server/contracts.h"
#include "server/store.h"

#define SEG_COLS                                                                               \
    "id, contract_id, freelancer_id, device_id, start, seg_s, minutes, memo, tags, flags,"     \
    " manual, shot_status, shot_reason, shot_taken_at, shot_blob, shot_type, shot_bytes,"      \
    " thumb_blob, deleted, received_at, activity_measure"


static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

void segments_release(struct seg_row *r)
{
    st_segment_release(&r->s);
}

void segments_free_rows(struct seg_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        segments_release(&rows[i]);
    free(rows);
}

static enum st_shot_status status_parse(const char *s)
{
    if (!s)
        return ST_SHOT_NONE;
    if (strcmp(s, "ok") == 0)
        return ST_SHOT_OK;
    if (strcmp(s, "failed") == 0)
        return ST_SHOT_FAILED;
    if (strcmp(s, "disabled") == 0)
        return ST_SHOT_DISABLED;
    return ST_SHOT_NONE;
}

/* The segment's active seconds in all, or NULL where they are unknown. */
static void bind_active_total(struct store_stmt *st, int col, const struct st_segment *s)
{
    int total = 0;

    if (!s->has_active_s) {
        store_bind_null(st, col);
        return;
    }
    for (int i = 0; i < ST_SEG_BUCKETS; i++)
        total += s->b[i].active_s;
    store_bind_int(st, col, total);
}

static void from_row(struct store_stmt *st, struct seg_row *r)
{
    json_t *flags;
    size_t i;
    json_t *f;

    memset(r, 0, sizeof(*r));
    copy(r->s.id, sizeof(r->s.id), store_col_text(st, 0));
    copy(r->s.contract_id, sizeof(r->s.contract_id), store_col_text(st, 1));
    copy(r->freelancer_id, sizeof(r->freelancer_id), store_col_text(st, 2));
    copy(r->s.device_id, sizeof(r->s.device_id), store_col_text(st, 3));
    r->s.start = store_col_int(st, 4);
    r->seg_s = (int)store_col_int(st, 5);
    st_buckets_parse(store_col_text(st, 6), r->s.b, &r->s.has_active_s);
    r->s.memo = xstrdup(store_col_text(st, 7) ? store_col_text(st, 7) : "");
    r->s.tags = json_loads(store_col_text(st, 8), 0, NULL);
    if (!r->s.tags)
        r->s.tags = json_array();
    flags = json_loads(store_col_text(st, 9), 0, NULL);
    json_array_foreach(flags, i, f) r->s.flags |= st_flag_parse(json_string_value(f));
    json_decref(flags);
    r->manual = store_col_int(st, 10) != 0;
    r->s.shot_status = status_parse(store_col_text(st, 11));
    copy(r->s.shot_reason, sizeof(r->s.shot_reason), store_col_text(st, 12));
    r->s.shot_taken_at = store_col_null(st, 13) ? 0 : store_col_int(st, 13);
    copy(r->shot_blob, sizeof(r->shot_blob), store_col_text(st, 14));
    copy(r->shot_type, sizeof(r->shot_type), store_col_text(st, 15));
    r->shot_bytes = store_col_int(st, 16);
    copy(r->thumb_blob, sizeof(r->thumb_blob), store_col_text(st, 17));
    r->deleted = store_col_int(st, 18) != 0;
    r->received_at = store_col_int(st, 19);
    if (st_measure_parse(store_col_text(st, 20) ? store_col_text(st, 20) : "", &r->s.measure) < 0)
        r->s.measure = ST_MEASURE_COUNTS;
    r->flags = r->s.flags | (r->manual ? ST_FLAG_MANUAL : 0);
    r->billable_s = st_segment_tracked(&r->s);
}

int segments_get(struct store_tx *tx, const char *contract_id, const char *id,
                 struct seg_row *ret_row)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT " SEG_COLS " FROM segments WHERE contract_id = ? AND id = ?");
    int r;

    store_bind_text(st, 1, contract_id);
    store_bind_text(st, 2, id);
    r = store_step(st);
    if (r <= 0)
        return r < 0 ? r : -ENOENT;
    from_row(st, ret_row);
    return 0;
}

int segments_find_for(struct store_tx *tx, const char *id, const char *user_id,
                      struct seg_row *ret_row)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT " SEG_COLS " FROM segments WHERE id = ? AND contract_id IN"
            " (SELECT id FROM contracts WHERE client_id = ? OR freelancer_id = ?)"
            " ORDER BY received_at LIMIT 1");
    int r;

    store_bind_text(st, 1, id);
    store_bind_text(st, 2, user_id);
    store_bind_text(st, 3, user_id);
    r = store_step(st);
    if (r <= 0)
        return r < 0 ? r : -ENOENT;
    from_row(st, ret_row);
    return 0;
}

int segments_list(struct store_tx *tx, const char *contract_id, int64_t from, int64_t to,
                  struct seg_row **ret_rows, size_t *ret_n)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT " SEG_COLS " FROM segments WHERE contract_id = ? AND start >= ?"
            " AND start < ? AND deleted = 0 ORDER BY start, id");
    struct seg_row *rows = NULL;
    size_t n = 0, cap = 0;
    int r;

    store_bind_text(st, 1, contract_id);
    store_bind_int(st, 2, from);
    store_bind_int(st, 3, to);
    while ((r = store_step(st)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            rows = xrealloc(rows, cap * sizeof(*rows));
        }
        from_row(st, &rows[n++]);
    }
    if (r < 0) {
        segments_free_rows(rows, n);
        return r;
    }
    *ret_rows = rows;
    *ret_n = n;
    return 0;
}

static char *json_text(json_t *v)
{
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

int segments_insert(struct store_tx *tx, const struct seg_row *r, int64_t now)
{
    struct store_stmt *st = store_prepare(
        tx, "INSERT INTO segments (id, contract_id, freelancer_id, device_id, start, seg_s,"
            " minutes, tracked_s, keys, mouse, synthetic, activity, memo, tags, flags, manual,"
            " shot_status, shot_reason, shot_taken_at, received_at, updated_at, activity_measure,"
            " active_s)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    char minutes[ST_BUCKETS_TEXT_MAX];
    json_t *flags = st_flags_to_json(r->s.flags & ST_TRACKER_FLAGS);
    char *tags = json_text(r->s.tags), *flags_s = json_text(flags);
    int keys = 0, mouse = 0, synth = 0, rc;

    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        keys += r->s.b[i].keys;
        mouse += r->s.b[i].mouse;
        synth += r->s.b[i].synthetic;
    }
    st_buckets_format(r->s.b, r->s.has_active_s, minutes, sizeof(minutes));
    store_bind_text(st, 1, r->s.id);
    store_bind_text(st, 2, r->s.contract_id);
    store_bind_text(st, 3, r->freelancer_id);
    store_bind_text(st, 4, r->s.device_id);
    store_bind_int(st, 5, r->s.start);
    store_bind_int(st, 6, r->seg_s);
    store_bind_text(st, 7, minutes);
    store_bind_int(st, 8, st_segment_tracked(&r->s));
    store_bind_int(st, 9, keys);
    store_bind_int(st, 10, mouse);
    store_bind_int(st, 11, synth);
    store_bind_int(st, 12, st_segment_activity(&r->s));
    store_bind_text(st, 13, r->s.memo ? r->s.memo : "");
    store_bind_text(st, 14, tags);
    store_bind_text(st, 15, flags_s);
    store_bind_int(st, 16, r->manual);
    store_bind_text(st, 17, st_shot_status_name(r->s.shot_status));
    store_bind_text(st, 18, r->s.shot_reason[0] ? r->s.shot_reason : NULL);
    if (r->s.shot_taken_at)
        store_bind_int(st, 19, r->s.shot_taken_at);
    else
        store_bind_null(st, 19);
    store_bind_int(st, 20, now);
    store_bind_int(st, 21, now);
    store_bind_text(st, 22, st_measure_name(r->s.measure));
    bind_active_total(st, 23, &r->s);
    rc = store_run(st);
    free(tags);
    free(flags_s);
    json_decref(flags);
    return rc;
}

int segments_update_extend(struct store_tx *tx, const struct seg_row *r, int64_t now)
{
    struct store_stmt *st = store_prepare(
        tx, "UPDATE segments SET minutes = ?, tracked_s = ?, keys = ?, mouse = ?,"
            " synthetic = ?, activity = ?, flags = ?, shot_status = ?, shot_reason = ?,"
            " shot_taken_at = ?, updated_at = ?, active_s = ? WHERE contract_id = ? AND id = ?");
    char minutes[ST_BUCKETS_TEXT_MAX];
    json_t *flags = st_flags_to_json(r->s.flags & ST_TRACKER_FLAGS);
    char *flags_s = json_text(flags);
    int keys = 0, mouse = 0, synth = 0, rc;

    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        keys += r->s.b[i].keys;
        mouse += r->s.b[i].mouse;
        synth += r->s.b[i].synthetic;
    }
    st_buckets_format(r->s.b, r->s.has_active_s, minutes, sizeof(minutes));
    store_bind_text(st, 1, minutes);
    store_bind_int(st, 2, st_segment_tracked(&r->s));
    store_bind_int(st, 3, keys);
    store_bind_int(st, 4, mouse);
    store_bind_int(st, 5, synth);
    store_bind_int(st, 6, st_segment_activity(&r->s));
    store_bind_text(st, 7, flags_s);
    store_bind_text(st, 8, st_shot_status_name(r->s.shot_status));
    store_bind_text(st, 9, r->s.shot_reason[0] ? r->s.shot_reason : NULL);
    if (r->s.shot_taken_at)
        store_bind_int(st, 10, r->s.shot_taken_at);
    else
        store_bind_null(st, 10);
    store_bind_int(st, 11, now);
    bind_active_total(st, 12, &r->s);
    store_bind_text(st, 13, r->s.contract_id);
    store_bind_text(st, 14, r->s.id);
    rc = store_run(st);
    free(flags_s);
    json_decref(flags);
    return rc;
}

/*
 * Which row bills a bucket that several rows of one slot tracked: tracked
 * time before manual time, then the row with more time, then the smaller id.
 */
static bool bills_before(const struct seg_row *a, const struct seg_row *b)
{
    int ta, tb;

    if (a->manual != b->manual)
        return !a->manual;
    ta = st_segment_tracked(&a->s);
    tb = st_segment_tracked(&b->s);
    if (ta != tb)
        return ta > tb;
    return strcmp(a->s.id, b->s.id) < 0;
}

void segments_compute_own(struct seg_row *r, bool screenshots)
{
    r->flags = r->s.flags | (r->manual ? ST_FLAG_MANUAL : 0);
    if (!r->manual && st_segment_unusual(&r->s))
        r->flags |= ST_FLAG_UNUSUAL_INPUT;
    if (screenshots && !r->manual && !r->shot_blob[0])
        r->flags |= ST_FLAG_NO_SCREENSHOT;
    r->billable_s = 0;
    r->over_limit_s = 0;
    r->week_computed = false;
}

void segments_compute_week(struct seg_row *rows, size_t n, int64_t limit, bool screenshots)
{
    int64_t used = 0;

    for (size_t i = 0; i < n; i++) {
        segments_compute_own(&rows[i], screenshots);
        rows[i].week_computed = true;
    }
    /* Overlap, per bucket: rows of one slot are adjacent (ordered by start). */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && rows[j].s.start == rows[i].s.start)
            j++;
        for (int b = 0; b < ST_SEG_BUCKETS; b++) {
            struct seg_row *owner = NULL;
            int holders = 0;
            for (size_t k = i; k < j; k++) {
                if (rows[k].s.b[b].tracked_s == 0)
                    continue;
                holders++;
                if (!owner || bills_before(&rows[k], owner))
                    owner = &rows[k];
            }
            if (!owner)
                continue;
            owner->billable_s += owner->s.b[b].tracked_s;
            if (holders > 1)
                for (size_t k = i; k < j; k++)
                    if (rows[k].s.b[b].tracked_s)
                        rows[k].flags |= ST_FLAG_OVERLAP;
        }
        i = j;
    }
    /* The limit, in the order the time was worked. */
    for (size_t i = 0; i < n; i++) {
        struct seg_row *r = &rows[i];
        if (limit != CONTRACT_NO_LIMIT) {
            int64_t room = limit - used > 0 ? limit - used : 0;
            if (r->billable_s > room) {
                r->over_limit_s = r->billable_s - (int)room;
                r->billable_s = (int)room;
                r->flags |= ST_FLAG_OVER_LIMIT;
            }
        }
        used += r->billable_s;
    }
}

int segments_compute_one(struct store_tx *tx, struct seg_row *r)
{
    int64_t week = st_week_start(r->s.start), limit;
    struct seg_row *rows;
    struct contract c;
    size_t n;
    int rc;

    if (r->deleted) {
        r->billable_s = 0;
        r->week_computed = true;
        return 0;
    }
    if ((rc = contracts_get(tx, r->s.contract_id, &c)) < 0)
        return rc;
    if ((rc = contracts_limit_for_week(tx, c.id, week, &limit)) < 0 ||
        (rc = segments_list(tx, c.id, week, week + ST_WEEK_S, &rows, &n)) < 0) {
        contracts_release(&c);
        return rc;
    }
    segments_compute_week(rows, n, limit, c.screenshots_enabled);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].s.id, r->s.id) == 0) {
            r->flags = rows[i].flags;
            r->billable_s = rows[i].billable_s;
            r->over_limit_s = rows[i].over_limit_s;
            r->week_computed = true;
        }
    }
    segments_free_rows(rows, n);
    contracts_release(&c);
    return 0;
}

json_t *segments_to_json(const struct seg_row *r)
{
    json_t *o = st_segment_to_json(&r->s), *shot;
    char t[ST_TIME_STRLEN];

    json_object_set_new(o, "flags", st_flags_to_json(r->flags));
    json_object_set_new(o, "tracked_s", json_integer(st_segment_tracked(&r->s)));
    if (r->week_computed) {
        json_object_set_new(o, "billable_s", json_integer(r->billable_s));
        json_object_set_new(o, "over_limit_s", json_integer(r->over_limit_s));
    }
    json_object_set_new(o, "activity", json_integer(st_segment_activity(&r->s)));
    /* Always said here (the upload form says it only for active seconds), after the level. */
    json_object_del(o, "activity_measure");
    json_object_set_new(o, "activity_measure", json_string(st_measure_name(r->s.measure)));
    if (r->s.measure == ST_MEASURE_ACTIVE_SECONDS) {
        /* Counts are unavailable, not zero. */
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(o, "minutes"), i, m) {
            json_object_set_new(m, "keys", json_null());
            json_object_set_new(m, "mouse", json_null());
            json_object_set_new(m, "synthetic", json_null());
        }
    }
    st_utc_format(r->s.start + r->seg_s, t);
    json_object_set_new(o, "end", json_string(t));
    st_utc_format(r->received_at, t);
    json_object_set_new(o, "received_at", json_string(t));
    json_object_set_new(o, "deleted", json_boolean(r->deleted));
    json_object_set_new(o, "manual", json_boolean(r->manual));
    shot = json_object_get(o, "screenshot");
    if (!shot && r->shot_blob[0]) {
        shot = json_pack("{s:s}", "status", "ok");
        json_object_set_new(o, "screenshot", shot);
    }
    if (shot && r->shot_blob[0]) {
        char *url = xasprintf("/api/v1/segments/%s/screenshot", r->s.id);
        char *thumb = xasprintf("/api/v1/segments/%s/screenshot?size=thumb", r->s.id);
        json_object_set_new(shot, "url", json_string(url));
        json_object_set_new(shot, "thumb_url", json_string(thumb));
        free(url);
        free(thumb);
    }
    return o;
}

/* Appends s as a JSON string, escaped exactly as jansson's json_dumps does by default. */
static void put_str(struct st_capbuf *b, const char *s)
{
    st_capbuf_add(b, "\"", 1);
    for (const char *run = s;; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        const char *e = NULL;

        if (c && c != '"' && c != '\\' && c >= 0x20)
            continue;
        st_capbuf_add(b, run, (size_t)(s - run));
        if (!c)
            break;
        switch (c) {
        case '"':
            e = "\\\"";
            break;
        case '\\':
            e = "\\\\";
            break;
        case '\b':
            e = "\\b";
            break;
        case '\f':
            e = "\\f";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\t':
            e = "\\t";
            break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04X", c);
            e = esc;
        }
        st_capbuf_add(b, e, strlen(e));
        run = s + 1;
    }
    st_capbuf_add(b, "\"", 1);
}

static void put(struct st_capbuf *b, const char *s)
{
    st_capbuf_add(b, s, strlen(s));
}

static void put_int(struct st_capbuf *b, const char *key, long long v)
{
    char n[48];

    snprintf(n, sizeof(n), ",\"%s\":%lld", key, v);
    put(b, n);
}

static void put_flags(struct st_capbuf *b, unsigned flags)
{
    bool first = true;

    put(b, "[");
    for (unsigned bit = 1; bit; bit <<= 1) {
        const char *name = (flags & bit) ? st_flag_name(bit) : NULL;
        if (!name)
            continue;
        if (!first)
            put(b, ",");
        first = false;
        put_str(b, name);
    }
    put(b, "]");
}

char *segments_json_text(const struct seg_row *r, size_t *ret_len)
{
    const struct st_segment *s = &r->s;
    struct st_capbuf b = {.max = (size_t)1 << 30};
    char t[ST_TIME_STRLEN];
    bool shot = s->shot_status != ST_SHOT_NONE || r->shot_blob[0];
    size_t i;
    json_t *tag;

    /* The order of segments_to_json: the upload form's keys, then the server's. */
    put(&b, "{\"contract_id\":");
    put_str(&b, s->contract_id);
    put(&b, ",\"device_id\":");
    put_str(&b, s->device_id);
    st_utc_format(s->start, t);
    put(&b, ",\"start\":\"");
    put(&b, t);
    put(&b, "\",\"minutes\":[");
    for (int k = 0; k < ST_SEG_BUCKETS; k++) {
        char m[160];
        if (s->measure == ST_MEASURE_ACTIVE_SECONDS)
            snprintf(m, sizeof(m),
                     "%s{\"tracked_s\":%d,\"keys\":null,\"mouse\":null,\"synthetic\":null,"
                     "\"active_s\":%d}",
                     k ? "," : "", s->b[k].tracked_s, s->b[k].active_s);
        else if (s->has_active_s)
            snprintf(m, sizeof(m),
                     "%s{\"tracked_s\":%d,\"keys\":%d,\"mouse\":%d,\"synthetic\":%d,"
                     "\"active_s\":%d}",
                     k ? "," : "", s->b[k].tracked_s, s->b[k].keys, s->b[k].mouse,
                     s->b[k].synthetic, s->b[k].active_s);
        else
            snprintf(m, sizeof(m),
                     "%s{\"tracked_s\":%d,\"keys\":%d,\"mouse\":%d,\"synthetic\":%d}",
                     k ? "," : "", s->b[k].tracked_s, s->b[k].keys, s->b[k].mouse,
                     s->b[k].synthetic);
        put(&b, m);
    }
    put(&b, "],\"memo\":");
    put_str(&b, s->memo ? s->memo : "");
    put(&b, ",\"tags\":[");
    json_array_foreach(s->tags, i, tag) {
        if (i)
            put(&b, ",");
        put_str(&b, json_string_value(tag) ? json_string_value(tag) : "");
    }
    put(&b, "],\"flags\":");
    put_flags(&b, r->flags);
    if (s->id[0]) {
        put(&b, ",\"id\":");
        put_str(&b, s->id);
    }
    if (s->shot_status != ST_SHOT_NONE) {
        put(&b, ",\"screenshot\":{\"status\":");
        put_str(&b, st_shot_status_name(s->shot_status));
        if (s->shot_taken_at) {
            st_utc_format(s->shot_taken_at, t);
            put(&b, ",\"taken_at\":\"");
            put(&b, t);
            put(&b, "\"");
        }
        if (s->shot_reason[0]) {
            put(&b, ",\"reason\":");
            put_str(&b, s->shot_reason);
        }
        if (r->shot_blob[0]) {
            put(&b, ",\"url\":\"/api/v1/segments/");
            put(&b, s->id);
            put(&b, "/screenshot\",\"thumb_url\":\"/api/v1/segments/");
            put(&b, s->id);
            put(&b, "/screenshot?size=thumb\"");
        }
        put(&b, "}");
    }
    put_int(&b, "tracked_s", st_segment_tracked(s));
    if (r->week_computed) {
        put_int(&b, "billable_s", r->billable_s);
        put_int(&b, "over_limit_s", r->over_limit_s);
    }
    put_int(&b, "activity", st_segment_activity(s));
    put(&b, ",\"activity_measure\":\"");
    put(&b, st_measure_name(s->measure));
    put(&b, "\"");
    st_utc_format(s->start + r->seg_s, t);
    put(&b, ",\"end\":\"");
    put(&b, t);
    st_utc_format(r->received_at, t);
    put(&b, "\",\"received_at\":\"");
    put(&b, t);
    put(&b, r->deleted ? "\",\"deleted\":true" : "\",\"deleted\":false");
    put(&b, r->manual ? ",\"manual\":true" : ",\"manual\":false");
    if (shot && s->shot_status == ST_SHOT_NONE) {
        /* A screenshot stored without the tracker's word on it. */
        put(&b, ",\"screenshot\":{\"status\":\"ok\",\"url\":\"/api/v1/segments/");
        put(&b, s->id);
        put(&b, "/screenshot\",\"thumb_url\":\"/api/v1/segments/");
        put(&b, s->id);
        put(&b, "/screenshot?size=thumb\"}");
    }
    put(&b, "}");
    *ret_len = b.len;
    return b.data;
}

int segments_audit(struct store_tx *tx, int64_t now, const char *actor, const char *action,
                   const char *object, json_t *detail)
{
    struct store_stmt *st = store_prepare(
        tx, "INSERT INTO audit (id, ts, actor_id, action, object_id, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)");
    char id[37], *d = detail ? json_text(detail) : NULL;
    int r;

    st_uuid_new(id);
    store_bind_text(st, 1, id);
    store_bind_int(st, 2, now);
    store_bind_text(st, 3, actor);
    store_bind_text(st, 4, action);
    store_bind_text(st, 5, object);
    store_bind_text(st, 6, d);
    r = store_run(st);
    free(d);
    return r;
}
