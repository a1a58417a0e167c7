/*
 * What the billing modules (timesheets, invoices, disputes, ledger, jobs)
 * share: the instants of the weekly cycle, the money arithmetic (integer
 * minor units, rounding half up once per line), the refusal a rule hands
 * back to its handler, and a CSV field writer. Pure functions, no store.
 *
 * The cycle of the week that starts at Monday 00:00 UTC w (DOMAIN.md):
 *   lock and invoice  w + 7 d + 12 h  (the Monday 12:00 after the week)
 *   review closes     w + 12 d        (the end of Friday 23:59:59)
 *   earnings free     w + 17 d        (5 days later: the end of Wednesday)
 */
#ifndef STINT_BILLING_H
#define STINT_BILLING_H

#include <stdint.h>
#include <stdio.h>

#include "lib/week.h"

#define BILLING_REVIEW_CLOSE_S (12 * ST_DAY_S)
#define BILLING_AVAILABLE_S (BILLING_REVIEW_CLOSE_S + 5 * ST_DAY_S)
#define BILLING_RESPOND_S (3 * ST_DAY_S) /* the freelancer's time to answer a dispute */
#define BILLING_FEE_BP_DEFAULT 1000      /* 10.00 %, in basis points */
#define BILLING_FEE_BP_MAX 10000

static inline int64_t billing_lock_at(int64_t week_start)
{
    return week_start + ST_LOCK_AFTER_S;
}

static inline int64_t billing_review_close_at(int64_t week_start)
{
    return week_start + BILLING_REVIEW_CLOSE_S;
}

static inline int64_t billing_available_at(int64_t week_start)
{
    return week_start + BILLING_AVAILABLE_S;
}

/* The amount of seconds of work at an hourly rate, rounded half up (one rounding). */
int64_t billing_amount(int64_t seconds, int64_t hourly_rate_cents);
/* The platform's fee on amount at fee_bp basis points, rounded half up. */
int64_t billing_fee(int64_t amount_cents, int fee_bp);

/* Why a rule refused: what the handler answers. Functions that fill one return -EPERM. */
struct billing_refusal {
    int status;
    const char *code;
    char msg[256];
};

int billing_refuse(struct billing_refusal *ref, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Writes s as one CSV field (RFC 4180 quoting). A field that a spreadsheet
 * would run as a formula (it starts with = + - @, a tab or a CR) is
 * prefixed with an apostrophe.
 */
void billing_csv_field(FILE *f, const char *s);

#endif
