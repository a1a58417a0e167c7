/*
 * The double-entry ledger. See ledger.h. Accounts and transactions are
 * rows; balances are sums over entries, so there is nothing that could
 * drift out of step with the entries.
 */
#include "server/ledger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utc.h"
#include "lib/uuid.h"
#include "lib/xalloc.h"
#include "server/store.h"
#include "server/users.h"

void ledger_client_account(const char *user_id, char out[LEDGER_NAME_MAX])
{
    snprintf(out, LEDGER_NAME_MAX, "client:%s", user_id);
}

void ledger_pending_account(const char *user_id, char out[LEDGER_NAME_MAX])
{
    snprintf(out, LEDGER_NAME_MAX, "freelancer:%s:pending", user_id);
}

void ledger_available_account(const char *user_id, char out[LEDGER_NAME_MAX])
{
    snprintf(out, LEDGER_NAME_MAX, "freelancer:%s:available", user_id);
}

/* The kind and owner an account name says. */
static const char *account_kind(const char *name, char owner[37])
{
    size_t n = strlen(name);

    owner[0] = '\0';
    if (strncmp(name, "client:", 7) == 0) {
        snprintf(owner, 37, "%s", name + 7);
        return "client";
    }
    if (strncmp(name, "freelancer:", 11) == 0 && n > 11 + 36) {
        snprintf(owner, 37, "%.36s", name + 11);
        return strcmp(name + 11 + 36, ":pending") == 0 ? "freelancer_pending"
                                                       : "freelancer_available";
    }
    if (strcmp(name, LEDGER_ESCROW) == 0)
        return "escrow";
    if (strcmp(name, LEDGER_FEES) == 0)
        return "fees";
    if (strcmp(name, LEDGER_PROTECTION) == 0)
        return "protection";
    return "other";
}

static int ensure_account(struct store_tx *tx, const char *name, const char *currency, int64_t now)
{
    struct store_stmt *st =
        store_prepare(tx, "SELECT 1 FROM ledger_accounts WHERE name = ? AND currency = ?");
    char owner[37];
    const char *kind;
    int r;

    store_bind_text(st, 1, name);
    store_bind_text(st, 2, currency);
    if ((r = store_step(st)) != 0)
        return r < 0 ? r : 0;
    kind = account_kind(name, owner);
    st = store_prepare(tx, "INSERT INTO ledger_accounts (name, currency, kind, owner_id,"
                           " created_at) VALUES (?, ?, ?, ?, ?)");
    store_bind_text(st, 1, name);
    store_bind_text(st, 2, currency);
    store_bind_text(st, 3, kind);
    store_bind_text(st, 4, owner[0] ? owner : NULL);
    store_bind_int(st, 5, now);
    return store_run(st);
}

static int insert_leg(struct store_tx *tx, const char *txn, int leg, int pair, const char *account,
                      const char *currency, int64_t amount)
{
    struct store_stmt *st = store_prepare(
        tx, "INSERT INTO ledger_entries (txn_id, leg, pair, account, currency, amount_cents)"
            " VALUES (?, ?, ?, ?, ?, ?)");

    store_bind_text(st, 1, txn);
    store_bind_int(st, 2, leg);
    store_bind_int(st, 3, pair);
    store_bind_text(st, 4, account);
    store_bind_text(st, 5, currency);
    store_bind_int(st, 6, amount);
    return store_run(st);
}

int ledger_post(struct store_tx *tx, const char *kind, const char *currency,
                const char *contract_id, const char *invoice_id, const char *memo, int64_t now,
                const struct ledger_move *moves, size_t n)
{
    struct store_stmt *st;
    char txn[37];
    int64_t seq;
    size_t used = 0;
    int r, pair = 0;

    if (n > LEDGER_MAX_MOVES)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (moves[i].amount_cents < 0 || strcmp(moves[i].from, moves[i].to) == 0)
            return -EINVAL;
        used += moves[i].amount_cents > 0;
    }
    if (used == 0)
        return 0;
    st = store_prepare(tx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM ledger_txns");
    if ((r = store_step(st)) != 1)
        return r < 0 ? r : -EIO;
    seq = store_col_int(st, 0);
    st_uuid_new(txn);
    st = store_prepare(tx, "INSERT INTO ledger_txns (id, seq, ts, kind, currency, contract_id,"
                           " invoice_id, memo) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    store_bind_text(st, 1, txn);
    store_bind_int(st, 2, seq);
    store_bind_int(st, 3, now);
    store_bind_text(st, 4, kind);
    store_bind_text(st, 5, currency);
    store_bind_text(st, 6, contract_id);
    store_bind_text(st, 7, invoice_id);
    store_bind_text(st, 8, memo);
    if ((r = store_run(st)) < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        const struct ledger_move *m = &moves[i];
        if (m->amount_cents == 0)
            continue;
        if ((r = ensure_account(tx, m->from, currency, now)) < 0 ||
            (r = ensure_account(tx, m->to, currency, now)) < 0 ||
            (r = insert_leg(tx, txn, 2 * pair, pair, m->from, currency, -m->amount_cents)) < 0 ||
            (r = insert_leg(tx, txn, 2 * pair + 1, pair, m->to, currency, m->amount_cents)) < 0)
            return r;
        pair++;
    }
    return 0;
}

int ledger_balance(struct store_tx *tx, const char *account, const char *currency,
                   int64_t *ret_cents)
{
    struct store_stmt *st =
        store_prepare(tx, "SELECT COALESCE(SUM(amount_cents), 0) FROM ledger_entries"
                          " WHERE account = ? AND currency = ?");
    int r;

    store_bind_text(st, 1, account);
    store_bind_text(st, 2, currency);
    if ((r = store_step(st)) != 1)
        return r < 0 ? r : -EIO;
    *ret_cents = store_col_int(st, 0);
    return 0;
}

int ledger_invoice_balance(struct store_tx *tx, const char *account, const char *invoice_id,
                           int64_t *ret_cents)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT COALESCE(SUM(e.amount_cents), 0) FROM ledger_entries e"
            " JOIN ledger_txns t ON t.id = e.txn_id WHERE e.account = ? AND t.invoice_id = ?");
    int r;

    store_bind_text(st, 1, account);
    store_bind_text(st, 2, invoice_id);
    if ((r = store_step(st)) != 1)
        return r < 0 ? r : -EIO;
    *ret_cents = store_col_int(st, 0);
    return 0;
}

const struct ledger_rule ledger_rules[] = {
    {"ledger entry without its pair (a pair must be two legs summing to zero)",
     "SELECT txn_id || '#' || CAST(pair AS TEXT) FROM ledger_entries GROUP BY txn_id, pair"
     " HAVING SUM(amount_cents) <> 0 OR COUNT(*) <> 2"},
    {"ledger balances that do not sum to zero",
     "SELECT currency || ' ' || CAST(SUM(amount_cents) AS TEXT) FROM ledger_entries"
     " GROUP BY currency HAVING SUM(amount_cents) <> 0"},
    {"ledger entry in another currency than its transaction",
     "SELECT e.txn_id FROM ledger_entries e JOIN ledger_txns t ON t.id = e.txn_id"
     " WHERE e.currency <> t.currency"},
    {"ledger entry of an unknown transaction",
     "SELECT e.txn_id FROM ledger_entries e LEFT JOIN ledger_txns t ON t.id = e.txn_id"
     " WHERE t.id IS NULL"},
    {"ledger transaction without entries",
     "SELECT t.id FROM ledger_txns t WHERE NOT EXISTS"
     " (SELECT 1 FROM ledger_entries e WHERE e.txn_id = t.id)"},
    {"ledger entry of an unknown account",
     "SELECT e.txn_id || ' ' || e.account FROM ledger_entries e LEFT JOIN ledger_accounts a"
     " ON a.name = e.account AND a.currency = e.currency WHERE a.name IS NULL"},
    {"escrow of an invoice below zero",
     "SELECT t.invoice_id FROM ledger_entries e JOIN ledger_txns t ON t.id = e.txn_id"
     " WHERE e.account = 'escrow' GROUP BY t.invoice_id HAVING SUM(e.amount_cents) < 0"},
    {"escrow left on an invoice already billed",
     "SELECT i.id FROM invoices i JOIN timesheets ts ON ts.id = i.timesheet_id"
     " WHERE ts.state IN ('billed', 'paid') AND (SELECT COALESCE(SUM(e.amount_cents), 0)"
     " FROM ledger_entries e JOIN ledger_txns t ON t.id = e.txn_id"
     " WHERE e.account = 'escrow' AND t.invoice_id = i.id) <> 0"},
    {"freelancer earnings below zero",
     "SELECT account || ' ' || currency FROM ledger_entries WHERE account LIKE 'freelancer:%'"
     " GROUP BY account, currency HAVING SUM(amount_cents) < 0"},
    {"ledger transaction in another currency than its invoice",
     "SELECT t.id FROM ledger_txns t JOIN invoices i ON i.id = t.invoice_id"
     " WHERE t.currency <> i.currency"},
    {"invoice in another currency than its contract",
     "SELECT i.id FROM invoices i JOIN contracts c ON c.id = i.contract_id"
     " WHERE i.currency <> c.currency"},
    {"invoice number with a gap before it",
     "SELECT CAST(i.number AS TEXT) FROM invoices i WHERE i.number > 1 AND NOT EXISTS"
     " (SELECT 1 FROM invoices j WHERE j.number = i.number - 1)"},
    {"invoice whose lines do not add up to its amount",
     "SELECT i.id FROM invoices i WHERE i.amount_cents <> (SELECT COALESCE(SUM(l.amount_cents),"
     " 0) FROM invoice_lines l WHERE l.invoice_id = i.id)"},
    {"charge marked paid with no charge in the ledger",
     "SELECT ch.id FROM charges ch WHERE ch.state = 'paid' AND NOT EXISTS"
     " (SELECT 1 FROM ledger_txns t WHERE t.invoice_id = ch.invoice_id AND t.kind = 'charge')"},
    {"paid timesheet whose earnings never became available",
     "SELECT ts.id FROM timesheets ts JOIN invoices i ON i.id = ts.invoice_id"
     " WHERE ts.state = 'paid' AND COALESCE(i.paid_out_cents, 0) > 0 AND NOT EXISTS"
     " (SELECT 1 FROM ledger_txns t WHERE t.invoice_id = i.id AND t.kind = 'payout')"},
    {NULL, NULL},
};

int ledger_verify(struct store_tx *tx, int *ret_breaches, json_t **ret_report)
{
    json_t *report = json_array();
    int breaches = 0, r = 0;

    for (const struct ledger_rule *ru = ledger_rules; ru->what; ru++) {
        struct store_stmt *st = store_prepare(tx, ru->sql);
        while ((r = store_step(st)) == 1) {
            const char *item = store_col_text(st, 0);
            breaches++;
            json_array_append_new(
                report, json_pack("{s:s,s:s}", "rule", ru->what, "item", item ? item : ""));
        }
        if (r < 0)
            break;
    }
    if (r < 0) {
        json_decref(report);
        return r;
    }
    *ret_breaches = breaches;
    if (ret_report)
        *ret_report = report;
    else
        json_decref(report);
    return 0;
}

/* One account object of GET /ledger, found or added by (name, currency). */
static json_t *account_obj(json_t *accounts, const char *name, const char *kind,
                           const char *currency)
{
    size_t i;
    json_t *a;

    json_array_foreach(accounts, i, a)
    {
        if (strcmp(json_string_value(json_object_get(a, "name")), name) == 0 &&
            strcmp(json_string_value(json_object_get(a, "currency")), currency) == 0)
            return a;
    }
    a = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "name", name, "kind", kind, "currency", currency,
                  "balance_cents", (json_int_t)0, "pending_cents", (json_int_t)0, "available_cents",
                  (json_int_t)0);
    json_array_append_new(accounts, a);
    return a;
}

static void add_int(json_t *obj, const char *key, int64_t v)
{
    json_object_set_new(obj, key, json_integer(json_integer_value(json_object_get(obj, key)) + v));
}

/* Adds one raw account's balance to the objects shown (a freelancer's two merge into one). */
static void show_account(json_t *accounts, const char *name, const char *currency, int64_t balance)
{
    char owner[37], merged[LEDGER_NAME_MAX];
    const char *kind = account_kind(name, owner);
    json_t *a;

    if (strncmp(kind, "freelancer_", 11) == 0) {
        snprintf(merged, sizeof(merged), "freelancer:%s", owner);
        a = account_obj(accounts, merged, "freelancer", currency);
        add_int(a, strcmp(kind, "freelancer_pending") == 0 ? "pending_cents" : "available_cents",
                balance);
    } else {
        a = account_obj(accounts, name, kind, currency);
    }
    add_int(a, "balance_cents", balance);
}

static json_t *entry_json(struct store_stmt *st)
{
    char ts[ST_TIME_STRLEN];

    st_utc_format(store_col_int(st, 3), ts);
    return json_pack("{s:s,s:I,s:I,s:I,s:s,s:s,s:s?,s:s?,s:s?,s:s,s:s,s:I,s:s}", "txn_id",
                     store_col_text(st, 0), "leg", (json_int_t)store_col_int(st, 1), "pair",
                     (json_int_t)store_col_int(st, 12), "seq", (json_int_t)store_col_int(st, 2),
                     "ts", ts, "kind", store_col_text(st, 4), "contract_id", store_col_text(st, 5),
                     "invoice_id", store_col_text(st, 6), "memo", store_col_text(st, 7), "account",
                     store_col_text(st, 8), "currency", store_col_text(st, 9), "amount_cents",
                     (json_int_t)store_col_int(st, 10), "counter_account", store_col_text(st, 11));
}

#define ENTRY_COLS                                                                                 \
    "t.id, e.leg, t.seq, t.ts, t.kind, t.contract_id, t.invoice_id, t.memo, e.account,"            \
    " e.currency, e.amount_cents, o.account, e.pair"
#define ENTRY_JOIN                                                                                 \
    " FROM ledger_entries e JOIN ledger_txns t ON t.id = e.txn_id JOIN ledger_entries o"           \
    " ON o.txn_id = e.txn_id AND o.pair = e.pair AND o.leg <> e.leg"

int ledger_to_json(struct store_tx *tx, const struct user *u, size_t max_entries, json_t **ret_json)
{
    bool admin = strcmp(u->role, "admin") == 0;
    char names[3][LEDGER_NAME_MAX];
    json_t *accounts = json_array(), *entries = json_array(), *out;
    struct store_stmt *st;
    int r;

    if (strcmp(u->role, "client") == 0) {
        ledger_client_account(u->id, names[0]);
        snprintf(names[1], sizeof(names[1]), "%s", names[0]);
        snprintf(names[2], sizeof(names[2]), "%s", names[0]);
    } else {
        ledger_pending_account(u->id, names[0]);
        ledger_available_account(u->id, names[1]);
        snprintf(names[2], sizeof(names[2]), "%s", names[0]);
    }
    if (admin) {
        st = store_prepare(tx, "SELECT a.name, a.currency, COALESCE(SUM(e.amount_cents), 0)"
                               " FROM ledger_accounts a LEFT JOIN ledger_entries e"
                               " ON e.account = a.name AND e.currency = a.currency"
                               " GROUP BY a.name, a.currency ORDER BY a.kind, a.name, a.currency");
    } else {
        st = store_prepare(tx, "SELECT a.name, a.currency, COALESCE(SUM(e.amount_cents), 0)"
                               " FROM ledger_accounts a LEFT JOIN ledger_entries e"
                               " ON e.account = a.name AND e.currency = a.currency"
                               " WHERE a.name IN (?, ?, ?)"
                               " GROUP BY a.name, a.currency ORDER BY a.name, a.currency");
        for (int i = 0; i < 3; i++)
            store_bind_text(st, i + 1, names[i]);
    }
    while ((r = store_step(st)) == 1)
        show_account(accounts, store_col_text(st, 0), store_col_text(st, 1), store_col_int(st, 2));
    if (r < 0)
        goto fail;

    if (admin) {
        st = store_prepare(tx, "SELECT " ENTRY_COLS ENTRY_JOIN
                               " ORDER BY t.seq DESC, e.leg DESC LIMIT ?");
        store_bind_int(st, 1, (int64_t)max_entries);
    } else {
        st = store_prepare(tx, "SELECT " ENTRY_COLS ENTRY_JOIN " WHERE e.account IN (?, ?, ?)"
                               " ORDER BY t.seq DESC, e.leg DESC LIMIT ?");
        for (int i = 0; i < 3; i++)
            store_bind_text(st, i + 1, names[i]);
        store_bind_int(st, 4, (int64_t)max_entries);
    }
    while ((r = store_step(st)) == 1)
        json_array_insert_new(entries, 0, entry_json(st));
    if (r < 0)
        goto fail;

    out = json_pack("{s:o,s:o}", "accounts", accounts, "entries", entries);
    if (admin) {
        json_t *report, *sums = json_object();
        int breaches;
        if ((r = ledger_verify(tx, &breaches, &report)) < 0) {
            json_decref(sums);
            json_decref(out);
            return r;
        }
        st = store_prepare(tx, "SELECT currency, SUM(amount_cents) FROM ledger_entries"
                               " GROUP BY currency ORDER BY currency");
        while ((r = store_step(st)) == 1)
            json_object_set_new(sums, store_col_text(st, 0), json_integer(store_col_int(st, 1)));
        if (r < 0) {
            json_decref(sums);
            json_decref(report);
            json_decref(out);
            return r;
        }
        json_object_set_new(out, "invariant",
                            json_pack("{s:b,s:o,s:o}", "holds", breaches == 0, "sum_cents", sums,
                                      "breaches", report));
    }
    *ret_json = out;
    return 0;
fail:
    json_decref(accounts);
    json_decref(entries);
    return r;
}
