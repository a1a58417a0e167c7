/*
 * Disputes and the refunds they end in. See disputes.h.
 */
#include "server/disputes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utc.h"
#include "lib/uuid.h"
#include "lib/xalloc.h"
#include "server/billing.h"
#include "server/contracts.h"
#include "server/invoices.h"
#include "server/segments.h"
#include "server/store.h"
#include "server/timesheets.h"
#include "server/users.h"

#define DISPUTE_COLS                                                                               \
    "id, timesheet_id, contract_id, client_id, freelancer_id, reason, segment_ids, state,"         \
    " filed_at, respond_by, responded_at, settled_at, refund_segment_ids, refunded_s,"             \
    " refunded_cents"

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

void disputes_release(struct dispute *d)
{
    free(d->reason);
    json_decref(d->segment_ids);
    json_decref(d->refund_segment_ids);
    json_decref(d->events);
    d->reason = NULL;
    d->segment_ids = d->refund_segment_ids = d->events = NULL;
}

static int load_events(struct store_tx *tx, struct dispute *d)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT ts, actor_id, action, detail FROM dispute_events WHERE dispute_id = ?"
            " ORDER BY seq");
    int r;

    d->events = json_array();
    store_bind_text(st, 1, d->id);
    while ((r = store_step(st)) == 1) {
        char ts[ST_TIME_STRLEN];
        json_t *detail = store_col_text(st, 3) ? json_loads(store_col_text(st, 3), 0, NULL) : NULL;
        st_utc_format(store_col_int(st, 0), ts);
        json_array_append_new(d->events,
                              json_pack("{s:s,s:s?,s:s,s:o}", "ts", ts, "actor_id",
                                        store_col_text(st, 1), "action", store_col_text(st, 2),
                                        "detail", detail ? detail : json_null()));
    }
    return r;
}

static int load_where(struct store_tx *tx, struct store_stmt *st, struct dispute *ret_d)
{
    struct dispute d = {0};
    int r;

    if ((r = store_step(st)) <= 0)
        return r < 0 ? r : -ENOENT;
    copy(d.id, sizeof(d.id), store_col_text(st, 0));
    copy(d.timesheet_id, sizeof(d.timesheet_id), store_col_text(st, 1));
    copy(d.contract_id, sizeof(d.contract_id), store_col_text(st, 2));
    copy(d.client_id, sizeof(d.client_id), store_col_text(st, 3));
    copy(d.freelancer_id, sizeof(d.freelancer_id), store_col_text(st, 4));
    d.reason = xstrdup(store_col_text(st, 5) ? store_col_text(st, 5) : "");
    d.segment_ids = json_loads(store_col_text(st, 6) ? store_col_text(st, 6) : "[]", 0, NULL);
    if (!d.segment_ids)
        d.segment_ids = json_array();
    copy(d.state, sizeof(d.state), store_col_text(st, 7));
    d.filed_at = store_col_int(st, 8);
    d.respond_by = store_col_int(st, 9);
    d.responded_at = store_col_null(st, 10) ? 0 : store_col_int(st, 10);
    d.settled_at = store_col_null(st, 11) ? 0 : store_col_int(st, 11);
    d.refund_segment_ids =
        store_col_text(st, 12) ? json_loads(store_col_text(st, 12), 0, NULL) : NULL;
    d.refunded_s = store_col_int(st, 13);
    d.refunded_cents = store_col_int(st, 14);
    if ((r = load_events(tx, &d)) < 0) {
        disputes_release(&d);
        return r;
    }
    *ret_d = d;
    return 0;
}

int disputes_load(struct store_tx *tx, const char *id, struct dispute *ret_d)
{
    struct store_stmt *st = store_prepare(tx, "SELECT " DISPUTE_COLS " FROM disputes WHERE id = ?");

    store_bind_text(st, 1, id);
    return load_where(tx, st, ret_d);
}

int disputes_load_for_timesheet(struct store_tx *tx, const char *timesheet_id,
                                struct dispute *ret_d)
{
    struct store_stmt *st =
        store_prepare(tx, "SELECT " DISPUTE_COLS " FROM disputes WHERE timesheet_id = ?");

    store_bind_text(st, 1, timesheet_id);
    return load_where(tx, st, ret_d);
}

bool disputes_visible(const struct dispute *d, const struct user *u)
{
    return strcmp(u->role, "admin") == 0 || strcmp(d->client_id, u->id) == 0 ||
           strcmp(d->freelancer_id, u->id) == 0;
}

static int add_event(struct store_tx *tx, const char *dispute_id, int64_t now, const char *actor,
                     const char *action, json_t *detail)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM dispute_events WHERE dispute_id = ?");
    char *d = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    int64_t seq;
    int r;

    if (actor && !*actor)
        actor = NULL; /* the operator, offline (stintd admin settle) */
    store_bind_text(st, 1, dispute_id);
    if ((r = store_step(st)) != 1) {
        free(d);
        return r < 0 ? r : -EIO;
    }
    seq = store_col_int(st, 0);
    st = store_prepare(tx, "INSERT INTO dispute_events (dispute_id, seq, ts, actor_id, action,"
                           " detail) VALUES (?, ?, ?, ?, ?, ?)");
    store_bind_text(st, 1, dispute_id);
    store_bind_int(st, 2, seq);
    store_bind_int(st, 3, now);
    store_bind_text(st, 4, actor);
    store_bind_text(st, 5, action);
    store_bind_text(st, 6, d);
    r = store_run(st);
    free(d);
    if (r == 0)
        r = segments_audit(tx, now, actor, action, dispute_id, detail);
    return r;
}

/* Checks a list of segment ids: strings naming distinct billed segments of t. */
static int check_ids(struct timesheet *t, json_t *ids, bool need_billable,
                     struct billing_refusal *ref)
{
    size_t i, j;
    json_t *v;

    json_array_foreach(ids, i, v)
    {
        const struct ts_segment *s;
        if (!json_is_string(v))
            return billing_refuse(ref, 400, "invalid_argument", "segment ids are strings");
        s = timesheets_find_segment(t, json_string_value(v));
        if (!s)
            return billing_refuse(ref, 400, "invalid_argument",
                                  "segment '%.40s' is not on this timesheet", json_string_value(v));
        if (need_billable && s->billable_s == 0)
            return billing_refuse(ref, 400, "invalid_argument",
                                  "segment '%.40s' has no billed time to dispute", s->id);
        for (j = 0; j < i; j++)
            if (strcasecmp(json_string_value(json_array_get(ids, j)), s->id) == 0)
                return billing_refuse(ref, 400, "invalid_argument",
                                      "segment '%.40s' is listed twice", s->id);
    }
    return 0;
}

/* Refunds ids of the dispute's timesheet and moves the money (invoices_refund). */
static int apply_refund(struct store_tx *tx, struct dispute *d, json_t *ids, int64_t now)
{
    struct timesheet t;
    struct store_stmt *st;
    int64_t amount_before, prot_before, refunded_before;
    json_t *canon = json_array(), *v;
    char *ids_s;
    size_t i;
    int r;

    if ((r = timesheets_load(tx, d->timesheet_id, &t)) < 0) {
        json_decref(canon);
        return r;
    }
    json_array_foreach(ids, i, v)
    {
        const struct ts_segment *s = timesheets_find_segment(&t, json_string_value(v));
        if (s)
            json_array_append_new(canon, json_string(s->id));
    }
    amount_before = t.amount_cents;
    prot_before = t.protected_cents;
    refunded_before = t.refunded_s;
    if ((r = timesheets_refund(tx, &t, canon)) < 0)
        goto out;
    if (t.invoice_id[0] && (r = invoices_refund(tx, t.invoice_id, amount_before, t.amount_cents,
                                                prot_before, t.protected_cents, now)) < 0)
        goto out;
    d->refunded_s = t.refunded_s - refunded_before;
    d->refunded_cents = amount_before - t.amount_cents;
    json_decref(d->refund_segment_ids);
    d->refund_segment_ids = json_incref(canon);
    ids_s = json_dumps(canon, JSON_COMPACT);
    st = store_prepare(tx, "UPDATE disputes SET refund_segment_ids = ?, refunded_s = ?,"
                           " refunded_cents = ? WHERE id = ?");
    store_bind_text(st, 1, ids_s);
    store_bind_int(st, 2, d->refunded_s);
    store_bind_int(st, 3, d->refunded_cents);
    store_bind_text(st, 4, d->id);
    free(ids_s);
    r = store_run(st);
out:
    json_decref(canon);
    timesheets_release(&t);
    return r;
}

static int set_state(struct store_tx *tx, struct dispute *d, const char *state, int64_t now,
                     const char *settled_by)
{
    struct store_stmt *st;

    if (strcmp(state, "accepted") == 0 || strcmp(state, "declined") == 0) {
        st = store_prepare(tx, "UPDATE disputes SET state = ?, responded_at = ? WHERE id = ?");
        d->responded_at = now;
    } else if (strcmp(state, "settled") == 0) {
        st = store_prepare(tx, "UPDATE disputes SET state = ?, settled_at = ?, settled_by = ?"
                               " WHERE id = ?");
        d->settled_at = now;
    } else {
        st = store_prepare(tx, "UPDATE disputes SET state = ? WHERE id = ?");
    }
    store_bind_text(st, 1, state);
    if (strcmp(state, "settled") == 0) {
        store_bind_int(st, 2, now);
        store_bind_text(st, 3, settled_by && *settled_by ? settled_by : NULL);
        store_bind_text(st, 4, d->id);
    } else if (strcmp(state, "accepted") == 0 || strcmp(state, "declined") == 0) {
        store_bind_int(st, 2, now);
        store_bind_text(st, 3, d->id);
    } else {
        store_bind_text(st, 2, d->id);
    }
    copy(d->state, sizeof(d->state), state);
    return store_run(st);
}

int disputes_file(struct store_tx *tx, const char *timesheet_id, const struct user *client,
                  const char *reason, json_t *segment_ids, int64_t now, struct billing_refusal *ref,
                  struct dispute *ret_d)
{
    struct dispute d = {0};
    struct timesheet t;
    struct contract c;
    struct store_stmt *st;
    int64_t from;
    json_t *detail, *canon = json_array(), *v;
    char *ids_s;
    size_t i;
    int r;

    if ((r = timesheets_load(tx, timesheet_id, &t)) < 0) {
        json_decref(canon);
        return r;
    }
    if ((r = contracts_get_for(tx, t.contract_id, client, &c)) < 0)
        goto out_t;
    if (!contracts_is_client(&c, client)) {
        r = billing_refuse(ref, 403, "forbidden", "only the client disputes a timesheet");
        goto out;
    }
    if (strcmp(t.state, "review") != 0) {
        r = billing_refuse(ref, 409, "conflict",
                           "the timesheet is %s; only one in review can"
                           " be disputed",
                           t.state);
        goto out;
    }
    if (now >= billing_review_close_at(t.week_start)) {
        r = billing_refuse(ref, 409, "conflict", "the review window has closed");
        goto out;
    }
    if ((r = check_ids(&t, segment_ids, true, ref)) < 0)
        goto out;
    json_array_foreach(segment_ids, i, v) json_array_append_new(
        canon, json_string(timesheets_find_segment(&t, json_string_value(v))->id));

    st_uuid_new(d.id);
    copy(d.timesheet_id, sizeof(d.timesheet_id), t.id);
    copy(d.contract_id, sizeof(d.contract_id), c.id);
    copy(d.client_id, sizeof(d.client_id), c.client_id);
    copy(d.freelancer_id, sizeof(d.freelancer_id), c.freelancer_id);
    d.reason = xstrdup(reason);
    d.segment_ids = json_incref(canon);
    copy(d.state, sizeof(d.state), "open");
    d.filed_at = now;
    d.respond_by = now + BILLING_RESPOND_S;
    ids_s = json_dumps(canon, JSON_COMPACT);
    st = store_prepare(tx, "INSERT INTO disputes (id, timesheet_id, contract_id, client_id,"
                           " freelancer_id, reason, segment_ids, state, filed_at, respond_by)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)");
    store_bind_text(st, 1, d.id);
    store_bind_text(st, 2, d.timesheet_id);
    store_bind_text(st, 3, d.contract_id);
    store_bind_text(st, 4, d.client_id);
    store_bind_text(st, 5, d.freelancer_id);
    store_bind_text(st, 6, d.reason);
    store_bind_text(st, 7, ids_s);
    store_bind_int(st, 8, d.filed_at);
    store_bind_int(st, 9, d.respond_by);
    free(ids_s);
    if ((r = store_run(st)) < 0) {
        if (r == -EEXIST)
            r = billing_refuse(ref, 409, "conflict", "this timesheet is already disputed");
        goto out;
    }
    detail = json_pack("{s:s,s:O}", "reason", reason, "segment_ids", canon);
    r = add_event(tx, d.id, now, client->id, "dispute.filed", detail);
    json_decref(detail);
    if (r < 0 || (r = timesheets_set_state(tx, &t, "disputed", NULL, now)) < 0)
        goto out;
    /* The contract stops taking time, and from next Monday its limit is 0. */
    if (strcmp(c.state, "active") == 0 && (r = contracts_set_state(tx, &c, "paused", now)) < 0)
        goto out;
    if ((r = contracts_set_limit(tx, c.id, 0, now, &from)) < 0)
        goto out;
    detail = json_pack("{s:s,s:i}", "contract_state", c.state, "weekly_limit_s", 0);
    r = add_event(tx, d.id, now, client->id, "contract.paused", detail);
    json_decref(detail);
    if (r < 0 || (r = load_events(tx, &d)) < 0)
        goto out;
    *ret_d = d;
    memset(&d, 0, sizeof(d));
out:
    contracts_release(&c);
out_t:
    timesheets_release(&t);
    json_decref(canon);
    disputes_release(&d);
    return r;
}

int disputes_respond(struct store_tx *tx, const char *id, const struct user *freelancer,
                     bool accept, int64_t now, struct billing_refusal *ref, struct dispute *ret_d)
{
    struct dispute d;
    json_t *detail;
    int r;

    if ((r = disputes_load(tx, id, &d)) < 0)
        return r;
    if (!disputes_visible(&d, freelancer)) {
        r = -ENOENT;
        goto out;
    }
    if (strcmp(d.freelancer_id, freelancer->id) != 0) {
        r = billing_refuse(ref, 403, "forbidden", "only the freelancer answers a dispute");
        goto out;
    }
    if (strcmp(d.state, "open") != 0) {
        r = billing_refuse(ref, 409, "conflict", "the dispute is %s", d.state);
        goto out;
    }
    if (now >= d.respond_by) {
        r = billing_refuse(ref, 409, "conflict",
                           "the 3 days to answer have passed; an admin"
                           " settles the dispute");
        goto out;
    }
    if (accept && (r = apply_refund(tx, &d, d.segment_ids, now)) < 0)
        goto out;
    if ((r = set_state(tx, &d, accept ? "accepted" : "declined", now, NULL)) < 0)
        goto out;
    detail = json_pack("{s:b,s:I,s:I}", "accept", accept, "refunded_s", (json_int_t)d.refunded_s,
                       "refunded_cents", (json_int_t)d.refunded_cents);
    r = add_event(tx, d.id, now, freelancer->id, accept ? "dispute.accepted" : "dispute.declined",
                  detail);
    json_decref(detail);
    json_decref(d.events);
    d.events = NULL;
    if (r < 0 || (r = load_events(tx, &d)) < 0)
        goto out;
    *ret_d = d;
    return 0;
out:
    disputes_release(&d);
    return r;
}

int disputes_settle(struct store_tx *tx, const char *id, const struct user *admin,
                    json_t *refund_ids, int64_t now, struct billing_refusal *ref,
                    struct dispute *ret_d)
{
    struct dispute d;
    struct timesheet t;
    json_t *detail, *v;
    size_t i, j;
    int r;

    if (strcmp(admin->role, "admin") != 0)
        return billing_refuse(ref, 403, "forbidden", "only an admin settles a dispute");
    if ((r = disputes_load(tx, id, &d)) < 0)
        return r;
    if (strcmp(d.state, "open") == 0 && now >= d.respond_by) {
        /* The scheduler has not marked it yet: the 3 days are over all the same. */
        if ((r = disputes_expire(tx, d.id, now)) < 0)
            goto out;
        copy(d.state, sizeof(d.state), "unanswered");
    }
    if (strcmp(d.state, "declined") != 0 && strcmp(d.state, "unanswered") != 0) {
        r = billing_refuse(ref, 409, "conflict",
                           strcmp(d.state, "open") == 0
                               ? "the freelancer may still answer this dispute"
                               : "the dispute is already %s",
                           d.state);
        goto out;
    }
    if ((r = timesheets_load(tx, d.timesheet_id, &t)) < 0)
        goto out;
    r = check_ids(&t, refund_ids, false, ref);
    timesheets_release(&t);
    if (r < 0)
        goto out;
    json_array_foreach(refund_ids, i, v)
    {
        bool listed = false;
        for (j = 0; j < json_array_size(d.segment_ids); j++)
            listed = listed || strcasecmp(json_string_value(json_array_get(d.segment_ids, j)),
                                          json_string_value(v)) == 0;
        if (!listed) {
            r = billing_refuse(ref, 400, "invalid_argument",
                               "segment '%.40s' is not one the client disputed",
                               json_string_value(v));
            goto out;
        }
    }
    if ((r = apply_refund(tx, &d, refund_ids, now)) < 0 ||
        (r = set_state(tx, &d, "settled", now, admin->id)) < 0)
        goto out;
    detail = json_pack("{s:O,s:I,s:I}", "refund_segment_ids", d.refund_segment_ids, "refunded_s",
                       (json_int_t)d.refunded_s, "refunded_cents", (json_int_t)d.refunded_cents);
    r = add_event(tx, d.id, now, admin->id, "dispute.settled", detail);
    json_decref(detail);
    json_decref(d.events);
    d.events = NULL;
    if (r < 0 || (r = load_events(tx, &d)) < 0)
        goto out;
    *ret_d = d;
    return 0;
out:
    disputes_release(&d);
    return r;
}

int disputes_expire(struct store_tx *tx, const char *id, int64_t now)
{
    struct store_stmt *st =
        store_prepare(tx, "UPDATE disputes SET state = 'unanswered' WHERE id = ? AND state = 'open'"
                          " AND respond_by <= ?");
    int r;

    store_bind_text(st, 1, id);
    store_bind_int(st, 2, now);
    if ((r = store_run(st)) < 0)
        return r;
    if (store_changes(tx) == 0)
        return 0;
    if ((r = add_event(tx, id, now, NULL, "dispute.unanswered", NULL)) < 0)
        return r;
    return 1;
}

static json_t *time_or_null(int64_t t)
{
    char s[ST_TIME_STRLEN];

    if (!t)
        return json_null();
    st_utc_format(t, s);
    return json_string(s);
}

json_t *disputes_to_json(const struct dispute *d)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:O,s:o,s:o,s:o,s:o,s:O,s:I,s:I,s:O}", "id", d->id,
                     "timesheet_id", d->timesheet_id, "contract_id", d->contract_id, "state",
                     d->state, "reason", d->reason, "segment_ids", d->segment_ids, "filed_at",
                     time_or_null(d->filed_at), "respond_by", time_or_null(d->respond_by),
                     "responded_at", time_or_null(d->responded_at), "settled_at",
                     time_or_null(d->settled_at), "refund_segment_ids",
                     d->refund_segment_ids ? d->refund_segment_ids : json_null(), "refunded_s",
                     (json_int_t)d->refunded_s, "refunded_cents", (json_int_t)d->refunded_cents,
                     "events", d->events ? d->events : json_null());
}
