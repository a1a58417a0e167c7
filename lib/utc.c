/*
 * UTC instants and proleptic Gregorian dates: RFC 3339 text in and out, and
 * day numbers. Pure arithmetic, no libc time functions, so it never sees the
 * process time zone and is safe from any thread. Zones live in tz.c.
 */
#include "lib/utc.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    if (m == 2 && is_leap(y))
        return 29;
    return len[m - 1];
}

/*
 * Howard Hinnant's days_from_civil: count in 400-year eras of 146097 days,
 * with years starting on March 1 so the leap day falls at the end. Done in
 * 64 bits so that any int year, month and day give a defined result.
 */
int64_t st_days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t mm = m;
    int64_t era = floor_div(yy, 400);
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (mm > 2 ? mm - 3 : mm + 9) + 2) / 5 + (int64_t)d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

void st_civil_from_days(int64_t days, int *ret_y, int *ret_m, int *ret_d)
{
    int64_t z, era, doe, yoe, y, doy, mp;

    /* Keep the arithmetic in range; such days have no int year anyway. */
    if (days > INT64_MAX / 2)
        days = INT64_MAX / 2;
    if (days < INT64_MIN / 2)
        days = INT64_MIN / 2;
    z = days + 719468;
    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *ret_d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *ret_m = (int)(mp < 10 ? mp + 3 : mp - 9);
    y += (*ret_m <= 2);
    if (y > INT_MAX)
        y = INT_MAX;
    if (y < INT_MIN)
        y = INT_MIN;
    *ret_y = (int)y;
}

bool st_date_valid(int y, int m, int d)
{
    if (m < 1 || m > 12 || d < 1)
        return false;
    return d <= days_in_month(y, m);
}

int st_weekday_of_days(int64_t days)
{
    /* Day 0, 1970-01-01, was a Thursday (4). */
    int64_t r = days % 7;

    if (r < 0)
        r += 7;
    return (int)((r + 3) % 7) + 1;
}

/* Reads exactly n ASCII digits at s; returns the value or -1. */
static int read_digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Writes v as exactly n digits (v is reduced modulo 10^n). */
static void put_digits(char *out, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Parses "YYYY-MM-DD" at s (no range check on the year). */
static int parse_ymd(const char *s, int *ret_y, int *ret_m, int *ret_d)
{
    int y = read_digits(s, 4);
    int m, d;

    if (y < 0 || s[4] != '-')
        return -EINVAL;
    m = read_digits(s + 5, 2);
    if (m < 0 || s[7] != '-')
        return -EINVAL;
    d = read_digits(s + 8, 2);
    if (d < 0 || !st_date_valid(y, m, d))
        return -EINVAL;
    *ret_y = y;
    *ret_m = m;
    *ret_d = d;
    return 0;
}

int st_utc_parse(const char *s, int64_t *ret_t)
{
    int y, m, d, hh, mi, ss, r;
    int64_t t;
    const char *p;

    /* Each read stops at the first byte that does not match, so no read passes the NUL. */
    r = parse_ymd(s, &y, &m, &d);
    if (r < 0)
        return r;
    if (s[10] != 'T' && s[10] != 't')
        return -EINVAL;
    hh = read_digits(s + 11, 2);
    if (hh < 0 || hh > 23 || s[13] != ':')
        return -EINVAL;
    mi = read_digits(s + 14, 2);
    if (mi < 0 || mi > 59 || s[16] != ':')
        return -EINVAL;
    ss = read_digits(s + 17, 2);
    if (ss < 0 || ss > 59)
        return -EINVAL;
    p = s + 19;
    if (*p == '.') {
        /* The fraction is dropped: truncation toward the earlier second. */
        p++;
        if (*p < '0' || *p > '9')
            return -EINVAL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    t = st_days_from_civil(y, m, d) * 86400 + hh * 3600 + mi * 60 + ss;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh = read_digits(p + 1, 2);
        int om;

        if (oh < 0 || oh > 23 || p[3] != ':')
            return -EINVAL;
        om = read_digits(p + 4, 2);
        if (om < 0 || om > 59)
            return -EINVAL;
        /* Local = UTC + offset, so UTC = local - offset. */
        t -= (*p == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
        p += 6;
    } else {
        return -EINVAL;
    }
    if (*p != '\0' || t < ST_TIME_MIN || t > ST_TIME_MAX)
        return -EINVAL;
    *ret_t = t;
    return 0;
}

void st_utc_format(int64_t t, char out[ST_TIME_STRLEN])
{
    int y, m, d;
    int64_t days, sod;

    /* Outside the range the text would not be four-digit years; clamp. */
    if (t < ST_TIME_MIN)
        t = ST_TIME_MIN;
    if (t > ST_TIME_MAX)
        t = ST_TIME_MAX;
    days = t / 86400;
    sod = t % 86400;
    st_civil_from_days(days, &y, &m, &d);
    st_date_format(y, m, d, out);
    out[10] = 'T';
    put_digits(out + 11, (unsigned)(sod / 3600), 2);
    out[13] = ':';
    put_digits(out + 14, (unsigned)(sod / 60 % 60), 2);
    out[16] = ':';
    put_digits(out + 17, (unsigned)(sod % 60), 2);
    out[19] = 'Z';
    out[20] = '\0';
}

int st_date_parse(const char *s, int *ret_y, int *ret_m, int *ret_d)
{
    int y, m, d;

    if (parse_ymd(s, &y, &m, &d) < 0 || s[10] != '\0' || y < 1970)
        return -EINVAL;
    *ret_y = y;
    *ret_m = m;
    *ret_d = d;
    return 0;
}

void st_date_format(int y, int m, int d, char out[11])
{
    /* Out-of-range parts are clamped so the text always fits. */
    y = y < 0 ? 0 : y > 9999 ? 9999 : y;
    m = m < 0 ? 0 : m > 99 ? 99 : m;
    d = d < 0 ? 0 : d > 99 ? 99 : d;
    put_digits(out, (unsigned)y, 4);
    out[4] = '-';
    put_digits(out + 5, (unsigned)m, 2);
    out[7] = '-';
    put_digits(out + 8, (unsigned)d, 2);
    out[10] = '\0';
}
