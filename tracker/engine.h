/*
 * The tracker engine: the one header the faces use (`stint track` and
 * `stint.exe track`, the GTK desktop app, the Windows tray app). It
 * records time in segments while the timer runs, journals every closed bucket to disk before anyone sees it, takes
 * one screenshot per segment, asks about idle time, and uploads in the
 * background. docs/internals/tracker.md explains the design.
 *
 * Driving it. The engine has no thread of its own for recording: the face
 * runs it from its main loop. Poll tk_engine_fd() for reading and wake up
 * after tk_engine_timeout_ms() at the latest; then call tk_engine_tick().
 * In GLib terms: g_unix_fd_add(fd, G_IO_IN, ...) plus a timeout re-armed
 * after every tick; with poll(2): poll(&fd, 1, tk_engine_timeout_ms(e)).
 *
 * Threads. Every tk_engine_* function must be called from one thread (the
 * face's main thread), except tk_engine_fetch_start(), which may run on
 * any thread while the face goes on (a window that must not freeze while
 * the server is slow: fetch on a worker, then tk_engine_start_with() back
 * on the main thread). Events are delivered by calling the face's callback
 * from inside tk_engine_* calls on that same thread, never from another
 * thread, so a callback may update the UI directly; it must not call
 * tk_engine_free(). Uploads run on an internal thread that talks to the
 * main thread only through the journal and the fd.
 *
 * Ownership: strings in a struct tk_event are borrowed for the duration of
 * the callback. Errors: functions return 0 or a negative errno, with a
 * sentence for the user in err where they take one.
 */
#ifndef STINT_TRACKER_ENGINE_H
#define STINT_TRACKER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/segment.h"
#include "tracker/capture.h"
#include "tracker/clock.h"
#include "tracker/platform/platform.h"
#include "tracker/settings.h"
#include "tracker/transport.h"

enum tk_event_type {
    TK_EVENT_STARTED,    /* the timer runs */
    TK_EVENT_STOPPED,    /* the timer stopped; reason says why, message in words */
    TK_EVENT_BUCKET,     /* a bucket closed and is on disk: segment_start, bucket, value */
    TK_EVENT_SEGMENT,    /* a segment closed: it waits for upload (or for the idle answer) */
    TK_EVENT_SCREENSHOT, /* the segment's screenshot: path when taken, message when it failed */
    TK_EVENT_IDLE,       /* no input since idle_since: answer with tk_engine_answer_idle() */
    TK_EVENT_LIMIT,      /* percent (90 or 100) of the contract's weekly limit is used */
    TK_EVENT_QUOTA,      /* percent (80: warning, 100: tracking stops) of the disk quota */
    TK_EVENT_UPLOAD,     /* the uploader's status changed: see tk_engine_status() */
    TK_EVENT_REFUSED,    /* the server refused a segment for good: segment_id, message */
};

enum tk_stop_reason {
    TK_STOP_USER,     /* tk_engine_stop() */
    TK_STOP_IDLE,     /* the idle prompt was answered "stop", or not answered in time */
    TK_STOP_QUOTA,    /* the journal reached its disk quota */
    TK_STOP_PLATFORM, /* the display went away */
    TK_STOP_ERROR,    /* the journal could not be written */
};

struct tk_event {
    enum tk_event_type type;
    enum tk_stop_reason reason; /* STOPPED */
    const char *segment_id;     /* BUCKET, SEGMENT, SCREENSHOT, REFUSED */
    int64_t segment_start;      /* UTC seconds */
    int bucket;                 /* BUCKET: 0-9 */
    struct st_bucket value;     /* BUCKET: what was recorded in it */
    int percent;                /* LIMIT, QUOTA */
    int64_t idle_since;         /* IDLE: UTC seconds of the last input */
    int64_t at;                 /* SCREENSHOT: taken_at, UTC seconds */
    const char *path;           /* SCREENSHOT: the file, when taken */
    const char *message;        /* a sentence for the user, or NULL */
};

typedef void (*tk_event_fn)(const struct tk_event *ev, void *userdata);

enum tk_idle_answer {
    TK_IDLE_KEEP,    /* count the idle time, flagged idle_kept */
    TK_IDLE_DISCARD, /* drop the idle time and go on */
    TK_IDLE_STOP,    /* drop the idle time and stop */
};

#define TK_IDLE_THRESHOLD_DEFAULT_S 600 /* DOMAIN.md: 10 minutes */
#define TK_IDLE_ANSWER_S 300            /* DOMAIN.md: 5 minutes to answer */
#define TK_QUOTA_DEFAULT_BYTES (1024LL * 1024 * 1024)

struct tk_engine_opts {
    const char *server;   /* base URL, no trailing slash */
    const char *token;    /* bearer token */
    const char *account;  /* who is signed in (an email); with server, it keys the journal */
    const char *data_dir; /* NULL: tk_journal_default_dir() */
    const struct tk_platform *platform; /* NULL: tk_platform_native */
    const char *display;                /* NULL: the default */
    const struct tk_clock *clock;       /* NULL: tk_clock_real */
    int64_t quota_bytes;                /* 0: TK_QUOTA_DEFAULT_BYTES */
    int idle_threshold_s;               /* 0: TK_IDLE_THRESHOLD_DEFAULT_S */
    int monitor;                        /* TK_MONITOR_ALL or an index */
    struct tk_encode_opts encode;       /* JPEG at the default quality when zeroed */
    /* 0: the server's /config (cached for starts without network). Tests may force it. */
    int segment_s;
    /* Never talk to the server (unit tests): terms must then be given with tk_engine_set_terms. */
    bool offline;
    /*
     * How to reach the server (required unless offline; tracker/transport.h):
     * &tk_transport_curl (tracker/upload-pass.h) does the requests on the
     * uploader's thread with libcurl; &tk_transport_helper runs each pass
     * and each start's reads in a short-lived process, `helper _upload`,
     * so that this process maps no HTTP or TLS library at all.
     */
    const struct tk_transport *transport;
    const char *helper; /* the program for tk_transport_helper (the `stint` binary) */
};

/* What the contract asks of tracked time, from GET /contracts/{id} (cached). */
struct tk_terms {
    bool memo_required;
    bool tag_required;
    bool screenshots_enabled;
    int64_t weekly_limit_s; /* -1: none */
    char state[16];         /* "active", ... ; "" when unknown */
    int ntags;
    char tags[ST_SEG_TAGS_MAX][ST_SEG_TAG_MAX * 4 + 1]; /* the tags the client defined */
};

struct tk_status {
    bool running;
    char contract_id[37];
    int64_t segment_start; /* the current segment, when running */
    int segment_s;
    char tz[72];                              /* the account's zone, for "today" (IANA) */
    int64_t run_started;                      /* UTC seconds the timer started, when running */
    struct st_bucket buckets[ST_SEG_BUCKETS]; /* the current segment so far */
    int activity;                             /* 0-10 of the current segment */
    enum st_measure measure; /* its measure: with active seconds, buckets[].active_s, no counts */
    bool idle_prompt;
    int64_t idle_since;
    int64_t today_s;        /* time today (the account's zone) on this contract: server + local */
    int64_t week_s;         /* this ISO week (UTC) */
    int64_t weekly_limit_s; /* -1: none */
    bool totals_known;      /* today_s and week_s include the server's totals */
    int queued;             /* segments waiting for the server */
    int queued_shots;
    int refused;
    bool online;         /* the last request reached the server */
    bool uploading;      /* a request is under way, or due now */
    int64_t last_upload; /* UTC seconds, 0: never */
    char last_error[256];
    int64_t disk_bytes;
    int64_t quota_bytes;
};

struct tk_engine;

/*
 * Opens the journal (taking its lock: -EBUSY when another tracker runs),
 * recovers what a crash left, and starts the uploader. The display is not
 * touched until tk_engine_start(). The callback may be NULL.
 */
int tk_engine_new(const struct tk_engine_opts *opts, tk_event_fn cb, void *userdata,
                  struct tk_engine **ret_e, char *err, size_t errlen);
/* Stops the timer if it runs (as tk_engine_stop), stops the uploader, closes. Accepts NULL. */
void tk_engine_free(struct tk_engine *e);

/*
 * Starts the timer on a contract: connects to the display (-ENXIO etc.
 * with the platform's message), reads the segment length and the contract's
 * terms from the server (or the cache of an earlier run when the server is
 * out of reach), and refuses (-EINVAL) when the contract requires a memo or
 * a tag that is missing, or a tag is not one of the contract's, (-EPERM)
 * when the contract is not active, or (-ENOSPC) when the disk quota is full.
 * tags is a NULL-terminated list (may be NULL).
 */
int tk_engine_start(struct tk_engine *e, const char *contract_id, const char *memo,
                    const char *const *tags, char *err, size_t errlen);
/*
 * tk_engine_start() in two steps, for a face that must not wait for the
 * server on its main thread. tk_engine_fetch_start() asks the server for
 * what a start needs (the segment length, the contract's terms, the
 * account's zone; up to three requests of at most 5 s each) and returns
 * it, newly allocated, never NULL: what did not answer is left for
 * tk_engine_start_with() to take from the cache. It reads only what
 * tk_engine_new() copied, so it may run on any thread, at the same time as
 * the other calls, as long as e outlives it. tk_engine_start_with() then
 * does the rest of tk_engine_start() on the face's thread, with the same
 * errors; info stays the caller's (tk_start_info_free accepts NULL).
 */
struct tk_start_info;
struct tk_start_info *tk_engine_fetch_start(struct tk_engine *e, const char *contract_id);
int tk_engine_start_with(struct tk_engine *e, const struct tk_start_info *info, const char *memo,
                         const char *const *tags, char *err, size_t errlen);
void tk_start_info_free(struct tk_start_info *info);

/* Stops the timer: the partial bucket is written, the screenshot taken if due, the segment queued.
 */
int tk_engine_stop(struct tk_engine *e);
/* Changes the memo / tags; they apply from the current segment on. */
int tk_engine_set_memo(struct tk_engine *e, const char *memo, char *err, size_t errlen);
int tk_engine_set_tags(struct tk_engine *e, const char *const *tags, char *err, size_t errlen);
/* Answers an open idle prompt. -ENOENT when none is open. */
int tk_engine_answer_idle(struct tk_engine *e, enum tk_idle_answer answer);

/* Sets the contract's terms without asking the server (opts.offline). */
void tk_engine_set_terms(struct tk_engine *e, const char *contract_id, const struct tk_terms *t);

/*
 * Poll this for reading; tick when it is readable. On Windows it is -1:
 * there is no descriptor to poll (lib/os.h's waker), and a face ticks on
 * tk_engine_timeout_ms() alone, so the uploader's news reaches it within
 * a second.
 */
int tk_engine_fd(struct tk_engine *e);
/* Milliseconds until tk_engine_tick() is due at the latest (never more than 1000). */
int tk_engine_timeout_ms(struct tk_engine *e);
/* Does what is due: counts input, closes buckets and segments, screenshots, idle, events. */
int tk_engine_tick(struct tk_engine *e);

/* A snapshot of the state, for a status line. */
void tk_engine_status(struct tk_engine *e, struct tk_status *ret);
/* Asks the uploader to try again now (after a network change, or for `stint sync`). */
void tk_engine_kick(struct tk_engine *e);
/* The journal directory in use. */
const char *tk_engine_data_dir(struct tk_engine *e);
/*
 * One line on the desktop the engine tracks, for diagnostics: the
 * platform's describe() (backend, routes, why others were not taken), or
 * "none: " and why no desktop can be opened. While the timer is stopped the
 * display is opened for the question and closed again.
 */
void tk_engine_describe_platform(struct tk_engine *e, char *out, size_t outlen);

/*
 * The key under which the journal keeps an account's segments ("SERVER
 * EMAIL"), for tools that read the journal or upload without an engine
 * (`stint sync`). Newly allocated.
 */
char *tk_engine_account_key(const char *server, const char *email);

#endif
