/*
 * The recorder's state machine. Time is walked forward tick by tick: each
 * tick credits the monotonic time elapsed since the last one to the buckets
 * it spans (split at bucket boundaries, which are wall-clock instants),
 * adds the input drained at that tick to the bucket it ends in, and closes
 * buckets and segments as boundaries pass. Durations always come from the
 * monotonic clock; the wall clock only says where they fall. Not for:
 * HTTP, quotas, limits (engine.c).
 */
#include "tracker/recorder.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "lib/uuid.h"
#include "lib/week.h"
#include "lib/xalloc.h"

struct tk_recorder {
    struct tk_recorder_opts o;
    char *account;
    char *device_id;
    tk_event_fn cb;
    void *userdata;

    int64_t slot_ms, bucket_ms, idle_ms_max, answer_ms;

    bool running;
    bool stopping; /* inside stop: a failed write must not stop again */
    char contract_id[37];
    char *memo;
    json_t *tags;
    bool screenshots;

    bool have_seg;
    struct tk_seg seg;
    int cur;                 /* the open bucket */
    int64_t moment;          /* the screenshot moment (wall ms), 0 when none is pending */
    struct tk_shot_job *job; /* a WebP encoding under way for the current segment */
    int64_t job_at;

    int64_t last_wall; /* where the last tick left the timeline (wall ms) */
    int64_t last_mono;
    int64_t idle_base; /* idle is counted from no earlier than this (start, last answer) */
    int64_t last_input;
    int n_held; /* segments in the journal that wait for the idle answer */

    bool prompt;
    int64_t idle_since; /* wall ms */
    int64_t prompt_mono;
};

static void emit(struct tk_recorder *r, struct tk_event *ev)
{
    if (r->cb)
        r->cb(ev, r->userdata);
}

static int64_t wall_now(const struct tk_recorder *r)
{
    return r->o.clock->wall_ms(r->o.clock);
}

static int64_t mono_now(const struct tk_recorder *r)
{
    return r->o.clock->mono_ms(r->o.clock);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t slot_of(const struct tk_recorder *r, int64_t wall_ms)
{
    return floor_div(wall_ms, r->slot_ms) * (r->slot_ms / 1000);
}

static int64_t seg_start_ms(const struct tk_recorder *r)
{
    return r->seg.s.start * 1000;
}

static int64_t seg_end_ms(const struct tk_recorder *r)
{
    return seg_start_ms(r) + r->slot_ms;
}

static int bucket_of(const struct tk_recorder *r, int64_t wall_ms)
{
    int64_t i = (wall_ms - seg_start_ms(r)) / r->bucket_ms;
    return (int)(i < 0 ? 0 : i >= ST_SEG_BUCKETS ? ST_SEG_BUCKETS - 1 : i);
}

static void stop_on_error(struct tk_recorder *r, int err);

/* Writes the current segment. A failure to write stops the timer: never record into the void. */
static int persist(struct tk_recorder *r, struct tk_seg *seg)
{
    int rc;

    if (seg == &r->seg && st_segment_unusual(&seg->s))
        seg->s.flags |= ST_FLAG_UNUSUAL_INPUT;
    rc = tk_journal_seg_put(r->o.journal, seg);
    if (rc < 0)
        stop_on_error(r, rc);
    return rc;
}

static void emit_segment_event(struct tk_recorder *r, enum tk_event_type type,
                               const struct tk_seg *s, const char *message)
{
    struct tk_event ev = {
        .type = type, .segment_id = s->s.id, .segment_start = s->s.start, .message = message};
    emit(r, &ev);
}

/* ---- screenshots ---- */

static int64_t random_between(int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)(hi - lo);
    uint64_t x;

    if (hi <= lo)
        return lo;
    /* Uniform: arc4random draws without modulo bias when the span fits 32 bits. */
    if (span <= UINT32_MAX)
        return lo + (int64_t)arc4random_uniform((uint32_t)span);
    x = ((uint64_t)arc4random() << 32 | arc4random()) % span;
    return lo + (int64_t)x;
}

static void shot_failed(struct tk_recorder *r, int64_t at_ms, const char *reason)
{
    r->seg.s.shot_status = ST_SHOT_FAILED;
    r->seg.s.shot_taken_at = at_ms / 1000;
    /* The server takes at most ST_SEG_REASON_MAX characters; bytes are a safe bound. */
    st_strlcpy(r->seg.s.shot_reason, reason, ST_SEG_REASON_MAX + 1);
}

/* Writes the current segment's screenshot outcome and reports it. */
static void report_shot(struct tk_recorder *r)
{
    if (persist(r, &r->seg) < 0)
        return;
    {
        char *full = r->seg.s.shot_status == ST_SHOT_OK
                         ? xasprintf("%s/%s", tk_journal_dir(r->o.journal), r->seg.shot_file)
                         : NULL;
        struct tk_event ev = {.type = TK_EVENT_SCREENSHOT,
                              .segment_id = r->seg.s.id,
                              .segment_start = r->seg.s.start,
                              .at = r->seg.s.shot_taken_at,
                              .path = full,
                              .message = full ? NULL : r->seg.s.shot_reason};
        emit(r, &ev);
        free(full);
    }
}

/* Records the outcome of an encoding (bytes are taken) in the current segment, then reports. */
static void finish_shot(struct tk_recorder *r, int64_t at_ms, int rc, void *bytes, size_t len,
                        const char *err)
{
    char path[64], msg[256];

    if (rc < 0 || !bytes) {
        shot_failed(r, at_ms, err[0] ? err : "the screenshot could not be encoded");
    } else {
        const char *ext = r->o.encode.format == TK_SHOT_WEBP ? "webp" : "jpg";
        rc = tk_journal_write_shot(r->o.journal, r->seg.s.id, ext, bytes, len, path);
        if (rc < 0) {
            snprintf(msg, sizeof(msg), "the screenshot could not be saved: %s", strerror(-rc));
            shot_failed(r, at_ms, msg);
        } else {
            r->seg.s.shot_status = ST_SHOT_OK;
            r->seg.s.shot_taken_at = at_ms / 1000;
            r->seg.s.shot_reason[0] = '\0';
            snprintf(r->seg.shot_file, sizeof(r->seg.shot_file), "%s", path);
            r->seg.shot_bytes = (int64_t)len;
        }
    }
    free(bytes);
    report_shot(r);
}

/*
 * Collects a WebP encoding running on its worker thread: when it is done,
 * or (wait) before the segment it belongs to closes.
 */
static void complete_job(struct tk_recorder *r, bool wait)
{
    char err[256] = "";
    void *bytes = NULL;
    size_t len = 0;
    int rc;

    if (!r->job || (!wait && !tk_shot_job_done(r->job)))
        return;
    rc = tk_shot_job_finish(r->job, &bytes, &len, err, sizeof(err));
    r->job = NULL;
    if (!r->have_seg) {
        free(bytes);
        return;
    }
    finish_shot(r, r->job_at, rc, rc < 0 ? NULL : bytes, len, err);
}

/*
 * The default screenshot (JPEG, no blur) without a frame: the rows are
 * encoded and checked for blankness as the platform reads them, so the
 * tracker never holds the whole screen (docs/benchmarks.md, footprint).
 */
static void shot_streamed(struct tk_recorder *r, int64_t at_ms)
{
    struct tk_shot_sink sk;
    char err[256] = "";
    void *bytes = NULL;
    size_t len = 0;
    bool blank = false;
    int rc;

    tk_shot_sink_init(&sk, r->o.encode.quality);
    rc = r->o.platform->capture_rows(r->o.pctx, r->o.monitor, &sk.sink, err, sizeof(err));
    if (rc < 0 || !sk.stream) {
        tk_shot_stream_abort(sk.stream);
        shot_failed(r, at_ms, err[0] ? err : "the screen could not be captured");
        report_shot(r);
        return;
    }
    rc = tk_shot_stream_end(sk.stream, &blank, &bytes, &len, err, sizeof(err));
    if (rc == 0 && blank) {
        shot_failed(r, at_ms, err[0] ? err : "the screen was blank");
        report_shot(r);
        return;
    }
    finish_shot(r, at_ms, rc, rc < 0 ? NULL : bytes, len, err);
}

/*
 * Captures and checks the screenshot of the current segment, then encodes
 * it (JPEG here, in a few ms; WebP on a worker thread) and writes it beside
 * the journal. Only ever called while the timer runs: this is the one place
 * that calls the platform's capture.
 */
static void take_shot(struct tk_recorder *r, int64_t at_ms)
{
    struct tk_frame frame = {0};
    char err[256] = "";
    void *bytes = NULL;
    size_t len = 0;
    int rc;

    r->moment = 0;
    if (!r->running || r->job || r->seg.s.shot_status != ST_SHOT_NONE)
        return;
    /* The moment lies inside the segment; a late tick must not stamp it outside. */
    if (at_ms < seg_start_ms(r))
        at_ms = seg_start_ms(r);
    if (at_ms >= seg_end_ms(r))
        at_ms = seg_end_ms(r) - 1;

    if (r->o.encode.format == TK_SHOT_JPEG && !r->o.encode.blur && r->o.platform->capture_rows) {
        shot_streamed(r, at_ms);
        return;
    }
    rc = r->o.platform->capture(r->o.pctx, r->o.monitor, &frame, err, sizeof(err));
    if (rc < 0) {
        shot_failed(r, at_ms, err[0] ? err : "the screen could not be captured");
        report_shot(r);
        return;
    }
    if (tk_frame_blank(&frame, err, sizeof(err))) {
        tk_frame_release(&frame);
        shot_failed(r, at_ms, err[0] ? err : "the screen was blank");
        report_shot(r);
        return;
    }
    if (r->o.encode.format == TK_SHOT_WEBP) {
        r->job = tk_shot_encode_start(&frame, &r->o.encode); /* takes the pixels */
        r->job_at = at_ms;
        return;
    }
    rc = tk_shot_encode(&frame, &r->o.encode, &bytes, &len, err, sizeof(err));
    tk_frame_release(&frame);
    finish_shot(r, at_ms, rc, rc < 0 ? NULL : bytes, len, err);
}

/* ---- segments ---- */

static json_t *copy_tags(json_t *tags)
{
    return tags ? json_deep_copy(tags) : json_array();
}

/*
 * Makes the segment of the slot holding pos the current one: the journal's
 * (reopened: same id) or a new one. Picks its screenshot moment uniformly
 * in the part of the slot still ahead.
 */
static int open_segment(struct tk_recorder *r, int64_t pos, unsigned extra_flags)
{
    int64_t start = slot_of(r, pos);
    struct tk_seg seg;
    int rc;

    rc = tk_journal_seg_find(r->o.journal, r->account, r->contract_id, start, &seg);
    if (rc == 0 && seg.seg_s != (int)(r->slot_ms / 1000)) {
        /* Recorded with another segment length: not the same slot any more. */
        tk_seg_release(&seg);
        rc = -ENOENT;
    }
    if (rc == 0) {
        if (seg.acked_version == 0) {
            /* The server has never seen it: the memo and tags in force now apply. */
            free(seg.s.memo);
            json_decref(seg.s.tags);
            seg.s.memo = xstrdup(r->memo);
            seg.s.tags = copy_tags(r->tags);
        }
    } else if (rc == -ENOENT) {
        memset(&seg, 0, sizeof(seg));
        st_uuid_new(seg.s.id);
        snprintf(seg.s.contract_id, sizeof(seg.s.contract_id), "%s", r->contract_id);
        snprintf(seg.s.device_id, sizeof(seg.s.device_id), "%s", r->device_id);
        snprintf(seg.account, sizeof(seg.account), "%s", r->account);
        seg.s.start = start;
        seg.seg_s = (int)(r->slot_ms / 1000);
        seg.s.memo = xstrdup(r->memo);
        seg.s.tags = copy_tags(r->tags);
        /* Wayland measures active seconds; counts backends leave active_s unknown. */
        if (tk_platform_measure(r->o.platform, r->o.pctx) == TK_MEASURE_ACTIVE_SECONDS) {
            seg.s.measure = ST_MEASURE_ACTIVE_SECONDS;
            seg.s.has_active_s = true;
        }
    } else {
        stop_on_error(r, rc);
        return rc;
    }
    seg.state = TK_SEG_OPEN;
    seg.s.flags |= extra_flags;
    r->seg = seg;
    r->have_seg = true;
    r->cur = bucket_of(r, pos);
    r->moment = 0;
    if (r->seg.s.shot_status == ST_SHOT_NONE) {
        if (!r->screenshots) {
            r->seg.s.shot_status = ST_SHOT_DISABLED;
        } else {
            int64_t from = pos > seg_start_ms(r) ? pos : seg_start_ms(r);
            r->moment = random_between(from, seg_end_ms(r));
        }
    }
    return persist(r, &r->seg);
}

/* Writes the open bucket and reports it. */
static int close_bucket(struct tk_recorder *r)
{
    struct tk_event ev = {.type = TK_EVENT_BUCKET};
    int rc = persist(r, &r->seg);

    if (rc < 0)
        return rc;
    ev.segment_id = r->seg.s.id;
    ev.segment_start = r->seg.s.start;
    ev.bucket = r->cur;
    ev.value = r->seg.s.b[r->cur];
    emit(r, &ev);
    return 0;
}

/* True when idle time that may still be discarded lies in a segment ending at end_ms. */
static bool may_lose_idle(const struct tk_recorder *r, int64_t end_ms)
{
    return r->prompt || r->last_input < end_ms - 1000;
}

/* Closes the current segment: held while an idle answer may still cut it, else queued. */
static int close_segment(struct tk_recorder *r, bool final)
{
    int rc = 0;

    if (!r->have_seg)
        return 0;
    complete_job(r, true);
    if (!r->have_seg)
        return -EIO;
    r->moment = 0;
    tk_seg_sync_seconds(&r->seg);
    if (st_segment_tracked(&r->seg.s) == 0 && r->seg.acked_version == 0) {
        /* Nothing to tell the server (a screenshot of no time is no evidence of work). */
        rc = tk_journal_seg_delete(r->o.journal, r->seg.s.id);
    } else {
        bool hold = !final && may_lose_idle(r, seg_end_ms(r));
        r->seg.state = hold ? TK_SEG_HELD : TK_SEG_QUEUED;
        if (hold)
            r->n_held++;
        rc = persist(r, &r->seg);
        if (rc == 0)
            emit_segment_event(r, TK_EVENT_SEGMENT, &r->seg, NULL);
    }
    tk_seg_release(&r->seg);
    r->have_seg = false;
    return rc;
}

/*
 * Adds act to the open bucket, in the segment's measure. Active seconds are
 * capped at the seconds the bucket has tracked so far: a second cannot be
 * active without being tracked. Input of the other measure (a segment
 * reopened after the desktop changed) is left out rather than mixed in.
 */
static void credit_input(struct tk_recorder *r, const struct tk_activity *act)
{
    struct st_bucket *b = &r->seg.s.b[r->cur];

    if (r->seg.s.measure == ST_MEASURE_COUNTS) {
        b->keys += act->keys;
        b->mouse += act->mouse;
        b->synthetic += act->synthetic;
    }
    if (r->seg.s.has_active_s && act->active_s > 0) {
        /* Rounded as tk_seg_sync_seconds rounds, and a bucket with input has 1 s at least. */
        int64_t cap = (r->seg.ms[r->cur] + 500) / 1000;
        if (cap > r->bucket_ms / 1000)
            cap = r->bucket_ms / 1000;
        if (cap < 1)
            cap = 1;
        int64_t sum = (int64_t)b->active_s + act->active_s;
        b->active_s = (int)(sum > cap ? cap : sum);
    }
}

/*
 * Credits the span [from, to) of the timeline to the buckets it covers and
 * act to the bucket it ends in, closing buckets and segments whose end it
 * passes, and taking the screenshot when its moment falls inside.
 */
static void advance(struct tk_recorder *r, int64_t from, int64_t to, const struct tk_activity *act)
{
    /*
     * Input is read on the tick, so all we know is that it came between
     * from and to; it goes to the bucket that holds the middle of that
     * span. Ticks fall on bucket ends, so a span rarely straddles one by
     * more than the scheduler's delay, and the middle is on the right side.
     */
    int64_t pos = from, mid = from + (to - from) / 2;
    bool act_added = false;

    while (r->running && r->have_seg && pos < to) {
        int64_t bstart = seg_start_ms(r) + r->cur * r->bucket_ms;
        int64_t bend = bstart + r->bucket_ms;
        int64_t step;

        if (pos < bstart)
            pos = bstart; /* a wall clock slewed back a little: those ms were counted */
        if (pos >= bend) {
            /* Crossed into the next bucket without time to credit (a small gap). */
            if (close_bucket(r) < 0)
                return;
            if (r->cur == ST_SEG_BUCKETS - 1) {
                if (close_segment(r, false) < 0 || open_segment(r, pos, 0) < 0)
                    return;
            } else {
                r->cur++;
            }
            continue;
        }
        step = to < bend ? to : bend;
        r->seg.ms[r->cur] += step - pos;
        if (r->seg.ms[r->cur] > r->bucket_ms)
            r->seg.ms[r->cur] = r->bucket_ms;
        if (act && !act_added && mid < bend) {
            credit_input(r, act);
            act_added = true;
        }
        pos = step;
        if (r->moment && pos >= r->moment) {
            take_shot(r, r->moment);
            if (!r->running)
                return;
        }
        if (pos == bend) {
            if (close_bucket(r) < 0)
                return;
            if (r->cur == ST_SEG_BUCKETS - 1) {
                if (close_segment(r, false) < 0 || open_segment(r, pos, 0) < 0)
                    return;
            } else {
                r->cur++;
            }
        }
    }
    if (!act_added && act && r->have_seg && (act->keys || act->mouse || act->active_s))
        credit_input(r, act);
}

/* After a clock jump: continue at pos on the new timeline, in its slot and bucket. */
static void reposition(struct tk_recorder *r, int64_t pos)
{
    if (!r->have_seg)
        return;
    r->seg.s.flags |= ST_FLAG_CLOCK_JUMP;
    if (slot_of(r, pos) != r->seg.s.start) {
        if (close_bucket(r) < 0 || close_segment(r, false) < 0)
            return;
        open_segment(r, pos, ST_FLAG_CLOCK_JUMP);
        return;
    }
    if (bucket_of(r, pos) != r->cur) {
        if (close_bucket(r) < 0)
            return;
        r->cur = bucket_of(r, pos);
    }
    persist(r, &r->seg);
}

/* ---- idle ---- */

/* Takes [from, to) out of a segment's buckets (a discarded idle stretch). */
static void subtract(struct tk_recorder *r, struct tk_seg *seg, int64_t from, int64_t to)
{
    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        int64_t bstart = seg->s.start * 1000 + i * r->bucket_ms;
        int64_t bend = bstart + r->bucket_ms;
        int64_t lo = from > bstart ? from : bstart;
        int64_t hi = to < bend ? to : bend;
        if (hi > lo)
            seg->ms[i] = seg->ms[i] > hi - lo ? seg->ms[i] - (hi - lo) : 0;
    }
    tk_seg_sync_seconds(seg);
}

/* Settles the held segments and the current one: keep (flag) or discard [since, until). */
static void settle_idle(struct tk_recorder *r, bool keep, int64_t since, int64_t until)
{
    char(*ids)[37] = NULL;
    size_t n = 0;

    if (tk_journal_seg_ids(r->o.journal, r->account, TK_SEG_HELD, &ids, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            struct tk_seg seg;
            if (tk_journal_seg_get(r->o.journal, ids[i], &seg) < 0)
                continue;
            if (seg.s.start * 1000 + r->slot_ms > since) {
                if (keep)
                    seg.s.flags |= ST_FLAG_IDLE_KEPT;
                else
                    subtract(r, &seg, since, until);
            }
            if (!keep && st_segment_tracked(&seg.s) == 0 && seg.acked_version == 0) {
                tk_journal_seg_delete(r->o.journal, seg.s.id);
            } else {
                seg.state = TK_SEG_QUEUED;
                if (persist(r, &seg) == 0)
                    emit_segment_event(r, TK_EVENT_SEGMENT, &seg, NULL);
            }
            tk_seg_release(&seg);
        }
        free(ids);
    }
    r->n_held = 0;
    if (r->have_seg && seg_end_ms(r) > since) {
        if (keep)
            r->seg.s.flags |= ST_FLAG_IDLE_KEPT;
        else
            subtract(r, &r->seg, since, until);
        persist(r, &r->seg);
    }
}

/* Queues held segments that ended before the last input: no idle answer can touch them now. */
static void release_held(struct tk_recorder *r)
{
    char(*ids)[37] = NULL;
    size_t n = 0;
    int still = 0;

    if (r->n_held == 0 || tk_journal_seg_ids(r->o.journal, r->account, TK_SEG_HELD, &ids, &n) < 0)
        return;
    for (size_t i = 0; i < n; i++) {
        struct tk_seg seg;
        if (tk_journal_seg_get(r->o.journal, ids[i], &seg) < 0)
            continue;
        if (seg.s.start * 1000 + r->slot_ms <= r->last_input + 1000) {
            seg.state = TK_SEG_QUEUED;
            persist(r, &seg);
        } else {
            still++;
        }
        tk_seg_release(&seg);
    }
    free(ids);
    r->n_held = still;
}

static void check_idle(struct tk_recorder *r, int64_t wall, int64_t mono)
{
    int64_t idle = r->o.platform->idle_ms(r->o.pctx);
    int64_t last = wall - (idle > 0 ? idle : 0);

    if (last < r->idle_base)
        last = r->idle_base;
    r->last_input = last;
    if (!r->prompt && wall - last >= r->idle_ms_max) {
        struct tk_event ev = {.type = TK_EVENT_IDLE, .idle_since = last / 1000};
        r->prompt = true;
        r->idle_since = last;
        r->prompt_mono = mono;
        emit(r, &ev);
    } else if (r->prompt && mono - r->prompt_mono >= r->answer_ms) {
        /* DOMAIN.md: no answer within 5 minutes stops the timer and discards the idle time. */
        settle_idle(r, false, r->idle_since, wall);
        r->prompt = false;
        tk_recorder_stop(r, TK_STOP_IDLE,
                         "no answer to the idle prompt: the timer stopped and the idle time "
                         "was discarded");
        return;
    }
    if (!r->prompt)
        release_held(r);
}

/* ---- the public side ---- */

struct tk_recorder *tk_recorder_new(const struct tk_recorder_opts *o, tk_event_fn cb,
                                    void *userdata)
{
    struct tk_recorder *r = xcalloc(1, sizeof(*r));

    r->o = *o;
    r->account = xstrdup(o->account ? o->account : "");
    r->device_id = xstrdup(o->device_id ? o->device_id : "");
    r->o.account = r->account;
    r->o.device_id = r->device_id;
    r->cb = cb;
    r->userdata = userdata;
    r->slot_ms = (int64_t)o->segment_s * 1000;
    r->bucket_ms = r->slot_ms / ST_SEG_BUCKETS;
    r->idle_ms_max =
        (int64_t)(o->idle_threshold_s > 0 ? o->idle_threshold_s : TK_IDLE_THRESHOLD_DEFAULT_S) *
        1000;
    r->answer_ms = (int64_t)(o->idle_answer_s > 0 ? o->idle_answer_s : TK_IDLE_ANSWER_S) * 1000;
    r->memo = xstrdup("");
    r->tags = json_array();
    return r;
}

void tk_recorder_free(struct tk_recorder *r)
{
    if (!r)
        return;
    if (r->running)
        tk_recorder_stop(r, TK_STOP_USER, NULL);
    if (r->have_seg)
        tk_seg_release(&r->seg);
    free(r->account);
    free(r->device_id);
    free(r->memo);
    json_decref(r->tags);
    free(r);
}

int tk_recorder_start(struct tk_recorder *r, const char *contract_id, const char *memo,
                      json_t *tags, bool screenshots)
{
    struct tk_activity dropped = {0};
    struct tk_event ev = {.type = TK_EVENT_STARTED};
    int64_t wall = wall_now(r);

    if (r->running)
        return -EALREADY;
    snprintf(r->contract_id, sizeof(r->contract_id), "%s", contract_id);
    free(r->memo);
    r->memo = xstrdup(memo ? memo : "");
    json_decref(r->tags);
    r->tags = copy_tags(tags);
    r->screenshots = screenshots;
    /* Input from before the start is none of the timer's business. */
    if (r->o.platform->drain(r->o.pctx, &dropped) < 0)
        return -EPIPE;
    r->last_wall = wall;
    r->last_mono = mono_now(r);
    r->idle_base = wall;
    r->last_input = wall;
    r->prompt = false;
    r->running = true;
    if (open_segment(r, wall, 0) < 0) {
        r->running = false;
        return -EIO;
    }
    ev.segment_id = r->seg.s.id;
    ev.segment_start = r->seg.s.start;
    emit(r, &ev);
    return 0;
}

int tk_recorder_tick(struct tk_recorder *r)
{
    struct tk_activity act = {0};
    int64_t wall, mono, dt, expected;

    if (!r->running)
        return 0;
    wall = wall_now(r);
    mono = mono_now(r);
    if (r->o.platform->drain(r->o.pctx, &act) < 0) {
        tk_recorder_stop(r, TK_STOP_PLATFORM, "the connection to the display was lost");
        return -EPIPE;
    }
    dt = mono - r->last_mono;
    if (dt < 0)
        dt = 0;
    expected = r->last_wall + dt;
    if (wall - expected > TK_CLOCK_JUMP_MS || expected - wall > TK_CLOCK_JUMP_MS) {
        /* The monotonic clock says how much time passed; credit it where it was. */
        advance(r, r->last_wall, expected, &act);
        if (r->running)
            reposition(r, wall);
    } else {
        int64_t from = wall - dt > r->last_wall ? wall - dt : r->last_wall;
        advance(r, from, wall, &act);
    }
    r->last_wall = wall;
    r->last_mono = mono;
    if (!r->running)
        return 0;
    complete_job(r, false);
    if (!r->running)
        return 0;
    if (r->moment && wall >= r->moment)
        take_shot(r, r->moment);
    check_idle(r, wall, mono);
    return 0;
}

int tk_recorder_timeout_ms(struct tk_recorder *r)
{
    int64_t wall, mono, t, best = 1000;

    if (!r->running || !r->have_seg)
        return -1;
    wall = wall_now(r);
    mono = mono_now(r);
    t = seg_start_ms(r) + (r->cur + 1) * r->bucket_ms - wall;
    if (t < best)
        best = t;
    if (r->moment && r->moment - wall < best)
        best = r->moment - wall;
    if (r->job && best > 20)
        best = 20; /* look for the finished encoding soon */
    if (!r->prompt) {
        t = r->idle_ms_max - (wall - r->last_input);
        if (t < best)
            best = t;
    } else {
        t = r->answer_ms - (mono - r->prompt_mono);
        if (t < best)
            best = t;
    }
    return best < 0 ? 0 : (int)best;
}

int tk_recorder_stop(struct tk_recorder *r, enum tk_stop_reason reason, const char *message)
{
    struct tk_event ev = {.type = TK_EVENT_STOPPED, .reason = reason, .message = message};
    int64_t wall;

    if (!r->running || r->stopping)
        return r->running ? 0 : -EALREADY;
    r->stopping = true;
    if (reason == TK_STOP_USER) {
        /* Count up to this instant first. */
        r->stopping = false;
        tk_recorder_tick(r);
        if (!r->running)
            return 0; /* the tick itself stopped it */
        r->stopping = true;
        if (r->prompt) {
            /* Stopping with the idle prompt open answers it: the idle time goes. */
            settle_idle(r, false, r->idle_since, wall_now(r));
            r->prompt = false;
        }
    }
    wall = wall_now(r);
    if (r->have_seg) {
        tk_seg_sync_seconds(&r->seg);
        if (r->moment && st_segment_tracked(&r->seg.s) == 0 && r->seg.acked_version == 0) {
            /* Stopped within a second of the segment's start: no time, so no screenshot. */
            r->moment = 0;
        }
        if (r->moment) {
            if (reason == TK_STOP_USER)
                take_shot(r, wall); /* DOMAIN.md: the timer stopped first: the shot is now */
            else if (r->seg.s.shot_status == ST_SHOT_NONE)
                shot_failed(r, wall < seg_end_ms(r) ? wall : seg_end_ms(r) - 1,
                            message ? message : "the timer stopped");
            r->moment = 0;
        }
        persist(r, &r->seg);
        close_segment(r, true);
    }
    /* Nothing is waiting for an idle answer any more. */
    r->last_input = wall + r->slot_ms;
    release_held(r);
    r->running = false;
    r->stopping = false;
    r->prompt = false;
    emit(r, &ev);
    return 0;
}

static void stop_on_error(struct tk_recorder *r, int err)
{
    char msg[200];

    if (!r->running || r->stopping)
        return;
    snprintf(msg, sizeof(msg), "the journal could not be written (%s): the timer stopped",
             strerror(-err));
    r->stopping = true;
    r->moment = 0;
    if (r->job) {
        void *bytes = NULL;
        size_t len;
        char ignored[8];
        if (tk_shot_job_finish(r->job, &bytes, &len, ignored, sizeof(ignored)) == 0)
            free(bytes);
        r->job = NULL;
    }
    if (r->have_seg) {
        tk_seg_release(&r->seg);
        r->have_seg = false;
    }
    r->running = false;
    r->stopping = false;
    {
        struct tk_event ev = {.type = TK_EVENT_STOPPED, .reason = TK_STOP_ERROR, .message = msg};
        emit(r, &ev);
    }
}

int tk_recorder_set_memo(struct tk_recorder *r, const char *memo)
{
    free(r->memo);
    r->memo = xstrdup(memo ? memo : "");
    if (r->running && r->have_seg && r->seg.acked_version == 0) {
        free(r->seg.s.memo);
        r->seg.s.memo = xstrdup(r->memo);
        return persist(r, &r->seg);
    }
    return 0;
}

int tk_recorder_set_tags(struct tk_recorder *r, json_t *tags)
{
    json_decref(r->tags);
    r->tags = copy_tags(tags);
    if (r->running && r->have_seg && r->seg.acked_version == 0) {
        json_decref(r->seg.s.tags);
        r->seg.s.tags = copy_tags(r->tags);
        return persist(r, &r->seg);
    }
    return 0;
}

int tk_recorder_answer_idle(struct tk_recorder *r, enum tk_idle_answer answer)
{
    int64_t wall;

    if (!r->running || !r->prompt)
        return -ENOENT;
    /* Count up to the answer first, so the discarded stretch ends now. */
    tk_recorder_tick(r);
    if (!r->running || !r->prompt)
        return -ENOENT;
    wall = wall_now(r);
    settle_idle(r, answer == TK_IDLE_KEEP, r->idle_since, wall);
    r->prompt = false;
    r->idle_base = wall;
    r->last_input = wall;
    if (answer == TK_IDLE_STOP) {
        /* The idle time is gone; nothing more is captured for it. */
        if (r->moment && r->have_seg && r->seg.s.shot_status == ST_SHOT_NONE)
            shot_failed(r, wall, "the timer was stopped at the idle prompt");
        r->moment = 0;
        return tk_recorder_stop(r, TK_STOP_IDLE, "stopped at the idle prompt");
    }
    return 0;
}

bool tk_recorder_running(const struct tk_recorder *r)
{
    return r->running;
}

const struct tk_seg *tk_recorder_segment(const struct tk_recorder *r)
{
    return r->have_seg ? &r->seg : NULL;
}

bool tk_recorder_idle_prompt(const struct tk_recorder *r, int64_t *ret_since)
{
    if (r->prompt && ret_since)
        *ret_since = r->idle_since / 1000;
    return r->prompt;
}

int64_t tk_recorder_shot_moment(const struct tk_recorder *r)
{
    return r->moment;
}
