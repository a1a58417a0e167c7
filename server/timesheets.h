/*
 * Timesheets: one per contract and week, the Work Diary of that week turned
 * into figures the money follows. While the week is open the figures are
 * computed live from the segments (with the same week rules as the diary,
 * segments_compute_week, so the two never disagree); at the lock
 * (jobs.c) they are frozen into rows, one per segment, and from then on
 * only the state and the refunds of a dispute change.
 *
 * States: open → review → approved | disputed → billed → paid.
 *
 * Each segment is protected (Hourly Payment Protection, DOMAIN.md) when no
 * reason below holds; otherwise the timesheet lists it with every reason.
 * Over-limit time is never billed, so a segment partly over the limit is
 * still protected for the part that is billed.
 */
#ifndef STINT_TIMESHEETS_H
#define STINT_TIMESHEETS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_tx;
struct contract;

/* Why a segment is not protected. */
enum {
    TS_NOT_ACTIVE = 1 << 0,             /* the contract was not active during it */
    TS_NO_LIMIT = 1 << 1,               /* the contract has no weekly limit */
    TS_MANUAL = 1 << 2,                 /* manual time */
    TS_OVER_LIMIT = 1 << 3,             /* some of it is over the weekly limit */
    TS_NO_SCREENSHOT = 1 << 4,          /* no screenshot */
    TS_NO_ACTIVITY = 1 << 5,            /* activity level 0 */
    TS_IDLE_KEPT = 1 << 6,              /* idle time kept */
    TS_NO_MEMO = 1 << 7,                /* no memo */
    TS_NO_TAG = 1 << 8,                 /* no tag where the contract requires one */
    TS_UNUSUAL_INPUT = 1 << 9,          /* flagged unusual_input */
    TS_OVERLAP = 1 << 10,               /* flagged overlap */
    TS_CLOCK_JUMP = 1 << 11,            /* flagged clock_jump */
    TS_FREELANCER_UNVERIFIED = 1 << 12, /* the freelancer's identity is not verified */
    TS_BILLING_UNVERIFIED = 1 << 13,    /* the client has no verified billing method */
};
#define TS_NREASONS 14

/* "contract_not_active", "no_weekly_limit", ...; NULL for an unknown bit. */
const char *timesheets_reason_name(unsigned bit);
/* A JSON array of the names of the reasons set, in a fixed order. */
json_t *timesheets_reasons_json(unsigned reasons);

struct ts_segment {
    char id[37];
    int64_t start;
    int day; /* 0 = Monday of the week */
    bool manual;
    int tracked_s;
    int billable_s;
    int over_limit_s;
    int protected_s;
    unsigned reasons;
    bool refunded; /* given back to the client by a dispute */
};

struct ts_day {
    int64_t tracked_s, manual_s, billable_s, over_limit_s, protected_s, refunded_s;
    int64_t gross_cents;     /* billable time at the rate: the invoice line as issued */
    int64_t amount_cents;    /* the same without refunded time */
    int64_t protected_cents; /* protected time not refunded, at the rate */
};

struct timesheet {
    char id[37]; /* "" while the week is open */
    char contract_id[37];
    char client_id[37];
    char freelancer_id[37];
    int64_t week_start;
    char state[16];
    int64_t limit_s; /* CONTRACT_NO_LIMIT or seconds */
    int64_t hourly_rate_cents;
    char currency[4];
    struct ts_segment *segs; /* owned; ordered by start */
    size_t nsegs;
    struct ts_day days[7];
    /* Totals of the days (timesheets_sum). */
    int64_t tracked_s, manual_s, over_limit_s, billable_s, protected_s, refunded_s;
    int64_t gross_cents, amount_cents, refunded_cents, protected_cents;
    char invoice_id[37]; /* "" when no invoice was issued (nothing billable) */
    int64_t locked_at, approved_at, billed_at, paid_at; /* 0: not yet */
    char approved_by[16];                               /* "client" or "auto" */
};

void timesheets_release(struct timesheet *t);

/*
 * Computes the live timesheet of contract c for the week that starts at
 * week_start (state "open", no id). 0 or a store error.
 */
int timesheets_compute(struct store_tx *tx, const struct contract *c, int64_t week_start,
                       struct timesheet *ret_t);
/* Recomputes the days and totals from the segments (after refunds, for instance). */
void timesheets_sum(struct timesheet *t);

/* Stores a computed timesheet as locked (state "review"); fills t->id. */
int timesheets_freeze(struct store_tx *tx, struct timesheet *t, int64_t now);

/* Loads a frozen timesheet; 0, -ENOENT or a store error. */
int timesheets_load(struct store_tx *tx, const char *id, struct timesheet *ret_t);
/* The frozen timesheet of a week when there is one, else the live one. */
int timesheets_get_week(struct store_tx *tx, const struct contract *c, int64_t week_start,
                        struct timesheet *ret_t);

/*
 * Moves a frozen timesheet to state, stamping approved_at (with by),
 * billed_at or paid_at as the state says. Updates t too.
 */
int timesheets_set_state(struct store_tx *tx, struct timesheet *t, const char *state,
                         const char *by, int64_t now);
/* Records the invoice issued for t. */
int timesheets_set_invoice(struct store_tx *tx, struct timesheet *t, const char *invoice_id);
/* Marks segments refunded (ids must belong to t) and recomputes t's sums. */
int timesheets_refund(struct store_tx *tx, struct timesheet *t, json_t *segment_ids);

/* The segment of t with id, or NULL. */
struct ts_segment *timesheets_find_segment(struct timesheet *t, const char *id);

/* The timesheet object of the API. */
json_t *timesheets_to_json(const struct timesheet *t);
/*
 * The CSV export: one row per segment with its figures, memo and reasons.
 * Returns 0 with a newly allocated buffer (the caller frees it).
 */
int timesheets_to_csv(struct store_tx *tx, const struct timesheet *t, char **ret_data,
                      size_t *ret_len);

#endif
