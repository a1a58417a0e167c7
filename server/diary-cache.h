/*
 * Rendered weeks of the Work Diary, kept in memory between reads.
 *
 * The diary of a week is a pure function of the contract's segments, its
 * weekly limit and its screenshot setting; SQL triggers (schema.c,
 * migration 3) bump contracts.diary_gen whenever any of them changes. A
 * rendered week is keyed by (contract, week start, diary_gen) read in the
 * same snapshot as the rows it was made from, so a write makes the old
 * entry unreachable at once: nothing stale is ever served, and no write
 * path has to remember to invalidate anything.
 *
 * Entries are reference counted; the cache holds at most
 * DIARY_CACHE_BYTES of rendered JSON and drops the least recently used.
 *
 * Threads: every function may be called from any thread.
 */
#ifndef STINT_DIARY_CACHE_H
#define STINT_DIARY_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define DIARY_CACHE_BYTES (64u * 1024 * 1024)

/* One segment of a rendered week: its JSON text and what the diary sums. */
struct diary_seg {
    int64_t start;
    int manual;
    int64_t tracked_s, billable_s, over_limit_s;
    size_t off, len; /* its JSON in the week's buf */
};

struct diary_week {
    char contract_id[64];
    int64_t week, gen;
    struct diary_seg *segs;
    size_t n;
    char *buf;
    size_t bytes;
    /* Private to diary-cache.c. */
    int refs;
    uint64_t used;
    struct diary_week *next;
};

/* A new, unshared week for the caller to fill (diary_week_add) then publish or free. */
struct diary_week *diary_week_new(const char *contract_id, int64_t week, int64_t gen);
void diary_week_add(struct diary_week *w, int64_t start, int manual, int64_t tracked_s,
                    int64_t billable_s, int64_t over_limit_s, const char *json, size_t len);

/* The cached week for this key with a reference the caller drops, or NULL. */
struct diary_week *diary_cache_get(const char *contract_id, int64_t week, int64_t gen);
/* Hands w to the cache (it keeps the caller's reference; drop it with diary_week_unref). */
void diary_cache_put(struct diary_week *w);
void diary_week_unref(struct diary_week *w);
/* Frees everything (tests, exit). */
void diary_cache_clear(void);

#endif
