/*
 * The segment: the unit of the Work Diary (shared/spec/DOMAIN.md). This is
 * the wire form the tracker uploads and the server checks, with the rules
 * both sides share: bucket counts, activity level, the exact tracked
 * seconds, the "only extends" test of an idempotent re-upload, and the
 * unusual-input rule. No storage and no HTTP here.
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
};

/* Frees what s owns (not s itself). */
void st_segment_release(struct st_segment *s);

/*
 * Reads the upload form of API.md into ret_seg and checks every field:
 * unknown fields, types, a start on a slot boundary of segment_s, exactly
 * ten buckets, tracked_s within a bucket's length (segment_s / 10),
 * synthetic ≤ keys + mouse, caps on every count and string, tracker-side
 * flags only, a screenshot time within the slot. Returns 0 or -EINVAL with
 * a message for the user in err.
 */
int st_segment_from_json(json_t *obj, int segment_s, struct st_segment *ret_seg, char *err,
                         size_t errlen);
/* Checks a tags array (strings, 1-40 characters, at most 20, no repeats); 0 or -EINVAL. */
int st_segment_check_tags(json_t *tags, char *err, size_t errlen);
/* The upload form (what the tracker sends). */
json_t *st_segment_to_json(const struct st_segment *s);

/* Seconds tracked: the exact sum over the buckets. */
int st_segment_tracked(const struct st_segment *s);
/* Activity level 0-10: buckets with any input. */
int st_segment_activity(const struct st_segment *s);
/* More than half of all input synthetic. */
bool st_segment_unusual(const struct st_segment *s);
/*
 * True when next is old or only extends it: same contract, device, start,
 * memo and tags; no bucket value goes down; flags only added; screenshot
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

/* The buckets as 40 comma-separated integers (the storage form), and back. */
void st_buckets_format(const struct st_bucket b[ST_SEG_BUCKETS], char *out, size_t outlen);
int st_buckets_parse(const char *s, struct st_bucket b[ST_SEG_BUCKETS]);

#endif
