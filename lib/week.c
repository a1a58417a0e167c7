/*
 * The Work Diary's calendar in UTC: ISO 8601 weeks (Monday to Sunday), the
 * lock at the Monday 12:00 after a week, and segment slots. Local-time views
 * are not done here; tz.c cuts days in a zone.
 */
#include "lib/week.h"

#include <errno.h>

#include "lib/utc.h"

/* Division and remainder that round toward minus infinity (b > 0). */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if (a % b != 0 && a < 0)
        q--;
    return q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    int64_t r = a % b;

    return r < 0 ? r + b : r;
}

/* Day 0, 1970-01-01, was a Thursday; the Monday before it is day -3. */
#define MONDAY_EPOCH_S (-3 * (int64_t)ST_DAY_S)

int64_t st_week_start(int64_t t)
{
    /* Avoid overflow for absurd inputs; real instants are far inside. */
    if (t < INT64_MIN / 2)
        t = INT64_MIN / 2;
    if (t > INT64_MAX / 2)
        t = INT64_MAX / 2;
    return t - floor_mod(t - MONDAY_EPOCH_S, ST_WEEK_S);
}

int64_t st_week_lock(int64_t t)
{
    return st_week_start(t) + ST_LOCK_AFTER_S;
}

bool st_week_locked(int64_t t, int64_t now)
{
    return now >= st_week_lock(t);
}

/* The ISO year and week of a day number: the week belongs to the year of its Thursday. */
static void iso_week_of_days(int64_t days, int *ret_year, int *ret_week)
{
    int64_t thursday = days - st_weekday_of_days(days) + 4;
    int y, m, d;

    st_civil_from_days(thursday, &y, &m, &d);
    *ret_year = y;
    *ret_week = (int)((thursday - st_days_from_civil(y, 1, 1)) / 7) + 1;
}

void st_iso_week(int64_t t, int *ret_year, int *ret_week)
{
    if (t < INT64_MIN / 2)
        t = INT64_MIN / 2;
    if (t > INT64_MAX / 2)
        t = INT64_MAX / 2;
    iso_week_of_days(floor_div(t, ST_DAY_S), ret_year, ret_week);
}

void st_iso_week_format(int64_t t, char out[9])
{
    int y, w;

    st_iso_week(t, &y, &w);
    y = y < 0 ? 0 : y > 9999 ? 9999 : y;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = 'W';
    out[6] = (char)('0' + w / 10);
    out[7] = (char)('0' + w % 10);
    out[8] = '\0';
}

int st_iso_week_parse(const char *s, int64_t *ret_week_start)
{
    int y = 0, w = 0, got_y, got_w;
    int64_t jan4, monday;

    for (int i = 0; i < 4; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        y = y * 10 + (s[i] - '0');
    }
    if (s[4] != '-' || s[5] != 'W')
        return -EINVAL;
    for (int i = 6; i < 8; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        w = w * 10 + (s[i] - '0');
    }
    if (s[8] != '\0' || y < 1970 || w < 1 || w > 53)
        return -EINVAL;
    /* Week 1 is the week holding January 4. */
    jan4 = st_days_from_civil(y, 1, 4);
    monday = jan4 - (st_weekday_of_days(jan4) - 1) + (int64_t)(w - 1) * 7;
    /* Week 53 of a 52-week year is week 1 of the next. */
    iso_week_of_days(monday, &got_y, &got_w);
    if (got_y != y || got_w != w)
        return -EINVAL;
    *ret_week_start = monday * ST_DAY_S;
    return 0;
}

bool st_segment_len_valid(int segment_s)
{
    return segment_s > 0 && segment_s % 10 == 0 && ST_DAY_S % segment_s == 0;
}

int64_t st_slot_start(int64_t t, int segment_s)
{
    /* A bad length has no slots; every instant is then its own. */
    if (segment_s <= 0)
        return t;
    return t - floor_mod(t, segment_s);
}

bool st_slot_aligned(int64_t t, int segment_s)
{
    return segment_s > 0 && floor_mod(t, segment_s) == 0;
}
