/*
 * UTC instants and civil dates. An instant is an int64_t count of seconds
 * since 1970-01-01T00:00:00Z (leap seconds ignored, as POSIX does). These
 * functions never consult the process time zone and are thread-safe.
 */
#ifndef STINT_UTC_H
#define STINT_UTC_H

#include <stdbool.h>
#include <stdint.h>

/* The range of instants stint accepts anywhere: years 1970 to 9999. */
#define ST_TIME_MIN INT64_C(0)
#define ST_TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

#define ST_TIME_STRLEN 21 /* "2026-11-23T10:20:00Z" + NUL */

/*
 * Parses an RFC 3339 timestamp: "YYYY-MM-DDTHH:MM:SS" then an optional
 * fraction (truncated toward the earlier second) then "Z" or "+HH:MM" /
 * "-HH:MM" (converted to UTC). 't' and 'z' are accepted too. Returns 0, or
 * -EINVAL for anything else, including impossible dates (Feb 30), seconds
 * of 60, and instants outside ST_TIME_MIN..ST_TIME_MAX.
 */
int st_utc_parse(const char *s, int64_t *ret_t);
/* Formats t as "YYYY-MM-DDTHH:MM:SSZ"; out holds ST_TIME_STRLEN bytes. */
void st_utc_format(int64_t t, char out[ST_TIME_STRLEN]);

/* Days since 1970-01-01 for a proleptic Gregorian date (any year). */
int64_t st_days_from_civil(int y, int m, int d);
/* The date of a day number. */
void st_civil_from_days(int64_t days, int *ret_y, int *ret_m, int *ret_d);
/* True for a real date (month 1-12, day within the month, leap years). */
bool st_date_valid(int y, int m, int d);
/* Parses "YYYY-MM-DD" (years 1970-9999); returns 0 or -EINVAL. */
int st_date_parse(const char *s, int *ret_y, int *ret_m, int *ret_d);
/* Formats a date as "YYYY-MM-DD"; out holds 11 bytes. */
void st_date_format(int y, int m, int d, char out[11]);
/* 1 = Monday ... 7 = Sunday, for a day number. */
int st_weekday_of_days(int64_t days);

#endif
