/*
 * IANA time zones, read from the system's compiled zoneinfo files (TZif,
 * /usr/share/zoneinfo or $TZDIR), without touching the process's TZ: safe to
 * use from many threads at once. Used to cut days for diary views.
 */
#ifndef STINT_TZ_H
#define STINT_TZ_H

#include <stdbool.h>
#include <stdint.h>

struct st_tz;

/*
 * Returns the zone named name ("UTC", "Europe/Berlin", ...), loading it on
 * first use. The zone is cached for the life of the process and must not be
 * freed. Returns NULL for a name that is not a zone: empty, too long (over
 * 64 bytes), absolute, holding "..", a character outside [A-Za-z0-9/_+-],
 * or no TZif file of that name. Thread-safe.
 */
const struct st_tz *st_tz_get(const char *name);
/* The zone's name as it was asked for. */
const char *st_tz_name(const struct st_tz *tz);
/* The zone's offset from UTC in seconds at instant t (east positive). */
int st_tz_offset(const struct st_tz *tz, int64_t t);
/* The local calendar date at instant t in the zone. */
void st_tz_local_date(const struct st_tz *tz, int64_t t, int *ret_y, int *ret_m, int *ret_d);
/*
 * The first UTC instant whose local date in the zone is y-m-d: where that
 * day begins. Days are 23 or 25 hours long across DST changes, and a day
 * that starts in a gap begins at the end of the gap.
 */
int64_t st_tz_day_start(const struct st_tz *tz, int y, int m, int d);

#endif
