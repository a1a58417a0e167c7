/*
 * Billing endpoints: timesheets (read, approve, dispute, CSV), disputes
 * (read, respond, settle), invoices (JSON, CSV, PDF), the ledger, and the
 * operator's billing actions (verify an identity, set a billing method's
 * state, mark a charge). The rules live in timesheets.c, disputes.c,
 * invoices.c and ledger.c; handlers check input, run one transaction and
 * reply. Outsiders get 404 for a timesheet, dispute or invoice, never 403.
 *
 * A change that can make a transition of the cycle due (a dispute
 * resolved, a charge marked) runs the scheduler before answering, so the
 * answer already shows its effect.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/utc.h"
#include "lib/uuid.h"
#include "lib/week.h"
#include "lib/xalloc.h"
#include "server/api.h"
#include "server/billing.h"
#include "server/contracts.h"
#include "server/disputes.h"
#include "server/invoices.h"
#include "server/jobs.h"
#include "server/ledger.h"
#include "server/segments.h"
#include "server/server.h"
#include "server/store.h"
#include "server/timesheets.h"
#include "server/users.h"

#define LIST_MAX 1000
#define LEDGER_ENTRIES_MAX 1000

enum format { FMT_JSON, FMT_CSV, FMT_PDF };

static void reply_refusal(struct http_resp *resp, int r, const struct billing_refusal *ref)
{
    if (r == -ENOENT)
        http_reply_not_found(resp);
    else if (r == -EPERM)
        http_reply_error(resp, ref->status, ref->code, "%s", ref->msg);
    else
        http_reply_store_error(resp, r);
}

/*
 * Splits "ID.pdf" (the router lets '.' into a parameter) into the id and
 * the format. False when the id is not a UUID or the suffix is not one of
 * allowed (then the answer is 404, as for any unknown path).
 */
static bool split_id(const char *param, unsigned allowed, char id[37], enum format *ret_fmt)
{
    const char *dot = strchr(param, '.');
    size_t n = dot ? (size_t)(dot - param) : strlen(param);
    enum format fmt = FMT_JSON;

    if (dot) {
        if (strcmp(dot, ".pdf") == 0)
            fmt = FMT_PDF;
        else if (strcmp(dot, ".csv") == 0)
            fmt = FMT_CSV;
        else if (strcmp(dot, ".json") != 0)
            return false;
    }
    if (!(allowed & (1u << fmt)) || n != ST_UUID_LEN)
        return false;
    memcpy(id, param, n);
    id[n] = '\0';
    if (!st_uuid_valid(id))
        return false;
    for (char *p = id; *p; p++)
        *p = (char)((*p >= 'A' && *p <= 'F') ? *p - 'A' + 'a' : *p);
    *ret_fmt = fmt;
    return true;
}

static bool is_admin(const struct http_req *req)
{
    return strcmp(req->user.role, "admin") == 0;
}

static void reply_download(struct http_resp *resp, const char *type, char *data, size_t len,
                           const char *filename)
{
    char *disp = xasprintf("attachment; filename=\"%s\"", filename);

    http_reply_bytes(resp, 200, type, data, len);
    http_add_header(resp, "Content-Disposition", disp);
    free(disp);
}

/* A timesheet's JSON with its dispute, when it has one. */
static int timesheet_full_json(struct store_tx *tx, const struct timesheet *t, int64_t now,
                               json_t **ret)
{
    json_t *o = timesheets_to_json(t);
    struct dispute d;
    int r;

    /* A week with no time has no timesheet: "open" and locked tells it apart. */
    json_object_set_new(o, "locked", json_boolean(now >= billing_lock_at(t->week_start)));
    json_object_set_new(o, "dispute", json_null());
    if (t->id[0]) {
        r = disputes_load_for_timesheet(tx, t->id, &d);
        if (r == 0) {
            json_object_set_new(o, "dispute", disputes_to_json(&d));
            disputes_release(&d);
        } else if (r != -ENOENT) {
            json_decref(o);
            return r;
        }
    }
    *ret = o;
    return 0;
}

static bool timesheet_visible(const struct timesheet *t, const struct user *u)
{
    return strcmp(u->role, "admin") == 0 || strcmp(t->client_id, u->id) == 0 ||
           strcmp(t->freelancer_id, u->id) == 0;
}

/* GET /contracts/{id}/timesheets?week=YYYY-Www[&format=csv] and GET /timesheets/{id}[.csv] */

struct ts_read {
    struct http_req *req;
    const char *timesheet_id; /* NULL: by contract and week */
    int64_t week;
    enum format fmt;
    json_t *out;
    char *data;
    size_t len;
    char filename[96];
};

static int read_timesheet(struct store_tx *tx, void *arg)
{
    struct ts_read *tr = arg;
    struct timesheet t;
    char week[9];
    int r;

    if (tr->timesheet_id) {
        if ((r = timesheets_load(tx, tr->timesheet_id, &t)) < 0)
            return r;
        if (!timesheet_visible(&t, &tr->req->user)) {
            timesheets_release(&t);
            return -ENOENT;
        }
    } else {
        struct contract c;
        if ((r = contracts_get_for(tx, tr->req->params[0], &tr->req->user, &c)) < 0)
            return r;
        r = timesheets_get_week(tx, &c, tr->week, &t);
        contracts_release(&c);
        if (r < 0)
            return r;
    }
    st_iso_week_format(t.week_start, week);
    snprintf(tr->filename, sizeof(tr->filename), "timesheet-%.8s-%s.csv", t.contract_id, week);
    if (tr->fmt == FMT_CSV)
        r = timesheets_to_csv(tx, &t, &tr->data, &tr->len);
    else
        r = timesheet_full_json(tx, &t, server_now(tr->req->srv), &tr->out);
    timesheets_release(&t);
    return r;
}

static void reply_timesheet(struct http_req *req, struct http_resp *resp, struct ts_read *tr)
{
    int r = store_read(req->srv->store, read_timesheet, tr);

    if (r == -ENOENT)
        http_reply_not_found(resp);
    else if (r < 0)
        http_reply_store_error(resp, r);
    else if (tr->fmt == FMT_CSV)
        reply_download(resp, "text/csv; charset=utf-8", tr->data, tr->len, tr->filename);
    else
        http_reply_json(resp, 200, json_pack("{s:o}", "timesheet", tr->out));
}

void api_timesheets_for_contract(struct http_req *req, struct http_resp *resp)
{
    struct ts_read tr = {.req = req};
    const char *week = http_query(req, "week"), *format = http_query(req, "format");

    if (!week) {
        tr.week = st_week_start(server_now(req->srv));
    } else if (st_iso_week_parse(week, &tr.week) < 0) {
        http_reply_error(resp, 400, "invalid_argument", "'week' is not an ISO week (YYYY-Www)");
        return;
    }
    if (format && strcmp(format, "csv") != 0 && strcmp(format, "json") != 0) {
        http_reply_error(resp, 400, "invalid_argument", "'format' is json or csv");
        return;
    }
    tr.fmt = format && strcmp(format, "csv") == 0 ? FMT_CSV : FMT_JSON;
    reply_timesheet(req, resp, &tr);
}

void api_timesheets_get(struct http_req *req, struct http_resp *resp)
{
    struct ts_read tr = {.req = req};
    char id[37];

    if (!split_id(req->params[0], 1u << FMT_JSON | 1u << FMT_CSV, id, &tr.fmt)) {
        http_reply_not_found(resp);
        return;
    }
    tr.timesheet_id = id;
    reply_timesheet(req, resp, &tr);
}

/* POST /timesheets/{id}/approve */

struct ts_write {
    struct http_req *req;
    char id[37];
    json_t *body;
    struct billing_refusal ref;
    json_t *out;
};

static int approve_timesheet(struct store_tx *tx, void *arg)
{
    struct ts_write *tw = arg;
    int64_t now = server_now(tw->req->srv);
    struct timesheet t;
    int r;

    if ((r = timesheets_load(tx, tw->id, &t)) < 0)
        return r;
    if (!timesheet_visible(&t, &tw->req->user) || is_admin(tw->req)) {
        r = is_admin(tw->req)
                ? billing_refuse(&tw->ref, 403, "forbidden", "only the client approves a timesheet")
                : -ENOENT;
        goto out;
    }
    if (strcmp(t.client_id, tw->req->user.id) != 0) {
        r = billing_refuse(&tw->ref, 403, "forbidden", "only the client approves a timesheet");
        goto out;
    }
    if (strcmp(t.state, "review") != 0) {
        r = billing_refuse(&tw->ref, 409, "conflict", "the timesheet is %s, not in review",
                           t.state);
        goto out;
    }
    if ((r = timesheets_set_state(tx, &t, "approved", "client", now)) < 0 ||
        (r = segments_audit(tx, now, tw->req->user.id, "timesheet.approve", t.id, NULL)) < 0 ||
        (r = timesheet_full_json(tx, &t, now, &tw->out)) < 0)
        goto out;
out:
    timesheets_release(&t);
    return r;
}

void api_timesheets_approve(struct http_req *req, struct http_resp *resp)
{
    struct ts_write tw = {.req = req};
    enum format fmt;
    int r;

    if (!split_id(req->params[0], 1u << FMT_JSON, tw.id, &fmt)) {
        http_reply_not_found(resp);
        return;
    }
    r = store_write(req->srv->store, approve_timesheet, &tw);
    if (r < 0) {
        reply_refusal(resp, r, &tw.ref);
        return;
    }
    jobs_kick(req->srv);
    http_reply_json(resp, 200, json_pack("{s:o}", "timesheet", tw.out));
}

/* POST /timesheets/{id}/dispute {"reason","segment_ids"} */

static int file_dispute(struct store_tx *tx, void *arg)
{
    struct ts_write *tw = arg;
    struct dispute d;
    int r;

    if (is_admin(tw->req))
        return billing_refuse(&tw->ref, 403, "forbidden", "only the client disputes a timesheet");
    r = disputes_file(tx, tw->id, &tw->req->user, st_json_str(tw->body, "reason", ""),
                      json_object_get(tw->body, "segment_ids"), server_now(tw->req->srv), &tw->ref,
                      &d);
    if (r < 0)
        return r;
    tw->out = disputes_to_json(&d);
    disputes_release(&d);
    return 0;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t') || *s == 0x7f)
            return false;
    return true;
}

void api_timesheets_dispute(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"reason", ST_JSON_STRING, true, false, 1, DISPUTE_REASON_MAX},
        {"segment_ids", ST_JSON_ARRAY, true, false, 1, DISPUTE_SEGMENTS_MAX},
        {NULL, 0, false, false, 0, 0},
    };
    struct ts_write tw = {.req = req};
    enum format fmt;
    int r;

    if (!split_id(req->params[0], 1u << FMT_JSON, tw.id, &fmt)) {
        http_reply_not_found(resp);
        return;
    }
    if (!(tw.body = http_json_body(req, resp, fields)))
        return;
    if (!printable(st_json_str(tw.body, "reason", ""))) {
        http_reply_error(resp, 400, "invalid_argument", "'reason' holds control characters");
        goto out;
    }
    r = store_write(req->srv->store, file_dispute, &tw);
    if (r < 0) {
        reply_refusal(resp, r, &tw.ref);
        goto out;
    }
    jobs_kick(req->srv);
    http_reply_json(resp, 201, json_pack("{s:o}", "dispute", tw.out));
out:
    json_decref(tw.body);
}

/* GET /disputes, GET /disputes/{id}, POST /disputes/{id}/respond, /settle */

static int read_dispute(struct store_tx *tx, void *arg)
{
    struct ts_write *tw = arg;
    struct dispute d;
    int r;

    if ((r = disputes_load(tx, tw->id, &d)) < 0)
        return r;
    if (disputes_visible(&d, &tw->req->user))
        tw->out = disputes_to_json(&d);
    else
        r = -ENOENT;
    disputes_release(&d);
    return r;
}

void api_disputes_get(struct http_req *req, struct http_resp *resp)
{
    struct ts_write tw = {.req = req};
    enum format fmt;
    int r;

    if (!split_id(req->params[0], 1u << FMT_JSON, tw.id, &fmt)) {
        http_reply_not_found(resp);
        return;
    }
    r = store_read(req->srv->store, read_dispute, &tw);
    if (r < 0)
        reply_refusal(resp, r, &tw.ref);
    else
        http_reply_json(resp, 200, json_pack("{s:o}", "dispute", tw.out));
}

struct list_ctx {
    struct http_req *req;
    const char *state;
    const char *contract;
    json_t *out;
};

static int list_disputes(struct store_tx *tx, void *arg)
{
    struct list_ctx *lc = arg;
    struct store_stmt *st = store_prepare(
        tx, "SELECT id FROM disputes WHERE (? = 1 OR client_id = ? OR freelancer_id = ?)"
            " AND (? = '' OR state = ?) ORDER BY filed_at DESC, id LIMIT 1000");
    char(*ids)[37] = xcalloc(LIST_MAX, sizeof(*ids));
    int n = 0, r;

    store_bind_int(st, 1, is_admin(lc->req));
    store_bind_text(st, 2, lc->req->user.id);
    store_bind_text(st, 3, lc->req->user.id);
    /* "" for no filter: portable SQL, unlike a NULL parameter's type. */
    store_bind_text(st, 4, lc->state ? lc->state : "");
    store_bind_text(st, 5, lc->state ? lc->state : "");
    while ((r = store_step(st)) == 1 && n < LIST_MAX)
        snprintf(ids[n++], sizeof(ids[0]), "%s", store_col_text(st, 0));
    lc->out = json_array();
    for (int i = 0; r >= 0 && i < n; i++) {
        struct dispute d;
        if ((r = disputes_load(tx, ids[i], &d)) < 0)
            break;
        json_array_append_new(lc->out, disputes_to_json(&d));
        disputes_release(&d);
    }
    free(ids);
    return r < 0 ? r : 0;
}

void api_disputes_list(struct http_req *req, struct http_resp *resp)
{
    struct list_ctx lc = {.req = req, .state = http_query(req, "state")};
    int r = store_read(req->srv->store, list_disputes, &lc);

    if (r < 0) {
        json_decref(lc.out);
        http_reply_store_error(resp, r);
        return;
    }
    http_reply_json(resp, 200, json_pack("{s:o}", "disputes", lc.out));
}

static int respond_dispute(struct store_tx *tx, void *arg)
{
    struct ts_write *tw = arg;
    struct dispute d;
    int r = disputes_respond(tx, tw->id, &tw->req->user, st_json_bool(tw->body, "accept", false),
                             server_now(tw->req->srv), &tw->ref, &d);

    if (r < 0)
        return r;
    tw->out = disputes_to_json(&d);
    disputes_release(&d);
    return 0;
}

static int settle_dispute(struct store_tx *tx, void *arg)
{
    struct ts_write *tw = arg;
    struct dispute d;
    int r =
        disputes_settle(tx, tw->id, &tw->req->user, json_object_get(tw->body, "refund_segment_ids"),
                        server_now(tw->req->srv), &tw->ref, &d);

    if (r < 0)
        return r;
    tw->out = disputes_to_json(&d);
    disputes_release(&d);
    return 0;
}

/* Writes, then runs what became due, then answers with the dispute as it is now. */
static void dispute_action(struct http_req *req, struct http_resp *resp,
                           const struct st_json_field *fields, store_fn fn)
{
    struct ts_write tw = {.req = req};
    enum format fmt;
    int r;

    if (!split_id(req->params[0], 1u << FMT_JSON, tw.id, &fmt)) {
        http_reply_not_found(resp);
        return;
    }
    if (!(tw.body = http_json_body(req, resp, fields)))
        return;
    r = store_write(req->srv->store, fn, &tw);
    if (r < 0) {
        reply_refusal(resp, r, &tw.ref);
        goto out;
    }
    json_decref(tw.out);
    tw.out = NULL;
    jobs_run_due(req->srv);
    jobs_kick(req->srv);
    r = store_read(req->srv->store, read_dispute, &tw);
    if (r < 0)
        reply_refusal(resp, r, &tw.ref);
    else
        http_reply_json(resp, 200, json_pack("{s:o}", "dispute", tw.out));
out:
    json_decref(tw.body);
}

void api_disputes_respond(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"accept", ST_JSON_BOOL, true, false, 0, 0},
        {NULL, 0, false, false, 0, 0},
    };
    dispute_action(req, resp, fields, respond_dispute);
}

void api_disputes_settle(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"refund_segment_ids", ST_JSON_ARRAY, true, false, 0, DISPUTE_SEGMENTS_MAX},
        {NULL, 0, false, false, 0, 0},
    };
    if (!is_admin(req)) {
        http_reply_error(resp, 403, "forbidden", "only an admin settles a dispute");
        return;
    }
    dispute_action(req, resp, fields, settle_dispute);
}

/* GET /invoices, GET /invoices/{id}[.pdf|.csv] */

static int list_invoices(struct store_tx *tx, void *arg)
{
    struct list_ctx *lc = arg;
    struct store_stmt *st = store_prepare(
        tx, "SELECT id FROM invoices WHERE (? = 1 OR client_id = ? OR freelancer_id = ?)"
            " AND (? = '' OR contract_id = ?) ORDER BY number DESC LIMIT 1000");
    char(*ids)[37] = xcalloc(LIST_MAX, sizeof(*ids));
    int n = 0, r;

    store_bind_int(st, 1, is_admin(lc->req));
    store_bind_text(st, 2, lc->req->user.id);
    store_bind_text(st, 3, lc->req->user.id);
    /* "" for no filter: portable SQL, unlike a NULL parameter's type. */
    store_bind_text(st, 4, lc->contract ? lc->contract : "");
    store_bind_text(st, 5, lc->contract ? lc->contract : "");
    while ((r = store_step(st)) == 1 && n < LIST_MAX)
        snprintf(ids[n++], sizeof(ids[0]), "%s", store_col_text(st, 0));
    lc->out = json_array();
    for (int i = 0; r >= 0 && i < n; i++) {
        struct invoice inv;
        if ((r = invoices_load(tx, ids[i], &inv)) < 0)
            break;
        json_array_append_new(lc->out, invoices_to_json(&inv));
    }
    free(ids);
    return r < 0 ? r : 0;
}

void api_invoices_list(struct http_req *req, struct http_resp *resp)
{
    struct list_ctx lc = {.req = req, .contract = http_query(req, "contract")};
    int r = store_read(req->srv->store, list_invoices, &lc);

    if (r < 0) {
        json_decref(lc.out);
        http_reply_store_error(resp, r);
        return;
    }
    http_reply_json(resp, 200, json_pack("{s:o}", "invoices", lc.out));
}

struct inv_read {
    struct http_req *req;
    char id[37];
    struct invoice inv;
};

static int read_invoice(struct store_tx *tx, void *arg)
{
    struct inv_read *ir = arg;
    int r = invoices_load(tx, ir->id, &ir->inv);

    if (r == 0 && !invoices_visible(&ir->inv, &ir->req->user))
        r = -ENOENT;
    return r;
}

void api_invoices_get(struct http_req *req, struct http_resp *resp)
{
    struct inv_read ir = {.req = req};
    char *data = NULL, name[64];
    enum format fmt;
    size_t len = 0;
    int r;

    if (!split_id(req->params[0], 1u << FMT_JSON | 1u << FMT_CSV | 1u << FMT_PDF, ir.id, &fmt)) {
        http_reply_not_found(resp);
        return;
    }
    r = store_read(req->srv->store, read_invoice, &ir);
    if (r == -ENOENT) {
        http_reply_not_found(resp);
        return;
    }
    if (r < 0) {
        http_reply_store_error(resp, r);
        return;
    }
    if (fmt == FMT_JSON) {
        http_reply_json(resp, 200, json_pack("{s:o}", "invoice", invoices_to_json(&ir.inv)));
        return;
    }
    snprintf(name, sizeof(name), "invoice-%06lld.%s", (long long)ir.inv.number,
             fmt == FMT_PDF ? "pdf" : "csv");
    r = fmt == FMT_PDF ? invoices_to_pdf(&ir.inv, &data, &len)
                       : invoices_to_csv(&ir.inv, &data, &len);
    if (r < 0) {
        http_reply_error(resp, 500, "internal", "the invoice could not be rendered");
        return;
    }
    reply_download(resp, fmt == FMT_PDF ? "application/pdf" : "text/csv; charset=utf-8", data, len,
                   name);
}

/* GET /ledger */

struct ledger_ctx {
    struct http_req *req;
    json_t *out;
};

static int read_ledger(struct store_tx *tx, void *arg)
{
    struct ledger_ctx *lc = arg;

    return ledger_to_json(tx, &lc->req->user, LEDGER_ENTRIES_MAX, &lc->out);
}

void api_ledger(struct http_req *req, struct http_resp *resp)
{
    struct ledger_ctx lc = {.req = req};
    int r = store_read(req->srv->store, read_ledger, &lc);

    if (r < 0)
        http_reply_store_error(resp, r);
    else
        http_reply_json(resp, 200, lc.out);
}

/* POST /admin/users/{id}/verify, /admin/users/{id}/billing, /admin/charges/{id} */

struct admin_ctx {
    struct http_req *req;
    bool verified;
    const char *billing_state;
    bool paid;
    struct billing_refusal ref;
    char invoice_id[37];
    json_t *out;
};

static json_t *user_json(const struct user *u)
{
    json_t *o = users_to_json(u);

    json_object_set_new(o, "billing_state", json_string(u->billing_state));
    return o;
}

static int update_user(struct store_tx *tx, void *arg)
{
    struct admin_ctx *ac = arg;
    int64_t now = server_now(ac->req->srv);
    struct store_stmt *st;
    struct user u;
    json_t *detail;
    int r;

    if (!st_uuid_valid(ac->req->params[0]))
        return -ENOENT;
    if ((r = users_get(tx, ac->req->params[0], &u)) < 0)
        return r;
    if (ac->billing_state) {
        if (strcmp(u.role, "client") != 0)
            return billing_refuse(&ac->ref, 409, "conflict", "only a client has a billing method");
        st = store_prepare(tx, "UPDATE users SET billing_state = ? WHERE id = ?");
        store_bind_text(st, 1, ac->billing_state);
        snprintf(u.billing_state, sizeof(u.billing_state), "%s", ac->billing_state);
        detail = json_pack("{s:s}", "billing_state", ac->billing_state);
    } else {
        if (strcmp(u.role, "freelancer") != 0)
            return billing_refuse(&ac->ref, 409, "conflict",
                                  "only a freelancer's identity is verified");
        st = store_prepare(tx, "UPDATE users SET id_verified = ? WHERE id = ?");
        store_bind_int(st, 1, ac->verified);
        u.id_verified = ac->verified;
        detail = json_pack("{s:b}", "id_verified", ac->verified);
    }
    store_bind_text(st, 2, u.id);
    if ((r = store_run(st)) == 0)
        r = segments_audit(tx, now, ac->req->user.id,
                           ac->billing_state ? "user.billing" : "user.verify", u.id, detail);
    json_decref(detail);
    if (r == 0)
        ac->out = user_json(&u);
    return r;
}

static void admin_user(struct http_req *req, struct http_resp *resp, struct admin_ctx *ac)
{
    int r;

    ac->req = req;
    r = store_write(req->srv->store, update_user, ac);
    if (r < 0)
        reply_refusal(resp, r, &ac->ref);
    else
        http_reply_json(resp, 200, json_pack("{s:o}", "user", ac->out));
}

void api_admin_verify(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"verified", ST_JSON_BOOL, false, false, 0, 0},
        {NULL, 0, false, false, 0, 0},
    };
    struct admin_ctx ac = {.verified = true};
    json_t *body = NULL;

    if (!is_admin(req)) {
        http_reply_error(resp, 403, "forbidden", "only an admin verifies identities");
        return;
    }
    /* The body is optional: an empty one verifies. */
    if (req->body_len > 0) {
        if (!(body = http_json_body(req, resp, fields)))
            return;
        ac.verified = st_json_bool(body, "verified", true);
    }
    admin_user(req, resp, &ac);
    json_decref(body);
}

void api_admin_billing(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"state", ST_JSON_STRING, true, false, 1, 16},
        {NULL, 0, false, false, 0, 0},
    };
    struct admin_ctx ac = {0};
    json_t *body;

    if (!is_admin(req)) {
        http_reply_error(resp, 403, "forbidden", "only an admin sets billing methods");
        return;
    }
    if (!(body = http_json_body(req, resp, fields)))
        return;
    ac.billing_state = st_json_str(body, "state", "");
    if (strcmp(ac.billing_state, "verified") != 0 && strcmp(ac.billing_state, "failed") != 0 &&
        strcmp(ac.billing_state, "none") != 0) {
        http_reply_error(resp, 400, "invalid_argument", "'state' is verified, failed or none");
        json_decref(body);
        return;
    }
    admin_user(req, resp, &ac);
    json_decref(body);
}

static int mark_charge(struct store_tx *tx, void *arg)
{
    struct admin_ctx *ac = arg;
    int64_t now = server_now(ac->req->srv);
    json_t *detail;
    int r;

    if (!st_uuid_valid(ac->req->params[0]))
        return -ENOENT;
    r = invoices_charge_mark(tx, ac->req->params[0], ac->paid, now, &ac->ref, ac->invoice_id);
    if (r < 0)
        return r;
    detail = json_pack("{s:b}", "paid", ac->paid);
    r = segments_audit(tx, now, ac->req->user.id, "charge.mark", ac->req->params[0], detail);
    json_decref(detail);
    return r;
}

void api_admin_charge(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"paid", ST_JSON_BOOL, true, false, 0, 0},
        {NULL, 0, false, false, 0, 0},
    };
    struct admin_ctx ac = {.req = req};
    struct inv_read ir = {.req = req};
    json_t *body;
    int r;

    if (!is_admin(req)) {
        http_reply_error(resp, 403, "forbidden", "only an admin marks charges");
        return;
    }
    if (!(body = http_json_body(req, resp, fields)))
        return;
    ac.paid = st_json_bool(body, "paid", false);
    json_decref(body);
    r = store_write(req->srv->store, mark_charge, &ac);
    if (r < 0) {
        reply_refusal(resp, r, &ac.ref);
        return;
    }
    jobs_run_due(req->srv);
    jobs_kick(req->srv);
    snprintf(ir.id, sizeof(ir.id), "%s", ac.invoice_id);
    r = store_read(req->srv->store, read_invoice, &ir);
    if (r < 0)
        http_reply_store_error(resp, r);
    else
        http_reply_json(resp, 200, json_pack("{s:o}", "invoice", invoices_to_json(&ir.inv)));
}
