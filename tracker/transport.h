/*
 * How the engine reaches the server. Two transports do the same work:
 *
 *   tk_transport_curl    libcurl in this process, on the uploader's thread
 *                        (tracker/transport-curl.c, in libtracker-net). For
 *                        a face that links HTTP anyway: the desktop app,
 *                        `stint sync`.
 *   tk_transport_helper  a short-lived helper process for each pass and for
 *                        each start (tracker/transport-helper.c, in the
 *                        core library). The long-running recorder then maps
 *                        no libcurl and no TLS: `stint track`'s recorder,
 *                        whose resident memory is a target of its own.
 *
 * Both run the same code against the server (tk_pass_run and
 * tk_fetch_start_run, tracker/upload-pass.c): the helper (`stint _upload`)
 * runs it and writes what the pass reports as JSON lines on its stdout,
 * which the helper transport reads back into the same sink. The uploader
 * thread (uploader.c) owns the schedule (kicks, backoff with jitter, the
 * totals' period) whichever transport does the requests.
 *
 * Not for: the faces; they pick a transport in tk_engine_opts and never
 * call these.
 */
#ifndef STINT_TRACKER_TRANSPORT_H
#define STINT_TRACKER_TRANSPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tracker/journal.h"

/* What a start needs from the server; see tk_engine_fetch_start(). */
struct tk_start_info {
    char contract_id[37];
    bool fetched;         /* false: opts.offline, nothing was asked */
    int segment_s;        /* from /config; 0: not known */
    char neterr[512];     /* why a request got no answer, or "" */
    int contract_r;       /* 0 when the contract request was answered; -EAGAIN: not asked */
    long contract_status; /* its HTTP status */
    char contract_message[256];
    json_t *contract; /* the contract object when 200 */
    char tz[72];      /* the account's zone from /me, or "" */
};

/* The server's totals of one contract, as a pass read them. */
struct tk_totals {
    char contract_id[37];
    int64_t week_start; /* the UTC week they are for */
    int64_t day_start;  /* the local day they are for (UTC instant it begins) */
    int64_t week_s;     /* tracked + manual seconds of that week */
    int64_t today_s;
    int64_t weekly_limit_s; /* -1: none */
};

/* One acknowledged upload, for keeping the totals in step until they are read again. */
struct tk_acked {
    char contract_id[37];
    int64_t start; /* the segment's start */
    int delta;     /* seconds the server has now that it did not have before */
    int64_t at;    /* UTC seconds of the acknowledgement */
};

/* What a pass reports while it runs, in order; every callback is required. */
struct tk_pass_sink {
    void (*online)(void *ud, bool online);      /* a request got an HTTP answer, or none */
    void (*error)(void *ud, const char *msg);   /* the latest complaint, for the user */
    void (*acked)(void *ud, const struct tk_acked *a);
    void (*refused)(void *ud, const struct tk_refused *r); /* refused for good (journaled) */
    void (*totals)(void *ud, const struct tk_totals *t);
    void (*auth_failed)(void *ud); /* the server answered 401 to the totals */
    void (*progress)(void *ud);    /* a segment was sent or refused: the queue changed */
    bool (*cancelled)(void *ud);   /* true: stop between two segments */
    void *ud;
};

enum tk_pass_outcome {
    TK_PASS_OK,      /* everything queued was sent or refused for good */
    TK_PASS_OFFLINE, /* the server could not be reached (or 5xx, 408, 429): back off */
    TK_PASS_AUTH,    /* 401: sign in again */
};

struct tk_pass_args {
    const char *account;     /* upload only this account's segments ("server email") */
    const char *contract_id; /* the contract whose totals to read ("" : none) */
    const char *tz;          /* the zone that says what "today" is */
    bool totals;             /* read the totals after a pass that went well */
};

/* What a transport is set up with; strings are copied. */
struct tk_transport_cfg {
    const char *server;  /* base URL */
    const char *token;   /* bearer token */
    const char *account; /* "server email", the journal's key */
    const char *dir;     /* the journal directory */
    const char *helper;  /* tk_transport_helper: the program run as `HELPER _upload ...` */
};

struct tk_transport {
    const char *name;
    /* How often a quiet uploader reads the totals again (0: TK_TOTALS_EVERY_MS, uploader.h). */
    int totals_every_ms;
    /* A context for the passes of one uploader; j is that uploader's own journal connection. */
    int (*open)(const struct tk_transport_cfg *cfg, struct tk_journal *j, void **ret_ctx,
                char *err, size_t errlen);
    void (*close)(void *ctx);
    /* One pass: send what is queued, then read the totals when asked and the pass went well. */
    enum tk_pass_outcome (*pass)(void *ctx, const struct tk_pass_args *a,
                                 const struct tk_pass_sink *sink);
    /* From any thread: a pass under way ends soon (what it sent stays sent). */
    void (*cancel)(void *ctx);
    /*
     * Fills info (zeroed by the caller, contract_id set) for a start;
     * segment_s only when want_segment_s. Any thread.
     */
    void (*fetch_start)(const struct tk_transport_cfg *cfg, bool want_segment_s,
                        struct tk_start_info *info);
};

extern const struct tk_transport tk_transport_helper;

/* The longest line the helper may write; a longer one ends the pass as a failure. */
#define TK_HELPER_MAX_LINE (64 * 1024)

/* ---- the wire between the helper and tk_transport_helper (transport-helper.c) ---- */

/* A sink that writes each report as one JSON line on f (the helper's side). */
void tk_helper_sink_init(struct tk_pass_sink *sink, FILE *f);
/* The last line of a pass. */
void tk_helper_write_outcome(FILE *f, enum tk_pass_outcome o);
/* A start's answers as one line, and back. */
void tk_helper_write_start(FILE *f, const struct tk_start_info *info);
int tk_helper_read_start(const char *line, struct tk_start_info *info);
/*
 * Applies one line of a pass to sink. Returns 1 for the outcome line (with
 * *ret_o set), 0 for a report, -EINVAL for a line that is not one of ours.
 */
int tk_helper_apply_line(const char *line, const struct tk_pass_sink *sink,
                         enum tk_pass_outcome *ret_o);

#endif
