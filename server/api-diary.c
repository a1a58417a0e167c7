/*
 * GET /contracts/{id}/diary: the Work Diary of a contract for a range of
 * days cut in a time zone. The week rules (overlap, the weekly limit) need
 * whole weeks, so every UTC week the range touches is loaded and computed,
 * then only the segments that start inside the range are shown. Weeks come
 * rendered from diary-cache.h when nothing in them changed since.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tz.h"
#include "lib/utc.h"
#include "lib/week.h"
#include "lib/xalloc.h"
#include "server/api.h"
#include "server/contracts.h"
#include "server/diary-cache.h"
#include "server/segments.h"
#include "server/server.h"
#include "server/store.h"

#define DIARY_MAX_DAYS 62

struct diary_ctx {
    struct http_req *req;
    const struct st_tz *tz;
    int y0, m0, d0;
    int ndays;
    char *out; /* the reply's JSON text */
    size_t out_len;
};

struct sbuf {
    char *p;
    size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t want = b->cap ? b->cap * 2 : 64 * 1024;
        while (want < b->len + n + 1)
            want *= 2;
        b->p = xrealloc(b->p, want);
        b->cap = want;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_json(struct sbuf *b, json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

    sb_add(b, s, strlen(s));
    free(s);
    json_decref(v);
}

/* The diary's rendering of one UTC week, from the cache or made now (and cached). */
static int week_render(struct store_tx *tx, const struct contract *c, int64_t week, int64_t gen,
                       struct diary_week **ret)
{
    struct diary_week *w = diary_cache_get(c->id, week, gen);
    struct seg_row *rows;
    size_t n;
    int64_t limit;
    int r;

    if (w) {
        *ret = w;
        return 0;
    }
    if ((r = contracts_limit_for_week(tx, c->id, week, &limit)) < 0 ||
        (r = segments_list(tx, c->id, week, week + ST_WEEK_S, &rows, &n)) < 0)
        return r;
    segments_compute_week(rows, n, limit, c->screenshots_enabled);
    w = diary_week_new(c->id, week, gen);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *text = segments_json_text(&rows[i], &len); /* what segments_to_json says */
        diary_week_add(w, rows[i].s.start, rows[i].manual, st_segment_tracked(&rows[i].s),
                       rows[i].billable_s, rows[i].over_limit_s, text, len);
        free(text);
    }
    segments_free_rows(rows, n);
    diary_cache_put(w);
    *ret = w;
    return 0;
}

static int diary_gen(struct store_tx *tx, const char *contract_id, int64_t *ret)
{
    struct store_stmt *st = store_prepare(tx, "SELECT diary_gen FROM contracts WHERE id = ?");
    int r;

    store_bind_text(st, 1, contract_id);
    if ((r = store_step(st)) != 1)
        return r < 0 ? r : -ENOENT;
    *ret = store_col_int(st, 0);
    return 0;
}

/*
 * Writes the reply straight into one buffer: each segment's JSON comes
 * rendered from its week (diary-cache.h), so a read of an unchanged week
 * costs a copy, not a jansson tree.
 */
static int build_diary(struct store_tx *tx, void *arg)
{
    struct diary_ctx *dc = arg;
    int64_t day0 = st_days_from_civil(dc->y0, dc->m0, dc->d0);
    int64_t from = st_tz_day_start(dc->tz, dc->y0, dc->m0, dc->d0), to, week, gen = 0;
    int64_t tot_tracked = 0, tot_manual = 0, tot_billable = 0, tot_over = 0;
    int64_t *day_start = xcalloc((size_t)dc->ndays + 1, sizeof(int64_t));
    struct sbuf b = {0};
    struct contract c;
    bool first = true;
    int r, y, m, d;

    for (int i = 0; i <= dc->ndays; i++) {
        st_civil_from_days(day0 + i, &y, &m, &d);
        day_start[i] = st_tz_day_start(dc->tz, y, m, d);
    }
    to = day_start[dc->ndays];
    if ((r = contracts_get_for(tx, dc->req->params[0], &dc->req->user, &c)) < 0)
        goto out;
    if ((r = diary_gen(tx, c.id, &gen)) < 0) {
        contracts_release(&c);
        goto out;
    }

    struct {
        int64_t tracked, manual, billable;
    } *sums = xcalloc((size_t)dc->ndays, sizeof(*sums));

    sb_add(&b, "{\"tz\":", 6);
    sb_json(&b, json_string(st_tz_name(dc->tz)));
    sb_add(&b, ",\"segments\":[", 13);
    for (week = st_week_start(from); week < to; week += ST_WEEK_S) {
        struct diary_week *w;

        if ((r = week_render(tx, &c, week, gen, &w)) < 0)
            break;
        for (size_t i = 0; i < w->n; i++) {
            const struct diary_seg *sg = &w->segs[i];
            int day = 0;
            if (sg->start < from || sg->start >= to)
                continue;
            while (day + 1 < dc->ndays && sg->start >= day_start[day + 1])
                day++;
            if (!first)
                sb_add(&b, ",", 1);
            first = false;
            sb_add(&b, w->buf + sg->off, sg->len);
            if (sg->manual) {
                sums[day].manual += sg->tracked_s;
                tot_manual += sg->tracked_s;
            } else {
                sums[day].tracked += sg->tracked_s;
                tot_tracked += sg->tracked_s;
            }
            sums[day].billable += sg->billable_s;
            tot_billable += sg->billable_s;
            tot_over += sg->over_limit_s;
        }
        diary_week_unref(w);
    }
    if (r == 0) {
        json_t *days = json_array();
        for (int i = 0; i < dc->ndays; i++) {
            char date[11];
            st_civil_from_days(day0 + i, &y, &m, &d);
            st_date_format(y, m, d, date);
            json_array_append_new(days, json_pack("{s:s,s:I,s:I,s:I}", "date", date,
                                                  "tracked_s", (json_int_t)sums[i].tracked,
                                                  "manual_s", (json_int_t)sums[i].manual,
                                                  "billable_s", (json_int_t)sums[i].billable));
        }
        sb_add(&b, "],\"days\":", 9);
        sb_json(&b, days);
        sb_add(&b, ",\"totals\":", 10);
        sb_json(&b, json_pack("{s:I,s:I,s:I,s:I}", "tracked_s", (json_int_t)tot_tracked,
                              "manual_s", (json_int_t)tot_manual, "billable_s",
                              (json_int_t)tot_billable, "over_limit_s", (json_int_t)tot_over));
        sb_add(&b, "}\n", 2);
        dc->out = b.p;
        dc->out_len = b.len;
        b.p = NULL;
    }
    free(b.p);
    free(sums);
    contracts_release(&c);
out:
    free(day_start);
    return r;
}

void api_diary(struct http_req *req, struct http_resp *resp)
{
    const char *from = http_query(req, "from"), *to = http_query(req, "to");
    const char *tzname = http_query(req, "tz");
    struct diary_ctx dc = {.req = req};
    int y1, m1, d1, r;
    int64_t span;

    dc.tz = st_tz_get(tzname ? tzname : "UTC");
    if (!dc.tz) {
        http_reply_error(resp, 400, "invalid_argument", "'tz' is not an IANA time zone");
        return;
    }
    if (!from) {
        /* Today in the asked zone. */
        st_tz_local_date(dc.tz, server_now(req->srv), &dc.y0, &dc.m0, &dc.d0);
    } else if (st_date_parse(from, &dc.y0, &dc.m0, &dc.d0) < 0) {
        http_reply_error(resp, 400, "invalid_argument", "'from' is not a date (YYYY-MM-DD)");
        return;
    }
    if (!to) {
        y1 = dc.y0, m1 = dc.m0, d1 = dc.d0;
    } else if (st_date_parse(to, &y1, &m1, &d1) < 0) {
        http_reply_error(resp, 400, "invalid_argument", "'to' is not a date (YYYY-MM-DD)");
        return;
    }
    span = st_days_from_civil(y1, m1, d1) - st_days_from_civil(dc.y0, dc.m0, dc.d0);
    if (span < 0) {
        http_reply_error(resp, 400, "invalid_argument", "'to' is before 'from'");
        return;
    }
    if (span >= DIARY_MAX_DAYS) {
        http_reply_error(resp, 400, "invalid_argument", "a diary shows at most %d days",
                         DIARY_MAX_DAYS);
        return;
    }
    dc.ndays = (int)span + 1;
    r = store_read(req->srv->store, build_diary, &dc);
    if (r == -ENOENT)
        http_reply_not_found(resp);
    else if (r < 0)
        http_reply_store_error(resp, r);
    else
        http_reply_bytes(resp, 200, "application/json", dc.out, dc.out_len);
}
