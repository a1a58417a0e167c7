/*
 * GET /contracts/{id}/diary: the Work Diary of a contract for a range of
 * days cut in a time zone. The week rules (overlap, the weekly limit) need
 * whole weeks, so every UTC week the range touches is loaded and computed,
 * then only the segments that start inside the range are shown.
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
#include "server/segments.h"
#include "server/server.h"
#include "server/store.h"

#define DIARY_MAX_DAYS 62

struct diary_ctx {
    struct http_req *req;
    const struct st_tz *tz;
    int y0, m0, d0;
    int ndays;
    json_t *out;
};

static int build_diary(struct store_tx *tx, void *arg)
{
    struct diary_ctx *dc = arg;
    int64_t day0 = st_days_from_civil(dc->y0, dc->m0, dc->d0);
    int64_t from = st_tz_day_start(dc->tz, dc->y0, dc->m0, dc->d0), to, week;
    int64_t tot_tracked = 0, tot_manual = 0, tot_billable = 0, tot_over = 0;
    int64_t *day_start = xcalloc((size_t)dc->ndays + 1, sizeof(int64_t));
    json_t *segs = json_array(), *days = json_array();
    struct contract c;
    int r, y, m, d;

    for (int i = 0; i <= dc->ndays; i++) {
        st_civil_from_days(day0 + i, &y, &m, &d);
        day_start[i] = st_tz_day_start(dc->tz, y, m, d);
    }
    to = day_start[dc->ndays];
    if ((r = contracts_get_for(tx, dc->req->params[0], &dc->req->user, &c)) < 0)
        goto out;

    struct {
        int64_t tracked, manual, billable;
    } *sums = xcalloc((size_t)dc->ndays, sizeof(*sums));

    for (week = st_week_start(from); week < to; week += ST_WEEK_S) {
        struct seg_row *rows;
        size_t n;
        int64_t limit;

        if ((r = contracts_limit_for_week(tx, c.id, week, &limit)) < 0 ||
            (r = segments_list(tx, c.id, week, week + ST_WEEK_S, &rows, &n)) < 0)
            break;
        segments_compute_week(rows, n, limit, c.screenshots_enabled);
        for (size_t i = 0; i < n; i++) {
            struct seg_row *row = &rows[i];
            int day = 0, tracked = st_segment_tracked(&row->s);
            if (row->s.start < from || row->s.start >= to)
                continue;
            while (day + 1 < dc->ndays && row->s.start >= day_start[day + 1])
                day++;
            json_array_append_new(segs, segments_to_json(row));
            if (row->manual) {
                sums[day].manual += tracked;
                tot_manual += tracked;
            } else {
                sums[day].tracked += tracked;
                tot_tracked += tracked;
            }
            sums[day].billable += row->billable_s;
            tot_billable += row->billable_s;
            tot_over += row->over_limit_s;
        }
        segments_free_rows(rows, n);
    }
    if (r == 0) {
        for (int i = 0; i < dc->ndays; i++) {
            char date[11];
            st_civil_from_days(day0 + i, &y, &m, &d);
            st_date_format(y, m, d, date);
            json_array_append_new(days, json_pack("{s:s,s:I,s:I,s:I}", "date", date,
                                                  "tracked_s", (json_int_t)sums[i].tracked,
                                                  "manual_s", (json_int_t)sums[i].manual,
                                                  "billable_s", (json_int_t)sums[i].billable));
        }
        dc->out = json_pack("{s:s,s:O,s:O,s:{s:I,s:I,s:I,s:I}}", "tz", st_tz_name(dc->tz),
                            "segments", segs, "days", days, "totals", "tracked_s",
                            (json_int_t)tot_tracked, "manual_s", (json_int_t)tot_manual,
                            "billable_s", (json_int_t)tot_billable, "over_limit_s",
                            (json_int_t)tot_over);
    }
    free(sums);
    contracts_release(&c);
out:
    json_decref(segs);
    json_decref(days);
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
        http_reply_json(resp, 200, dc.out);
}
