/*
 * The uploader: a background thread that sends queued segments and their
 * screenshots to the server with idempotent PUTs (the segment's UUID names
 * it, so sending twice is harmless), retries with exponential backoff and
 * jitter while the server is out of reach, and marks a segment done only
 * once the server acknowledged it. A segment the server refuses for good
 * (409 locked or conflict, 400, 403) is marked refused and reported, never
 * retried. It also keeps the contract's totals from the server's diary for
 * "today" and "this week". The requests go through a transport
 * (tracker/transport.h): libcurl on this thread, or a helper process per
 * pass.
 *
 * Not for: recording, or deciding what is queued (the recorder does).
 *
 * Threads: tk_uploader_* functions may be called from any one thread (the
 * engine's); the uploader runs on its own thread with its own journal
 * connection. The notify callback is called on the uploader's thread: it
 * must only wake the main thread (write to a pipe).
 */
#ifndef STINT_TRACKER_UPLOADER_H
#define STINT_TRACKER_UPLOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tracker/journal.h"
#include "tracker/transport.h"

#define TK_BACKOFF_MIN_MS 1000
#define TK_BACKOFF_MAX_MS 30000
/*
 * How often the totals are read again while nothing else happens, unless
 * the transport says otherwise (a helper process costs more than a request).
 */
#define TK_TOTALS_EVERY_MS 60000

struct tk_uploader_opts {
    const struct tk_transport *transport; /* required */
    const char *helper;                   /* tk_transport_helper: the helper program */
    const char *server;                   /* base URL */
    const char *token;
    const char *account; /* upload only this account's segments */
    int backoff_min_ms;  /* 0: TK_BACKOFF_MIN_MS */
    int backoff_max_ms;  /* 0: TK_BACKOFF_MAX_MS */
    int totals_every_ms; /* 0: the transport's totals_every_ms, else TK_TOTALS_EVERY_MS */
    void (*notify)(void *userdata);
    void *userdata;
};

struct tk_upload_status {
    bool online;         /* the last request got an HTTP answer */
    bool tried;          /* any request was made yet */
    bool busy;           /* a request is under way or due now */
    bool auth_failed;    /* the server answered 401: sign in again */
    int64_t last_upload; /* UTC seconds of the last acknowledged upload, 0: none */
    char last_error[256];
    int64_t next_try_ms; /* ms until the next try when backing off, else 0 */
    /* The server's totals for the contract set with tk_uploader_watch. */
    bool totals_known;
    int64_t week_start; /* the UTC week they are for */
    int64_t day_start;  /* the local day they are for (UTC instant it begins) */
    int64_t week_s;     /* tracked + manual seconds of that week */
    int64_t today_s;
    int64_t weekly_limit_s; /* -1: none (from the contract, read alongside) */
};

struct tk_uploader;

/*
 * Starts the thread with its own connection to j's journal. Recovery must
 * have run already (the caller holds the lock). 0 or a negative errno.
 */
int tk_uploader_start(struct tk_journal *j, const struct tk_uploader_opts *o,
                      struct tk_uploader **ret_u, char *err, size_t errlen);
/* Stops the thread (a request under way ends within its timeout) and frees. Accepts NULL. */
void tk_uploader_stop(struct tk_uploader *u);
/* Something was queued, or the network came back: try now, forgetting the backoff. */
void tk_uploader_kick(struct tk_uploader *u);
/* Which contract's totals to keep, and the zone that says what "today" is (NULL: UTC). */
void tk_uploader_watch(struct tk_uploader *u, const char *contract_id, const char *tz);
void tk_uploader_status(struct tk_uploader *u, struct tk_upload_status *ret);
/* Takes the refusals not yet reported (at most max), oldest first. */
int tk_uploader_take_refused(struct tk_uploader *u, struct tk_refused *out, int max);

#endif
