/*
 * How a client pays an invoice: a payment provider behind a small
 * interface. stint asks the provider for a charge after the invoice is
 * committed, outside any store transaction (a real provider talks over the
 * network), with the charge's id as the idempotency key, so a charge asked
 * for twice after a crash is made once.
 *
 * The built-in provider moves no money: it records the amount due and
 * answers "pending"; an operator then marks the charge paid or failed
 * (POST /api/v1/admin/charges/{id}). A provider that settles by itself
 * answers "paid" or "failed" at once.
 *
 * Not for: the ledger entries a charge's outcome makes (invoices.c).
 */
#ifndef STINT_PAYMENTS_H
#define STINT_PAYMENTS_H

#include <stdbool.h>
#include <stdint.h>

enum payment_state {
    PAYMENT_PENDING,
    PAYMENT_PAID,
    PAYMENT_FAILED,
};

struct payment_request {
    const char *charge_id; /* the idempotency key */
    const char *client_id;
    const char *invoice_id;
    int64_t amount_cents;
    const char *currency;
};

struct payment_result {
    enum payment_state state;
    char ref[128];    /* the provider's reference for the charge */
    char reason[200]; /* why it failed, when it did */
};

struct payment_provider {
    const char *name;
    /* Operators mark this provider's pending charges paid or failed by hand. */
    bool manual_settlement;
    /*
     * Asks for req->amount_cents from the client. Returns 0 with the
     * outcome in ret, or a negative error when the provider could not be
     * asked (the charge stays to be asked for again later).
     */
    int (*charge)(const struct payment_request *req, struct payment_result *ret);
};

/* The provider called name ("builtin"), or NULL. */
const struct payment_provider *payments_find(const char *name);

extern const struct payment_provider payments_builtin;

/* "pending", "paid" or "failed". */
const char *payments_state_name(enum payment_state s);

#endif
