/*
 * The scheduler of the weekly cycle. See jobs.h for what runs when and how
 * each transition is kept to once. A pass first reads what is due (one
 * read snapshot), then runs each item in its own write transaction, which
 * checks again that it is due and claims it in jobs_done.
 */
#include "server/jobs.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/week.h"
#include "lib/xalloc.h"
#include "server/billing.h"
#include "server/contracts.h"
#include "server/disputes.h"
#include "server/invoices.h"
#include "server/ledger.h"
#include "server/payments.h"
#include "server/segments.h"
#include "server/server.h"
#include "server/store.h"
#include "server/timesheets.h"

#define PASS_MAX_ITEMS 1000
#define MAX_PASSES 1000
/* A charge left "submitting" this long (its process died) is asked for again. */
#define CHARGE_RESUBMIT_S 600

enum job_kind { JOB_LOCK, JOB_CHARGE, JOB_REVIEW_CLOSE, JOB_DISPUTE, JOB_BILL, JOB_PAYOUT };

struct job_item {
    enum job_kind kind;
    char id[37]; /* contract (lock), charge, timesheet or dispute */
    char contract_id[37];
    int64_t week_start;
};

struct jobs {
    struct server *srv;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stopping;
    bool kicked;
};

/* One pass at a time in this process; the store keeps other processes apart. */
static pthread_mutex_t run_mu = PTHREAD_MUTEX_INITIALIZER;

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* Claims a transition: 0 when this transaction is the one that does it, 1 when done already. */
static int claim(struct store_tx *tx, const char *kind, const char *contract_id, int64_t week_start,
                 int64_t now)
{
    struct store_stmt *st = store_prepare(
        tx, "INSERT INTO jobs_done (kind, contract_id, week_start, done_at) VALUES (?, ?, ?, ?)");
    int r;

    store_bind_text(st, 1, kind);
    store_bind_text(st, 2, contract_id);
    store_bind_int(st, 3, week_start);
    store_bind_int(st, 4, now);
    r = store_run(st);
    return r == -EEXIST ? 1 : r;
}

/* What is due: the read side of a pass. */

struct due_ctx {
    int64_t now;
    struct job_item *items;
    size_t n, cap;
};

static void add_item(struct due_ctx *dc, enum job_kind kind, const char *id,
                     const char *contract_id, int64_t week_start)
{
    struct job_item *it;

    if (dc->n == dc->cap) {
        dc->cap = dc->cap ? dc->cap * 2 : 32;
        dc->items = xrealloc(dc->items, dc->cap * sizeof(*dc->items));
    }
    it = &dc->items[dc->n++];
    it->kind = kind;
    copy(it->id, sizeof(it->id), id);
    copy(it->contract_id, sizeof(it->contract_id), contract_id);
    it->week_start = week_start;
}

/*
 * The weeks to lock: those in which a contract has time (segments not
 * deleted), after the last week locked, whose lock has come; and the next
 * lock still to come. Weeks without time are skipped (no timesheet, nothing
 * to claim), so catching up after a long stop, or a test clock moved far
 * ahead, costs one step per week worked.
 */
static int scan_locks(struct store_tx *tx, int64_t now, struct due_ctx *dc, int64_t *next)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT c.id, (SELECT MAX(j.week_start) FROM jobs_done j WHERE j.kind = 'lock'"
            " AND j.contract_id = c.id) FROM contracts c WHERE c.state <> 'offered'");
    struct cursor {
        char id[37];
        int64_t from;
    } *cur = NULL;
    size_t n = 0, cap = 0;
    int r;

    while ((r = store_step(st)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            cur = xrealloc(cur, cap * sizeof(*cur));
        }
        copy(cur[n].id, sizeof(cur[n].id), store_col_text(st, 0));
        cur[n].from = store_col_null(st, 1) ? 0 : store_col_int(st, 1) + ST_WEEK_S;
        n++;
    }
    for (size_t i = 0; r >= 0 && i < n; i++) {
        int64_t from = cur[i].from;
        while (dc->n < PASS_MAX_ITEMS) {
            int64_t w;
            st = store_prepare(tx, "SELECT MIN(start) FROM segments WHERE contract_id = ?"
                                   " AND start >= ? AND deleted = 0");
            store_bind_text(st, 1, cur[i].id);
            store_bind_int(st, 2, from);
            if ((r = store_step(st)) < 0)
                break;
            if (r == 0 || store_col_null(st, 0))
                break;
            w = st_week_start(store_col_int(st, 0));
            if (billing_lock_at(w) > now) {
                if (billing_lock_at(w) < *next)
                    *next = billing_lock_at(w);
                break;
            }
            add_item(dc, JOB_LOCK, cur[i].id, cur[i].id, w);
            from = w + ST_WEEK_S;
        }
    }
    free(cur);
    return r < 0 ? r : 0;
}

static int list_due(struct store_tx *tx, void *arg)
{
    struct due_ctx *dc = arg;
    struct store_stmt *st;
    int64_t next = INT64_MAX;
    int r;

    if ((r = scan_locks(tx, dc->now, dc, &next)) < 0)
        return r;

    st = store_prepare(tx, "SELECT id FROM charges WHERE state = 'new'"
                           " OR (state = 'submitting' AND submitted_at < ?) LIMIT 1000");
    store_bind_int(st, 1, dc->now - CHARGE_RESUBMIT_S);
    while ((r = store_step(st)) == 1)
        add_item(dc, JOB_CHARGE, store_col_text(st, 0), NULL, 0);
    if (r < 0)
        return r;

    st = store_prepare(tx, "SELECT t.id, t.contract_id, t.week_start FROM timesheets t"
                           " WHERE t.state IN ('review', 'approved', 'disputed')"
                           " AND t.week_start <= ? AND NOT EXISTS (SELECT 1 FROM jobs_done j"
                           " WHERE j.kind = 'review_close' AND j.contract_id = t.contract_id"
                           " AND j.week_start = t.week_start) LIMIT 1000");
    store_bind_int(st, 1, dc->now - BILLING_REVIEW_CLOSE_S);
    while ((r = store_step(st)) == 1)
        add_item(dc, JOB_REVIEW_CLOSE, store_col_text(st, 0), store_col_text(st, 1),
                 store_col_int(st, 2));
    if (r < 0)
        return r;

    st = store_prepare(tx, "SELECT d.id, d.contract_id, t.week_start FROM disputes d"
                           " JOIN timesheets t ON t.id = d.timesheet_id"
                           " WHERE d.state = 'open' AND d.respond_by <= ? LIMIT 1000");
    store_bind_int(st, 1, dc->now);
    while ((r = store_step(st)) == 1)
        add_item(dc, JOB_DISPUTE, store_col_text(st, 0), store_col_text(st, 1),
                 store_col_int(st, 2));
    if (r < 0)
        return r;

    st = store_prepare(tx, "SELECT t.id, t.contract_id, t.week_start FROM timesheets t"
                           " LEFT JOIN disputes d ON d.timesheet_id = t.id"
                           " LEFT JOIN charges ch ON ch.invoice_id = t.invoice_id"
                           " WHERE t.week_start <= ? AND (t.state = 'approved'"
                           " OR (t.state = 'disputed' AND d.state IN ('accepted', 'settled')))"
                           " AND (t.invoice_id IS NULL OR ch.state IN ('paid', 'failed', 'void'))"
                           " LIMIT 1000");
    store_bind_int(st, 1, dc->now - BILLING_REVIEW_CLOSE_S);
    while ((r = store_step(st)) == 1)
        add_item(dc, JOB_BILL, store_col_text(st, 0), store_col_text(st, 1), store_col_int(st, 2));
    if (r < 0)
        return r;

    st = store_prepare(tx, "SELECT id, contract_id, week_start FROM timesheets"
                           " WHERE state = 'billed' AND week_start <= ? LIMIT 1000");
    store_bind_int(st, 1, dc->now - BILLING_AVAILABLE_S);
    while ((r = store_step(st)) == 1)
        add_item(dc, JOB_PAYOUT, store_col_text(st, 0), store_col_text(st, 1),
                 store_col_int(st, 2));
    return r;
}

struct next_ctx {
    int64_t now;
    int64_t next;
};

static void consider(struct next_ctx *nc, struct store_stmt *st, int64_t add)
{
    if (!store_col_null(st, 0) && store_col_int(st, 0) + add < nc->next)
        nc->next = store_col_int(st, 0) + add;
}

static int find_next(struct store_tx *tx, void *arg)
{
    struct next_ctx *nc = arg;
    struct due_ctx dc = {.now = nc->now};
    struct store_stmt *st;
    int r;

    /* The locks still to come (scan_locks only lists what is due by now). */
    r = scan_locks(tx, nc->now, &dc, &nc->next);
    free(dc.items);
    if (r < 0)
        return r;
    st = store_prepare(tx, "SELECT MIN(week_start) FROM timesheets"
                           " WHERE state IN ('review', 'approved', 'disputed') AND week_start > ?");
    store_bind_int(st, 1, nc->now - BILLING_REVIEW_CLOSE_S);
    if ((r = store_step(st)) < 0)
        return r;
    consider(nc, st, BILLING_REVIEW_CLOSE_S);
    st = store_prepare(tx, "SELECT MIN(respond_by) FROM disputes WHERE state = 'open'"
                           " AND respond_by > ?");
    store_bind_int(st, 1, nc->now);
    if ((r = store_step(st)) < 0)
        return r;
    consider(nc, st, 0);
    st = store_prepare(tx, "SELECT MIN(week_start) FROM timesheets WHERE state = 'billed'"
                           " AND week_start > ?");
    store_bind_int(st, 1, nc->now - BILLING_AVAILABLE_S);
    if ((r = store_step(st)) < 0)
        return r;
    consider(nc, st, BILLING_AVAILABLE_S);
    return 0;
}

int jobs_next_due(struct server *srv, int64_t now, int64_t *ret_next)
{
    struct next_ctx nc = {.now = now, .next = INT64_MAX};
    int r = store_read(srv->store, find_next, &nc);

    if (r < 0)
        return r;
    *ret_next = nc.next;
    return 0;
}

/* The transitions: each one write transaction. 0: done now; 1: nothing to do. */

struct run_ctx {
    struct server *srv;
    const struct job_item *it;
    int64_t now;
    char invoice_id[37];
};

static int do_lock(struct store_tx *tx, void *arg)
{
    struct run_ctx *rc = arg;
    const struct job_item *it = rc->it;
    struct timesheet t = {0};
    struct contract c;
    json_t *detail;
    int r;

    if ((r = claim(tx, "lock", it->contract_id, it->week_start, rc->now)) != 0)
        return r;
    if ((r = contracts_get(tx, it->contract_id, &c)) < 0)
        return r;
    if ((r = timesheets_compute(tx, &c, it->week_start, &t)) < 0)
        goto out;
    if (t.nsegs == 0)
        goto out; /* its time was deleted meanwhile: no timesheet */
    if ((r = timesheets_freeze(tx, &t, rc->now)) < 0)
        goto out;
    if (t.gross_cents > 0 &&
        (r = invoices_issue(tx, &t, &c, rc->srv->cfg.platform_fee_bp, payments_builtin.name,
                            rc->now, rc->invoice_id)) < 0)
        goto out;
    detail = json_pack("{s:I,s:I,s:s?}", "billable_s", (json_int_t)t.billable_s, "amount_cents",
                       (json_int_t)t.gross_cents, "invoice_id",
                       rc->invoice_id[0] ? rc->invoice_id : NULL);
    r = segments_audit(tx, rc->now, NULL, "timesheet.lock", t.id, detail);
    json_decref(detail);
out:
    timesheets_release(&t);
    contracts_release(&c);
    return r;
}

static int claim_charge(struct store_tx *tx, void *arg)
{
    struct run_ctx *rc = arg;
    struct store_stmt *st =
        store_prepare(tx, "UPDATE charges SET state = 'submitting', submitted_at = ? WHERE id = ?"
                          " AND (state = 'new' OR (state = 'submitting' AND submitted_at < ?))");
    int r;

    store_bind_int(st, 1, rc->now);
    store_bind_text(st, 2, rc->it->id);
    store_bind_int(st, 3, rc->now - CHARGE_RESUBMIT_S);
    if ((r = store_run(st)) < 0)
        return r;
    return store_changes(tx) ? 0 : 1;
}

struct charge_info {
    char id[37], client_id[37], invoice_id[37], currency[4], provider[32];
    int64_t due_cents;
};

static int read_charge(struct store_tx *tx, void *arg)
{
    struct charge_info *ci = arg;
    struct store_stmt *st = store_prepare(
        tx,
        "SELECT client_id, invoice_id, currency, provider, due_cents FROM charges WHERE id = ?");
    int r;

    store_bind_text(st, 1, ci->id);
    if ((r = store_step(st)) <= 0)
        return r < 0 ? r : -ENOENT;
    copy(ci->client_id, sizeof(ci->client_id), store_col_text(st, 0));
    copy(ci->invoice_id, sizeof(ci->invoice_id), store_col_text(st, 1));
    copy(ci->currency, sizeof(ci->currency), store_col_text(st, 2));
    copy(ci->provider, sizeof(ci->provider), store_col_text(st, 3));
    ci->due_cents = store_col_int(st, 4);
    return 0;
}

struct charge_done {
    const char *id;
    struct payment_result res;
    int64_t now;
};

static int record_charge(struct store_tx *tx, void *arg)
{
    struct charge_done *cd = arg;

    return invoices_charge_result(tx, cd->id, "submitting", payments_state_name(cd->res.state),
                                  cd->res.ref, cd->res.reason, cd->now);
}

/* Asks the provider for a charge; the claim keeps two processes from asking at once. */
static int do_charge(struct run_ctx *rc)
{
    struct server *srv = rc->srv;
    const struct payment_provider *p;
    struct charge_info ci = {0};
    struct charge_done cd = {.id = rc->it->id};
    struct payment_request req;
    int r;

    if ((r = store_write(srv->store, claim_charge, rc)) != 0)
        return r;
    copy(ci.id, sizeof(ci.id), rc->it->id);
    if ((r = store_read(srv->store, read_charge, &ci)) < 0)
        return r;
    p = payments_find(ci.provider);
    if (!p) {
        st_error("charge %s: unknown payment provider '%s'", ci.id, ci.provider);
        return -EINVAL;
    }
    req = (struct payment_request){.charge_id = ci.id,
                                   .client_id = ci.client_id,
                                   .invoice_id = ci.invoice_id,
                                   .amount_cents = ci.due_cents,
                                   .currency = ci.currency};
    if ((r = p->charge(&req, &cd.res)) < 0) {
        st_warn("charge %s: provider '%s' could not be asked; trying again later", ci.id, p->name);
        return r;
    }
    cd.now = server_now(srv);
    r = store_write(srv->store, record_charge, &cd);
    return r < 0 ? r : r == 1 ? 0 : 1;
}

static int do_review_close(struct store_tx *tx, void *arg)
{
    struct run_ctx *rc = arg;
    struct timesheet t;
    int r;

    if ((r = claim(tx, "review_close", rc->it->contract_id, rc->it->week_start, rc->now)) != 0)
        return r;
    if ((r = timesheets_load(tx, rc->it->id, &t)) < 0)
        return r;
    /* Approved by the client already, or disputed: the close changes nothing. */
    if (strcmp(t.state, "review") == 0 &&
        (r = timesheets_set_state(tx, &t, "approved", "auto", rc->now)) == 0)
        r = segments_audit(tx, rc->now, NULL, "timesheet.approve.auto", t.id, NULL);
    timesheets_release(&t);
    return r;
}

static int do_dispute_expire(struct store_tx *tx, void *arg)
{
    struct run_ctx *rc = arg;
    int r;

    if ((r = claim(tx, "dispute_expire", rc->it->contract_id, rc->it->week_start, rc->now)) != 0)
        return r;
    r = disputes_expire(tx, rc->it->id, rc->now);
    return r < 0 ? r : 0;
}

struct invoice_money {
    char freelancer_id[37];
    char currency[4];
    int fee_bp;
    int64_t paid_out_cents;
};

static int invoice_money(struct store_tx *tx, const char *id, struct invoice_money *ret)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT freelancer_id, currency, fee_bp, paid_out_cents FROM invoices WHERE id = ?");
    int r;

    store_bind_text(st, 1, id);
    if ((r = store_step(st)) <= 0)
        return r < 0 ? r : -ENOENT;
    copy(ret->freelancer_id, sizeof(ret->freelancer_id), store_col_text(st, 0));
    copy(ret->currency, sizeof(ret->currency), store_col_text(st, 1));
    ret->fee_bp = (int)store_col_int(st, 2);
    ret->paid_out_cents = store_col_null(st, 3) ? 0 : store_col_int(st, 3);
    return 0;
}

/* True when everything billing waits for is over. */
static int ready_to_bill(struct store_tx *tx, const struct timesheet *t, int64_t now)
{
    struct store_stmt *st;
    int r;

    if (now < billing_review_close_at(t->week_start))
        return 0;
    if (strcmp(t->state, "disputed") == 0) {
        struct dispute d;
        if ((r = disputes_load_for_timesheet(tx, t->id, &d)) < 0)
            return r;
        r = strcmp(d.state, "accepted") == 0 || strcmp(d.state, "settled") == 0;
        disputes_release(&d);
        if (!r)
            return 0;
    } else if (strcmp(t->state, "approved") != 0) {
        return 0;
    }
    if (!t->invoice_id[0])
        return 1;
    st = store_prepare(tx, "SELECT state FROM charges WHERE invoice_id = ?");
    store_bind_text(st, 1, t->invoice_id);
    if ((r = store_step(st)) <= 0)
        return r;
    return strcmp(store_col_text(st, 0), "paid") == 0 ||
           strcmp(store_col_text(st, 0), "failed") == 0 ||
           strcmp(store_col_text(st, 0), "void") == 0;
}

static int do_bill(struct store_tx *tx, void *arg)
{
    struct run_ctx *rc = arg;
    struct invoice_money im;
    struct timesheet t;
    int64_t escrow, fee;
    int r;

    if ((r = timesheets_load(tx, rc->it->id, &t)) < 0)
        return r;
    if ((r = ready_to_bill(tx, &t, rc->now)) <= 0) {
        r = r < 0 ? r : 1;
        goto out;
    }
    if ((r = claim(tx, "bill", t.contract_id, t.week_start, rc->now)) != 0)
        goto out;
    if (t.invoice_id[0]) {
        char pending[LEDGER_NAME_MAX];
        struct ledger_move moves[2];
        struct store_stmt *st;

        if ((r = invoice_money(tx, t.invoice_id, &im)) < 0 ||
            (r = ledger_invoice_balance(tx, LEDGER_ESCROW, t.invoice_id, &escrow)) < 0)
            goto out;
        /* What escrow holds for the invoice: the client's money, or protection's. */
        fee = billing_fee(escrow, im.fee_bp);
        ledger_pending_account(im.freelancer_id, pending);
        moves[0] = (struct ledger_move){LEDGER_ESCROW, pending, escrow - fee};
        moves[1] = (struct ledger_move){LEDGER_ESCROW, LEDGER_FEES, fee};
        if ((r = ledger_post(tx, "release", im.currency, t.contract_id, t.invoice_id,
                             "earnings after the review, less the platform fee", rc->now, moves,
                             2)) < 0)
            goto out;
        st = store_prepare(tx, "UPDATE invoices SET fee_taken_cents = ?, paid_out_cents = ?"
                               " WHERE id = ?");
        store_bind_int(st, 1, fee);
        store_bind_int(st, 2, escrow - fee);
        store_bind_text(st, 3, t.invoice_id);
        if ((r = store_run(st)) < 0)
            goto out;
    }
    if ((r = timesheets_set_state(tx, &t, "billed", NULL, rc->now)) == 0)
        r = segments_audit(tx, rc->now, NULL, "timesheet.bill", t.id, NULL);
out:
    timesheets_release(&t);
    return r;
}

static int do_payout(struct store_tx *tx, void *arg)
{
    struct run_ctx *rc = arg;
    struct invoice_money im;
    struct timesheet t;
    int r;

    if ((r = timesheets_load(tx, rc->it->id, &t)) < 0)
        return r;
    if (strcmp(t.state, "billed") != 0 || rc->now < billing_available_at(t.week_start)) {
        r = 1;
        goto out;
    }
    if ((r = claim(tx, "payout", t.contract_id, t.week_start, rc->now)) != 0)
        goto out;
    if (t.invoice_id[0]) {
        char pending[LEDGER_NAME_MAX], available[LEDGER_NAME_MAX];
        struct ledger_move m;
        if ((r = invoice_money(tx, t.invoice_id, &im)) < 0)
            goto out;
        ledger_pending_account(im.freelancer_id, pending);
        ledger_available_account(im.freelancer_id, available);
        m = (struct ledger_move){pending, available, im.paid_out_cents};
        if ((r = ledger_post(tx, "payout", im.currency, t.contract_id, t.invoice_id,
                             "the security period is over: earnings available", rc->now, &m, 1)) <
            0)
            goto out;
    }
    if ((r = timesheets_set_state(tx, &t, "paid", NULL, rc->now)) == 0)
        r = segments_audit(tx, rc->now, NULL, "timesheet.paid", t.id, NULL);
out:
    timesheets_release(&t);
    return r;
}

static const char *const kind_names[] = {"lock",           "charge", "review_close",
                                         "dispute_expire", "bill",   "payout"};

static int run_item(struct server *srv, const struct job_item *it, int64_t now)
{
    struct run_ctx rc = {.srv = srv, .it = it, .now = now};
    store_fn fn = NULL;
    int r;

    switch (it->kind) {
    case JOB_LOCK:
        fn = do_lock;
        break;
    case JOB_CHARGE:
        return do_charge(&rc);
    case JOB_REVIEW_CLOSE:
        fn = do_review_close;
        break;
    case JOB_DISPUTE:
        fn = do_dispute_expire;
        break;
    case JOB_BILL:
        fn = do_bill;
        break;
    case JOB_PAYOUT:
        fn = do_payout;
        break;
    }
    r = store_write(srv->store, fn, &rc);
    if (r == 0 && it->kind == JOB_LOCK && rc.invoice_id[0])
        st_info("week %lld of contract %s locked; invoice %s issued", (long long)it->week_start,
                it->contract_id, rc.invoice_id);
    return r;
}

int jobs_run_due(struct server *srv)
{
    int done = 0, r = 0;

    pthread_mutex_lock(&run_mu);
    for (int pass = 0; pass < MAX_PASSES; pass++) {
        struct due_ctx dc = {.now = server_now(srv)};
        int progress = 0;

        if ((r = store_read(srv->store, list_due, &dc)) < 0) {
            free(dc.items);
            break;
        }
        for (size_t i = 0; i < dc.n; i++) {
            int one = run_item(srv, &dc.items[i], dc.now);
            if (one < 0) {
                st_warn("scheduler: %s for '%s' failed (%d); it stays due",
                        kind_names[dc.items[i].kind], dc.items[i].id, one);
                r = one;
            } else if (one == 0) {
                progress++;
            }
        }
        free(dc.items);
        done += progress;
        if (progress == 0)
            break;
    }
    pthread_mutex_unlock(&run_mu);
    return r < 0 && done == 0 ? r : done;
}

static void *jobs_main(void *arg)
{
    struct jobs *j = arg;
    struct server *srv = j->srv;

    pthread_mutex_lock(&j->mu);
    while (!j->stopping) {
        int64_t now, next = INT64_MAX, wait;
        struct timespec until;

        j->kicked = false;
        pthread_mutex_unlock(&j->mu);
        jobs_run_due(srv);
        now = server_now(srv);
        if (jobs_next_due(srv, now, &next) < 0)
            next = INT64_MAX;
        wait = next == INT64_MAX ? JOBS_MAX_SLEEP_S : next - now;
        if (wait > JOBS_MAX_SLEEP_S)
            wait = JOBS_MAX_SLEEP_S;
        if (wait < 1)
            wait = 1;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)wait;
        pthread_mutex_lock(&j->mu);
        while (!j->stopping && !j->kicked)
            if (pthread_cond_timedwait(&j->cv, &j->mu, &until) == ETIMEDOUT)
                break;
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

int jobs_start(struct server *srv)
{
    struct jobs *j = xcalloc(1, sizeof(*j));
    pthread_condattr_t attr;
    int r;

    j->srv = srv;
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &attr);
    pthread_condattr_destroy(&attr);
    if ((r = pthread_create(&j->thread, NULL, jobs_main, j)) != 0) {
        pthread_cond_destroy(&j->cv);
        pthread_mutex_destroy(&j->mu);
        free(j);
        return -r;
    }
    srv->jobs = j;
    return 0;
}

void jobs_stop(struct server *srv)
{
    struct jobs *j = srv->jobs;

    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->stopping = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->thread, NULL);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
    srv->jobs = NULL;
}

void jobs_kick(struct server *srv)
{
    struct jobs *j = srv->jobs;

    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->kicked = true;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}
