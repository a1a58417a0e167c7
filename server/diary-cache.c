/*
 * The cache of rendered diary weeks (diary-cache.h): a small hash table of
 * reference-counted entries under one mutex, least recently used dropped
 * past DIARY_CACHE_BYTES. Lookups copy nothing: the caller reads the
 * entry's buffer while it holds a reference.
 */
#include "server/diary-cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define NBUCKETS 1024

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct diary_week *buckets[NBUCKETS];
static size_t total_bytes;
static uint64_t clock_ticks;

static size_t bucket_of(const char *contract_id, int64_t week)
{
    uint64_t h = 1469598103934665603ull;

    for (const char *p = contract_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h ^= (uint64_t)week * 0x9e3779b97f4a7c15ull;
    return (size_t)(h % NBUCKETS);
}

struct diary_week *diary_week_new(const char *contract_id, int64_t week, int64_t gen)
{
    struct diary_week *w = xcalloc(1, sizeof(*w));

    snprintf(w->contract_id, sizeof(w->contract_id), "%s", contract_id);
    w->week = week;
    w->gen = gen;
    w->refs = 1;
    return w;
}

void diary_week_add(struct diary_week *w, int64_t start, int manual, int64_t tracked_s,
                    int64_t billable_s, int64_t over_limit_s, const char *json, size_t len)
{
    struct diary_seg *s;

    w->segs = xrealloc(w->segs, (w->n + 1) * sizeof(*w->segs));
    w->buf = xrealloc(w->buf, w->bytes + len + 1);
    memcpy(w->buf + w->bytes, json, len);
    s = &w->segs[w->n++];
    *s = (struct diary_seg){.start = start, .manual = manual, .tracked_s = tracked_s,
                            .billable_s = billable_s, .over_limit_s = over_limit_s,
                            .off = w->bytes, .len = len};
    w->bytes += len;
}

static void week_free(struct diary_week *w)
{
    free(w->segs);
    free(w->buf);
    free(w);
}

void diary_week_unref(struct diary_week *w)
{
    bool last;

    if (!w)
        return;
    pthread_mutex_lock(&lock);
    last = --w->refs == 0;
    pthread_mutex_unlock(&lock);
    if (last)
        week_free(w);
}

/* Unlinks *pp (under the lock); frees it unless a reader still holds it. */
static struct diary_week *unlink_entry(struct diary_week **pp)
{
    struct diary_week *w = *pp;

    *pp = w->next;
    w->next = NULL;
    total_bytes -= w->bytes;
    return --w->refs == 0 ? w : NULL;
}

struct diary_week *diary_cache_get(const char *contract_id, int64_t week, int64_t gen)
{
    size_t b = bucket_of(contract_id, week);
    struct diary_week *found = NULL, *dead = NULL;

    pthread_mutex_lock(&lock);
    for (struct diary_week **pp = &buckets[b]; *pp; pp = &(*pp)->next) {
        struct diary_week *w = *pp;
        if (w->week != week || strcmp(w->contract_id, contract_id) != 0)
            continue;
        if (w->gen == gen) {
            w->refs++;
            w->used = ++clock_ticks;
            found = w;
        } else if (w->gen < gen) {
            dead = unlink_entry(pp); /* an older render of this week: never wanted again */
        }
        break;
    }
    pthread_mutex_unlock(&lock);
    if (dead)
        week_free(dead);
    return found;
}

void diary_cache_put(struct diary_week *w)
{
    size_t b = bucket_of(w->contract_id, w->week);
    struct diary_week *dead[8];
    int ndead = 0;

    if (w->bytes > DIARY_CACHE_BYTES / 4)
        return;
    pthread_mutex_lock(&lock);
    for (struct diary_week **pp = &buckets[b]; *pp; pp = &(*pp)->next) {
        struct diary_week *o = *pp;
        if (o->week != w->week || strcmp(o->contract_id, w->contract_id) != 0)
            continue;
        if (o->gen >= w->gen) { /* a render as new is there already */
            pthread_mutex_unlock(&lock);
            return;
        }
        if ((dead[ndead] = unlink_entry(pp)))
            ndead++;
        break;
    }
    /* Make room: drop the least recently used until it fits. */
    while (total_bytes + w->bytes > DIARY_CACHE_BYTES && ndead < 8) {
        struct diary_week **oldest = NULL;
        for (size_t i = 0; i < NBUCKETS; i++)
            for (struct diary_week **pp = &buckets[i]; *pp; pp = &(*pp)->next)
                if (!oldest || (*pp)->used < (*oldest)->used)
                    oldest = pp;
        if (!oldest)
            break;
        if ((dead[ndead] = unlink_entry(oldest)))
            ndead++;
    }
    if (total_bytes + w->bytes <= DIARY_CACHE_BYTES) {
        w->refs++;
        w->used = ++clock_ticks;
        w->next = buckets[b];
        buckets[b] = w;
        total_bytes += w->bytes;
    }
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < ndead; i++)
        week_free(dead[i]);
}

void diary_cache_clear(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < NBUCKETS; i++) {
        while (buckets[i]) {
            struct diary_week *w = unlink_entry(&buckets[i]);
            if (w)
                week_free(w);
        }
    }
    pthread_mutex_unlock(&lock);
}
