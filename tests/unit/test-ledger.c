/*
 * Unit tests of the ledger (server/ledger.c) on a real SQLite store in a
 * temporary directory, and of the money arithmetic it is fed with
 * (server/billing.c): pairs that balance, balances that sum to zero,
 * escrow per invoice, refusals that write nothing, the invariant rules
 * catching a one-legged entry, and rounding half up.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/billing.h"
#include "server/ledger.h"
#include "server/store.h"
#include "server/users.h"

#define CLIENT "11111111-1111-4111-8111-111111111111"
#define FREELANCER "22222222-2222-4222-8222-222222222222"

struct fixture {
    char dir[64];
    struct store *store;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/stint-ledger-XXXXXX");
    if (!mkdtemp(f->dir) || store_open(f->dir, &f->store) < 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    store_free(f->store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "# cannot remove %s\n", f->dir);
    free(f);
    return 0;
}

/* A transaction to post, and what ledger_post answered. */
struct post {
    const char *kind;
    const char *currency;
    const char *invoice;
    struct ledger_move moves[LEDGER_MAX_MOVES + 1];
    size_t n;
    int result;
};

static int do_post(struct store_tx *tx, void *arg)
{
    struct post *p = arg;

    p->result =
        ledger_post(tx, p->kind, p->currency, NULL, p->invoice, "test", 1000, p->moves, p->n);
    return p->result;
}

struct query {
    const char *account;
    const char *currency;
    const char *invoice;
    int64_t cents;
    int breaches;
    int64_t rows;
};

static int do_balance(struct store_tx *tx, void *arg)
{
    struct query *q = arg;

    if (q->invoice)
        return ledger_invoice_balance(tx, q->account, q->invoice, &q->cents);
    return ledger_balance(tx, q->account, q->currency, &q->cents);
}

static int do_verify(struct store_tx *tx, void *arg)
{
    struct query *q = arg;
    struct store_stmt *st = store_prepare(tx, "SELECT COUNT(*) FROM ledger_entries");
    int r;

    if ((r = store_step(st)) != 1)
        return -EIO;
    q->rows = store_col_int(st, 0);
    return ledger_verify(tx, &q->breaches, NULL);
}

static int64_t balance(struct fixture *f, const char *account, const char *currency)
{
    struct query q = {.account = account, .currency = currency};

    assert_int_equal(store_read(f->store, do_balance, &q), 0);
    return q.cents;
}

static struct query verify(struct fixture *f)
{
    struct query q = {0};

    assert_int_equal(store_read(f->store, do_verify, &q), 0);
    return q;
}

static void charge_then_release(void **state)
{
    struct fixture *f = *state;
    char client[LEDGER_NAME_MAX], pending[LEDGER_NAME_MAX], available[LEDGER_NAME_MAX];
    struct post charge = {.kind = "charge", .currency = "USD", .invoice = "inv-1", .n = 1};
    struct post release = {.kind = "release", .currency = "USD", .invoice = "inv-1", .n = 2};
    struct post payout = {.kind = "payout", .currency = "USD", .invoice = "inv-1", .n = 1};
    struct query q;

    ledger_client_account(CLIENT, client);
    ledger_pending_account(FREELANCER, pending);
    ledger_available_account(FREELANCER, available);
    charge.moves[0] = (struct ledger_move){client, LEDGER_ESCROW, 8250};
    assert_int_equal(store_write(f->store, do_post, &charge), 0);
    assert_int_equal(balance(f, client, "USD"), -8250);
    assert_int_equal(balance(f, LEDGER_ESCROW, "USD"), 8250);

    release.moves[0] = (struct ledger_move){LEDGER_ESCROW, pending, 7425};
    release.moves[1] = (struct ledger_move){LEDGER_ESCROW, LEDGER_FEES, 825};
    assert_int_equal(store_write(f->store, do_post, &release), 0);
    payout.moves[0] = (struct ledger_move){pending, available, 7425};
    assert_int_equal(store_write(f->store, do_post, &payout), 0);

    assert_int_equal(balance(f, LEDGER_ESCROW, "USD"), 0);
    assert_int_equal(balance(f, pending, "USD"), 0);
    assert_int_equal(balance(f, available, "USD"), 7425);
    assert_int_equal(balance(f, LEDGER_FEES, "USD"), 825);
    assert_int_equal(balance(f, client, "EUR"), 0); /* another currency is another account */
    q = verify(f);
    assert_int_equal(q.breaches, 0);
    assert_int_equal(q.rows, 8); /* four moves, two legs each */
}

static void escrow_is_kept_per_invoice(void **state)
{
    struct fixture *f = *state;
    char client[LEDGER_NAME_MAX];
    struct post a = {.kind = "charge", .currency = "EUR", .invoice = "inv-a", .n = 1};
    struct post b = {.kind = "protection", .currency = "EUR", .invoice = "inv-b", .n = 1};
    struct post refund = {.kind = "refund", .currency = "EUR", .invoice = "inv-a", .n = 1};
    struct query q = {.account = LEDGER_ESCROW, .invoice = "inv-a"};

    ledger_client_account(CLIENT, client);
    a.moves[0] = (struct ledger_move){client, LEDGER_ESCROW, 8517};
    b.moves[0] = (struct ledger_move){LEDGER_PROTECTION, LEDGER_ESCROW, 4500};
    refund.moves[0] = (struct ledger_move){LEDGER_ESCROW, client, 1000};
    assert_int_equal(store_write(f->store, do_post, &a), 0);
    assert_int_equal(store_write(f->store, do_post, &b), 0);
    assert_int_equal(store_write(f->store, do_post, &refund), 0);
    assert_int_equal(store_read(f->store, do_balance, &q), 0);
    assert_int_equal(q.cents, 7517);
    q.invoice = "inv-b";
    assert_int_equal(store_read(f->store, do_balance, &q), 0);
    assert_int_equal(q.cents, 4500);
    assert_int_equal(balance(f, LEDGER_ESCROW, "EUR"), 12017);
    assert_int_equal(balance(f, LEDGER_PROTECTION, "EUR"), -4500);
    assert_int_equal(verify(f).breaches, 0);
}

static void bad_moves_write_nothing(void **state)
{
    struct fixture *f = *state;
    char client[LEDGER_NAME_MAX];
    struct post neg = {.kind = "charge", .currency = "USD", .n = 2};
    struct post self = {.kind = "charge", .currency = "USD", .n = 1};
    struct post zero = {.kind = "charge", .currency = "USD", .n = 2};
    struct post many = {.kind = "charge", .currency = "USD", .n = LEDGER_MAX_MOVES + 1};

    ledger_client_account(CLIENT, client);
    neg.moves[0] = (struct ledger_move){client, LEDGER_ESCROW, 100};
    neg.moves[1] = (struct ledger_move){LEDGER_ESCROW, client, -1};
    assert_int_equal(store_write(f->store, do_post, &neg), -EINVAL);
    self.moves[0] = (struct ledger_move){LEDGER_ESCROW, LEDGER_ESCROW, 5};
    assert_int_equal(store_write(f->store, do_post, &self), -EINVAL);
    for (size_t i = 0; i < many.n; i++)
        many.moves[i] = (struct ledger_move){client, LEDGER_ESCROW, 1};
    assert_int_equal(store_write(f->store, do_post, &many), -EINVAL);
    /* Moves of 0 are skipped; a transaction of nothing but zeros writes nothing. */
    zero.moves[0] = (struct ledger_move){client, LEDGER_ESCROW, 0};
    zero.moves[1] = (struct ledger_move){LEDGER_ESCROW, LEDGER_FEES, 0};
    assert_int_equal(store_write(f->store, do_post, &zero), 0);
    assert_int_equal(verify(f).rows, 0);
    assert_int_equal(balance(f, client, "USD"), 0);
}

static int tamper(struct store_tx *tx, void *arg)
{
    /* One leg without its pair: what a bug or a hand edit could leave. */
    struct store_stmt *st = store_prepare(
        tx, "INSERT INTO ledger_entries (txn_id, leg, pair, account, currency, amount_cents)"
            " SELECT txn_id, 99, 99, 'escrow', currency, 7 FROM ledger_entries LIMIT 1");
    return store_run(st);
}

static void the_rules_catch_a_leg_without_its_pair(void **state)
{
    struct fixture *f = *state;
    char client[LEDGER_NAME_MAX];
    struct post p = {.kind = "charge", .currency = "USD", .invoice = "inv-1", .n = 1};
    struct query q;

    ledger_client_account(CLIENT, client);
    p.moves[0] = (struct ledger_move){client, LEDGER_ESCROW, 100};
    assert_int_equal(store_write(f->store, do_post, &p), 0);
    assert_int_equal(verify(f).breaches, 0);
    assert_int_equal(store_write(f->store, tamper, NULL), 0);
    q = verify(f);
    /* The lone leg, and the currency no longer summing to zero. */
    assert_true(q.breaches >= 2);
}

struct json_ctx {
    struct user u;
    json_t *out;
};

static int do_json(struct store_tx *tx, void *arg)
{
    struct json_ctx *jc = arg;

    return ledger_to_json(tx, &jc->u, 100, &jc->out);
}

static void each_party_sees_its_own(void **state)
{
    struct fixture *f = *state;
    char client[LEDGER_NAME_MAX], pending[LEDGER_NAME_MAX], available[LEDGER_NAME_MAX];
    struct post p = {.kind = "release", .currency = "USD", .invoice = "inv-9", .n = 3};
    struct json_ctx jc = {0};
    json_t *a;

    ledger_client_account(CLIENT, client);
    ledger_pending_account(FREELANCER, pending);
    ledger_available_account(FREELANCER, available);
    p.moves[0] = (struct ledger_move){client, LEDGER_ESCROW, 1000};
    p.moves[1] = (struct ledger_move){LEDGER_ESCROW, pending, 900};
    p.moves[2] = (struct ledger_move){pending, available, 300};
    assert_int_equal(store_write(f->store, do_post, &p), 0);

    snprintf(jc.u.id, sizeof(jc.u.id), FREELANCER);
    snprintf(jc.u.role, sizeof(jc.u.role), "freelancer");
    assert_int_equal(store_read(f->store, do_json, &jc), 0);
    assert_int_equal(json_array_size(json_object_get(jc.out, "accounts")), 1);
    a = json_array_get(json_object_get(jc.out, "accounts"), 0);
    assert_string_equal(json_string_value(json_object_get(a, "name")), "freelancer:" FREELANCER);
    assert_int_equal(json_integer_value(json_object_get(a, "pending_cents")), 600);
    assert_int_equal(json_integer_value(json_object_get(a, "available_cents")), 300);
    assert_int_equal(json_integer_value(json_object_get(a, "balance_cents")), 900);
    /* Its legs: +900 pending, -300 pending, +300 available. */
    assert_int_equal(json_array_size(json_object_get(jc.out, "entries")), 3);
    assert_null(json_object_get(jc.out, "invariant"));
    json_decref(jc.out);

    snprintf(jc.u.id, sizeof(jc.u.id), CLIENT);
    snprintf(jc.u.role, sizeof(jc.u.role), "client");
    assert_int_equal(store_read(f->store, do_json, &jc), 0);
    a = json_array_get(json_object_get(jc.out, "accounts"), 0);
    assert_int_equal(json_integer_value(json_object_get(a, "balance_cents")), -1000);
    assert_int_equal(json_array_size(json_object_get(jc.out, "entries")), 1);
    json_decref(jc.out);

    snprintf(jc.u.role, sizeof(jc.u.role), "admin");
    assert_int_equal(store_read(f->store, do_json, &jc), 0);
    assert_true(json_is_true(json_object_get(json_object_get(jc.out, "invariant"), "holds")));
    assert_int_equal(json_array_size(json_object_get(jc.out, "entries")), 6);
    json_decref(jc.out);
}

static void rounding_is_half_up_once(void **state)
{
    (void)state;
    assert_int_equal(billing_amount(600, 3333), 556);   /* 555.5 */
    assert_int_equal(billing_amount(5110, 6000), 8517); /* 8516.67 */
    assert_int_equal(billing_amount(1800, 1), 1);       /* 0.5 */
    assert_int_equal(billing_amount(1799, 1), 0);       /* 0.4997 */
    assert_int_equal(billing_amount(0, 4500), 0);
    assert_int_equal(billing_amount(7 * 86400, 100000000), 16800000000LL);
    assert_int_equal(billing_fee(556, 250), 14);    /* 13.9 */
    assert_int_equal(billing_fee(7517, 1000), 752); /* 751.7 */
    assert_int_equal(billing_fee(5, 1000), 1);      /* 0.5 */
    assert_int_equal(billing_fee(4, 1000), 0);      /* 0.4 */
    assert_int_equal(billing_fee(8250, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(charge_then_release, setup, teardown),
        cmocka_unit_test_setup_teardown(escrow_is_kept_per_invoice, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_moves_write_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(the_rules_catch_a_leg_without_its_pair, setup, teardown),
        cmocka_unit_test_setup_teardown(each_party_sees_its_own, setup, teardown),
        cmocka_unit_test(rounding_is_half_up_once),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
