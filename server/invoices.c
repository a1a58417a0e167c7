/*
 * Invoices, their charges and the money a charge's outcome moves. See
 * invoices.h. The PDF is drawn in invoice-pdf.c.
 */
#include "server/invoices.h"

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
#include "server/ledger.h"
#include "server/payments.h"
#include "server/store.h"
#include "server/timesheets.h"
#include "server/users.h"

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

int invoices_issue(struct store_tx *tx, struct timesheet *t, const struct contract *c, int fee_bp,
                   const char *provider, int64_t now, char ret_id[37])
{
    struct store_stmt *st;
    char id[37], charge[37];
    int64_t number;
    int r;

    /* Writes are serialized, so MAX + 1 in this transaction is the next number, gap-free. */
    st = store_prepare(tx, "SELECT COALESCE(MAX(number), 0) + 1 FROM invoices");
    if ((r = store_step(st)) != 1)
        return r < 0 ? r : -EIO;
    number = store_col_int(st, 0);
    st_uuid_new(id);
    st = store_prepare(tx, "INSERT INTO invoices (id, number, timesheet_id, contract_id,"
                           " client_id, freelancer_id, client_name, freelancer_name, title,"
                           " week_start, currency, hourly_rate_cents, fee_bp, billable_s,"
                           " amount_cents, issued_at)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    store_bind_text(st, 1, id);
    store_bind_int(st, 2, number);
    store_bind_text(st, 3, t->id);
    store_bind_text(st, 4, c->id);
    store_bind_text(st, 5, c->client_id);
    store_bind_text(st, 6, c->freelancer_id);
    store_bind_text(st, 7, c->client_name);
    store_bind_text(st, 8, c->freelancer_name);
    store_bind_text(st, 9, c->title);
    store_bind_int(st, 10, t->week_start);
    store_bind_text(st, 11, t->currency);
    store_bind_int(st, 12, t->hourly_rate_cents);
    store_bind_int(st, 13, fee_bp);
    store_bind_int(st, 14, t->billable_s);
    store_bind_int(st, 15, t->gross_cents);
    store_bind_int(st, 16, now);
    if ((r = store_run(st)) < 0)
        return r;
    for (int d = 0; d < 7; d++) {
        st = store_prepare(tx, "INSERT INTO invoice_lines (invoice_id, day, billable_s,"
                               " amount_cents) VALUES (?, ?, ?, ?)");
        store_bind_text(st, 1, id);
        store_bind_int(st, 2, d);
        store_bind_int(st, 3, t->days[d].billable_s);
        store_bind_int(st, 4, t->days[d].gross_cents);
        if ((r = store_run(st)) < 0)
            return r;
    }
    st_uuid_new(charge);
    st = store_prepare(tx, "INSERT INTO charges (id, invoice_id, client_id, provider, state,"
                           " amount_cents, due_cents, currency, created_at)"
                           " VALUES (?, ?, ?, ?, 'new', ?, ?, ?, ?)");
    store_bind_text(st, 1, charge);
    store_bind_text(st, 2, id);
    store_bind_text(st, 3, c->client_id);
    store_bind_text(st, 4, provider);
    store_bind_int(st, 5, t->gross_cents);
    store_bind_int(st, 6, t->gross_cents);
    store_bind_text(st, 7, t->currency);
    store_bind_int(st, 8, now);
    if ((r = store_run(st)) < 0 || (r = timesheets_set_invoice(tx, t, id)) < 0)
        return r;
    copy(ret_id, 37, id);
    return 0;
}

int invoices_load(struct store_tx *tx, const char *id, struct invoice *ret_inv)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT id, number, contract_id, timesheet_id, client_id, freelancer_id,"
            " client_name, freelancer_name, title, week_start, currency, hourly_rate_cents,"
            " fee_bp, billable_s, amount_cents, issued_at, fee_taken_cents, paid_out_cents"
            " FROM invoices WHERE id = ?");
    struct invoice inv = {0};
    struct timesheet t;
    int64_t base;
    int r;

    store_bind_text(st, 1, id);
    if ((r = store_step(st)) <= 0)
        return r < 0 ? r : -ENOENT;
    copy(inv.id, sizeof(inv.id), store_col_text(st, 0));
    inv.number = store_col_int(st, 1);
    copy(inv.contract_id, sizeof(inv.contract_id), store_col_text(st, 2));
    copy(inv.timesheet_id, sizeof(inv.timesheet_id), store_col_text(st, 3));
    copy(inv.client_id, sizeof(inv.client_id), store_col_text(st, 4));
    copy(inv.freelancer_id, sizeof(inv.freelancer_id), store_col_text(st, 5));
    copy(inv.client_name, sizeof(inv.client_name), store_col_text(st, 6));
    copy(inv.freelancer_name, sizeof(inv.freelancer_name), store_col_text(st, 7));
    copy(inv.title, sizeof(inv.title), store_col_text(st, 8));
    inv.week_start = store_col_int(st, 9);
    copy(inv.currency, sizeof(inv.currency), store_col_text(st, 10));
    inv.hourly_rate_cents = store_col_int(st, 11);
    inv.fee_bp = (int)store_col_int(st, 12);
    inv.billable_s = store_col_int(st, 13);
    inv.amount_cents = store_col_int(st, 14);
    inv.issued_at = store_col_int(st, 15);
    inv.fee_taken = !store_col_null(st, 16);
    inv.fee_cents = inv.fee_taken ? store_col_int(st, 16) : 0;
    inv.payout_cents = store_col_null(st, 17) ? 0 : store_col_int(st, 17);

    for (int d = 0; d < 7; d++)
        inv.lines[d].day_start = inv.week_start + (int64_t)d * ST_DAY_S;
    st = store_prepare(tx, "SELECT day, billable_s, amount_cents FROM invoice_lines"
                           " WHERE invoice_id = ?");
    store_bind_text(st, 1, inv.id);
    while ((r = store_step(st)) == 1) {
        int64_t d = store_col_int(st, 0);
        if (d < 0 || d > 6)
            continue;
        inv.lines[d].billable_s = store_col_int(st, 1);
        inv.lines[d].amount_cents = store_col_int(st, 2);
    }
    if (r < 0)
        return r;

    st = store_prepare(tx, "SELECT id, state, provider, ref, due_cents, settled_at FROM charges"
                           " WHERE invoice_id = ?");
    store_bind_text(st, 1, inv.id);
    if ((r = store_step(st)) < 0)
        return r;
    if (r == 1) {
        copy(inv.charge_id, sizeof(inv.charge_id), store_col_text(st, 0));
        copy(inv.charge_state, sizeof(inv.charge_state), store_col_text(st, 1));
        copy(inv.provider, sizeof(inv.provider), store_col_text(st, 2));
        copy(inv.charge_ref, sizeof(inv.charge_ref), store_col_text(st, 3));
        inv.due_cents = store_col_int(st, 4);
        inv.charge_settled_at = store_col_null(st, 5) ? 0 : store_col_int(st, 5);
    }

    if ((r = timesheets_load(tx, inv.timesheet_id, &t)) < 0)
        return r;
    copy(inv.timesheet_state, sizeof(inv.timesheet_state), t.state);
    inv.refunded_s = t.refunded_s;
    inv.refunded_cents = t.refunded_cents;
    inv.net_cents = inv.amount_cents - inv.refunded_cents;
    inv.protected_cents = t.protected_cents;
    timesheets_release(&t);
    if (!inv.fee_taken) {
        /* What the freelancer would get now: the client's money, or protection's. */
        base = strcmp(inv.charge_state, "failed") == 0 ? inv.protected_cents : inv.net_cents;
        inv.fee_cents = billing_fee(base, inv.fee_bp);
        inv.payout_cents = base - inv.fee_cents;
    }
    *ret_inv = inv;
    return 0;
}

bool invoices_visible(const struct invoice *inv, const struct user *u)
{
    return strcmp(u->role, "admin") == 0 || strcmp(inv->client_id, u->id) == 0 ||
           strcmp(inv->freelancer_id, u->id) == 0;
}

struct charge_row {
    char id[37];
    char invoice_id[37];
    char client_id[37];
    char contract_id[37];
    char timesheet_id[37];
    char state[16];
    char provider[32];
    char currency[4];
    int64_t due_cents;
};

static int load_charge(struct store_tx *tx, const char *sql_by, const char *key,
                       struct charge_row *ret)
{
    struct store_stmt *st;
    int r;

    if (strcmp(sql_by, "id") == 0)
        st = store_prepare(tx, "SELECT ch.id, ch.invoice_id, ch.client_id, i.contract_id,"
                               " i.timesheet_id, ch.state, ch.provider, ch.currency, ch.due_cents"
                               " FROM charges ch JOIN invoices i ON i.id = ch.invoice_id"
                               " WHERE ch.id = ?");
    else
        st = store_prepare(tx, "SELECT ch.id, ch.invoice_id, ch.client_id, i.contract_id,"
                               " i.timesheet_id, ch.state, ch.provider, ch.currency, ch.due_cents"
                               " FROM charges ch JOIN invoices i ON i.id = ch.invoice_id"
                               " WHERE ch.invoice_id = ?");
    store_bind_text(st, 1, key);
    if ((r = store_step(st)) <= 0)
        return r < 0 ? r : -ENOENT;
    copy(ret->id, sizeof(ret->id), store_col_text(st, 0));
    copy(ret->invoice_id, sizeof(ret->invoice_id), store_col_text(st, 1));
    copy(ret->client_id, sizeof(ret->client_id), store_col_text(st, 2));
    copy(ret->contract_id, sizeof(ret->contract_id), store_col_text(st, 3));
    copy(ret->timesheet_id, sizeof(ret->timesheet_id), store_col_text(st, 4));
    copy(ret->state, sizeof(ret->state), store_col_text(st, 5));
    copy(ret->provider, sizeof(ret->provider), store_col_text(st, 6));
    copy(ret->currency, sizeof(ret->currency), store_col_text(st, 7));
    ret->due_cents = store_col_int(st, 8);
    return 0;
}

int invoices_charge_result(struct store_tx *tx, const char *charge_id, const char *from_state,
                           const char *state, const char *ref, const char *reason, int64_t now)
{
    bool settled = strcmp(state, "paid") == 0 || strcmp(state, "failed") == 0;
    struct store_stmt *st =
        store_prepare(tx, "UPDATE charges SET state = ?, ref = COALESCE(?, ref), reason = ?,"
                          " submitted_at = COALESCE(submitted_at, ?), settled_at = ?"
                          " WHERE id = ? AND state = ?");
    struct charge_row ch;
    char client[LEDGER_NAME_MAX];
    int r;

    store_bind_text(st, 1, state);
    store_bind_text(st, 2, ref && *ref ? ref : NULL);
    store_bind_text(st, 3, reason && *reason ? reason : NULL);
    store_bind_int(st, 4, now);
    if (settled)
        store_bind_int(st, 5, now);
    else
        store_bind_null(st, 5);
    store_bind_text(st, 6, charge_id);
    store_bind_text(st, 7, from_state);
    if ((r = store_run(st)) < 0)
        return r;
    if (store_changes(tx) == 0)
        return 0;
    if (!settled)
        return 1;
    if ((r = load_charge(tx, "id", charge_id, &ch)) < 0)
        return r;
    if (strcmp(state, "paid") == 0) {
        struct ledger_move m = {.from = client, .to = LEDGER_ESCROW, .amount_cents = ch.due_cents};
        ledger_client_account(ch.client_id, client);
        r = ledger_post(tx, "charge", ch.currency, ch.contract_id, ch.invoice_id,
                        "the client's charge for the invoice", now, &m, 1);
    } else {
        /* Hourly Payment Protection: the fund pays the protected time the client did not. */
        struct timesheet t;
        struct ledger_move m = {.from = LEDGER_PROTECTION, .to = LEDGER_ESCROW};
        if ((r = timesheets_load(tx, ch.timesheet_id, &t)) < 0)
            return r;
        m.amount_cents = t.protected_cents;
        timesheets_release(&t);
        r = ledger_post(tx, "protection", ch.currency, ch.contract_id, ch.invoice_id,
                        "Hourly Payment Protection pays the protected time", now, &m, 1);
    }
    return r < 0 ? r : 1;
}

int invoices_charge_mark(struct store_tx *tx, const char *charge_id, bool paid, int64_t now,
                         struct billing_refusal *ref, char ret_invoice_id[37])
{
    const struct payment_provider *p;
    struct charge_row ch;
    int r;

    if ((r = load_charge(tx, "id", charge_id, &ch)) < 0)
        return r;
    p = payments_find(ch.provider);
    if (!p || !p->manual_settlement)
        return billing_refuse(ref, 409, "conflict", "provider '%s' settles its charges itself",
                              ch.provider);
    if (strcmp(ch.state, "pending") != 0)
        return billing_refuse(ref, 409, "conflict", "the charge is %s, not pending", ch.state);
    r = invoices_charge_result(tx, ch.id, "pending", paid ? "paid" : "failed", NULL,
                               paid ? NULL : "marked failed by an operator", now);
    if (r < 0)
        return r;
    if (r == 0)
        return billing_refuse(ref, 409, "conflict", "the charge changed meanwhile");
    copy(ret_invoice_id, 37, ch.invoice_id);
    return 0;
}

int invoices_refund(struct store_tx *tx, const char *invoice_id, int64_t amount_before,
                    int64_t amount_after, int64_t protected_before, int64_t protected_after,
                    int64_t now)
{
    char client[LEDGER_NAME_MAX];
    struct store_stmt *st;
    struct charge_row ch;
    int r;

    if ((r = load_charge(tx, "invoice", invoice_id, &ch)) < 0)
        return r;
    if (strcmp(ch.state, "paid") == 0) {
        struct ledger_move m = {
            .from = LEDGER_ESCROW, .to = client, .amount_cents = amount_before - amount_after};
        ledger_client_account(ch.client_id, client);
        return ledger_post(tx, "refund", ch.currency, ch.contract_id, ch.invoice_id,
                           "refund of disputed time", now, &m, 1);
    }
    if (strcmp(ch.state, "failed") == 0) {
        struct ledger_move m = {.from = LEDGER_ESCROW,
                                .to = LEDGER_PROTECTION,
                                .amount_cents = protected_before - protected_after};
        return ledger_post(tx, "protection_reversal", ch.currency, ch.contract_id, ch.invoice_id,
                           "refunded time goes back to the protection fund", now, &m, 1);
    }
    if (strcmp(ch.state, "void") == 0)
        return 0;
    /* Not paid yet: the client simply owes less. */
    st = store_prepare(tx, "UPDATE charges SET due_cents = ?,"
                           " state = CASE WHEN ? = 0 AND state IN ('new', 'pending') THEN 'void'"
                           " ELSE state END,"
                           " settled_at = CASE WHEN ? = 0 THEN ? ELSE settled_at END WHERE id = ?");
    store_bind_int(st, 1, amount_after);
    store_bind_int(st, 2, amount_after);
    store_bind_int(st, 3, amount_after);
    store_bind_int(st, 4, now);
    store_bind_text(st, 5, ch.id);
    return store_run(st);
}

void invoices_line_date(const struct invoice_line *l, char out[11])
{
    int y, m, d;

    st_civil_from_days(l->day_start / ST_DAY_S, &y, &m, &d);
    st_date_format(y, m, d, out);
}

static int currency_digits(const char *c)
{
    static const char *const zero[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY",
                                       "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
                                       "VND", "VUV", "XAF", "XOF", "XPF", NULL};
    static const char *const three[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND", NULL};

    for (int i = 0; zero[i]; i++)
        if (strcmp(c, zero[i]) == 0)
            return 0;
    for (int i = 0; three[i]; i++)
        if (strcmp(c, three[i]) == 0)
            return 3;
    return 2;
}

void invoices_format_money(int64_t cents, const char *currency, char *out, size_t len)
{
    int digits = currency_digits(currency);
    int64_t scale = digits == 0 ? 1 : digits == 3 ? 1000 : 100;
    uint64_t a = cents < 0 ? (uint64_t)0 - (uint64_t)cents : (uint64_t)cents;

    if (digits == 0)
        snprintf(out, len, "%s%llu %s", cents < 0 ? "-" : "", (unsigned long long)a, currency);
    else
        snprintf(out, len, "%s%llu.%0*llu %s", cents < 0 ? "-" : "",
                 (unsigned long long)(a / (uint64_t)scale), digits,
                 (unsigned long long)(a % (uint64_t)scale), currency);
}

/* The invoice's state for people: whether and how it was paid. */
static const char *invoice_state(const struct invoice *inv)
{
    if (strcmp(inv->charge_state, "paid") == 0 || strcmp(inv->charge_state, "failed") == 0 ||
        strcmp(inv->charge_state, "void") == 0)
        return inv->charge_state;
    return "pending";
}

static json_t *time_or_null(int64_t t)
{
    char s[ST_TIME_STRLEN];

    if (!t)
        return json_null();
    st_utc_format(t, s);
    return json_string(s);
}

json_t *invoices_to_json(const struct invoice *inv)
{
    json_t *lines = json_array(), *o;
    char week[9], issued[ST_TIME_STRLEN], *pdf, *csv;

    for (int d = 0; d < 7; d++) {
        char date[11];
        invoices_line_date(&inv->lines[d], date);
        json_array_append_new(lines, json_pack("{s:s,s:I,s:I}", "date", date, "billable_s",
                                               (json_int_t)inv->lines[d].billable_s, "amount_cents",
                                               (json_int_t)inv->lines[d].amount_cents));
    }
    st_iso_week_format(inv->week_start, week);
    st_utc_format(inv->issued_at, issued);
    pdf = xasprintf("/api/v1/invoices/%s.pdf", inv->id);
    csv = xasprintf("/api/v1/invoices/%s.csv", inv->id);
    o = json_pack(
        "{s:s,s:I,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:I,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
        "s:b,s:I,s:s,s:s,s:s,s:o,s:s,s:s}",
        "id", inv->id, "number", (json_int_t)inv->number, "contract_id", inv->contract_id,
        "timesheet_id", inv->timesheet_id, "week", week, "client",
        users_ref_json(inv->client_id, inv->client_name), "freelancer",
        users_ref_json(inv->freelancer_id, inv->freelancer_name), "title", inv->title, "currency",
        inv->currency, "hourly_rate_cents", (json_int_t)inv->hourly_rate_cents, "fee_bp",
        inv->fee_bp, "billable_s", (json_int_t)inv->billable_s, "amount_cents",
        (json_int_t)inv->amount_cents, "refunded_s", (json_int_t)inv->refunded_s, "refunded_cents",
        (json_int_t)inv->refunded_cents, "net_amount_cents", (json_int_t)inv->net_cents,
        "protected_cents", (json_int_t)inv->protected_cents, "fee_cents",
        (json_int_t)inv->fee_cents, "fee_taken", inv->fee_taken, "payout_cents",
        (json_int_t)inv->payout_cents, "issued_at", issued, "state", invoice_state(inv),
        "timesheet_state", inv->timesheet_state, "lines", lines, "pdf_url", pdf, "csv_url", csv);
    json_object_set_new(o, "charge",
                        inv->charge_id[0]
                            ? json_pack("{s:s,s:s,s:s,s:s?,s:I,s:o}", "id", inv->charge_id, "state",
                                        inv->charge_state, "provider", inv->provider, "ref",
                                        inv->charge_ref[0] ? inv->charge_ref : NULL, "due_cents",
                                        (json_int_t)inv->due_cents, "settled_at",
                                        time_or_null(inv->charge_settled_at))
                            : json_null());
    free(pdf);
    free(csv);
    return o;
}

static void hours_text(int64_t seconds, char *out, size_t len)
{
    /* For people only; billable_s is the exact figure. */
    int64_t centi = (seconds * 100 + 1800) / 3600;
    snprintf(out, len, "%lld.%02lld", (long long)(centi / 100), (long long)(centi % 100));
}

int invoices_to_csv(const struct invoice *inv, char **ret_data, size_t *ret_len)
{
    char *buf = NULL, h[32], what[96];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    long long n = (long long)inv->number, rate = (long long)inv->hourly_rate_cents;

    if (!f)
        return -ENOMEM;
    fputs("invoice_number,invoice_id,date,description,billable_s,hours,hourly_rate_cents,"
          "amount_cents,currency\r\n",
          f);
    for (int d = 0; d < 7; d++) {
        char date[11];
        invoices_line_date(&inv->lines[d], date);
        hours_text(inv->lines[d].billable_s, h, sizeof(h));
        fprintf(f, "%lld,%s,%s,work,%lld,%s,%lld,%lld,%s\r\n", n, inv->id, date,
                (long long)inv->lines[d].billable_s, h, rate, (long long)inv->lines[d].amount_cents,
                inv->currency);
    }
    hours_text(inv->billable_s, h, sizeof(h));
    fprintf(f, "%lld,%s,,subtotal,%lld,%s,%lld,%lld,%s\r\n", n, inv->id, (long long)inv->billable_s,
            h, rate, (long long)inv->amount_cents, inv->currency);
    if (inv->refunded_cents || inv->refunded_s) {
        hours_text(inv->refunded_s, h, sizeof(h));
        fprintf(f, "%lld,%s,,refund of disputed time,-%lld,-%s,%lld,-%lld,%s\r\n", n, inv->id,
                (long long)inv->refunded_s, h, rate, (long long)inv->refunded_cents, inv->currency);
    }
    fprintf(f, "%lld,%s,,total due from the client,,,,%lld,%s\r\n", n, inv->id,
            (long long)inv->net_cents, inv->currency);
    if (strcmp(inv->charge_state, "failed") == 0)
        fprintf(f, "%lld,%s,,paid by Hourly Payment Protection,,,,%lld,%s\r\n", n, inv->id,
                (long long)inv->protected_cents, inv->currency);
    snprintf(what, sizeof(what), "platform fee %d.%02d%% (paid by the freelancer)",
             inv->fee_bp / 100, inv->fee_bp % 100);
    fprintf(f, "%lld,%s,,%s,,,,-%lld,%s\r\n", n, inv->id, what, (long long)inv->fee_cents,
            inv->currency);
    fprintf(f, "%lld,%s,,freelancer receives,,,,%lld,%s\r\n", n, inv->id,
            (long long)inv->payout_cents, inv->currency);
    fclose(f);
    *ret_data = buf;
    *ret_len = len;
    return 0;
}
