/*
 * Timesheets: live figures, freezing at the lock, states, refunds, JSON
 * and CSV. See timesheets.h.
 */
#include "server/timesheets.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utc.h"
#include "lib/uuid.h"
#include "lib/week.h"
#include "lib/xalloc.h"
#include "server/billing.h"
#include "server/contracts.h"
#include "server/segments.h"
#include "server/store.h"
#include "server/users.h"

static const char *const reason_names[TS_NREASONS] = {
    "contract_not_active",
    "no_weekly_limit",
    "manual",
    "over_limit",
    "no_screenshot",
    "no_activity",
    "idle_kept",
    "no_memo",
    "no_tag",
    "unusual_input",
    "overlap",
    "clock_jump",
    "freelancer_not_verified",
    "client_billing_not_verified",
};

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

const char *timesheets_reason_name(unsigned bit)
{
    for (unsigned i = 0; i < TS_NREASONS; i++)
        if (bit == 1u << i)
            return reason_names[i];
    return NULL;
}

json_t *timesheets_reasons_json(unsigned reasons)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < TS_NREASONS; i++)
        if (reasons & (1u << i))
            json_array_append_new(a, json_string(reason_names[i]));
    return a;
}

static unsigned reasons_parse(const char *text)
{
    json_t *a = json_loads(text ? text : "[]", 0, NULL), *v;
    unsigned reasons = 0;
    size_t i;

    json_array_foreach(a, i, v)
    {
        for (unsigned k = 0; k < TS_NREASONS; k++)
            if (json_is_string(v) && strcmp(json_string_value(v), reason_names[k]) == 0)
                reasons |= 1u << k;
    }
    json_decref(a);
    return reasons;
}

void timesheets_release(struct timesheet *t)
{
    free(t->segs);
    t->segs = NULL;
    t->nsegs = 0;
}

static bool has_text(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s))
            return true;
    return false;
}

int timesheets_compute(struct store_tx *tx, const struct contract *c, int64_t week_start,
                       struct timesheet *ret_t)
{
    struct timesheet t = {0};
    struct seg_row *rows = NULL;
    struct user client, freelancer;
    size_t n = 0;
    int r;

    copy(t.contract_id, sizeof(t.contract_id), c->id);
    copy(t.client_id, sizeof(t.client_id), c->client_id);
    copy(t.freelancer_id, sizeof(t.freelancer_id), c->freelancer_id);
    copy(t.state, sizeof(t.state), "open");
    copy(t.currency, sizeof(t.currency), c->currency);
    t.week_start = week_start;
    t.hourly_rate_cents = c->hourly_rate_cents;
    if ((r = users_get(tx, c->client_id, &client)) < 0 ||
        (r = users_get(tx, c->freelancer_id, &freelancer)) < 0 ||
        (r = contracts_limit_for_week(tx, c->id, week_start, &t.limit_s)) < 0 ||
        (r = segments_list(tx, c->id, week_start, week_start + ST_WEEK_S, &rows, &n)) < 0)
        return r;
    segments_compute_week(rows, n, t.limit_s, c->screenshots_enabled);
    t.segs = xcalloc(n ? n : 1, sizeof(*t.segs));
    for (size_t i = 0; i < n; i++) {
        struct seg_row *row = &rows[i];
        struct ts_segment *s = &t.segs[t.nsegs++];
        unsigned why = 0;

        copy(s->id, sizeof(s->id), row->s.id);
        s->start = row->s.start;
        s->day = (int)((row->s.start - week_start) / ST_DAY_S);
        if (s->day < 0 || s->day > 6)
            s->day = s->day < 0 ? 0 : 6;
        s->manual = row->manual;
        s->tracked_s = st_segment_tracked(&row->s);
        s->billable_s = row->billable_s;
        s->over_limit_s = row->over_limit_s;

        if ((r = contracts_active_during(tx, c->id, row->s.start, row->s.start + row->seg_s)) < 0)
            goto out;
        if (r == 0)
            why |= TS_NOT_ACTIVE;
        if (t.limit_s == CONTRACT_NO_LIMIT)
            why |= TS_NO_LIMIT;
        if (row->manual)
            why |= TS_MANUAL;
        if (row->over_limit_s > 0)
            why |= TS_OVER_LIMIT;
        if (!row->shot_blob[0])
            why |= TS_NO_SCREENSHOT;
        if (st_segment_activity(&row->s) == 0)
            why |= TS_NO_ACTIVITY;
        if (row->flags & ST_FLAG_IDLE_KEPT)
            why |= TS_IDLE_KEPT;
        if (!has_text(row->s.memo))
            why |= TS_NO_MEMO;
        if (c->tag_required && json_array_size(row->s.tags) == 0)
            why |= TS_NO_TAG;
        if (row->flags & ST_FLAG_UNUSUAL_INPUT)
            why |= TS_UNUSUAL_INPUT;
        if (row->flags & ST_FLAG_OVERLAP)
            why |= TS_OVERLAP;
        if (row->flags & ST_FLAG_CLOCK_JUMP)
            why |= TS_CLOCK_JUMP;
        if (!freelancer.id_verified)
            why |= TS_FREELANCER_UNVERIFIED;
        if (strcmp(client.billing_state, "verified") != 0)
            why |= TS_BILLING_UNVERIFIED;
        s->reasons = why;
        /* Over-limit time is not billed; what is billed of the segment may still be protected. */
        s->protected_s = (why & ~(unsigned)TS_OVER_LIMIT) ? 0 : s->billable_s;
    }
    r = 0;
    timesheets_sum(&t);
    *ret_t = t;
    t.segs = NULL;
out:
    timesheets_release(&t);
    segments_free_rows(rows, n);
    return r;
}

void timesheets_sum(struct timesheet *t)
{
    int64_t prot_refunded[7] = {0};

    memset(t->days, 0, sizeof(t->days));
    t->tracked_s = t->manual_s = t->over_limit_s = t->billable_s = t->protected_s = 0;
    t->refunded_s = t->gross_cents = t->amount_cents = t->refunded_cents = 0;
    t->protected_cents = 0;
    for (size_t i = 0; i < t->nsegs; i++) {
        const struct ts_segment *s = &t->segs[i];
        struct ts_day *d = &t->days[s->day];
        if (s->manual)
            d->manual_s += s->tracked_s;
        else
            d->tracked_s += s->tracked_s;
        d->billable_s += s->billable_s;
        d->over_limit_s += s->over_limit_s;
        d->protected_s += s->protected_s;
        if (s->refunded) {
            d->refunded_s += s->billable_s;
            prot_refunded[s->day] += s->protected_s;
        }
    }
    for (int i = 0; i < 7; i++) {
        struct ts_day *d = &t->days[i];
        /* One rounding per invoice line: the day. */
        d->gross_cents = billing_amount(d->billable_s, t->hourly_rate_cents);
        d->amount_cents = billing_amount(d->billable_s - d->refunded_s, t->hourly_rate_cents);
        d->protected_cents =
            billing_amount(d->protected_s - prot_refunded[i], t->hourly_rate_cents);
        t->tracked_s += d->tracked_s;
        t->manual_s += d->manual_s;
        t->billable_s += d->billable_s;
        t->over_limit_s += d->over_limit_s;
        t->protected_s += d->protected_s;
        t->refunded_s += d->refunded_s;
        t->gross_cents += d->gross_cents;
        t->amount_cents += d->amount_cents;
        t->protected_cents += d->protected_cents;
    }
    t->refunded_cents = t->gross_cents - t->amount_cents;
}

int timesheets_freeze(struct store_tx *tx, struct timesheet *t, int64_t now)
{
    struct store_stmt *st = store_prepare(
        tx, "INSERT INTO timesheets (id, contract_id, week_start, state, limit_s,"
            " hourly_rate_cents, currency, locked_at) VALUES (?, ?, ?, 'review', ?, ?, ?, ?)");
    int r;

    st_uuid_new(t->id);
    store_bind_text(st, 1, t->id);
    store_bind_text(st, 2, t->contract_id);
    store_bind_int(st, 3, t->week_start);
    if (t->limit_s == CONTRACT_NO_LIMIT)
        store_bind_null(st, 4);
    else
        store_bind_int(st, 4, t->limit_s);
    store_bind_int(st, 5, t->hourly_rate_cents);
    store_bind_text(st, 6, t->currency);
    store_bind_int(st, 7, now);
    if ((r = store_run(st)) < 0)
        return r;
    for (size_t i = 0; i < t->nsegs; i++) {
        const struct ts_segment *s = &t->segs[i];
        json_t *why = timesheets_reasons_json(s->reasons);
        char *why_s = json_dumps(why, JSON_COMPACT);

        st = store_prepare(tx, "INSERT INTO timesheet_segments (timesheet_id, segment_id, start,"
                               " manual, tracked_s, billable_s, over_limit_s, protected_s,"
                               " reasons) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        store_bind_text(st, 1, t->id);
        store_bind_text(st, 2, s->id);
        store_bind_int(st, 3, s->start);
        store_bind_int(st, 4, s->manual);
        store_bind_int(st, 5, s->tracked_s);
        store_bind_int(st, 6, s->billable_s);
        store_bind_int(st, 7, s->over_limit_s);
        store_bind_int(st, 8, s->protected_s);
        store_bind_text(st, 9, why_s);
        r = store_run(st);
        free(why_s);
        json_decref(why);
        if (r < 0)
            return r;
    }
    copy(t->state, sizeof(t->state), "review");
    t->locked_at = now;
    return 0;
}

static int64_t col_int0(struct store_stmt *st, int idx)
{
    return store_col_null(st, idx) ? 0 : store_col_int(st, idx);
}

int timesheets_load(struct store_tx *tx, const char *id, struct timesheet *ret_t)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT t.id, t.contract_id, t.week_start, t.state, t.limit_s, t.hourly_rate_cents,"
            " t.currency, t.locked_at, t.approved_at, t.approved_by, t.billed_at, t.paid_at,"
            " t.invoice_id, c.client_id, c.freelancer_id FROM timesheets t"
            " JOIN contracts c ON c.id = t.contract_id WHERE t.id = ?");
    struct timesheet t = {0};
    size_t cap = 0;
    int r;

    store_bind_text(st, 1, id);
    if ((r = store_step(st)) <= 0)
        return r < 0 ? r : -ENOENT;
    copy(t.id, sizeof(t.id), store_col_text(st, 0));
    copy(t.contract_id, sizeof(t.contract_id), store_col_text(st, 1));
    t.week_start = store_col_int(st, 2);
    copy(t.state, sizeof(t.state), store_col_text(st, 3));
    t.limit_s = store_col_null(st, 4) ? CONTRACT_NO_LIMIT : store_col_int(st, 4);
    t.hourly_rate_cents = store_col_int(st, 5);
    copy(t.currency, sizeof(t.currency), store_col_text(st, 6));
    t.locked_at = col_int0(st, 7);
    t.approved_at = col_int0(st, 8);
    copy(t.approved_by, sizeof(t.approved_by), store_col_text(st, 9));
    t.billed_at = col_int0(st, 10);
    t.paid_at = col_int0(st, 11);
    copy(t.invoice_id, sizeof(t.invoice_id), store_col_text(st, 12));
    copy(t.client_id, sizeof(t.client_id), store_col_text(st, 13));
    copy(t.freelancer_id, sizeof(t.freelancer_id), store_col_text(st, 14));

    st = store_prepare(tx, "SELECT segment_id, start, manual, tracked_s, billable_s,"
                           " over_limit_s, protected_s, reasons, refunded"
                           " FROM timesheet_segments WHERE timesheet_id = ?"
                           " ORDER BY start, segment_id");
    store_bind_text(st, 1, t.id);
    while ((r = store_step(st)) == 1) {
        struct ts_segment *s;
        if (t.nsegs == cap) {
            cap = cap ? cap * 2 : 64;
            t.segs = xrealloc(t.segs, cap * sizeof(*t.segs));
        }
        s = &t.segs[t.nsegs++];
        memset(s, 0, sizeof(*s));
        copy(s->id, sizeof(s->id), store_col_text(st, 0));
        s->start = store_col_int(st, 1);
        s->day = (int)((s->start - t.week_start) / ST_DAY_S);
        if (s->day < 0 || s->day > 6)
            s->day = s->day < 0 ? 0 : 6;
        s->manual = store_col_int(st, 2) != 0;
        s->tracked_s = (int)store_col_int(st, 3);
        s->billable_s = (int)store_col_int(st, 4);
        s->over_limit_s = (int)store_col_int(st, 5);
        s->protected_s = (int)store_col_int(st, 6);
        s->reasons = reasons_parse(store_col_text(st, 7));
        s->refunded = store_col_int(st, 8) != 0;
    }
    if (r < 0) {
        timesheets_release(&t);
        return r;
    }
    timesheets_sum(&t);
    *ret_t = t;
    return 0;
}

int timesheets_get_week(struct store_tx *tx, const struct contract *c, int64_t week_start,
                        struct timesheet *ret_t)
{
    struct store_stmt *st =
        store_prepare(tx, "SELECT id FROM timesheets WHERE contract_id = ? AND week_start = ?");
    char id[37];
    int r;

    store_bind_text(st, 1, c->id);
    store_bind_int(st, 2, week_start);
    if ((r = store_step(st)) < 0)
        return r;
    if (r == 0)
        return timesheets_compute(tx, c, week_start, ret_t);
    copy(id, sizeof(id), store_col_text(st, 0));
    return timesheets_load(tx, id, ret_t);
}

int timesheets_set_state(struct store_tx *tx, struct timesheet *t, const char *state,
                         const char *by, int64_t now)
{
    struct store_stmt *st;
    int r;

    if (strcmp(state, "approved") == 0) {
        st = store_prepare(tx, "UPDATE timesheets SET state = ?, approved_at = ?, approved_by = ?"
                               " WHERE id = ?");
        store_bind_text(st, 1, state);
        store_bind_int(st, 2, now);
        store_bind_text(st, 3, by);
        store_bind_text(st, 4, t->id);
        t->approved_at = now;
        copy(t->approved_by, sizeof(t->approved_by), by);
    } else if (strcmp(state, "billed") == 0) {
        st = store_prepare(tx, "UPDATE timesheets SET state = ?, billed_at = ? WHERE id = ?");
        store_bind_text(st, 1, state);
        store_bind_int(st, 2, now);
        store_bind_text(st, 3, t->id);
        t->billed_at = now;
    } else if (strcmp(state, "paid") == 0) {
        st = store_prepare(tx, "UPDATE timesheets SET state = ?, paid_at = ? WHERE id = ?");
        store_bind_text(st, 1, state);
        store_bind_int(st, 2, now);
        store_bind_text(st, 3, t->id);
        t->paid_at = now;
    } else {
        st = store_prepare(tx, "UPDATE timesheets SET state = ? WHERE id = ?");
        store_bind_text(st, 1, state);
        store_bind_text(st, 2, t->id);
    }
    if ((r = store_run(st)) < 0)
        return r;
    copy(t->state, sizeof(t->state), state);
    return 0;
}

int timesheets_set_invoice(struct store_tx *tx, struct timesheet *t, const char *invoice_id)
{
    struct store_stmt *st = store_prepare(tx, "UPDATE timesheets SET invoice_id = ? WHERE id = ?");

    store_bind_text(st, 1, invoice_id);
    store_bind_text(st, 2, t->id);
    copy(t->invoice_id, sizeof(t->invoice_id), invoice_id);
    return store_run(st);
}

struct ts_segment *timesheets_find_segment(struct timesheet *t, const char *id)
{
    for (size_t i = 0; i < t->nsegs; i++)
        if (strcasecmp(t->segs[i].id, id) == 0)
            return &t->segs[i];
    return NULL;
}

int timesheets_refund(struct store_tx *tx, struct timesheet *t, json_t *segment_ids)
{
    size_t i;
    json_t *v;
    int r;

    json_array_foreach(segment_ids, i, v)
    {
        struct ts_segment *s = timesheets_find_segment(t, json_string_value(v));
        struct store_stmt *st;
        if (!s)
            return -EINVAL;
        st = store_prepare(tx, "UPDATE timesheet_segments SET refunded = 1"
                               " WHERE timesheet_id = ? AND segment_id = ?");
        store_bind_text(st, 1, t->id);
        store_bind_text(st, 2, s->id);
        if ((r = store_run(st)) < 0)
            return r;
        s->refunded = true;
    }
    timesheets_sum(t);
    return 0;
}

static void set_time(json_t *o, const char *key, int64_t t)
{
    char s[ST_TIME_STRLEN];

    if (t == 0) {
        json_object_set_new(o, key, json_null());
        return;
    }
    st_utc_format(t, s);
    json_object_set_new(o, key, json_string(s));
}

json_t *timesheets_to_json(const struct timesheet *t)
{
    json_t *o = json_object(), *days = json_array(), *unprot = json_array(),
           *refunded = json_array();
    char week[9];

    st_iso_week_format(t->week_start, week);
    json_object_set_new(o, "id", t->id[0] ? json_string(t->id) : json_null());
    json_object_set_new(o, "contract_id", json_string(t->contract_id));
    json_object_set_new(o, "week", json_string(week));
    json_object_set_new(o, "state", json_string(t->state));
    set_time(o, "start", t->week_start);
    set_time(o, "end", t->week_start + ST_WEEK_S);
    set_time(o, "lock_at", billing_lock_at(t->week_start));
    set_time(o, "review_ends_at", billing_review_close_at(t->week_start));
    set_time(o, "available_at", billing_available_at(t->week_start));
    json_object_set_new(o, "weekly_limit_s",
                        t->limit_s == CONTRACT_NO_LIMIT ? json_null() : json_integer(t->limit_s));
    json_object_set_new(o, "tracked_s", json_integer(t->tracked_s));
    json_object_set_new(o, "manual_s", json_integer(t->manual_s));
    json_object_set_new(o, "over_limit_s", json_integer(t->over_limit_s));
    json_object_set_new(o, "billable_s", json_integer(t->billable_s));
    json_object_set_new(o, "protected_s", json_integer(t->protected_s));
    json_object_set_new(o, "refunded_s", json_integer(t->refunded_s));
    json_object_set_new(o, "hourly_rate_cents", json_integer(t->hourly_rate_cents));
    json_object_set_new(o, "gross_cents", json_integer(t->gross_cents));
    json_object_set_new(o, "refunded_cents", json_integer(t->refunded_cents));
    json_object_set_new(o, "amount_cents", json_integer(t->amount_cents));
    json_object_set_new(o, "protected_cents", json_integer(t->protected_cents));
    json_object_set_new(o, "currency", json_string(t->currency));
    for (int i = 0; i < 7; i++) {
        const struct ts_day *d = &t->days[i];
        char date[11];
        int y, m, dd;
        st_civil_from_days((t->week_start + (int64_t)i * ST_DAY_S) / ST_DAY_S, &y, &m, &dd);
        st_date_format(y, m, dd, date);
        json_array_append_new(
            days,
            json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "date", date, "tracked_s",
                      (json_int_t)d->tracked_s, "manual_s", (json_int_t)d->manual_s, "billable_s",
                      (json_int_t)d->billable_s, "over_limit_s", (json_int_t)d->over_limit_s,
                      "protected_s", (json_int_t)d->protected_s, "refunded_s",
                      (json_int_t)d->refunded_s, "amount_cents", (json_int_t)d->amount_cents));
    }
    json_object_set_new(o, "days", days);
    for (size_t i = 0; i < t->nsegs; i++) {
        const struct ts_segment *s = &t->segs[i];
        char start[ST_TIME_STRLEN];
        if (s->refunded)
            json_array_append_new(refunded, json_string(s->id));
        if (!s->reasons)
            continue;
        st_utc_format(s->start, start);
        json_array_append_new(unprot, json_pack("{s:s,s:s,s:i,s:i,s:o}", "segment_id", s->id,
                                                "start", start, "billable_s", s->billable_s,
                                                "protected_s", s->protected_s, "reasons",
                                                timesheets_reasons_json(s->reasons)));
    }
    json_object_set_new(o, "unprotected", unprot);
    json_object_set_new(o, "refunded_segment_ids", refunded);
    json_object_set_new(o, "invoice_id",
                        t->invoice_id[0] ? json_string(t->invoice_id) : json_null());
    set_time(o, "locked_at", t->locked_at);
    set_time(o, "approved_at", t->approved_at);
    json_object_set_new(o, "approved_by",
                        t->approved_by[0] ? json_string(t->approved_by) : json_null());
    set_time(o, "billed_at", t->billed_at);
    set_time(o, "paid_at", t->paid_at);
    return o;
}

int timesheets_to_csv(struct store_tx *tx, const struct timesheet *t, char **ret_data,
                      size_t *ret_len)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    char week[9];
    int r = 0;

    if (!f)
        return -ENOMEM;
    st_iso_week_format(t->week_start, week);
    fputs("contract_id,week,segment_id,start,end,manual,tracked_s,billable_s,over_limit_s,"
          "protected_s,refunded,activity,memo,tags,reasons\r\n",
          f);
    for (size_t i = 0; i < t->nsegs; i++) {
        const struct ts_segment *s = &t->segs[i];
        struct store_stmt *st =
            store_prepare(tx, "SELECT memo, tags, activity, seg_s FROM segments"
                              " WHERE contract_id = ? AND id = ?");
        char start[ST_TIME_STRLEN], end[ST_TIME_STRLEN];
        const char *memo = "", *tags = "[]";
        json_t *why = timesheets_reasons_json(s->reasons), *tag_arr, *v;
        int64_t activity = 0, seg_s = 0;
        size_t k;

        store_bind_text(st, 1, t->contract_id);
        store_bind_text(st, 2, s->id);
        if ((r = store_step(st)) < 0) {
            json_decref(why);
            break;
        }
        if (r == 1) {
            memo = store_col_text(st, 0) ? store_col_text(st, 0) : "";
            tags = store_col_text(st, 1) ? store_col_text(st, 1) : "[]";
            activity = store_col_int(st, 2);
            seg_s = store_col_int(st, 3);
        }
        r = 0;
        st_utc_format(s->start, start);
        st_utc_format(s->start + seg_s, end);
        fprintf(f, "%s,%s,%s,%s,%s,%s,%d,%d,%d,%d,%s,%lld,", t->contract_id, week, s->id, start,
                end, s->manual ? "yes" : "no", s->tracked_s, s->billable_s, s->over_limit_s,
                s->protected_s, s->refunded ? "yes" : "no", (long long)activity);
        billing_csv_field(f, memo);
        fputc(',', f);
        {
            char *joined = xstrdup("");
            tag_arr = json_loads(tags, 0, NULL);
            json_array_foreach(tag_arr, k, v)
            {
                char *next = xasprintf("%s%s%s", joined, *joined ? ";" : "",
                                       json_is_string(v) ? json_string_value(v) : "");
                free(joined);
                joined = next;
            }
            json_decref(tag_arr);
            billing_csv_field(f, joined);
            free(joined);
        }
        fputc(',', f);
        {
            char *joined = xstrdup("");
            json_array_foreach(why, k, v)
            {
                char *next = xasprintf("%s%s%s", joined, *joined ? ";" : "", json_string_value(v));
                free(joined);
                joined = next;
            }
            billing_csv_field(f, joined);
            free(joined);
        }
        fputs("\r\n", f);
        json_decref(why);
    }
    fclose(f);
    if (r < 0) {
        free(buf);
        return r;
    }
    *ret_data = buf;
    *ret_len = len;
    return 0;
}
