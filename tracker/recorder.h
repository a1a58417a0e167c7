/*
 * The segment recorder: turns the running timer into segments of ten
 * buckets. It reads the clock and the platform (input counts, idle time,
 * capture), writes every closed bucket to the journal before it reports it,
 * picks the one random screenshot moment of each segment, sets the flags
 * the tracker owns (clock_jump, idle_kept, unusual_input) and runs the idle
 * prompt with its 5-minute rule. The rules are DOMAIN.md's; the design is in
 * docs/internals/tracker.md.
 *
 * Not for: HTTP, the contract's terms (the engine checks them before
 * starting), quotas or limits (the engine watches those).
 *
 * Threads: single-threaded; the engine calls it from the face's thread.
 * Ownership: the clock, platform context and journal are borrowed and must
 * outlive the recorder. Events are delivered synchronously through the
 * callback, from inside the call that caused them.
 */
#ifndef STINT_TRACKER_RECORDER_H
#define STINT_TRACKER_RECORDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "tracker/capture.h"
#include "tracker/clock.h"
#include "tracker/engine.h"
#include "tracker/journal.h"
#include "tracker/platform/platform.h"

/* A wall clock this far off the monotonic one (either way) is a jump. */
#define TK_CLOCK_JUMP_MS 2000

struct tk_recorder_opts {
    const struct tk_clock *clock;
    const struct tk_platform *platform;
    struct tk_platform_ctx *pctx; /* open; borrowed */
    struct tk_journal *journal;   /* borrowed */
    const char *account;          /* copied */
    const char *device_id;        /* copied */
    int segment_s;                /* a valid segment length (st_segment_len_valid) */
    int idle_threshold_s;         /* 0: TK_IDLE_THRESHOLD_DEFAULT_S */
    int idle_answer_s;            /* 0: TK_IDLE_ANSWER_S */
    int monitor;                  /* TK_MONITOR_ALL or an index */
    struct tk_encode_opts encode;
};

struct tk_recorder;

struct tk_recorder *tk_recorder_new(const struct tk_recorder_opts *o, tk_event_fn cb,
                                    void *userdata);
/* Frees the recorder; it must be stopped. Accepts NULL. */
void tk_recorder_free(struct tk_recorder *r);

/*
 * Starts the timer on contract_id with memo and tags (a JSON array of
 * strings, copied). Input that arrived while stopped is drained and
 * dropped. Reopens the journal's segment of the current slot when there is
 * one (the same id, so the next upload extends it). -EALREADY when running.
 */
int tk_recorder_start(struct tk_recorder *r, const char *contract_id, const char *memo,
                      json_t *tags, bool screenshots);
/*
 * Stops the timer. For TK_STOP_USER the time up to now is counted and the
 * screenshot taken now if its moment has not come; for the other reasons
 * nothing more is captured and a missing screenshot is marked failed with
 * message. The open bucket is written and the segment queued.
 */
int tk_recorder_stop(struct tk_recorder *r, enum tk_stop_reason reason, const char *message);
/* Counts what happened since the last tick; see engine.h for what it may report. */
int tk_recorder_tick(struct tk_recorder *r);
/* Milliseconds until the next tick is due (a bucket end, the screenshot moment, idle), or -1. */
int tk_recorder_timeout_ms(struct tk_recorder *r);

/* New memo / tags for the current segment on (a segment the server already has keeps its own). */
int tk_recorder_set_memo(struct tk_recorder *r, const char *memo);
int tk_recorder_set_tags(struct tk_recorder *r, json_t *tags);
/* Answers the idle prompt; -ENOENT when none is open. */
int tk_recorder_answer_idle(struct tk_recorder *r, enum tk_idle_answer answer);

bool tk_recorder_running(const struct tk_recorder *r);
/* The segment being recorded (open bucket included), or NULL when stopped. Borrowed. */
const struct tk_seg *tk_recorder_segment(const struct tk_recorder *r);
/* Whether the idle prompt is open, and since when (UTC seconds) there was no input. */
bool tk_recorder_idle_prompt(const struct tk_recorder *r, int64_t *ret_since);
/* The screenshot moment of the current segment (UTC ms), or 0 when none is pending. */
int64_t tk_recorder_shot_moment(const struct tk_recorder *r);

#endif
