/*
 * The double-entry ledger: every money movement of stint, in integer minor
 * units, one currency per transaction. A transaction is a list of moves;
 * each move is a pair of entries, -amount on the account it leaves and
 * +amount on the one it reaches, so every pair, every transaction and the
 * whole ledger sum to zero. Balances are sums of entries, never stored.
 *
 * Accounts, per currency (created on first use):
 *   client:ID                 what the client paid in (negative when paid)
 *   freelancer:ID:pending     earnings in the security period
 *   freelancer:ID:available   earnings the freelancer may withdraw
 *   escrow                    money held between charge and release
 *   platform:fees             the platform's fee
 *   platform:protection       Hourly Payment Protection (negative: what it paid)
 *
 * Not for: when money moves (jobs.c, invoices.c, disputes.c decide) or
 * how a client pays (payments.h). Everything here runs inside the caller's
 * store transaction.
 */
#ifndef STINT_LEDGER_H
#define STINT_LEDGER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_tx;
struct user;

#define LEDGER_NAME_MAX 64
#define LEDGER_ESCROW "escrow"
#define LEDGER_FEES "platform:fees"
#define LEDGER_PROTECTION "platform:protection"
#define LEDGER_MAX_MOVES 8

/* Account names of a party; out holds LEDGER_NAME_MAX bytes. */
void ledger_client_account(const char *user_id, char out[LEDGER_NAME_MAX]);
void ledger_pending_account(const char *user_id, char out[LEDGER_NAME_MAX]);
void ledger_available_account(const char *user_id, char out[LEDGER_NAME_MAX]);

struct ledger_move {
    const char *from;
    const char *to;
    int64_t amount_cents; /* > 0; a move of 0 is skipped */
};

/*
 * Records one transaction of kind ("charge", "refund", "protection",
 * "protection_reversal", "release", "payout") in currency, tied to a
 * contract and an invoice (either may be NULL). Accounts are created as
 * needed. Returns 0 (also when every move is 0: nothing is written),
 * -EINVAL for a negative amount or too many moves, or a store error.
 */
int ledger_post(struct store_tx *tx, const char *kind, const char *currency,
                const char *contract_id, const char *invoice_id, const char *memo, int64_t now,
                const struct ledger_move *moves, size_t n);

/* The balance of one account; 0 for an account never used. */
int ledger_balance(struct store_tx *tx, const char *account, const char *currency,
                   int64_t *ret_cents);
/* The part of an account's balance that moved for one invoice (escrow per invoice). */
int ledger_invoice_balance(struct store_tx *tx, const char *account, const char *invoice_id,
                           int64_t *ret_cents);

/*
 * The invariant rules, each one query returning one text column that
 * names every breach (no row: the rule holds). `stintd check` runs them,
 * and so does GET /ledger for an admin. Terminated by {NULL, NULL}.
 */
struct ledger_rule {
    const char *what;
    const char *sql;
};
extern const struct ledger_rule ledger_rules[];

/* Runs ledger_rules; *ret_breaches counts the rows found. */
int ledger_verify(struct store_tx *tx, int *ret_breaches, json_t **ret_report);

/*
 * GET /ledger: {"accounts":[...],"entries":[...]} for u. A client sees its
 * account, a freelancer its earnings (pending + available, one object per
 * currency), an admin every account and entry plus "invariant". Entries
 * are the newest max_entries, oldest first, each with its counter account.
 */
int ledger_to_json(struct store_tx *tx, const struct user *u, size_t max_entries,
                   json_t **ret_json);

#endif
