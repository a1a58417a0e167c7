/*
 * `stintd check`: offline verification of what must always hold in the
 * store. Each rule is one query that returns the rows breaking it.
 */
#include "server/check.h"

#include <stdio.h>

#include "server/ledger.h"
#include "server/server.h"
#include "server/store.h"

struct rule {
    const char *what;
    const char *sql; /* returns one text column naming each breach */
};

static const struct rule rules[] = {
    {"segment of an unknown contract",
     "SELECT s.id FROM segments s LEFT JOIN contracts c ON c.id = s.contract_id"
     " WHERE c.id IS NULL"},
    {"segment not uploaded by the contract's freelancer",
     "SELECT s.id FROM segments s JOIN contracts c ON c.id = s.contract_id"
     " WHERE s.freelancer_id <> c.freelancer_id"},
    {"segment not on a slot boundary", "SELECT id FROM segments WHERE start % seg_s <> 0"},
    {"segment with impossible tracked time",
     "SELECT id FROM segments WHERE tracked_s < 0 OR tracked_s > seg_s"},
    {"deleted segment that still holds a screenshot",
     "SELECT id FROM segments WHERE deleted = 1 AND (shot_blob IS NOT NULL"
     " OR thumb_blob IS NOT NULL)"},
    {"contract between unknown users",
     "SELECT c.id FROM contracts c LEFT JOIN users u ON u.id = c.client_id"
     " LEFT JOIN users f ON f.id = c.freelancer_id WHERE u.id IS NULL OR f.id IS NULL"},
    {"contract with no state history",
     "SELECT c.id FROM contracts c WHERE NOT EXISTS"
     " (SELECT 1 FROM contract_states s WHERE s.contract_id = c.id)"},
    {"token of an unknown user",
     "SELECT t.user_id FROM tokens t LEFT JOIN users u ON u.id = t.user_id WHERE u.id IS NULL"},
    {NULL, NULL},
};

struct check_ctx {
    int breaches;
};

static int run_rules(struct store_tx *tx, void *arg)
{
    struct check_ctx *cc = arg;
    int r;

    for (const struct rule *ru = rules; ru->what; ru++) {
        struct store_stmt *st = store_prepare(tx, ru->sql);
        while ((r = store_step(st)) == 1) {
            fprintf(stderr, "stintd: check: %s: %s\n", ru->what, store_col_text(st, 0));
            cc->breaches++;
        }
        if (r < 0)
            return r;
    }
    /* The ledger: every pair balances, all balances sum to zero, and the rest (ledger.c). */
    for (const struct ledger_rule *lr = ledger_rules; lr->what; lr++) {
        struct store_stmt *st = store_prepare(tx, lr->sql);
        while ((r = store_step(st)) == 1) {
            fprintf(stderr, "stintd: check: %s: %s\n", lr->what, store_col_text(st, 0));
            cc->breaches++;
        }
        if (r < 0)
            return r;
    }
    return 0;
}

int check_store(struct server *srv)
{
    struct check_ctx cc = {0};
    int r = store_read(srv->store, run_rules, &cc);

    if (r < 0) {
        fprintf(stderr, "stintd: check: cannot read the store\n");
        return 1;
    }
    if (cc.breaches) {
        fprintf(stderr, "stintd: check: %d breaches\n", cc.breaches);
        return 1;
    }
    printf("check: all invariants hold\n");
    return 0;
}
