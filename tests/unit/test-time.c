/*
 * Unit tests for the time modules: utc.c (RFC 3339 and civil dates), week.c
 * (ISO weeks, the Monday lock, segment slots) and tz.c (TZif zones and day
 * cuts). Zone tests read the system's zoneinfo plus small TZif files written
 * here to a temporary $TZDIR, which exercise footers and malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/tz.h"
#include "lib/utc.h"
#include "lib/week.h"

#define H 3600

/* Parses a timestamp that the test knows to be valid. */
static int64_t T(const char *s)
{
    int64_t t = -1;

    assert_int_equal(st_utc_parse(s, &t), 0);
    return t;
}

static void assert_parse_fails(const char *s)
{
    int64_t t = 12345;

    if (st_utc_parse(s, &t) != -EINVAL)
        fail_msg("'%s' was accepted", s);
    /* Out-parameters are written only on success. */
    assert_int_equal(t, 12345);
}

/* ---- utc.c ---- */

static void test_days_from_civil_known(void **state)
{
    assert_int_equal(st_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(st_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(st_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(st_days_from_civil(1, 1, 1), -719162);
    assert_int_equal(st_days_from_civil(9999, 12, 31), 2932896);
}

static void test_civil_round_trip(void **state)
{
    int py, pm, pd;

    /* Every day from year -220 to 10000: consecutive, valid, and reversible. */
    st_civil_from_days(-800001, &py, &pm, &pd);
    for (int64_t n = -800000; n <= 2933000; n++) {
        int y, m, d;

        st_civil_from_days(n, &y, &m, &d);
        if (!st_date_valid(y, m, d) || st_days_from_civil(y, m, d) != n)
            fail_msg("day %lld gave %d-%d-%d", (long long)n, y, m, d);
        if (d == 1) {
            if (!(m == pm + 1 && y == py) && !(m == 1 && pm == 12 && y == py + 1))
                fail_msg("day %lld: %d-%d-%d after %d-%d-%d", (long long)n, y, m, d, py, pm, pd);
        } else if (!(y == py && m == pm && d == pd + 1)) {
            fail_msg("day %lld: %d-%d-%d after %d-%d-%d", (long long)n, y, m, d, py, pm, pd);
        }
        py = y;
        pm = m;
        pd = d;
    }
}

static void test_leap_years(void **state)
{
    assert_true(st_date_valid(2000, 2, 29));
    assert_false(st_date_valid(1900, 2, 29));
    assert_true(st_date_valid(2024, 2, 29));
    assert_false(st_date_valid(2100, 2, 29));
    assert_true(st_date_valid(2400, 2, 29));
    assert_false(st_date_valid(2026, 2, 29));
    assert_true(st_date_valid(2026, 2, 28));
    assert_int_equal(st_days_from_civil(2024, 3, 1) - st_days_from_civil(2024, 2, 28), 2);
    assert_int_equal(st_days_from_civil(2100, 3, 1) - st_days_from_civil(2100, 2, 28), 1);
    assert_int_equal(st_days_from_civil(2001, 1, 1) - st_days_from_civil(2000, 1, 1), 366);
    assert_int_equal(st_days_from_civil(1901, 1, 1) - st_days_from_civil(1900, 1, 1), 365);
}

static void test_date_valid_edges(void **state)
{
    assert_false(st_date_valid(2026, 0, 1));
    assert_false(st_date_valid(2026, 13, 1));
    assert_false(st_date_valid(2026, 1, 0));
    assert_false(st_date_valid(2026, 1, 32));
    assert_false(st_date_valid(2026, 4, 31));
    assert_true(st_date_valid(2026, 12, 31));
    assert_false(st_date_valid(2026, -1, 10));
}

static void test_weekday(void **state)
{
    assert_int_equal(st_weekday_of_days(0), 4); /* 1970-01-01, a Thursday */
    assert_int_equal(st_weekday_of_days(-1), 3);
    assert_int_equal(st_weekday_of_days(-4), 7);
    assert_int_equal(st_weekday_of_days(st_days_from_civil(2026, 11, 23)), 1);
    assert_int_equal(st_weekday_of_days(st_days_from_civil(2026, 11, 29)), 7);
    assert_int_equal(st_weekday_of_days(st_days_from_civil(2000, 2, 29)), 2);
}

static void test_utc_parse_known(void **state)
{
    assert_int_equal(T("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(T("2026-11-23T10:20:00Z"), 1795429200);
    assert_int_equal(T("2024-02-29T12:34:56Z"), 1709210096);
    assert_int_equal(T("9999-12-31T23:59:59Z"), ST_TIME_MAX);
    assert_int_equal(T("2026-11-23t10:20:00z"), 1795429200);
}

static void test_utc_parse_offsets(void **state)
{
    assert_int_equal(T("2026-11-23T15:50:00+05:30"), 1795429200);
    assert_int_equal(T("2026-11-23T02:20:00-08:00"), 1795429200);
    assert_int_equal(T("2026-11-23T10:20:00+00:00"), 1795429200);
    /* The offset can move the instant across a date line. */
    assert_int_equal(T("2026-11-22T23:20:00-11:00"), 1795429200);
    assert_int_equal(T("1970-01-01T01:00:00+01:00"), 0);
    assert_parse_fails("1970-01-01T00:59:59+01:00");
    assert_parse_fails("9999-12-31T23:59:59-00:01");
}

static void test_utc_parse_fraction(void **state)
{
    assert_int_equal(T("2026-11-23T10:20:00.999999999Z"), 1795429200);
    assert_int_equal(T("2026-11-23T10:20:00.5Z"), 1795429200);
    assert_int_equal(T("2026-11-23T10:20:59.999+00:00"), 1795429259);
    assert_int_equal(T("2026-11-23T11:20:00.1+01:00"), 1795429200);
    assert_parse_fails("2026-11-23T10:20:00.Z");
    assert_parse_fails("2026-11-23T10:20:00,5Z");
    assert_parse_fails("2026-11-23T10:20:00.5.5Z");
}

static void test_utc_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-11-23T24:00:00Z",
        "2026-11-23T23:60:00Z",
        "2026-11-23T23:59:60Z",
        "2026-11-23T10:20:00",
        "2026-11-23T10:20:00Z ",
        "2026-11-23T10:20:00Zjunk",
        "2026-11-23T10:20:00+05:30x",
        "2026-11-23 10:20:00Z",
        "2026-11-23T10:20Z",
        "2026-1-23T10:20:00Z",
        "26-11-23T10:20:00Z",
        "12026-11-23T10:20:00Z",
        "+12026-11-23T10:20:00Z",
        "1969-12-31T23:59:59Z",
        "0000-01-01T00:00:00Z",
        "2026-11-23T10:20:00+5:30",
        "2026-11-23T10:20:00+05",
        "2026-11-23T10:20:00+0530",
        "2026-11-23T10:20:00+24:00",
        "2026-11-23T10:20:00+05:60",
        "2026-11-23T10:20:00UTC",
        ("\xef\xbc\x92"
         "026-11-23T10:20:00Z"),
        "\xff\xfe\xfd\xfc",
        "abcdefghijklmnopqrstuvwxyz",
        "2026-11-23T1:20:00Z",
        "2026-11-23T-1:20:00Z",
        " 2026-11-23T10:20:00Z",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_parse_fails(bad[i]);
}

static void test_utc_round_trip(void **state)
{
    static const char *const good[] = {
        "1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2026-11-23T10:20:00Z",
        "2026-12-31T23:59:59Z", "2100-03-01T00:00:00Z", "9999-12-31T23:59:59Z",
    };
    char buf[ST_TIME_STRLEN];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        st_utc_format(T(good[i]), buf);
        assert_string_equal(buf, good[i]);
    }
    /* Every 7777th second over a few years survives format then parse. */
    for (int64_t t = T("2023-06-01T00:00:00Z"); t < T("2029-01-01T00:00:00Z"); t += 7777) {
        st_utc_format(t, buf);
        assert_int_equal(T(buf), t);
    }
}

static void test_utc_format_clamps(void **state)
{
    char buf[ST_TIME_STRLEN];

    st_utc_format(-1, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    st_utc_format(INT64_MAX, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
}

static void test_date_parse_format(void **state)
{
    int y = 0, m = 0, d = 0;
    char buf[11];

    assert_int_equal(st_date_parse("2024-02-29", &y, &m, &d), 0);
    assert_int_equal(y, 2024);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
    assert_int_equal(st_date_parse("2026-02-29", &y, &m, &d), -EINVAL);
    assert_int_equal(st_date_parse("1900-02-29", &y, &m, &d), -EINVAL);
    assert_int_equal(st_date_parse("1969-12-31", &y, &m, &d), -EINVAL);
    assert_int_equal(st_date_parse("1970-01-01", &y, &m, &d), 0);
    assert_int_equal(st_date_parse("9999-12-31", &y, &m, &d), 0);
    assert_int_equal(st_date_parse("2026-11-23x", &y, &m, &d), -EINVAL);
    assert_int_equal(st_date_parse("2026-11-2", &y, &m, &d), -EINVAL);
    assert_int_equal(st_date_parse("2026/11/23", &y, &m, &d), -EINVAL);
    assert_int_equal(st_date_parse("", &y, &m, &d), -EINVAL);
    assert_int_equal(st_date_parse("2026-11-23T00:00:00Z", &y, &m, &d), -EINVAL);
    /* Untouched by the failures. */
    assert_int_equal(y, 9999);
    st_date_format(2026, 3, 8, buf);
    assert_string_equal(buf, "2026-03-08");
    st_date_format(1970, 1, 1, buf);
    assert_string_equal(buf, "1970-01-01");
}

/* ---- week.c ---- */

static void test_week_start(void **state)
{
    int64_t mon = T("2026-11-23T00:00:00Z");

    assert_int_equal(st_week_start(mon), mon);
    assert_int_equal(st_week_start(T("2026-11-25T13:14:15Z")), mon);
    assert_int_equal(st_week_start(T("2026-11-29T23:59:59Z")), mon);
    assert_int_equal(st_week_start(T("2026-11-30T00:00:00Z")), mon + ST_WEEK_S);
    assert_int_equal(st_week_start(mon - 1), mon - ST_WEEK_S);
    /* The week of the epoch began on Monday 1969-12-29. */
    assert_int_equal(st_week_start(0), -3 * ST_DAY_S);
    assert_int_equal(st_week_start(-1), -3 * ST_DAY_S);
    assert_int_equal(st_week_start(-3 * ST_DAY_S - 1), -10 * ST_DAY_S);
}

static void test_week_lock(void **state)
{
    int64_t sun = T("2026-11-29T23:59:59Z");
    int64_t lock = T("2026-11-30T12:00:00Z");

    assert_int_equal(st_week_lock(sun), lock);
    assert_int_equal(st_week_lock(T("2026-11-23T00:00:00Z")), lock);
    assert_int_equal(st_week_lock(T("2026-11-30T00:00:00Z")), lock + ST_WEEK_S);
    assert_false(st_week_locked(sun, lock - 1));
    assert_true(st_week_locked(sun, lock));
    assert_true(st_week_locked(sun, lock + 1));
    /* During the next week's first morning the past week is still open. */
    assert_false(st_week_locked(sun, T("2026-11-30T11:59:59Z")));
    /* The current week is never locked. */
    assert_false(st_week_locked(T("2026-11-30T00:00:00Z"), lock));
}

static void assert_iso(const char *when, int year, int week, const char *text)
{
    int y = 0, w = 0;
    char buf[9];

    st_iso_week(T(when), &y, &w);
    assert_int_equal(y, year);
    assert_int_equal(w, week);
    st_iso_week_format(T(when), buf);
    assert_string_equal(buf, text);
}

static void test_iso_week(void **state)
{
    assert_iso("2026-12-31T12:00:00Z", 2026, 53, "2026-W53");
    assert_iso("2027-01-01T00:00:00Z", 2026, 53, "2026-W53");
    assert_iso("2027-01-03T23:59:59Z", 2026, 53, "2026-W53");
    assert_iso("2027-01-04T00:00:00Z", 2027, 1, "2027-W01");
    assert_iso("2024-12-30T00:00:00Z", 2025, 1, "2025-W01");
    assert_iso("2024-12-29T23:59:59Z", 2024, 52, "2024-W52");
    assert_iso("2025-12-29T00:00:00Z", 2026, 1, "2026-W01");
    assert_iso("2021-01-03T10:00:00Z", 2020, 53, "2020-W53");
    assert_iso("2010-01-03T10:00:00Z", 2009, 53, "2009-W53");
    assert_iso("2026-11-23T10:20:00Z", 2026, 48, "2026-W48");
    assert_iso("1970-01-01T00:00:00Z", 1970, 1, "1970-W01");
}

static void test_iso_week_parse(void **state)
{
    int64_t t = 0;

    assert_int_equal(st_iso_week_parse("2026-W53", &t), 0);
    assert_int_equal(t, T("2026-12-28T00:00:00Z"));
    assert_int_equal(st_iso_week_parse("2026-W01", &t), 0);
    assert_int_equal(t, T("2025-12-29T00:00:00Z"));
    assert_int_equal(st_iso_week_parse("2020-W53", &t), 0);
    assert_int_equal(t, T("2020-12-28T00:00:00Z"));
    assert_int_equal(st_iso_week_parse("2015-W53", &t), 0);
    assert_int_equal(t, T("2015-12-28T00:00:00Z"));
    assert_int_equal(st_iso_week_parse("2025-W01", &t), 0);
    assert_int_equal(t, T("2024-12-30T00:00:00Z"));
    assert_int_equal(st_iso_week_parse("2026-W48", &t), 0);
    assert_int_equal(t, T("2026-11-23T00:00:00Z"));
}

static void test_iso_week_parse_rejects(void **state)
{
    static const char *const bad[] = {
        "2021-W53", "2027-W53", "2025-W53", "2026-W00",  "2026-W54",  "2026-W99",
        "2026-w01", "2026W01",  "26-W01",   "2026-W1",   "2026-W011", "",
        "1969-W01", "2026-01",  "2026-W-1", " 2026-W01", "2026-W01 ",
    };
    int64_t t = 42;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (st_iso_week_parse(bad[i], &t) != -EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
    assert_int_equal(t, 42);
}

static void test_iso_week_round_trip(void **state)
{
    char buf[9];
    int64_t start;

    /* Every week from 1970 to 2100 formats and parses back to its Monday. */
    for (int64_t t = 0; t < T("2100-01-01T00:00:00Z"); t += ST_WEEK_S) {
        st_iso_week_format(t, buf);
        assert_int_equal(st_iso_week_parse(buf, &start), 0);
        assert_int_equal(start, st_week_start(t));
    }
}

static void test_segment_len_valid(void **state)
{
    static const int good[] = {10, 20, 30, 60, 120, 300, 600, 900, 1200, 3600, 7200, 43200, 86400};
    static const int bad[] = {0,  -600, -10,   7,      15,        25,
                              70, 7000, 86410, 172800, INT32_MAX, INT32_MIN};

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!st_segment_len_valid(good[i]))
            fail_msg("%d rejected", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (st_segment_len_valid(bad[i]))
            fail_msg("%d accepted", bad[i]);
}

static void test_slots(void **state)
{
    int64_t t = T("2026-11-23T10:27:13Z");

    assert_int_equal(st_slot_start(t, 600), T("2026-11-23T10:20:00Z"));
    assert_int_equal(st_slot_start(t, 10), T("2026-11-23T10:27:10Z"));
    assert_int_equal(st_slot_start(t, 60), T("2026-11-23T10:27:00Z"));
    assert_int_equal(st_slot_start(t, 300), T("2026-11-23T10:25:00Z"));
    assert_int_equal(st_slot_start(t, 3600), T("2026-11-23T10:00:00Z"));
    assert_int_equal(st_slot_start(t, 86400), T("2026-11-23T00:00:00Z"));
    assert_int_equal(st_slot_start(T("2026-11-23T10:20:00Z"), 600), T("2026-11-23T10:20:00Z"));
    assert_int_equal(st_slot_start(T("2026-11-23T10:29:59Z"), 600), T("2026-11-23T10:20:00Z"));
    assert_true(st_slot_aligned(T("2026-11-23T10:20:00Z"), 600));
    assert_false(st_slot_aligned(T("2026-11-23T10:20:01Z"), 600));
    assert_false(st_slot_aligned(T("2026-11-23T10:25:00Z"), 600));
    assert_true(st_slot_aligned(T("2026-11-23T10:25:00Z"), 300));
    assert_true(st_slot_aligned(0, 600));
    assert_false(st_slot_aligned(600, 0));
    assert_false(st_slot_aligned(600, -600));
    /* Slots before the epoch still floor downwards. */
    assert_int_equal(st_slot_start(-1, 600), -600);
}

static void test_last_slot_of_week(void **state)
{
    int64_t slot = st_slot_start(T("2026-11-29T23:55:00Z"), 600);

    assert_int_equal(slot, T("2026-11-29T23:50:00Z"));
    assert_int_equal(st_week_start(slot), T("2026-11-23T00:00:00Z"));
    /* A slot never straddles two weeks, for any valid length. */
    for (int len = 10; len <= 86400; len += 10) {
        if (!st_segment_len_valid(len))
            continue;
        int64_t last = st_slot_start(T("2026-11-29T23:59:59Z"), len);
        assert_int_equal(st_week_start(last), T("2026-11-23T00:00:00Z"));
        assert_int_equal(last + len, T("2026-11-30T00:00:00Z"));
    }
}

/* ---- tz.c with the system's zoneinfo ---- */

static const struct st_tz *zone(const char *name)
{
    const struct st_tz *tz = st_tz_get(name);

    if (!tz)
        fail_msg("zone '%s' did not load", name);
    return tz;
}

static void test_tz_utc(void **state)
{
    const struct st_tz *tz = zone("Etc/UTC");

    assert_string_equal(st_tz_name(tz), "Etc/UTC");
    assert_int_equal(st_tz_offset(tz, T("2026-07-01T00:00:00Z")), 0);
    assert_int_equal(st_tz_day_start(tz, 2026, 11, 23), T("2026-11-23T00:00:00Z"));
}

static void test_tz_utc_without_files(void **state)
{
    char *old = getenv("TZDIR") ? strdup(getenv("TZDIR")) : NULL;
    const struct st_tz *tz;

    setenv("TZDIR", "/nonexistent/zoneinfo", 1);
    tz = st_tz_get("UTC");
    assert_non_null(tz);
    assert_int_equal(st_tz_offset(tz, T("2026-07-01T00:00:00Z")), 0);
    assert_null(st_tz_get("Asia/Tokyo"));
    if (old)
        setenv("TZDIR", old, 1);
    else
        unsetenv("TZDIR");
    free(old);
}

static void test_tz_cached(void **state)
{
    const struct st_tz *a = zone("Europe/Berlin");

    assert_ptr_equal(st_tz_get("Europe/Berlin"), a);
    assert_string_equal(st_tz_name(a), "Europe/Berlin");
}

static void test_tz_berlin(void **state)
{
    const struct st_tz *tz = zone("Europe/Berlin");

    assert_int_equal(st_tz_offset(tz, T("2026-01-15T12:00:00Z")), 1 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-07-15T12:00:00Z")), 2 * H);
    /* 2026-03-29 01:00Z: 02:00 CET becomes 03:00 CEST. */
    assert_int_equal(st_tz_offset(tz, T("2026-03-29T00:59:59Z")), 1 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-03-29T01:00:00Z")), 2 * H);
    /* 2026-10-25 01:00Z: 03:00 CEST becomes 02:00 CET. */
    assert_int_equal(st_tz_offset(tz, T("2026-10-25T00:59:59Z")), 2 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-10-25T01:00:00Z")), 1 * H);
}

static void test_tz_new_york(void **state)
{
    const struct st_tz *tz = zone("America/New_York");
    int64_t mar8 = st_tz_day_start(tz, 2026, 3, 8);
    int64_t mar9 = st_tz_day_start(tz, 2026, 3, 9);
    int64_t nov1 = st_tz_day_start(tz, 2026, 11, 1);
    int64_t nov2 = st_tz_day_start(tz, 2026, 11, 2);

    assert_int_equal(st_tz_offset(tz, T("2026-03-08T06:59:59Z")), -5 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-03-08T07:00:00Z")), -4 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-11-01T05:59:59Z")), -4 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-11-01T06:00:00Z")), -5 * H);
    assert_int_equal(mar8, T("2026-03-08T05:00:00Z"));
    assert_int_equal(mar9, T("2026-03-09T04:00:00Z"));
    assert_int_equal(mar9 - mar8, 23 * H);
    assert_int_equal(nov1, T("2026-11-01T04:00:00Z"));
    assert_int_equal(nov2, T("2026-11-02T05:00:00Z"));
    assert_int_equal(nov2 - nov1, 25 * H);
    assert_int_equal(st_tz_day_start(tz, 2026, 11, 3) - nov2, 24 * H);
}

static void test_tz_kolkata(void **state)
{
    const struct st_tz *tz = zone("Asia/Kolkata");

    assert_int_equal(st_tz_offset(tz, T("2026-01-15T12:00:00Z")), 5 * H + 1800);
    assert_int_equal(st_tz_offset(tz, T("2026-07-15T12:00:00Z")), 5 * H + 1800);
    assert_int_equal(st_tz_day_start(tz, 2026, 11, 23), T("2026-11-22T18:30:00Z"));
}

static void test_tz_lord_howe(void **state)
{
    const struct st_tz *tz = zone("Australia/Lord_Howe");
    int64_t apr5 = st_tz_day_start(tz, 2026, 4, 5);
    int64_t oct4 = st_tz_day_start(tz, 2026, 10, 4);

    /* +11 in the southern summer, +10:30 in winter: a 30-minute shift. */
    assert_int_equal(st_tz_offset(tz, T("2026-01-15T00:00:00Z")), 11 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-07-15T00:00:00Z")), 10 * H + 1800);
    assert_int_equal(apr5, T("2026-04-04T13:00:00Z"));
    assert_int_equal(st_tz_day_start(tz, 2026, 4, 6) - apr5, 24 * H + 1800);
    assert_int_equal(oct4, T("2026-10-03T13:30:00Z"));
    assert_int_equal(st_tz_day_start(tz, 2026, 10, 5) - oct4, 23 * H + 1800);
}

static void test_tz_far_future(void **state)
{
    const struct st_tz *berlin = zone("Europe/Berlin");
    const struct st_tz *ny = zone("America/New_York");

    /* Past any table in the file: the footer rule decides. */
    assert_int_equal(st_tz_offset(berlin, T("2090-01-01T00:00:00Z")), 1 * H);
    assert_int_equal(st_tz_offset(berlin, T("2090-07-01T00:00:00Z")), 2 * H);
    assert_int_equal(st_tz_offset(ny, T("2090-07-01T00:00:00Z")), -4 * H);
    assert_int_equal(st_tz_offset(ny, T("2090-12-01T00:00:00Z")), -5 * H);
    /* 2090-03-26 is the last Sunday of March. */
    assert_int_equal(st_tz_day_start(berlin, 2090, 3, 26), T("2090-03-25T23:00:00Z"));
    assert_int_equal(st_tz_day_start(berlin, 2090, 3, 27) - st_tz_day_start(berlin, 2090, 3, 26),
                     23 * H);
    assert_int_equal(st_tz_offset(berlin, T("9999-07-01T00:00:00Z")), 2 * H);
}

static void test_tz_etc_gmt_sign(void **state)
{
    /* POSIX-style names count west as positive: Etc/GMT+5 is UTC-5. */
    assert_int_equal(st_tz_offset(zone("Etc/GMT+5"), T("2026-07-01T00:00:00Z")), -5 * H);
    assert_int_equal(st_tz_offset(zone("Etc/GMT-14"), T("2026-07-01T00:00:00Z")), 14 * H);
}

static void assert_local_date(const struct st_tz *tz, const char *when, const char *date)
{
    int y, m, d;
    char buf[11];

    st_tz_local_date(tz, T(when), &y, &m, &d);
    st_date_format(y, m, d, buf);
    if (strcmp(buf, date) != 0)
        fail_msg("%s at %s: %s, expected %s", st_tz_name(tz), when, buf, date);
}

static void test_tz_local_date_midnight(void **state)
{
    const struct st_tz *berlin = zone("Europe/Berlin");
    const struct st_tz *kolkata = zone("Asia/Kolkata");
    const struct st_tz *ny = zone("America/New_York");

    assert_local_date(berlin, "2026-11-22T22:59:59Z", "2026-11-22");
    assert_local_date(berlin, "2026-11-22T23:00:00Z", "2026-11-23");
    assert_local_date(berlin, "2026-07-01T21:59:59Z", "2026-07-01");
    assert_local_date(berlin, "2026-07-01T22:00:00Z", "2026-07-02");
    assert_local_date(kolkata, "2026-11-22T18:29:59Z", "2026-11-22");
    assert_local_date(kolkata, "2026-11-22T18:30:00Z", "2026-11-23");
    assert_local_date(ny, "2026-11-23T04:59:59Z", "2026-11-22");
    assert_local_date(ny, "2026-11-23T05:00:00Z", "2026-11-23");
    assert_local_date(ny, "2027-01-01T04:59:59Z", "2026-12-31");
    assert_local_date(ny, "2027-01-01T05:00:00Z", "2027-01-01");
}

static void test_tz_day_starts_in_gap(void **state)
{
    const struct st_tz *sp = zone("America/Sao_Paulo");
    const struct st_tz *havana = zone("America/Havana");

    /* 2018-11-04: clocks jumped from 00:00 to 01:00, so the day began at 01:00 -02. */
    assert_int_equal(st_tz_day_start(sp, 2018, 11, 4), T("2018-11-04T03:00:00Z"));
    assert_int_equal(st_tz_day_start(sp, 2018, 11, 5) - st_tz_day_start(sp, 2018, 11, 4), 23 * H);
    /* 2019-02-17: 00:00 -02 went back to 23:00 -03 on the 16th, a 25-hour day. */
    assert_int_equal(st_tz_day_start(sp, 2019, 2, 16), T("2019-02-16T02:00:00Z"));
    assert_int_equal(st_tz_day_start(sp, 2019, 2, 17), T("2019-02-17T03:00:00Z"));
    /* Havana still starts DST at midnight, by its footer rule too. */
    assert_int_equal(st_tz_day_start(havana, 2026, 3, 8), T("2026-03-08T05:00:00Z"));
    assert_int_equal(st_tz_day_start(havana, 2026, 3, 7), T("2026-03-07T05:00:00Z"));
    assert_int_equal(st_tz_day_start(havana, 2090, 3, 12), T("2090-03-12T05:00:00Z"));
}

static void test_tz_skipped_day(void **state)
{
    const struct st_tz *apia = zone("Pacific/Apia");

    /* Samoa skipped 2011-12-30: it has no instants, and starts where the 31st does. */
    assert_int_equal(st_tz_day_start(apia, 2011, 12, 29), T("2011-12-29T10:00:00Z"));
    assert_int_equal(st_tz_day_start(apia, 2011, 12, 30), T("2011-12-30T10:00:00Z"));
    assert_int_equal(st_tz_day_start(apia, 2011, 12, 31), T("2011-12-30T10:00:00Z"));
    assert_local_date(apia, "2011-12-30T09:59:59Z", "2011-12-29");
    assert_local_date(apia, "2011-12-30T10:00:00Z", "2011-12-31");
}

/* Every day of a span: day_start is in that day, the second before is not. */
static void check_days(const char *name, int y0, int y1, int64_t len_a, int64_t len_b)
{
    const struct st_tz *tz = zone(name);

    for (int64_t n = st_days_from_civil(y0, 1, 1); n < st_days_from_civil(y1, 1, 1); n++) {
        int y, m, d, ly, lm, ld;
        int64_t s, next, len;

        st_civil_from_days(n, &y, &m, &d);
        s = st_tz_day_start(tz, y, m, d);
        st_civil_from_days(n + 1, &ly, &lm, &ld);
        next = st_tz_day_start(tz, ly, lm, ld);
        len = next - s;
        st_tz_local_date(tz, s, &ly, &lm, &ld);
        if (ly != y || lm != m || ld != d)
            fail_msg("%s %d-%d-%d starts on %d-%d-%d", name, y, m, d, ly, lm, ld);
        st_tz_local_date(tz, s - 1, &ly, &lm, &ld);
        if (st_days_from_civil(ly, lm, ld) != n - 1)
            fail_msg("%s %d-%d-%d: the second before is %d-%d-%d", name, y, m, d, ly, lm, ld);
        if (len != 24 * H && len != len_a && len != len_b)
            fail_msg("%s %d-%d-%d is %lld s long", name, y, m, d, (long long)len);
    }
}

static void test_tz_every_day(void **state)
{
    check_days("Europe/Berlin", 2020, 2031, 23 * H, 25 * H);
    check_days("America/New_York", 2020, 2031, 23 * H, 25 * H);
    check_days("Australia/Lord_Howe", 2020, 2031, 23 * H + 1800, 24 * H + 1800);
    check_days("Australia/Sydney", 2085, 2095, 23 * H, 25 * H);
    check_days("Asia/Kolkata", 2020, 2031, 24 * H, 24 * H);
    check_days("America/Havana", 2020, 2031, 23 * H, 25 * H);
    check_days("Asia/Gaza", 2020, 2031, 23 * H, 25 * H);
}

static void test_tz_invalid_names(void **state)
{
    static const char *const bad[] = {
        "../etc/passwd",           "/etc/localtime", "",         "Not/AZone",
        "Europe/../Europe/Berlin", "Europe/Ber lin", "zone.tab", "Europe",
        "Europe/Berlin\n",         "Europe/Berlin/", ".",        "Europe\\Berlin",
        "Europe/Berlin%00",
    };
    char longname[201];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (st_tz_get(bad[i]))
            fail_msg("'%s' loaded", bad[i]);
    assert_null(st_tz_get(NULL));
    memset(longname, 'A', 200);
    longname[200] = '\0';
    assert_null(st_tz_get(longname));
    /* 64 bytes is the most a name may hold; 65 is refused before any lookup. */
    longname[64] = '\0';
    assert_null(st_tz_get(longname));
    longname[64] = 'A';
    longname[65] = '\0';
    assert_null(st_tz_get(longname));
}

struct tz_thread {
    const struct st_tz *got;
    int offset;
};

static void *tz_thread_main(void *arg)
{
    struct tz_thread *th = arg;

    th->got = st_tz_get("Asia/Tokyo");
    th->offset = th->got ? st_tz_offset(th->got, 1795429200) : -1;
    return NULL;
}

static void test_tz_threads(void **state)
{
    pthread_t tid[8];
    struct tz_thread th[8];

    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&tid[i], NULL, tz_thread_main, &th[i]), 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_join(tid[i], NULL), 0);
    for (int i = 0; i < 8; i++) {
        assert_ptr_equal(th[i].got, th[0].got);
        assert_int_equal(th[i].offset, 9 * H);
    }
}

/* ---- tz.c with TZif files written here ---- */

static char tzdir[64];

static void put32(unsigned char **p, uint32_t v)
{
    (*p)[0] = (unsigned char)(v >> 24);
    (*p)[1] = (unsigned char)(v >> 16);
    (*p)[2] = (unsigned char)(v >> 8);
    (*p)[3] = (unsigned char)v;
    *p += 4;
}

static void put_header(unsigned char **p, char version, uint32_t timecnt, uint32_t typecnt,
                       uint32_t charcnt)
{
    memcpy(*p, "TZif", 4);
    (*p)[4] = (unsigned char)version;
    memset(*p + 5, 0, 15);
    *p += 20;
    put32(p, 0); /* isutcnt */
    put32(p, 0); /* isstdcnt */
    put32(p, 0); /* leapcnt */
    put32(p, timecnt);
    put32(p, typecnt);
    put32(p, charcnt);
}

/*
 * A version 2 file: an empty 32-bit block, then transitions at trans[i] to
 * type idx[i], types with offsets offs[], and the footer (NULL: none).
 */
static size_t make_tzif(unsigned char *buf, const int64_t *trans, const unsigned char *idx,
                        int timecnt, const int32_t *offs, int typecnt, const char *footer)
{
    unsigned char *p = buf;

    put_header(&p, '2', 0, 1, 1);
    put32(&p, 0);
    *p++ = 0;
    *p++ = 0;
    *p++ = 0; /* the one designation byte */
    put_header(&p, '2', (uint32_t)timecnt, (uint32_t)typecnt, 4);
    for (int i = 0; i < timecnt; i++) {
        put32(&p, (uint32_t)((uint64_t)trans[i] >> 32));
        put32(&p, (uint32_t)trans[i]);
    }
    for (int i = 0; i < timecnt; i++)
        *p++ = idx[i];
    for (int i = 0; i < typecnt; i++) {
        put32(&p, (uint32_t)offs[i]);
        *p++ = 0;
        *p++ = 0;
    }
    memcpy(p, "ZZZ", 4);
    p += 4;
    if (footer)
        p += sprintf((char *)p, "\n%s\n", footer);
    return (size_t)(p - buf);
}

static void write_zone(const char *name, const void *data, size_t len)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tzdir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Loads a zone from the test directory rather than the system's. */
static const struct st_tz *test_zone(const char *name)
{
    const struct st_tz *tz;

    setenv("TZDIR", tzdir, 1);
    tz = st_tz_get(name);
    unsetenv("TZDIR");
    return tz;
}

static const struct st_tz *footer_zone(const char *name, const char *footer)
{
    unsigned char buf[512];
    int32_t off = 0;

    write_zone(name, buf, make_tzif(buf, NULL, NULL, 0, &off, 1, footer));
    return test_zone(name);
}

static int setup_tzdir(void **state)
{
    strcpy(tzdir, "/tmp/stint-test-tz-XXXXXX");
    return mkdtemp(tzdir) ? 0 : -1;
}

static int teardown_tzdir(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tzdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_footer_fixed(void **state)
{
    const struct st_tz *tz = footer_zone("Fixed_0330", "<+0330>-3:30");

    assert_non_null(tz);
    assert_int_equal(st_tz_offset(tz, T("2026-01-01T00:00:00Z")), 3 * H + 1800);
    assert_int_equal(st_tz_offset(tz, T("2090-07-01T00:00:00Z")), 3 * H + 1800);
    assert_int_equal(st_tz_day_start(tz, 2026, 11, 23), T("2026-11-22T20:30:00Z"));
}

static void test_footer_julian_and_negative_time(void **state)
{
    /* J60 is March 1 every year; /-1 is 23:00 the day before; J300/25 is Oct 28 01:00. */
    const struct st_tz *tz = footer_zone("Footer_J", "<-03>3<-02>,J60/-1,J300/25");

    assert_non_null(tz);
    assert_int_equal(st_tz_offset(tz, T("2026-03-01T01:59:59Z")), -3 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-03-01T02:00:00Z")), -2 * H);
    assert_int_equal(st_tz_offset(tz, T("2028-03-01T01:59:59Z")), -3 * H);
    assert_int_equal(st_tz_offset(tz, T("2028-03-01T02:00:00Z")), -2 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-10-28T02:59:59Z")), -2 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-10-28T03:00:00Z")), -3 * H);
    /* The day that begins at the gap: Feb 28 ends at 23:00, so March 1 starts an hour early. */
    assert_int_equal(st_tz_day_start(tz, 2026, 3, 1) - st_tz_day_start(tz, 2026, 2, 28), 23 * H);
}

static void test_footer_zero_based_days(void **state)
{
    /* Day 59 counts Feb 29: March 1 in 2026, Feb 29 in 2028. Day 364 is Dec 31 or Dec 30. */
    const struct st_tz *tz = footer_zone("Footer_N", "<+05>-5<+06>,59,364/0");

    assert_non_null(tz);
    assert_int_equal(st_tz_offset(tz, T("2026-02-28T20:59:59Z")), 5 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-02-28T21:00:00Z")), 6 * H);
    assert_int_equal(st_tz_offset(tz, T("2028-02-28T20:59:59Z")), 5 * H);
    assert_int_equal(st_tz_offset(tz, T("2028-02-28T21:00:00Z")), 6 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-12-30T17:59:59Z")), 6 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-12-30T18:00:00Z")), 5 * H);
    assert_int_equal(st_tz_offset(tz, T("2028-12-29T17:59:59Z")), 6 * H);
    assert_int_equal(st_tz_offset(tz, T("2028-12-29T18:00:00Z")), 5 * H);
}

static void test_footer_dst_all_year(void **state)
{
    /* RFC 8536's example of daylight time all year round. */
    const struct st_tz *tz = footer_zone("Footer_AllYear", "EST5EDT4,0/0,J365/25");

    assert_non_null(tz);
    assert_int_equal(st_tz_offset(tz, T("2026-01-01T05:00:00Z")), -4 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-01-01T04:59:59Z")), -4 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-07-01T00:00:00Z")), -4 * H);
    assert_int_equal(st_tz_offset(tz, T("2026-12-31T23:59:59Z")), -4 * H);
    assert_int_equal(st_tz_day_start(tz, 2026, 6, 1), T("2026-06-01T04:00:00Z"));
}

static void test_footer_us_and_southern(void **state)
{
    const struct st_tz *us = footer_zone("Footer_US", "EST5EDT,M3.2.0,M11.1.0");
    const struct st_tz *chile = footer_zone("Footer_Chile", "<-04>4<-03>,M9.1.6/24,M4.1.6/24");

    assert_non_null(us);
    assert_non_null(chile);
    assert_int_equal(st_tz_offset(us, T("2026-03-08T06:59:59Z")), -5 * H);
    assert_int_equal(st_tz_offset(us, T("2026-03-08T07:00:00Z")), -4 * H);
    assert_int_equal(st_tz_offset(us, T("2026-11-01T05:59:59Z")), -4 * H);
    assert_int_equal(st_tz_offset(us, T("2026-11-01T06:00:00Z")), -5 * H);
    /* Southern summer spans the new year. */
    assert_int_equal(st_tz_offset(chile, T("2026-01-01T00:00:00Z")), -3 * H);
    assert_int_equal(st_tz_offset(chile, T("2026-06-01T00:00:00Z")), -4 * H);
    /* First Saturday of April 2026 is the 4th: 24:00 -03 is 03:00Z on the 5th. */
    assert_int_equal(st_tz_offset(chile, T("2026-04-05T02:59:59Z")), -3 * H);
    assert_int_equal(st_tz_offset(chile, T("2026-04-05T03:00:00Z")), -4 * H);
    /* First Saturday of September 2026 is the 5th: 24:00 -04 is 04:00Z on the 6th. */
    assert_int_equal(st_tz_offset(chile, T("2026-09-06T03:59:59Z")), -4 * H);
    assert_int_equal(st_tz_offset(chile, T("2026-09-06T04:00:00Z")), -3 * H);
    /* So September 6 starts at 01:00 local, in the gap's end. */
    assert_int_equal(st_tz_day_start(chile, 2026, 9, 6), T("2026-09-06T04:00:00Z"));
}

static void test_tzif_table_then_footer(void **state)
{
    /* A table up to 2000 at +1, then a footer at +2: the footer rules after the last entry. */
    int64_t trans[] = {T("1990-01-01T00:00:00Z"), T("2000-01-01T00:00:00Z")};
    unsigned char idx[] = {1, 1};
    int32_t offs[] = {0, 1 * H};
    unsigned char buf[512];
    const struct st_tz *tz;

    write_zone("Table_Footer", buf, make_tzif(buf, trans, idx, 2, offs, 2, "<+02>-2"));
    tz = test_zone("Table_Footer");
    assert_non_null(tz);
    assert_int_equal(st_tz_offset(tz, T("1980-01-01T00:00:00Z")), 0);
    assert_int_equal(st_tz_offset(tz, T("1995-01-01T00:00:00Z")), 1 * H);
    assert_int_equal(st_tz_offset(tz, T("1999-12-31T23:59:59Z")), 1 * H);
    assert_int_equal(st_tz_offset(tz, T("2000-01-01T00:00:00Z")), 2 * H);
    assert_int_equal(st_tz_offset(tz, T("2050-01-01T00:00:00Z")), 2 * H);
}

static void test_tzif_version1(void **state)
{
    unsigned char buf[128], *p = buf;
    const struct st_tz *tz;

    put_header(&p, '\0', 1, 2, 4);
    put32(&p, (uint32_t)T("2000-01-01T00:00:00Z"));
    *p++ = 1;
    put32(&p, 0);
    *p++ = 0;
    *p++ = 0;
    put32(&p, (uint32_t)(-3 * H));
    *p++ = 0;
    *p++ = 0;
    memcpy(p, "ZZZ", 4);
    p += 4;
    write_zone("Version_1", buf, (size_t)(p - buf));
    tz = test_zone("Version_1");
    assert_non_null(tz);
    assert_int_equal(st_tz_offset(tz, T("1999-12-31T23:59:59Z")), 0);
    assert_int_equal(st_tz_offset(tz, T("2000-01-01T00:00:00Z")), -3 * H);
    assert_int_equal(st_tz_offset(tz, T("2090-01-01T00:00:00Z")), -3 * H);
}

static void test_tzif_malformed(void **state)
{
    unsigned char buf[1024], *p;
    int64_t trans[] = {T("2000-01-01T00:00:00Z"), T("1990-01-01T00:00:00Z")};
    unsigned char idx[] = {0, 0}, bad_idx[] = {0, 5};
    int32_t offs[] = {0}, huge_off[] = {30 * H};
    int64_t sorted[] = {T("1990-01-01T00:00:00Z"), T("2000-01-01T00:00:00Z")};
    size_t n;
    FILE *f;
    char path[128];

    /* Transitions out of order; a type index past the types; an absurd offset. */
    write_zone("Bad_Order", buf, make_tzif(buf, trans, idx, 2, offs, 1, ""));
    assert_null(test_zone("Bad_Order"));
    write_zone("Bad_Index", buf, make_tzif(buf, sorted, bad_idx, 2, offs, 1, ""));
    assert_null(test_zone("Bad_Index"));
    write_zone("Bad_Offset", buf, make_tzif(buf, NULL, NULL, 0, huge_off, 1, ""));
    assert_null(test_zone("Bad_Offset"));
    /* Footers that are not POSIX TZ strings, or lack their newlines. */
    assert_null(footer_zone("Bad_Footer1", "garbage"));
    assert_null(footer_zone("Bad_Footer2", "CET-1CEST,M3.5.0"));
    assert_null(footer_zone("Bad_Footer3", "CET-1CEST,M13.5.0,M10.5.0/3"));
    assert_null(footer_zone("Bad_Footer4", "CET-1CEST,M3.5.0,M10.5.0/168"));
    assert_null(footer_zone("Bad_Footer5", "AB-1"));
    assert_null(footer_zone("Bad_Footer6", "CET-25"));
    n = make_tzif(buf, NULL, NULL, 0, offs, 1, NULL);
    write_zone("No_Footer", buf, n);
    assert_null(test_zone("No_Footer"));
    /* An empty footer is allowed: the table alone rules. */
    assert_non_null(footer_zone("Empty_Footer", ""));

    /* Every truncation of a valid file fails cleanly. */
    n = make_tzif(buf, sorted, idx, 2, offs, 1, "CET-1CEST,M3.5.0,M10.5.0/3");
    for (size_t cut = 0; cut < n; cut++) {
        char name[32];

        snprintf(name, sizeof(name), "Cut_%zu", cut);
        write_zone(name, buf, cut);
        if (test_zone(name))
            fail_msg("a file cut to %zu of %zu bytes loaded", cut, n);
    }
    write_zone("Whole", buf, n);
    assert_non_null(test_zone("Whole"));

    /* Counts that promise far more data than the file holds. */
    p = buf;
    put_header(&p, '2', 0xFFFFFFFFu, 1, 1);
    write_zone("Huge_Count", buf, (size_t)(p - buf) + 16);
    assert_null(test_zone("Huge_Count"));
    p = buf;
    put_header(&p, '2', 0, 0xFFFFFFFFu, 0xFFFFFFFFu);
    write_zone("Huge_Types", buf, (size_t)(p - buf) + 16);
    assert_null(test_zone("Huge_Types"));
    /* A sound 32-bit part, then a 64-bit header that lies. */
    n = make_tzif(buf, NULL, NULL, 0, offs, 1, "UTC0");
    p = buf + 44 + 7 + 32;
    put32(&p, 0xFFFFFFFFu); /* 64-bit timecnt */
    write_zone("Huge_Count_V2", buf, n);
    assert_null(test_zone("Huge_Count_V2"));
    /* A zone with no local time types at all. */
    write_zone("No_Types", buf, make_tzif(buf, NULL, NULL, 0, offs, 0, ""));
    assert_null(test_zone("No_Types"));

    /* Not TZif at all, and an empty file. */
    write_zone("Not_Tzif", "#!/bin/sh\necho this is no zone at all\n",
               strlen("#!/bin/sh\necho this is no zone at all\n"));
    assert_null(test_zone("Not_Tzif"));
    write_zone("Empty", "", 0);
    assert_null(test_zone("Empty"));

    /* A file over the size cap is refused before it is read. */
    snprintf(path, sizeof(path), "%s/Too_Big", tzdir);
    f = fopen(path, "wb");
    assert_non_null(f);
    n = make_tzif(buf, NULL, NULL, 0, offs, 1, "UTC0");
    assert_int_equal(fwrite(buf, 1, n, f), n);
    assert_int_equal(fseek(f, 300 * 1024, SEEK_SET), 0);
    assert_int_equal(fputc('\n', f), '\n');
    assert_int_equal(fclose(f), 0);
    assert_null(test_zone("Too_Big"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* utc.c */
        cmocka_unit_test(test_days_from_civil_known),
        cmocka_unit_test(test_civil_round_trip),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_date_valid_edges),
        cmocka_unit_test(test_weekday),
        cmocka_unit_test(test_utc_parse_known),
        cmocka_unit_test(test_utc_parse_offsets),
        cmocka_unit_test(test_utc_parse_fraction),
        cmocka_unit_test(test_utc_parse_rejects),
        cmocka_unit_test(test_utc_round_trip),
        cmocka_unit_test(test_utc_format_clamps),
        cmocka_unit_test(test_date_parse_format),
        /* week.c */
        cmocka_unit_test(test_week_start),
        cmocka_unit_test(test_week_lock),
        cmocka_unit_test(test_iso_week),
        cmocka_unit_test(test_iso_week_parse),
        cmocka_unit_test(test_iso_week_parse_rejects),
        cmocka_unit_test(test_iso_week_round_trip),
        cmocka_unit_test(test_segment_len_valid),
        cmocka_unit_test(test_slots),
        cmocka_unit_test(test_last_slot_of_week),
        /* tz.c on the system's zoneinfo; the first use of "UTC" must be without files. */
        cmocka_unit_test(test_tz_utc_without_files),
        cmocka_unit_test(test_tz_utc),
        cmocka_unit_test(test_tz_cached),
        cmocka_unit_test(test_tz_berlin),
        cmocka_unit_test(test_tz_new_york),
        cmocka_unit_test(test_tz_kolkata),
        cmocka_unit_test(test_tz_lord_howe),
        cmocka_unit_test(test_tz_far_future),
        cmocka_unit_test(test_tz_etc_gmt_sign),
        cmocka_unit_test(test_tz_local_date_midnight),
        cmocka_unit_test(test_tz_day_starts_in_gap),
        cmocka_unit_test(test_tz_skipped_day),
        cmocka_unit_test(test_tz_every_day),
        cmocka_unit_test(test_tz_invalid_names),
        cmocka_unit_test(test_tz_threads),
        /* tz.c on TZif files written here */
        cmocka_unit_test(test_footer_fixed),
        cmocka_unit_test(test_footer_julian_and_negative_time),
        cmocka_unit_test(test_footer_zero_based_days),
        cmocka_unit_test(test_footer_dst_all_year),
        cmocka_unit_test(test_footer_us_and_southern),
        cmocka_unit_test(test_tzif_table_then_footer),
        cmocka_unit_test(test_tzif_version1),
        cmocka_unit_test(test_tzif_malformed),
    };

    /* The system's zone files must not be shadowed by a caller's TZDIR. */
    unsetenv("TZDIR");
    /* One group, so that the TAP stream has one plan. */
    return cmocka_run_group_tests_name("time", tests, setup_tzdir, teardown_tzdir);
}
