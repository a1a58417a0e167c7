/*
 * The segment: the unit of the Work Diary (shared/spec/DOMAIN.md). This is
 * the wire form the tracker uploads and the server checks, with the rules
 * both sides share: bucket counts, activity level, the exact tracked
 * seconds, the "only extends" test of an idempotent re-upload, and the
 * unusual-input rule. No storage and no HTTP here.
 *
 * Two measures of activity (docs/api.md "Activity"): counts (keys and
 * mouse events, X11 and Windows) and active seconds (seconds with any
 * input, Wayland, where counts are unavailable). A segment holds one; the
 * activity level is the number of buckets with input under it.
 */
#ifndef STINT_SEGMENT_H
#define STINT_SEGMENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define ST_SEG_BUCKETS 10
#define ST_SEG_MEMO_MAX 1000     /* characters */
#define ST_SEG_TAGS_MAX 20
#define ST_SEG_TAG_MAX 40        /* characters */
#define ST_SEG_COUNT_MAX 1000000 /* events in one bucket: far beyond any human */
#define ST_SEG_DEVICE_MAX 64
#define ST_SEG_REASON_MAX 200
/* No segment starts before 2000-01-01T00:00:00Z: an earlier one is a broken clock. */
#define ST_SEG_START_MIN INT64_C(946684800)

/* Flags the tracker may set; the server adds the rest. */
enum {
    ST_FLAG_IDLE_KEPT = 1 << 0,
    ST_FLAG_CLOCK_JUMP = 1 << 1,
    ST_FLAG_UNUSUAL_INPUT = 1 << 2,
    ST_FLAG_MANUAL = 1 << 3,
    ST_FLAG_OVER_LIMIT = 1 << 4,
    ST_FLAG_OVERLAP = 1 << 5,
    ST_FLAG_NO_SCREENSHOT = 1 << 6,
};
#define ST_TRACKER_FLAGS (ST_FLAG_IDLE_KEPT | ST_FLAG_CLOCK_JUMP | ST_FLAG_UNUSUAL_INPUT)

struct st_bucket {
    int tracked_s;
    int keys;
    int mouse;
    int synthetic;
    /* Seconds of tracked_s with any input; meaningful only when the segment has_active_s. */
    int active_s;
};

/*
 * What a segment's activity is measured with. Counts: keys, mouse and
 * synthetic (active_s may come too). Active seconds: active_s only; the
 * counts are unavailable, sent as 0 and shown as null, and synthetic input
 * cannot be told apart, so unusual_input is never derived from them.
 */
enum st_measure {
    ST_MEASURE_COUNTS = 0,
    ST_MEASURE_ACTIVE_SECONDS = 1,
};

enum st_shot_status { ST_SHOT_NONE, ST_SHOT_OK, ST_SHOT_FAILED, ST_SHOT_DISABLED };

struct st_segment {
    char id[37];
    char contract_id[37];
    char device_id[ST_SEG_DEVICE_MAX * 4 + 1];
    int64_t start;
    struct st_bucket b[ST_SEG_BUCKETS];
    char *memo;    /* owned */
    json_t *tags;  /* owned array of strings */
    unsigned flags;
    enum st_shot_status shot_status;
    int64_t shot_taken_at; /* 0 when none */
    char shot_reason[ST_SEG_REASON_MAX * 4 + 1];
    enum st_measure measure;
    /* Every bucket's active_s is known (always so with ST_MEASURE_ACTIVE_SECONDS). */
    bool has_active_s;
};

/* Frees what s owns (not s itself). */
void st_segment_release(struct st_segment *s);

/*
 * Reads the upload form of API.md into ret_seg and checks every field:
 * unknown fields, types, a start on a slot boundary of segment_s, exactly
 * ten buckets, tracked_s within a bucket's length (segment_s / 10),
 * synthetic ≤ keys + mouse, caps on every count and string, tracker-side
 * flags only, a screenshot time within the slot. "activity_measure" is
 * "counts" (the default) or "active_seconds"; "active_s" is in all ten
 * minutes or in none, 0..tracked_s; with active_seconds it is required and
 * keys, mouse and synthetic must be 0. Returns 0 or -EINVAL with a message
 * for the user in err.
 */
int st_segment_from_json(json_t *obj, int segment_s, struct st_segment *ret_seg, char *err,
                         size_t errlen);
/* Checks a tags array (strings, 1-40 characters, at most 20, no repeats); 0 or -EINVAL. */
int st_segment_check_tags(json_t *tags, char *err, size_t errlen);
/*
 * The upload form (what the tracker sends). "activity_measure" only for
 * active seconds and "active_s" only when known, so that a counts segment
 * reads as it did before either existed.
 */
json_t *st_segment_to_json(const struct st_segment *s);

/* Seconds tracked: the exact sum over the buckets. */
int st_segment_tracked(const struct st_segment *s);
/*
 * Activity level 0-10: buckets with any input, one rule for both measures:
 * keys + mouse > 0 (counts) or active_s > 0 (active seconds).
 */
bool st_bucket_has_input(const struct st_segment *s, int i);
int st_segment_activity(const struct st_segment *s);
/* More than half of all input synthetic; never for active seconds (it cannot be told). */
bool st_segment_unusual(const struct st_segment *s);
/*
 * True when next is old or only extends it: same contract, device, start,
 * memo, tags and activity measure; no bucket value goes down (active_s,
 * once known, may not go away); flags only added; screenshot
 * details either absent (the stored ones stay), or the same as stored, or
 * set where none were (a time may fill in where only the status was set).
 */
bool st_segment_extends(const struct st_segment *old, const struct st_segment *next);

/* Flag names: bit → "idle_kept" etc.; name → bit (0 when unknown). */
const char *st_flag_name(unsigned bit);
unsigned st_flag_parse(const char *name);
/* A JSON array of the names of the bits set in flags, in a fixed order. */
json_t *st_flags_to_json(unsigned flags);

const char *st_shot_status_name(enum st_shot_status s);

/* "counts" / "active_seconds", and back (0, or -EINVAL for another name). */
const char *st_measure_name(enum st_measure m);
int st_measure_parse(const char *name, enum st_measure *ret_m);

/*
 * The buckets as comma-separated integers (the storage form), and back:
 * 40 (tracked_s, keys, mouse, synthetic per bucket) without active_s, as
 * rows written before active seconds existed; 50 (the same and active_s)
 * with it. The parser takes either and says which in *ret_active (may be
 * NULL). outlen of ST_BUCKETS_TEXT_MAX always suffices.
 */
#define ST_BUCKETS_TEXT_MAX (ST_SEG_BUCKETS * 5 * 12)
void st_buckets_format(const struct st_bucket b[ST_SEG_BUCKETS], bool active, char *out,
                       size_t outlen);
int st_buckets_parse(const char *s, struct st_bucket b[ST_SEG_BUCKETS], bool *ret_active);

#endif
