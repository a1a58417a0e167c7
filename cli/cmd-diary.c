/*
 * stint diary: the Work Diary of one contract for a day or an ISO week, as
 * a table per day (time range, ten activity bars, tracked time, memo, tags,
 * flags) with day and week totals in exact seconds. The server does the
 * sums; this file only lays them out. With --json, the server's answer.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/zone.h"
#include "lib/json.h"
#include "lib/utc.h"
#include "lib/week.h"
#include "lib/xalloc.h"

#define DEFAULT_SEGMENT_S 600

static const char usage[] =
    "usage: stint diary CONTRACT [--date YYYY-MM-DD | --week YYYY-Www] [--tz ZONE] [--json]\n"
    "\n"
    "Shows the Work Diary of a contract: one row per 10-minute segment with its\n"
    "local time range, activity bars (one per minute with input), tracked time,\n"
    "memo, tags, flags and id (a segment from a desktop without key and mouse\n"
    "counts, as Wayland, adds its active seconds: seconds with any input);\n"
    "then day totals and the totals of the period\n"
    "(tracked, manual, billable, over the weekly limit), as H:MM:SS.\n"
    "Default: today. Days are cut in ZONE (an IANA name; default: your\n"
    "account's time zone). --json prints the server's answer.\n";

struct seg_ref {
    int64_t start;
    json_t *seg;
};

static int by_start(const void *a, const void *b)
{
    const struct seg_ref *x = a, *y = b;
    return (x->start > y->start) - (x->start < y->start);
}

/* Joins the strings of a JSON array with sep; newly allocated. */
static char *join(json_t *arr, const char *sep)
{
    char *out = xstrdup("");
    size_t i;
    json_t *v;

    for (i = 0; i < json_array_size(arr); i++) {
        v = json_array_get(arr, i);
        if (!json_is_string(v))
            continue;
        char *next = xasprintf("%s%s%s", out, *out ? sep : "", json_string_value(v));
        free(out);
        out = next;
    }
    return out;
}

static bool active_seconds(json_t *seg)
{
    return strcmp(st_json_str(seg, "activity_measure", "counts"), "active_seconds") == 0;
}

/* The active seconds of a segment, in all. */
static long long active_s_of(json_t *seg)
{
    json_t *minutes = json_object_get(seg, "minutes");
    long long sum = 0;

    for (size_t i = 0; i < json_array_size(minutes); i++)
        sum += st_json_int(json_array_get(minutes, i), "active_s", 0);
    return sum;
}

/* The activity level: the server's, else the buckets that had any input. */
static int activity_of(json_t *seg)
{
    json_t *minutes, *m;
    size_t i;
    int level = 0;

    if (json_is_integer(json_object_get(seg, "activity")))
        return (int)json_integer_value(json_object_get(seg, "activity"));
    minutes = json_object_get(seg, "minutes");
    for (i = 0; i < json_array_size(minutes); i++) {
        m = json_array_get(minutes, i);
        if (active_seconds(seg) ? st_json_int(m, "active_s", 0) > 0
                                : st_json_int(m, "keys", 0) + st_json_int(m, "mouse", 0) > 0)
            level++;
    }
    return level;
}

/* The tracked seconds: the server's, else the sum of the buckets. */
static long long tracked_of(json_t *seg)
{
    json_t *minutes;
    size_t i;
    long long sum = 0;

    if (json_is_integer(json_object_get(seg, "tracked_s")))
        return json_integer_value(json_object_get(seg, "tracked_s"));
    minutes = json_object_get(seg, "minutes");
    for (i = 0; i < json_array_size(minutes); i++)
        sum += st_json_int(json_array_get(minutes, i), "tracked_s", 0);
    return sum;
}

static json_t *day_totals(json_t *days, const char *date)
{
    size_t i;
    json_t *d;

    for (i = 0; i < json_array_size(days); i++) {
        d = json_array_get(days, i);
        if (strcmp(st_json_str(d, "date", ""), date) == 0)
            return d;
    }
    return NULL;
}

/* Prints the segments of one local date (refs sorted by start). */
static void print_day(const char *date, const struct seg_ref *refs, size_t nrefs, json_t *days,
                      const struct st_tz *tz, int segment_s, bool with_total, bool *ret_active)
{
    static const char *const headers[] = {"TIME", "ACTIVITY", "TRACKED", "MEMO",
                                          "TAGS", "FLAGS",    "SEGMENT"};
    struct cli_table *table = NULL;
    json_t *totals = day_totals(days, date);
    bool with_seconds = segment_s % 60 != 0;
    int y, m, d;
    static const char *const weekdays[] = {"", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    size_t shown = 0;

    if (st_date_parse(date, &y, &m, &d) == 0)
        printf("%s %s\n", weekdays[st_weekday_of_days(st_days_from_civil(y, m, d))], date);
    else
        printf("%s\n", date);

    for (size_t i = 0; i < nrefs; i++) {
        char day[11], from[9], to[9], range[20], bars[96], tracked[CLI_DURATION_LEN];
        json_t *seg = refs[i].seg;
        char *tags, *flags;

        cli_format_date(refs[i].start, tz, day);
        if (strcmp(day, date) != 0)
            continue;
        if (!table) {
            table = cli_table_new(7, headers);
            cli_table_set_right(table, 2);
            cli_table_set_max(table, 3, 40);
            cli_table_set_max(table, 4, 24);
        }
        cli_format_clock(refs[i].start, tz, with_seconds, from);
        cli_format_clock(refs[i].start + segment_s, tz, with_seconds, to);
        snprintf(range, sizeof(range), "%s-%s", from, to);
        cli_format_bars(activity_of(seg), bars, sizeof(bars));
        if (active_seconds(seg)) {
            /* No counts on this desktop: say how many seconds had input instead. */
            size_t n = strlen(bars);
            snprintf(bars + n, sizeof(bars) - n, " %llds active*", active_s_of(seg));
            *ret_active = true;
        }
        cli_format_duration(tracked_of(seg), tracked);
        tags = join(json_object_get(seg, "tags"), ",");
        flags = join(json_object_get(seg, "flags"), ",");
        if (st_json_bool(seg, "deleted", false)) {
            char *with = xasprintf("%s%sdeleted", flags, *flags ? "," : "");
            free(flags);
            flags = with;
        }
        const char *cells[] = {range,
                               bars,
                               tracked,
                               st_json_str(seg, "memo", ""),
                               tags,
                               flags,
                               st_json_str(seg, "id", "")};
        cli_table_add(table, cells);
        shown++;
        free(tags);
        free(flags);
    }
    if (table) {
        cli_table_print(table, stdout);
        cli_table_free(table);
    } else {
        printf("no time recorded\n");
    }
    if (with_total && totals && shown > 0) {
        char tr[CLI_DURATION_LEN], ma[CLI_DURATION_LEN], bi[CLI_DURATION_LEN];
        cli_format_duration(st_json_int(totals, "tracked_s", 0), tr);
        cli_format_duration(st_json_int(totals, "manual_s", 0), ma);
        cli_format_duration(st_json_int(totals, "billable_s", 0), bi);
        printf("day total: tracked %s  manual %s  billable %s\n", tr, ma, bi);
    }
    printf("\n");
}

static void print_diary(json_t *diary, const char *title, const char *period,
                        const struct st_tz *tz, int segment_s, int64_t first_day, int ndays)
{
    json_t *segments = json_object_get(diary, "segments");
    json_t *days = json_object_get(diary, "days");
    json_t *totals = json_object_get(diary, "totals");
    struct seg_ref *refs = xcalloc(json_array_size(segments) + 1, sizeof(*refs));
    size_t nrefs = 0, i;
    json_t *seg;
    char tr[CLI_DURATION_LEN], ma[CLI_DURATION_LEN], bi[CLI_DURATION_LEN], ov[CLI_DURATION_LEN];
    char *c_title = cli_clean(title);
    bool any_active = false;

    printf("%s: %s (%s)\n\n", c_title, period, st_tz_name(tz));
    free(c_title);
    for (i = 0; i < json_array_size(segments); i++) {
        seg = json_array_get(segments, i);
        int64_t t;
        if (st_utc_parse(st_json_str(seg, "start", ""), &t) < 0)
            continue;
        refs[nrefs].start = t;
        refs[nrefs].seg = seg;
        nrefs++;
    }
    qsort(refs, nrefs, sizeof(*refs), by_start);

    for (int k = 0; k < ndays; k++) {
        int y, m, d;
        char date[11];
        st_civil_from_days(first_day + k, &y, &m, &d);
        st_date_format(y, m, d, date);
        /* One day: the period's total says it all, with the time over the limit. */
        print_day(date, refs, nrefs, days, tz, segment_s, ndays > 1, &any_active);
    }
    cli_format_duration(st_json_int(totals, "tracked_s", 0), tr);
    cli_format_duration(st_json_int(totals, "manual_s", 0), ma);
    cli_format_duration(st_json_int(totals, "billable_s", 0), bi);
    cli_format_duration(st_json_int(totals, "over_limit_s", 0), ov);
    printf("%s total: tracked %s  manual %s  billable %s  over limit %s\n",
           ndays > 1 ? "week" : "day", tr, ma, bi, ov);
    if (any_active)
        printf("* active seconds: seconds with any input (Wayland gives no key or mouse "
               "counts); synthetic input cannot be told apart\n");
    free(refs);
}

/* The segment length of the server (GET /config); the default when it will not say. */
static int segment_length(struct cli_client *client)
{
    json_t *config = NULL;
    int segment_s = DEFAULT_SEGMENT_S;
    struct cli_reply reply = {0};

    if (cli_client_send(client, "GET", "/config", NULL, &reply) == CLI_OK && reply.status == 200) {
        config = reply.body;
        long long s = st_json_int(config, "segment_s", DEFAULT_SEGMENT_S);
        if (s > 0 && s <= 86400)
            segment_s = (int)s;
    }
    cli_reply_release(&reply);
    return segment_s;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"date", required_argument, NULL, 'd'}, {"week", required_argument, NULL, 'w'},
        {"tz", required_argument, NULL, 'z'},   {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    const char *date_opt = NULL, *week_opt = NULL, *tz_opt = NULL, *contract;
    struct cli_client client = {0};
    const struct st_tz *tz;
    json_t *diary = NULL, *ct = NULL;
    char from[11], to[11], period[32];
    int64_t first_day = 0;
    int ndays = 1, y = 0, m = 0, d = 0, c, r;
    char *path = NULL, *tz_q = NULL, *ct_path = NULL;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'd':
            date_opt = optarg;
            break;
        case 'w':
            week_opt = optarg;
            break;
        case 'z':
            tz_opt = optarg;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_diary, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_diary, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(&cmd_diary, "the contract ID is missing");
    if (optind + 1 < argc)
        return cli_usage_error(&cmd_diary, "unexpected argument '%s'", argv[optind + 1]);
    contract = argv[optind];
    if (date_opt && week_opt)
        return cli_usage_error(&cmd_diary, "--date and --week exclude each other");
    if (date_opt && st_date_parse(date_opt, &y, &m, &d) < 0)
        return cli_usage_error(&cmd_diary, "--date is YYYY-MM-DD, not '%s'", date_opt);
    if (week_opt) {
        int64_t monday;
        if (st_iso_week_parse(week_opt, &monday) < 0)
            return cli_usage_error(&cmd_diary, "--week is an ISO week like 2026-W48, not '%s'",
                                   week_opt);
        first_day = monday / ST_DAY_S;
        ndays = 7;
    }

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    r = cli_zone_resolve(&client, tz_opt, &tz);
    if (r != CLI_OK)
        goto out;
    if (!date_opt && !week_opt)
        /* Today where the user is, not where the server or this machine is. */
        st_tz_local_date(tz, (int64_t)time(NULL), &y, &m, &d);
    if (!week_opt)
        first_day = st_days_from_civil(y, m, d);
    st_civil_from_days(first_day, &y, &m, &d);
    st_date_format(y, m, d, from);
    st_civil_from_days(first_day + ndays - 1, &y, &m, &d);
    st_date_format(y, m, d, to);
    if (week_opt)
        snprintf(period, sizeof(period), "week %s", week_opt);
    else
        snprintf(period, sizeof(period), "%s", from);

    /* The range is inclusive: from the first day to the last day shown. */
    tz_q = cli_query_escape(st_tz_name(tz));
    {
        char *base = cli_path("/contracts/", contract, "/diary");
        path = xasprintf("%s?from=%s&to=%s&tz=%s", base, from, to, tz_q);
        free(base);
    }
    r = cli_call(&client, "GET", path, NULL, &diary);
    if (r != CLI_OK)
        goto out;
    if (ctx->json) {
        cli_print_json(diary);
        goto out;
    }
    ct_path = cli_path("/contracts/", contract, "");
    r = cli_call(&client, "GET", ct_path, NULL, &ct);
    if (r != CLI_OK)
        goto out;
    print_diary(diary, st_json_str(json_object_get(ct, "contract"), "title", contract), period, tz,
                segment_length(&client), first_day, ndays);
out:
    json_decref(diary);
    json_decref(ct);
    free(path);
    free(ct_path);
    free(tz_q);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_diary = {
    .name = "diary",
    .summary = "show a contract's Work Diary for a day or a week",
    .usage = usage,
    .run = run,
};
