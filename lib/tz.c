/*
 * IANA time zones from compiled TZif files (RFC 8536), for cutting diary days
 * in a viewer's zone. The files are treated as untrusted input: size and
 * every count are checked before anything is allocated. This never touches
 * TZ, tzset() or localtime(), so it is safe from any thread. Zones load once
 * and stay cached for the life of the process.
 */
#include "lib/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/utc.h"
#include "lib/xalloc.h"

#define TZ_NAME_MAX 64
#define TZ_FILE_MAX (256 * 1024)
#define TZ_FOOTER_MAX 256
#define TZ_TYPES_MAX 256
/* Offsets beyond a day and an hour are not real; RFC 8536 allows -89999..93599. */
#define TZ_OFFSET_MAX (26 * 3600)
/* Instants are clamped to this before calendar arithmetic (over a million years). */
#define TZ_T_LIMIT (INT64_C(1) << 45)

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"

/* One transition date of a POSIX TZ rule: Jn, n or Mm.w.d, plus a time of day. */
struct tz_rule {
    char kind;    /* 'J' (1-365, no Feb 29), 'D' (0-365), 'M' (month.week.weekday) */
    int day;      /* J and D: the day; M: the weekday, 0 = Sunday */
    int month;    /* M only */
    int week;     /* M only, 1-5 (5 = the last) */
    int32_t secs; /* local time of day, -167h..167h */
};

/* The footer of a TZif file: the rule for instants after the last transition. */
struct tz_posix {
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    bool has_dst;
    struct tz_rule start; /* DST begins (given in standard time) */
    struct tz_rule end;   /* DST ends (given in daylight time) */
};

struct st_tz {
    struct st_tz *next;
    char name[TZ_NAME_MAX + 1];
    size_t timecnt;
    int64_t *trans;     /* strictly increasing */
    unsigned char *idx; /* the type in force from trans[i] */
    int typecnt;
    int32_t offs[TZ_TYPES_MAX];
    bool has_footer;
    struct tz_posix footer;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct st_tz *cache;

static int64_t clamp_t(int64_t t)
{
    if (t > TZ_T_LIMIT)
        return TZ_T_LIMIT;
    if (t < -TZ_T_LIMIT)
        return -TZ_T_LIMIT;
    return t;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    if (a % b != 0 && a < 0)
        q--;
    return q;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* ---- POSIX TZ strings (the TZif footer) ---- */

/* Reads an unsigned number of at most maxdigits digits no larger than max. */
static bool posix_num(const char **s, int maxdigits, int max, int *ret)
{
    const char *p = *s;
    int v = 0, n = 0;

    while (is_digit(*p) && n < maxdigits) {
        v = v * 10 + (*p - '0');
        p++;
        n++;
    }
    if (n == 0 || v > max || is_digit(*p))
        return false;
    *s = p;
    *ret = v;
    return true;
}

/* A zone abbreviation: three or more letters, or <...> of letters, digits, + and -. */
static bool posix_name(const char **s)
{
    const char *p = *s;
    int n = 0;

    if (*p == '<') {
        p++;
        while (is_alpha(*p) || is_digit(*p) || *p == '+' || *p == '-') {
            p++;
            n++;
        }
        if (*p != '>')
            return false;
        p++;
    } else {
        while (is_alpha(*p)) {
            p++;
            n++;
        }
    }
    if (n < 3)
        return false;
    *s = p;
    return true;
}

/* [+-]hh[:mm[:ss]] with hours up to maxh; returns seconds (sign applied). */
static bool posix_hms(const char **s, int maxh, int32_t *ret)
{
    const char *p = *s;
    int sign = 1, h, m = 0, sec = 0;

    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
    }
    if (!posix_num(&p, 3, maxh, &h))
        return false;
    if (*p == ':') {
        p++;
        if (!posix_num(&p, 2, 59, &m))
            return false;
        if (*p == ':') {
            p++;
            if (!posix_num(&p, 2, 59, &sec))
                return false;
        }
    }
    *s = p;
    *ret = sign * (h * 3600 + m * 60 + sec);
    return true;
}

static bool posix_rule(const char **s, struct tz_rule *r)
{
    const char *p = *s;

    if (*p == 'J') {
        p++;
        r->kind = 'J';
        if (!posix_num(&p, 3, 365, &r->day) || r->day < 1)
            return false;
    } else if (*p == 'M') {
        p++;
        r->kind = 'M';
        if (!posix_num(&p, 2, 12, &r->month) || r->month < 1 || *p++ != '.' ||
            !posix_num(&p, 1, 5, &r->week) || r->week < 1 || *p++ != '.' ||
            !posix_num(&p, 1, 6, &r->day))
            return false;
    } else {
        r->kind = 'D';
        if (!posix_num(&p, 3, 365, &r->day))
            return false;
    }
    r->secs = 2 * 3600;
    if (*p == '/') {
        p++;
        /* RFC 8536 widens POSIX: a signed time of up to 167 hours. */
        if (!posix_hms(&p, 167, &r->secs))
            return false;
    }
    *s = p;
    return true;
}

/* Parses a whole footer string; returns false for anything malformed. */
static bool posix_parse(const char *s, struct tz_posix *ret)
{
    struct tz_posix z = {0};
    int32_t off;

    if (!posix_name(&s) || !posix_hms(&s, 24, &off))
        return false;
    /* POSIX offsets count west of UTC; ours count east. */
    z.std_off = -off;
    if (*s == '\0') {
        *ret = z;
        return true;
    }
    if (!posix_name(&s))
        return false;
    z.has_dst = true;
    z.dst_off = z.std_off + 3600;
    if (*s != ',' && *s != '\0') {
        if (!posix_hms(&s, 24, &off))
            return false;
        z.dst_off = -off;
    }
    if (*s == '\0') {
        /* No rule given: the US rule, as tzcode and glibc assume. */
        z.start = (struct tz_rule){'M', 0, 3, 2, 2 * 3600};
        z.end = (struct tz_rule){'M', 0, 11, 1, 2 * 3600};
    } else {
        if (*s++ != ',' || !posix_rule(&s, &z.start) || *s++ != ',' || !posix_rule(&s, &z.end) ||
            *s != '\0')
            return false;
    }
    *ret = z;
    return true;
}

/* The day number on which a rule falls in year y. */
static int64_t rule_day(const struct tz_rule *r, int y)
{
    int64_t jan1 = st_days_from_civil(y, 1, 1);

    if (r->kind == 'J')
        return jan1 + r->day - 1 + (is_leap(y) && r->day >= 60);
    if (r->kind == 'D')
        return jan1 + r->day;
    /* Mm.w.d: the w-th weekday d of month m, where week 5 means the last. */
    int64_t first = st_days_from_civil(y, r->month, 1);
    int64_t next =
        r->month == 12 ? st_days_from_civil(y + 1, 1, 1) : st_days_from_civil(y, r->month + 1, 1);
    int wd = st_weekday_of_days(first) % 7; /* 0 = Sunday */
    int64_t day = first + (r->day - wd + 7) % 7 + (int64_t)(r->week - 1) * 7;

    while (day >= next)
        day -= 7;
    return day;
}

struct tz_change {
    int64_t at;
    bool to_dst;
};

/*
 * The DST changes of the years around year y, in time order. When a change
 * to standard and one to daylight time fall on the same instant (a zone on
 * DST all year), the change to daylight time sorts last and so wins.
 */
static int posix_changes(const struct tz_posix *z, int y0, int nyears, struct tz_change *out)
{
    int n = 0;

    for (int y = y0; y < y0 + nyears; y++) {
        out[n].at = rule_day(&z->start, y) * 86400 + z->start.secs - z->std_off;
        out[n++].to_dst = true;
        out[n].at = rule_day(&z->end, y) * 86400 + z->end.secs - z->dst_off;
        out[n++].to_dst = false;
    }
    for (int i = 1; i < n; i++) {
        struct tz_change c = out[i];
        int j = i;

        while (j > 0 && (out[j - 1].at > c.at ||
                         (out[j - 1].at == c.at && out[j - 1].to_dst && !c.to_dst))) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = c;
    }
    return n;
}

static int utc_year(int64_t t)
{
    int y, m, d;

    st_civil_from_days(floor_div(t, 86400), &y, &m, &d);
    return y;
}

static int32_t posix_offset(const struct tz_posix *z, int64_t t)
{
    struct tz_change ch[6];
    bool dst = false;
    int n;

    if (!z->has_dst)
        return z->std_off;
    t = clamp_t(t);
    n = posix_changes(z, utc_year(t) - 1, 3, ch);
    for (int i = 0; i < n && ch[i].at <= t; i++)
        dst = ch[i].to_dst;
    return dst ? z->dst_off : z->std_off;
}

/* The first change of the rule after t, or INT64_MAX when it never changes. */
static int64_t posix_next_change(const struct tz_posix *z, int64_t t)
{
    struct tz_change ch[8];
    int n;

    if (!z->has_dst || t >= TZ_T_LIMIT)
        return INT64_MAX;
    t = clamp_t(t);
    n = posix_changes(z, utc_year(t) - 1, 4, ch);
    for (int i = 0; i < n; i++)
        if (ch[i].at > t)
            return ch[i].at;
    return INT64_MAX;
}

/* ---- TZif files ---- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int read_header(const unsigned char *p, size_t avail, struct tzif_counts *c)
{
    if (avail < 44 || memcmp(p, "TZif", 4) != 0)
        return -EINVAL;
    c->isutcnt = be32(p + 20);
    c->isstdcnt = be32(p + 24);
    c->leapcnt = be32(p + 28);
    c->timecnt = be32(p + 32);
    c->typecnt = be32(p + 36);
    c->charcnt = be32(p + 40);
    return 0;
}

/* The size of a data block; 64-bit arithmetic cannot overflow for 32-bit counts. */
static uint64_t block_size(const struct tzif_counts *c, unsigned tsize)
{
    return (uint64_t)c->timecnt * tsize + c->timecnt + (uint64_t)c->typecnt * 6 + c->charcnt +
           (uint64_t)c->leapcnt * (tsize + 4) + c->isstdcnt + c->isutcnt;
}

/* Reads one data block (tsize 4 for v1, 8 for v2+) into z; all counts are checked first. */
static int read_block(const unsigned char *p, const struct tzif_counts *c, unsigned tsize,
                      struct st_tz *z)
{
    const unsigned char *times = p;
    const unsigned char *idx = times + (size_t)c->timecnt * tsize;
    const unsigned char *types = idx + c->timecnt;

    if (c->typecnt < 1 || c->typecnt > TZ_TYPES_MAX || c->charcnt < 1 ||
        (c->isutcnt != 0 && c->isutcnt != c->typecnt) ||
        (c->isstdcnt != 0 && c->isstdcnt != c->typecnt))
        return -EINVAL;
    for (uint32_t i = 0; i < c->typecnt; i++) {
        int32_t off = (int32_t)be32(types + 6 * i);

        if (off < -TZ_OFFSET_MAX || off > TZ_OFFSET_MAX || types[6 * i + 4] > 1 ||
            types[6 * i + 5] >= c->charcnt)
            return -EINVAL;
        z->offs[i] = off;
    }
    z->typecnt = (int)c->typecnt;
    z->timecnt = c->timecnt;
    if (c->timecnt == 0)
        return 0;
    z->trans = xmalloc((size_t)c->timecnt * sizeof(*z->trans));
    z->idx = xmalloc(c->timecnt);
    for (uint32_t i = 0; i < c->timecnt; i++) {
        z->trans[i] = tsize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
        z->idx[i] = idx[i];
        if (idx[i] >= c->typecnt || (i > 0 && z->trans[i] <= z->trans[i - 1]))
            return -EINVAL;
    }
    return 0;
}

/* Parses a whole TZif file of n bytes into z; -EINVAL for anything malformed. */
static int parse_tzif(const unsigned char *p, size_t n, struct st_tz *z)
{
    struct tzif_counts c;
    uint64_t size;
    size_t pos;
    char footer[TZ_FOOTER_MAX + 1];
    const unsigned char *nl;
    size_t flen;

    if (read_header(p, n, &c) < 0)
        return -EINVAL;
    size = block_size(&c, 4);
    if (size > n - 44)
        return -EINVAL;
    if (p[4] == '\0')
        return read_block(p + 44, &c, 4, z);
    if (p[4] < '2' || p[4] > '9')
        return -EINVAL;
    /* Version 2 and later: skip the 32-bit data; the 64-bit data follows. */
    pos = 44 + (size_t)size;
    if (read_header(p + pos, n - pos, &c) < 0)
        return -EINVAL;
    pos += 44;
    size = block_size(&c, 8);
    if (size > n - pos)
        return -EINVAL;
    if (read_block(p + pos, &c, 8, z) < 0)
        return -EINVAL;
    pos += (size_t)size;
    /* The footer: a newline, a POSIX TZ string (maybe empty), a newline. */
    if (pos >= n || p[pos] != '\n')
        return -EINVAL;
    pos++;
    nl = memchr(p + pos, '\n', n - pos);
    if (!nl)
        return -EINVAL;
    flen = (size_t)(nl - (p + pos));
    if (flen == 0)
        return 0;
    if (flen > TZ_FOOTER_MAX)
        return -EINVAL;
    memcpy(footer, p + pos, flen);
    footer[flen] = '\0';
    if (memchr(footer, '\0', flen) || !posix_parse(footer, &z->footer))
        return -EINVAL;
    if (z->footer.std_off < -TZ_OFFSET_MAX || z->footer.std_off > TZ_OFFSET_MAX ||
        z->footer.dst_off < -TZ_OFFSET_MAX || z->footer.dst_off > TZ_OFFSET_MAX)
        return -EINVAL;
    z->has_footer = true;
    return 0;
}

static bool name_valid(const char *name)
{
    size_t len = strnlen(name, TZ_NAME_MAX + 1);

    if (len == 0 || len > TZ_NAME_MAX || name[0] == '/' || strstr(name, ".."))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];

        if (!is_alpha(c) && !is_digit(c) && c != '/' && c != '_' && c != '+' && c != '-')
            return false;
    }
    return true;
}

/* Reads the file into a buffer of at most TZ_FILE_MAX bytes; returns its length or -errno. */
static ssize_t read_file(const char *path, unsigned char **ret_buf)
{
    struct stat st;
    unsigned char *buf;
    size_t got = 0;
    ssize_t r;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        r = -errno;
        goto out_close;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > TZ_FILE_MAX) {
        r = -EINVAL;
        goto out_close;
    }
    /* Read one byte past the cap so a file that grew since fstat is noticed. */
    buf = xmalloc(TZ_FILE_MAX + 1);
    while (got < TZ_FILE_MAX + 1) {
        ssize_t n = read(fd, buf + got, TZ_FILE_MAX + 1 - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            free(buf);
            goto out_close;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got > TZ_FILE_MAX) {
        r = -EINVAL;
        free(buf);
        goto out_close;
    }
    *ret_buf = buf;
    r = (ssize_t)got;
out_close:
    close(fd);
    return r;
}

static void zone_free(struct st_tz *z)
{
    free(z->trans);
    free(z->idx);
    free(z);
}

/* Loads a zone by a name already checked; NULL when there is no such zone. */
static struct st_tz *zone_load(const char *name)
{
    struct st_tz *z = xcalloc(1, sizeof(*z));
    const char *dir = getenv("TZDIR");
    unsigned char *buf = NULL;
    char *path;
    ssize_t n;

    strcpy(z->name, name);
    /* UTC needs no file: it must work on a system without zoneinfo. */
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
        z->typecnt = 1;
        return z;
    }
    if (!dir || !*dir)
        dir = TZ_DEFAULT_DIR;
    path = xasprintf("%s/%s", dir, name);
    n = read_file(path, &buf);
    free(path);
    if (n < 0 || parse_tzif(buf, (size_t)n, z) < 0) {
        free(buf);
        zone_free(z);
        return NULL;
    }
    free(buf);
    return z;
}

const struct st_tz *st_tz_get(const char *name)
{
    struct st_tz *z;

    if (!name || !name_valid(name))
        return NULL;
    pthread_mutex_lock(&cache_lock);
    for (z = cache; z; z = z->next)
        if (strcmp(z->name, name) == 0)
            goto out;
    /* Loading under the lock keeps one copy per name; it happens once per zone. */
    z = zone_load(name);
    if (z) {
        z->next = cache;
        cache = z;
    }
out:
    pthread_mutex_unlock(&cache_lock);
    return z;
}

const char *st_tz_name(const struct st_tz *tz)
{
    return tz->name;
}

int st_tz_offset(const struct st_tz *tz, int64_t t)
{
    size_t lo, hi;

    /* With no transitions the footer, if any, holds for all time (RFC 8536 3.3). */
    if (tz->timecnt == 0)
        return tz->has_footer ? posix_offset(&tz->footer, t) : tz->offs[0];
    /* Before the first transition, type 0 applies. */
    if (t < tz->trans[0])
        return tz->offs[0];
    if (t >= tz->trans[tz->timecnt - 1] && tz->has_footer)
        return posix_offset(&tz->footer, t);
    /* The last transition at or before t: trans[lo] <= t < trans[hi]. */
    lo = 0;
    hi = tz->timecnt;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (tz->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return tz->offs[tz->idx[lo]];
}

/* The first instant after t at which the offset may change, or INT64_MAX. */
static int64_t next_change(const struct st_tz *tz, int64_t t)
{
    size_t lo, hi;

    if (tz->timecnt > 0 && t < tz->trans[tz->timecnt - 1]) {
        /* The first transition after t. */
        lo = 0;
        hi = tz->timecnt - 1;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;

            if (tz->trans[mid] > t)
                hi = mid;
            else
                lo = mid + 1;
        }
        return tz->trans[lo];
    }
    return tz->has_footer ? posix_next_change(&tz->footer, t) : INT64_MAX;
}

void st_tz_local_date(const struct st_tz *tz, int64_t t, int *ret_y, int *ret_m, int *ret_d)
{
    t = clamp_t(t);
    st_civil_from_days(floor_div(t + st_tz_offset(tz, t), 86400), ret_y, ret_m, ret_d);
}

/*
 * Local time, t + offset(t), rises with slope 1 between changes and jumps at
 * them (back, at the end of DST). The day y-m-d begins at the first instant
 * where local time reaches that day's midnight: walking the stretches of
 * constant offset o from well before, it is the first stretch [from, to) in
 * which max(from, midnight - o) < to. So a day that starts in a gap begins at
 * the gap's end, and a day skipped entirely (Samoa, 2011-12-30) lasts zero.
 */
int64_t st_tz_day_start(const struct st_tz *tz, int y, int m, int d)
{
    int64_t midnight, t, cand, nx;
    int32_t off;

    if (y > 1000000)
        y = 1000000;
    if (y < -1000000)
        y = -1000000;
    midnight = st_days_from_civil(y, m, d) * 86400;
    /* Offsets are under 26 h, so local time three days earlier is before midnight. */
    t = midnight - 3 * 86400;
    off = st_tz_offset(tz, t);
    for (;;) {
        nx = next_change(tz, t);
        cand = midnight - off;
        if (cand < t)
            cand = t;
        if (cand < nx)
            return cand;
        t = nx;
        off = st_tz_offset(tz, t);
    }
}
