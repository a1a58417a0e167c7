/*
 * Invoices and their charges. One invoice per contract and week, issued at
 * the lock when the week has billable time, numbered 1, 2, 3 ... per
 * server with no gaps (the number is taken in the transaction that issues
 * the invoice, so a rolled-back issue frees its number). The invoice as
 * issued never changes; a dispute's refund and the fee actually taken are
 * shown next to it.
 *
 * A charge asks the client for the invoice's amount through a payment
 * provider (payments.h). Its states: new (not yet asked) → submitting →
 * pending → paid | failed | void (nothing left due after a refund).
 * The ledger follows: paid moves the amount from the client to escrow;
 * failed pays the protected time from the protection fund into escrow.
 *
 * Formats: the JSON object of the API, CSV, and a one-page PDF drawn with
 * cairo (invoice-pdf.c).
 */
#ifndef STINT_INVOICES_H
#define STINT_INVOICES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_tx;
struct contract;
struct timesheet;
struct user;
struct billing_refusal;

struct invoice_line {
    int64_t day_start; /* 00:00 UTC of the day */
    int64_t billable_s;
    int64_t amount_cents;
};

struct invoice {
    char id[37];
    int64_t number;
    char contract_id[37];
    char timesheet_id[37];
    char client_id[37];
    char freelancer_id[37];
    char client_name[401];
    char freelancer_name[401];
    char title[801];
    int64_t week_start;
    char currency[4];
    int64_t hourly_rate_cents;
    int fee_bp;
    int64_t billable_s;
    int64_t amount_cents; /* as issued: the sum of the lines */
    int64_t issued_at;
    struct invoice_line lines[7];
    /* From the timesheet and the ledger, as of now: */
    char timesheet_state[16];
    int64_t refunded_s, refunded_cents;
    int64_t net_cents;       /* amount_cents - refunded_cents */
    int64_t protected_cents; /* protected time not refunded, at the rate */
    int64_t fee_cents;       /* taken at billing, else what it would be now */
    int64_t payout_cents;    /* what the freelancer receives (or would) */
    bool fee_taken;
    /* The charge: */
    char charge_id[37];
    char charge_state[16];
    char provider[32];
    char charge_ref[128];
    int64_t due_cents;
    int64_t charge_settled_at;
};

/*
 * Issues the invoice of a frozen timesheet t of contract c (when it has a
 * billable amount) with the next number, its lines and a new charge.
 * Fills ret_id. The parties' names and the title are copied as they are now.
 */
int invoices_issue(struct store_tx *tx, struct timesheet *t, const struct contract *c, int fee_bp,
                   const char *provider, int64_t now, char ret_id[37]);

/* Loads an invoice with its charge and current figures; 0, -ENOENT or a store error. */
int invoices_load(struct store_tx *tx, const char *id, struct invoice *ret_inv);
/* Parties and admins see an invoice. */
bool invoices_visible(const struct invoice *inv, const struct user *u);

/*
 * Records the outcome of asking the provider for charge_id (state
 * "pending", "paid" or "failed") and moves the money it implies. Only a
 * charge in state from_state changes; returns 1 when it did, 0 when it
 * was not in that state (someone else recorded it).
 */
int invoices_charge_result(struct store_tx *tx, const char *charge_id, const char *from_state,
                           const char *state, const char *ref, const char *reason, int64_t now);
/*
 * An operator marks a pending charge paid or failed (built-in provider).
 * -EPERM with ref filled when it may not be marked.
 */
int invoices_charge_mark(struct store_tx *tx, const char *charge_id, bool paid, int64_t now,
                         struct billing_refusal *ref, char ret_invoice_id[37]);

/*
 * Applies a refund to the money of invoice_id after timesheet figures went
 * from before to after (a dispute refunded segments): a paid charge gives
 * the difference back to the client from escrow, a pending one has less
 * due, a failed one gives the protected difference back to the fund.
 */
int invoices_refund(struct store_tx *tx, const char *invoice_id, int64_t amount_before,
                    int64_t amount_after, int64_t protected_before, int64_t protected_after,
                    int64_t now);

/* The invoice object of the API. */
json_t *invoices_to_json(const struct invoice *inv);
/* The CSV export (newly allocated). */
int invoices_to_csv(const struct invoice *inv, char **ret_data, size_t *ret_len);
/* The one-page PDF (invoice-pdf.c); newly allocated. 0 or -EIO. */
int invoices_to_pdf(const struct invoice *inv, char **ret_data, size_t *ret_len);
/* Frees the font caches PDFs use; call once, when no thread renders any more. */
void invoices_pdf_shutdown(void);

/* The date of a line, "2026-11-23"; shared by the formats. */
void invoices_line_date(const struct invoice_line *l, char out[11]);
/* Formats minor units for people: "1234.50 USD" (two digits unless the currency has none). */
void invoices_format_money(int64_t cents, const char *currency, char *out, size_t len);

#endif
