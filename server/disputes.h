/*
 * Disputes: the client contests segments of a timesheet during its review
 * window. Filing pauses the contract and sets its weekly limit to 0 (a cut:
 * it applies from next Monday, so the week in progress keeps what was
 * worked). The freelancer has 3 days to accept (the segments are refunded)
 * or decline; after a decline, or when the 3 days pass unanswered (the
 * scheduler marks it), an admin settles it by refunding some, all or none.
 *
 * States: open → accepted | declined | unanswered; declined | unanswered →
 * settled. Every step is an event both parties (and admins) can read.
 *
 * Functions that refuse fill a struct billing_refusal and return -EPERM;
 * -ENOENT means the dispute (or timesheet) does not exist for the caller.
 */
#ifndef STINT_DISPUTES_H
#define STINT_DISPUTES_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct store_tx;
struct user;
struct billing_refusal;

#define DISPUTE_REASON_MAX 2000   /* characters */
#define DISPUTE_SEGMENTS_MAX 2016 /* a week of 5-minute segments */

struct dispute {
    char id[37];
    char timesheet_id[37];
    char contract_id[37];
    char client_id[37];
    char freelancer_id[37];
    char *reason;        /* owned */
    json_t *segment_ids; /* owned */
    char state[16];
    int64_t filed_at, respond_by, responded_at, settled_at;
    json_t *refund_segment_ids; /* owned; NULL until resolved */
    int64_t refunded_s, refunded_cents;
    json_t *events; /* owned: [{"ts","actor_id","action","detail"}] */
};

void disputes_release(struct dispute *d);

int disputes_load(struct store_tx *tx, const char *id, struct dispute *ret_d);
/* The dispute of a timesheet; -ENOENT when there is none. */
int disputes_load_for_timesheet(struct store_tx *tx, const char *timesheet_id,
                                struct dispute *ret_d);
/* Parties of its contract and admins see a dispute. */
bool disputes_visible(const struct dispute *d, const struct user *u);

/* The client files a dispute on a timesheet; fills ret_d. */
int disputes_file(struct store_tx *tx, const char *timesheet_id, const struct user *client,
                  const char *reason, json_t *segment_ids, int64_t now, struct billing_refusal *ref,
                  struct dispute *ret_d);
/* The freelancer accepts (refund) or declines, within 3 days. */
int disputes_respond(struct store_tx *tx, const char *id, const struct user *freelancer,
                     bool accept, int64_t now, struct billing_refusal *ref, struct dispute *ret_d);
/* An admin settles a declined or unanswered dispute, refunding refund_ids (may be empty). */
int disputes_settle(struct store_tx *tx, const char *id, const struct user *admin,
                    json_t *refund_ids, int64_t now, struct billing_refusal *ref,
                    struct dispute *ret_d);
/*
 * The scheduler: an open dispute whose 3 days passed becomes unanswered.
 * Returns 1 when it did, 0 when it was no longer open.
 */
int disputes_expire(struct store_tx *tx, const char *id, int64_t now);

json_t *disputes_to_json(const struct dispute *d);

#endif
