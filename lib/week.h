/*
 * The calendar rules of the Work Diary (see shared/spec/DOMAIN.md): ISO
 * weeks, the Monday 12:00 UTC lock, and segment slots. All in UTC; pure
 * functions on int64_t instants (seconds since the epoch).
 */
#ifndef STINT_WEEK_H
#define STINT_WEEK_H

#include <stdbool.h>
#include <stdint.h>

#define ST_DAY_S 86400
#define ST_WEEK_S (7 * ST_DAY_S)
/* The week locks this long after its Monday 00:00: the next Monday 12:00. */
#define ST_LOCK_AFTER_S (ST_WEEK_S + 12 * 3600)

/* Monday 00:00 UTC of the ISO week that holds t. */
int64_t st_week_start(int64_t t);
/* The instant the week holding t locks (the Monday 12:00 UTC after it). */
int64_t st_week_lock(int64_t t);
/* True when the week holding t is locked at instant now. */
bool st_week_locked(int64_t t, int64_t now);

/* The ISO 8601 week-numbering year and week (1-53) of t. */
void st_iso_week(int64_t t, int *ret_year, int *ret_week);
/* Formats the ISO week of t as "YYYY-Www"; out holds 9 bytes. */
void st_iso_week_format(int64_t t, char out[9]);
/*
 * Parses "YYYY-Www" and returns that week's Monday 00:00 UTC. Week 53 is
 * valid only in years that have one. Returns 0 or -EINVAL.
 */
int st_iso_week_parse(const char *s, int64_t *ret_week_start);

/*
 * True for a segment length stint allows: positive, a multiple of 10 s, a
 * divisor of 86400 (so a day holds whole segments and 10 equal buckets of
 * whole seconds fit one).
 */
bool st_segment_len_valid(int segment_s);
/* The start of the slot that holds t (t floored to a multiple of segment_s). */
int64_t st_slot_start(int64_t t, int segment_s);
/* True when t is a slot boundary. */
bool st_slot_aligned(int64_t t, int segment_s);

#endif
