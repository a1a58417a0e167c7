/*
 * Segments as stored: the row around the wire form of lib/segment.h, its
 * JSON as the diary shows it, and the week rules that need every segment
 * of a week at once: overlap (a bucket tracked twice is billed once), the
 * weekly limit (time past it is flagged over_limit and not billed), and
 * the no_screenshot and unusual_input flags.
 */
#ifndef STINT_SEGMENTS_H
#define STINT_SEGMENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/segment.h"

struct store_tx;

struct seg_row {
    struct st_segment s;
    char freelancer_id[37];
    int seg_s;
    bool manual;
    bool deleted;
    char shot_blob[65];
    char thumb_blob[65];
    char shot_type[24];
    int64_t shot_bytes;
    int64_t received_at;
    /* Computed by segments_compute_week() (or, without the week, segments_compute_own()): */
    unsigned flags;       /* every flag, tracker's and server's */
    int billable_s;
    int over_limit_s;
    bool week_computed;   /* false: billable_s, over_limit_s, overlap and over_limit not known */
};

void segments_release(struct seg_row *r);
void segments_free_rows(struct seg_row *rows, size_t n);

/* Loads one segment of a contract by id (deleted ones too); 0, -ENOENT or -EIO. */
int segments_get(struct store_tx *tx, const char *contract_id, const char *id,
                 struct seg_row *ret_row);
/*
 * Loads the segment with this id from a contract the user is a party to;
 * -ENOENT when there is none (whether or not a stranger's segment has the
 * same id). Deleted ones are found too.
 */
int segments_find_for(struct store_tx *tx, const char *id, const char *user_id,
                      struct seg_row *ret_row);
/*
 * Loads the segments of a contract whose start is in [from, to), ordered
 * by start then id, deleted ones left out. The caller frees the rows.
 */
int segments_list(struct store_tx *tx, const char *contract_id, int64_t from, int64_t to,
                  struct seg_row **ret_rows, size_t *ret_n);
int segments_insert(struct store_tx *tx, const struct seg_row *r, int64_t now);
/* Writes the buckets, flags and screenshot status of an extended segment. */
int segments_update_extend(struct store_tx *tx, const struct seg_row *r, int64_t now);

/*
 * Applies the week rules to rows: every segment of one contract in one
 * week, ordered by start. limit is the week's limit (CONTRACT_NO_LIMIT for
 * none); screenshots tells whether the contract asks for them.
 */
void segments_compute_week(struct seg_row *rows, size_t n, int64_t limit, bool screenshots);

/*
 * Loads the week around one segment and computes its flags. Fills
 * r->flags, r->billable_s and r->over_limit_s.
 */
int segments_compute_one(struct store_tx *tx, struct seg_row *r);

/*
 * The flags a segment has on its own (manual, unusual_input,
 * no_screenshot), without loading its week: what a write may answer with.
 */
void segments_compute_own(struct seg_row *r, bool screenshots);

/* The segment object of API.md, with the server's fields. */
json_t *segments_to_json(const struct seg_row *r);
/*
 * The same object as compact JSON text, byte for byte what
 * json_dumps(segments_to_json(r), JSON_COMPACT) gives, written straight
 * into one buffer (the diary's hot loop). *ret_len bytes; free() it.
 */
char *segments_json_text(const struct seg_row *r, size_t *ret_len);

/* Appends an audit record. */
int segments_audit(struct store_tx *tx, int64_t now, const char *actor, const char *action,
                   const char *object, json_t *detail);

#endif
