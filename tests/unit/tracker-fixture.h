/*
 * What the tracker's unit tests share: a temporary journal directory, a
 * fake clock at a chosen UTC instant, the fake platform, a recorder wired
 * to them, a log of the events it reported, and a driver that moves time
 * the way the engine's loop would (one tick at every deadline). Fakes stop
 * at the platform and the clock; the journal is the real SQLite one.
 */
#ifndef STINT_TESTS_TRACKER_FIXTURE_H
#define STINT_TESTS_TRACKER_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/utc.h"
#include "lib/xalloc.h"
#include "tracker/clock.h"
#include "tracker/engine.h"
#include "tracker/journal.h"
#include "tracker/platform/fake.h"
#include "tracker/recorder.h"

#define FX_MAX_EVENTS 512
#define FX_CONTRACT "6f1c2b9e-4d3a-4b8e-9c1d-2a3b4c5d6e7f"

struct fx_event {
    enum tk_event_type type;
    enum tk_stop_reason reason;
    int percent;
    int bucket;
    struct st_bucket value;
    int64_t at;
    int64_t idle_since;
    int64_t segment_start;
    char segment_id[37];
    char message[300];
};

struct fx {
    char dir[64];
    struct tk_fake_clock clk;
    struct tk_journal *j;
    struct tk_platform_ctx *pctx;
    struct tk_recorder *r;
    struct fx_event ev[FX_MAX_EVENTS];
    int nev;
    /* Idle as a desktop counts it: when set, idle grows from last_input_ms. */
    int idle_grows;
    int64_t last_input_ms;
    /* An active-seconds desktop (as Wayland): fx_run's input is active seconds, no counts. */
    bool active_seconds;
};

static inline int fx_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline void fx_on_event(const struct tk_event *ev, void *userdata)
{
    struct fx *f = userdata;
    struct fx_event *e;

    if (f->nev >= FX_MAX_EVENTS)
        return;
    e = &f->ev[f->nev++];
    memset(e, 0, sizeof(*e));
    e->type = ev->type;
    e->reason = ev->reason;
    e->percent = ev->percent;
    e->bucket = ev->bucket;
    e->value = ev->value;
    e->at = ev->at;
    e->idle_since = ev->idle_since;
    e->segment_start = ev->segment_start;
    if (ev->segment_id)
        snprintf(e->segment_id, sizeof(e->segment_id), "%s", ev->segment_id);
    if (ev->message)
        snprintf(e->message, sizeof(e->message), "%s", ev->message);
}

static inline int fx_count(const struct fx *f, enum tk_event_type type)
{
    int n = 0;
    for (int i = 0; i < f->nev; i++)
        n += f->ev[i].type == type;
    return n;
}

static inline const struct fx_event *fx_last(const struct fx *f, enum tk_event_type type)
{
    for (int i = f->nev - 1; i >= 0; i--)
        if (f->ev[i].type == type)
            return &f->ev[i];
    return NULL;
}

static inline int64_t fx_time(const char *rfc3339)
{
    int64_t t = 0;
    if (st_utc_parse(rfc3339, &t) < 0)
        abort();
    return t;
}

/* A fresh directory and fake clock at `at` (UTC seconds, plus ms). */
static inline void fx_setup_dirs(struct fx *f, int64_t at_ms)
{
    memset(f, 0, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/stint-test-XXXXXX");
    if (!mkdtemp(f->dir))
        abort();
    tk_fake_clock_init(&f->clk, at_ms);
    tk_fake_reset();
    f->last_input_ms = at_ms;
}

/* A journal, the fake platform and a recorder with segments of segment_s. */
static inline void fx_setup(struct fx *f, int64_t at_ms, int segment_s, int idle_threshold_s)
{
    char err[256];
    struct tk_recorder_opts o = {0};

    fx_setup_dirs(f, at_ms);
    if (tk_journal_open(f->dir, TK_JOURNAL_LOCKED, &f->j, err, sizeof(err)) < 0) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    if (tk_platform_fake.open(NULL, &f->pctx, err, sizeof(err)) < 0)
        abort();
    o.clock = &f->clk.clock;
    o.platform = &tk_platform_fake;
    o.pctx = f->pctx;
    o.journal = f->j;
    o.account = "http://test me@example.com";
    o.device_id = "device-1";
    o.segment_s = segment_s;
    o.idle_threshold_s = idle_threshold_s;
    o.monitor = TK_MONITOR_ALL;
    f->r = tk_recorder_new(&o, fx_on_event, f);
}

static inline void fx_teardown(struct fx *f)
{
    tk_recorder_free(f->r);
    if (f->pctx)
        tk_platform_fake.close(f->pctx);
    tk_journal_free(f->j);
    nftw(f->dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
    f->r = NULL;
    f->pctx = NULL;
    f->j = NULL;
}

static inline int64_t fx_now(struct fx *f)
{
    return f->clk.clock.wall_ms(&f->clk.clock);
}

/*
 * Moves time forward by ms the way the engine's loop does: a tick at every
 * deadline the recorder asks for (at most a second apart). With keys_per_s,
 * that many key presses (and as many mouse events) arrive before each tick
 * that ends a whole second (with active_seconds: each such second is active).
 */
static inline void fx_run(struct fx *f, int64_t ms, int keys_per_s)
{
    int64_t end = fx_now(f) + ms;

    while (fx_now(f) < end) {
        int t = f->r ? tk_recorder_timeout_ms(f->r) : 1000;
        int64_t step;
        if (t < 0 || t > 1000)
            t = 1000;
        if (t == 0)
            t = 1;
        int64_t before = fx_now(f), seconds;
        step = end - fx_now(f) < t ? end - fx_now(f) : t;
        tk_fake_clock_advance(&f->clk, step);
        /* Input happens on each whole second; a tick delivers what arrived since the last. */
        seconds = fx_now(f) / 1000 - before / 1000;
        if (keys_per_s && seconds > 0) {
            if (f->active_seconds)
                tk_fake_add_active_seconds((int)seconds);
            else
                tk_fake_add_activity((int)seconds * keys_per_s, (int)seconds * keys_per_s, 0);
            f->last_input_ms = fx_now(f) / 1000 * 1000;
        }
        if (f->idle_grows)
            tk_fake_set_idle_ms(fx_now(f) - f->last_input_ms);
        else
            tk_fake_set_idle_ms(0);
        tk_recorder_tick(f->r);
    }
}

/* Loads the segment of slot start; fails the test when there is none. */
static inline int fx_seg(struct fx *f, int64_t start, struct tk_seg *ret)
{
    return tk_journal_seg_find(f->j, "http://test me@example.com", FX_CONTRACT, start, ret);
}

#endif
