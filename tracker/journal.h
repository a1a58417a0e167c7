/*
 * The tracker's journal: what was recorded, kept on the freelancer's disk
 * until the server has acknowledged it. One SQLite database (WAL,
 * synchronous=FULL, so a commit is on disk when it returns) under
 * $XDG_DATA_HOME/stint (default ~/.local/share/stint), screenshots as files
 * beside it in shots/, and a lock file that one tracker holds for as long as
 * it runs. docs/internals/tracker.md describes the schema and the states.
 *
 * Not for: deciding what to record (recorder.h) or talking to the server
 * (uploader.h). Nothing here prints.
 *
 * Ownership: a struct tk_journal is one database connection. Strings inside
 * a struct tk_seg (memo, tags) are owned by it; tk_seg_release frees them.
 *
 * Threads: one tk_journal is used by one thread at a time. Another thread
 * opens its own connection with tk_journal_clone(); SQLite serialises the
 * writers (a busy writer is waited for, up to 10 s).
 *
 * Errors: 0 or a negative errno: -EBUSY (another tracker holds the lock),
 * -ENOENT (no such segment, or no journal), -EIO (SQLite failed), -ENOSPC
 * (the disk is full), with a sentence in err where the function takes one.
 */
#ifndef STINT_TRACKER_JOURNAL_H
#define STINT_TRACKER_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/segment.h"

#define TK_JOURNAL_FILE "journal.db"
#define TK_JOURNAL_LOCK "lock"
#define TK_JOURNAL_SHOTS "shots"
#define TK_ACCOUNT_MAX 512

/*
 * The life of a segment in the journal:
 *   open → held → queued → done
 *     └──────────┘    └──→ refused
 * open: the recorder is adding to it. held: closed, but an idle prompt may
 * still take time out of it, so it is not uploaded yet. queued: closed and
 * waiting for the server (a first upload or an extension). done: the server
 * has all of it. refused: the server refused it for good (locked week,
 * conflict, invalid); kept and shown, never retried. A done segment is
 * reopened when the timer runs again in the same slot; the next upload
 * extends it under the same id.
 */
enum tk_seg_state {
    TK_SEG_OPEN = 0,
    TK_SEG_HELD = 1,
    TK_SEG_QUEUED = 2,
    TK_SEG_DONE = 3,
    TK_SEG_REFUSED = 4,
};

const char *tk_seg_state_name(enum tk_seg_state s);

/* A segment as the journal keeps it: the wire form plus what only the tracker needs. */
struct tk_seg {
    struct st_segment s;          /* the upload form; s.b[i].tracked_s follows ms[] */
    int64_t ms[ST_SEG_BUCKETS];   /* tracked milliseconds per bucket (the exact record) */
    int seg_s;                    /* the segment length it was recorded with */
    char account[TK_ACCOUNT_MAX]; /* who it belongs to: "server-url email" */
    enum tk_seg_state state;
    int64_t version;       /* bumped by every tk_journal_seg_put */
    int64_t acked_version; /* the version the server acknowledged (0: none) */
    int acked_s;           /* tracked seconds the server has */
    char shot_file[64];    /* "shots/<id>.jpg" relative to the journal dir, or "" */
    int64_t shot_bytes;
    bool shot_acked;   /* the server has the screenshot bytes */
    char refused[256]; /* why the server refused it, when refused */
};

/* Frees what seg owns (memo, tags) and zeroes it. */
void tk_seg_release(struct tk_seg *seg);
/*
 * Recomputes s.b[i].tracked_s from ms[]: rounded to whole seconds, at most a
 * bucket's length, and at least 1 s for a bucket with input in it.
 */
void tk_seg_sync_seconds(struct tk_seg *seg);

struct tk_journal;

/*
 * The journal directory: $XDG_DATA_HOME/stint when XDG_DATA_HOME is
 * absolute, else ~/.local/share/stint. Newly allocated; NULL when no home
 * is known.
 */
char *tk_journal_default_dir(void);

enum {
    TK_JOURNAL_LOCKED = 1 << 0,   /* take the lock: the one tracker (or sync) that writes */
    TK_JOURNAL_READONLY = 1 << 1, /* only look (status); fails with -ENOENT when there is none */
};

/*
 * Opens (creating 0700 directories and the schema as needed) the journal in
 * dir. With TK_JOURNAL_LOCKED, takes the lock file's flock and writes our
 * pid in it; a second tracker gets -EBUSY and "another stint tracker (pid N)
 * is using DIR". Returns 0 and *ret_j, or a negative errno with err filled.
 */
int tk_journal_open(const char *dir, int flags, struct tk_journal **ret_j, char *err,
                    size_t errlen);
/* A second connection to the same journal, for another thread; never holds the lock. */
int tk_journal_clone(struct tk_journal *j, struct tk_journal **ret_j, char *err, size_t errlen);
/* Closes the connection and, if held, releases the lock. Accepts NULL. */
void tk_journal_free(struct tk_journal *j);
const char *tk_journal_dir(const struct tk_journal *j);

/* The pid of the tracker holding the lock of the journal in dir, or 0 when none does. */
int tk_journal_lock_holder(const char *dir);

/*
 * After a crash: every open or held segment becomes queued with what it
 * had durably (its last written bucket). An open segment whose screenshot
 * moment never came is marked failed ("the tracker was interrupted before
 * the screenshot"). Segments with no time that never reached the server
 * are dropped, and so are screenshot files nothing names. Needs the lock.
 * Returns how many segments were recovered, or < 0.
 */
int tk_journal_recover(struct tk_journal *j);

/* Small settings and caches: meta(key, value). get returns a new string or NULL. */
char *tk_journal_meta_get(struct tk_journal *j, const char *key);
int tk_journal_meta_set(struct tk_journal *j, const char *key, const char *value);
/* This device's id (a UUID made once and kept in meta); out holds 37 bytes. */
int tk_journal_device_id(struct tk_journal *j, char out[37]);

/*
 * The segment of account and contract that holds slot start and is not
 * refused (the newest, should there be several). 0 and *ret_seg (released
 * by the caller), or -ENOENT.
 */
int tk_journal_seg_find(struct tk_journal *j, const char *account, const char *contract_id,
                        int64_t start, struct tk_seg *ret_seg);
int tk_journal_seg_get(struct tk_journal *j, const char *id, struct tk_seg *ret_seg);

/*
 * Writes what the recorder owns of seg (memo, tags, flags, state, the
 * screenshot, every bucket) in one transaction, and bumps the version
 * (seg->version is updated). Leaves alone what the uploader owns (acked_*,
 * shot_acked) and never moves a refused segment out of refused. A bucket
 * is durable when this returns 0.
 */
int tk_journal_seg_put(struct tk_journal *j, struct tk_seg *seg);
/* Removes a segment and its screenshot file (a segment that ended up with no time). */
int tk_journal_seg_delete(struct tk_journal *j, const char *id);

/* The ids of account's segments in state, oldest first; *ret_ids is freed by the caller. */
int tk_journal_seg_ids(struct tk_journal *j, const char *account, enum tk_seg_state state,
                       char (**ret_ids)[37], size_t *ret_n);

/*
 * Writes a screenshot beside the journal as shots/<id>.<ext> through a
 * temporary file, fsync and rename (then fsyncs the directory), so the file
 * is either whole or absent. rel_path holds 64 bytes: the path relative to
 * the journal dir. Remembers it as the last screenshot (meta "last_shot").
 */
int tk_journal_write_shot(struct tk_journal *j, const char *seg_id, const char *ext,
                          const void *bytes, size_t len, char rel_path[64]);

/* ---- for the uploader ---- */

/*
 * The oldest queued segment of account (any account when NULL) that the
 * server does not fully have, skipping ids in skip (n_skip of them).
 * 0 and *ret_seg, or -ENOENT when none.
 */
int tk_journal_next_upload(struct tk_journal *j, const char *account, char (*skip)[37],
                           size_t n_skip, struct tk_seg *ret_seg);
/* The server acknowledged the upload of version with acked_s tracked seconds. */
int tk_journal_ack(struct tk_journal *j, const char *id, int64_t version, int acked_s);
/* The server has the screenshot: removes the file unless it is the last screenshot. */
int tk_journal_ack_shot(struct tk_journal *j, const char *id);
/* Marks a queued segment done if nothing changed it since version was read. */
int tk_journal_finish(struct tk_journal *j, const char *id, int64_t version);
/* The server refused the segment for good. */
int tk_journal_refuse(struct tk_journal *j, const char *id, const char *reason);
/*
 * Drops what is no longer needed: done segments that started more than two
 * days before now (s), refused ones older than 30 days, and the files of
 * screenshots the server has (keeping the last one for `stint screenshot`).
 */
int tk_journal_prune(struct tk_journal *j, int64_t now);

/* ---- for status and the limits ---- */

struct tk_journal_stats {
    int open;         /* segments being recorded */
    int queued;       /* segments waiting for the server (held and queued) */
    int shots_queued; /* of which with a screenshot the server lacks */
    int refused;
    int64_t queued_s;   /* tracked seconds not yet acknowledged */
    int64_t shot_bytes; /* bytes of the screenshot files kept */
    int64_t disk_bytes; /* the journal's whole footprint: database, WAL and screenshots */
};

/* Counts over account's segments (every account when NULL). */
int tk_journal_stats(struct tk_journal *j, const char *account, struct tk_journal_stats *ret);

/*
 * Tracked seconds of account's segments of contract starting in [from, to)
 * that the server does not have yet (tracked minus acknowledged, refused
 * segments excluded), not counting the segment except_id (may be NULL).
 */
int64_t tk_journal_unsent_s(struct tk_journal *j, const char *account, const char *contract_id,
                            int64_t from, int64_t to, const char *except_id);

/* One refused segment, for listings. */
struct tk_refused {
    char id[37];
    char contract_id[37];
    int64_t start;
    int tracked_s;
    char reason[256];
};

/* The refused segments of account (all when NULL), newest first, at most max. */
int tk_journal_refused(struct tk_journal *j, const char *account, struct tk_refused *out, int max);

#endif
