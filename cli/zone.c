/*
 * Zones and wall-clock times for the command-line client.
 */
#include "cli/zone.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/output.h"
#include "lib/json.h"
#include "lib/utc.h"
#include "lib/week.h"

static int local_to_utc(const struct st_tz *tz, int64_t local, int64_t *ret_t)
{
    /*
     * Try the offsets in force a day either side: a wall-clock time maps to
     * zero, one or two instants; take the earliest that maps back exactly.
     */
    int64_t candidates[2] = {
        local - st_tz_offset(tz, local - ST_DAY_S),
        local - st_tz_offset(tz, local + ST_DAY_S),
    };
    bool found = false;
    int64_t best = 0;

    for (int i = 0; i < 2; i++) {
        int64_t t = candidates[i];
        if (t + st_tz_offset(tz, t) != local)
            continue;
        if (!found || t < best)
            best = t;
        found = true;
    }
    if (!found)
        return -EINVAL;
    *ret_t = best;
    return 0;
}

int cli_parse_time(const char *s, const struct st_tz *tz, int64_t *ret_t)
{
    int y, mo, d, h, mi, sec = 0, n = 0;
    char sep;
    int64_t local;

    if (st_utc_parse(s, ret_t) == 0)
        return 0;
    if (sscanf(s, "%4d-%2d-%2d%c%2d:%2d%n", &y, &mo, &d, &sep, &h, &mi, &n) != 6 || n == 0)
        return -EINVAL;
    if (s[n] == ':') {
        int m = 0;
        if (sscanf(s + n, ":%2d%n", &sec, &m) != 1 || m != 3)
            return -EINVAL;
        n += m;
    }
    /* Fixed widths only: "2026-1-5 9:5" is refused rather than guessed at. */
    if (s[n] != '\0' || n < 16 || s[4] != '-' || s[7] != '-' || s[13] != ':')
        return -EINVAL;
    if ((sep != ' ' && sep != 'T') || !st_date_valid(y, mo, d) || y < 1970 || h > 23 || h < 0 ||
        mi > 59 || mi < 0 || sec > 59 || sec < 0)
        return -EINVAL;
    local = st_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    return local_to_utc(tz, local, ret_t);
}

void cli_format_clock(int64_t t, const struct st_tz *tz, int seconds, char out[9])
{
    int64_t local = t + st_tz_offset(tz, t);
    int64_t day_s = ((local % 86400) + 86400) % 86400;

    if (seconds)
        snprintf(out, 9, "%02d:%02d:%02d", (int)(day_s / 3600), (int)(day_s / 60 % 60),
                 (int)(day_s % 60));
    else
        snprintf(out, 9, "%02d:%02d", (int)(day_s / 3600), (int)(day_s / 60 % 60));
}

void cli_format_date(int64_t t, const struct st_tz *tz, char out[11])
{
    int y, m, d;

    st_tz_local_date(tz, t, &y, &m, &d);
    st_date_format(y, m, d, out);
}
