/*
 * The scheduler of the weekly cycle, inside stintd. A thread wakes at the
 * next instant something is due (at least once a minute, and at once when
 * the test clock moves) and runs, at server_now():
 *
 *   lock         Monday 12:00 after the week: the timesheet is frozen and,
 *                when it has billable time, the invoice is issued with the
 *                next number and its charge created (one transaction)
 *   charge       the new charge is asked of the payment provider (outside
 *                any transaction; the charge's state guards it)
 *   review_close the end of Friday: a timesheet still in review is approved
 *   dispute      an open dispute unanswered for 3 days becomes unanswered
 *   bill         the review is over, any dispute resolved and the charge
 *                settled: escrow goes to the freelancer's pending earnings
 *                and the platform's fee
 *   payout       5 days after the review: pending earnings become available
 *
 * Once only: every transition inserts its (kind, contract, week) row into
 * jobs_done in the same transaction as its effects; the primary key makes
 * a second attempt fail and roll back, so a transition runs once across
 * restarts and with several stintd processes on one database. Nothing of
 * it is kept in memory.
 */
#ifndef STINT_JOBS_H
#define STINT_JOBS_H

#include <stdint.h>

struct server;

/* The longest the thread sleeps between passes. */
#define JOBS_MAX_SLEEP_S 60

/* Starts the scheduler thread (srv->jobs). 0 or a negative errno. */
int jobs_start(struct server *srv);
/* Stops and joins it; does nothing when it was not started. */
void jobs_stop(struct server *srv);

/*
 * Runs every transition due at server_now(srv), repeatedly until none is
 * left; returns how many ran, or a negative store error. Thread-safe:
 * called by the thread, by the test clock before it answers, and by
 * handlers whose change may make a transition due (a dispute resolved, a
 * charge marked), so that the answer already shows its effect.
 */
int jobs_run_due(struct server *srv);

/* Wakes the thread to recompute when it next has work (the clock moved). */
void jobs_kick(struct server *srv);

/* The next instant something is due after now (INT64_MAX: nothing known). */
int jobs_next_due(struct server *srv, int64_t now, int64_t *ret_next);

#endif
