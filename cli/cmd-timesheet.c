/*
 * stint timesheet: the timesheet of a contract for one ISO week, as the
 * server computes it: state, a line per day (tracked, manual, over the
 * limit, billable, protected, amount), the unprotected segments with every
 * reason, and the dispute if there is one. --json prints the server's
 * answer; --csv the per-segment export.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/download.h"
#include "cli/output.h"
#include "lib/json.h"
#include "lib/week.h"
#include "lib/xalloc.h"

static const char usage[] =
    "usage: stint timesheet CONTRACT [--week YYYY-Www] [--json | --csv]\n"
    "\n"
    "Shows a contract's timesheet for an ISO week (default: this week): its\n"
    "state (open, review, approved, disputed, billed, paid), a line per day\n"
    "with tracked, manual, over-limit, billable and protected time and the\n"
    "amount, every segment that Hourly Payment Protection does not cover with\n"
    "all its reasons, and the dispute if one was filed. --json prints the\n"
    "server's answer; --csv prints one row per segment.\n";

static void dur(long long s, char out[CLI_DURATION_LEN])
{
    cli_format_duration(s, out);
}

/* Joins the strings of a JSON array with sep; newly allocated. */
static char *join(json_t *arr, const char *sep)
{
    char *out = xstrdup("");
    size_t i;
    json_t *v;

    json_array_foreach(arr, i, v)
    {
        char *next;
        if (!json_is_string(v))
            continue;
        next = xasprintf("%s%s%s", out, *out ? sep : "", json_string_value(v));
        free(out);
        out = next;
    }
    return out;
}

static void print_timesheet(json_t *t)
{
    static const char *const headers[] = {"DAY",      "TRACKED",   "MANUAL", "OVER LIMIT",
                                          "BILLABLE", "PROTECTED", "AMOUNT"};
    const char *currency = st_json_str(t, "currency", "");
    json_t *days = json_object_get(t, "days"), *unprot = json_object_get(t, "unprotected");
    json_t *dispute = json_object_get(t, "dispute"), *d;
    struct cli_table *table = cli_table_new(7, headers);
    char a[CLI_DURATION_LEN], b[CLI_DURATION_LEN], c[CLI_DURATION_LEN], e[CLI_DURATION_LEN];
    char f[CLI_DURATION_LEN], money[CLI_MONEY_LEN];
    char *state = cli_clean(st_json_str(t, "state", "?")),
         *id = cli_clean(st_json_str(t, "id", "-"));
    size_t i;

    printf("timesheet %s, week %s: %s\n", id, st_json_str(t, "week", "?"), state);
    if (json_is_integer(json_object_get(t, "weekly_limit_s"))) {
        dur(st_json_int(t, "weekly_limit_s", 0), a);
        printf("weekly limit %s\n", a);
    } else {
        printf("no weekly limit\n");
    }
    printf("\n");
    for (int col = 1; col < 7; col++)
        cli_table_set_right(table, col);
    json_array_foreach(days, i, d)
    {
        dur(st_json_int(d, "tracked_s", 0), a);
        dur(st_json_int(d, "manual_s", 0), b);
        dur(st_json_int(d, "over_limit_s", 0), c);
        dur(st_json_int(d, "billable_s", 0), e);
        dur(st_json_int(d, "protected_s", 0), f);
        cli_format_money(st_json_int(d, "amount_cents", 0), currency, money);
        const char *cells[] = {st_json_str(d, "date", ""), a, b, c, e, f, money};
        cli_table_add(table, cells);
    }
    dur(st_json_int(t, "tracked_s", 0), a);
    dur(st_json_int(t, "manual_s", 0), b);
    dur(st_json_int(t, "over_limit_s", 0), c);
    dur(st_json_int(t, "billable_s", 0), e);
    dur(st_json_int(t, "protected_s", 0), f);
    cli_format_money(st_json_int(t, "amount_cents", 0), currency, money);
    {
        const char *cells[] = {"total", a, b, c, e, f, money};
        cli_table_add(table, cells);
    }
    cli_table_print(table, stdout);
    cli_table_free(table);
    if (st_json_int(t, "refunded_cents", 0) || st_json_int(t, "refunded_s", 0)) {
        dur(st_json_int(t, "refunded_s", 0), a);
        cli_format_money(st_json_int(t, "refunded_cents", 0), currency, money);
        printf("refunded by a dispute: %s (%s)\n", a, money);
    }
    if (json_array_size(unprot)) {
        static const char *const h2[] = {"SEGMENT", "START", "BILLABLE", "REASONS"};
        struct cli_table *u = cli_table_new(4, h2);
        cli_table_set_right(u, 2);
        printf("\nnot protected by Hourly Payment Protection:\n");
        json_array_foreach(unprot, i, d)
        {
            char *why = join(json_object_get(d, "reasons"), ", ");
            dur(st_json_int(d, "billable_s", 0), a);
            const char *cells[] = {st_json_str(d, "segment_id", ""), st_json_str(d, "start", ""), a,
                                   why};
            cli_table_add(u, cells);
            free(why);
        }
        cli_table_print(u, stdout);
        cli_table_free(u);
    }
    if (json_is_object(dispute)) {
        char *reason = cli_clean(st_json_str(dispute, "reason", ""));
        printf("\ndispute %s: %s (respond by %s)\n  reason: %s\n", st_json_str(dispute, "id", ""),
               st_json_str(dispute, "state", ""), st_json_str(dispute, "respond_by", ""), reason);
        free(reason);
    }
    if (json_is_string(json_object_get(t, "invoice_id")))
        printf("\ninvoice %s\n", st_json_str(t, "invoice_id", ""));
    free(state);
    free(id);
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"week", required_argument, NULL, 'w'},
        {"json", no_argument, NULL, 'j'},
        {"csv", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    const char *week = NULL;
    bool csv = false;
    json_t *resp = NULL;
    char *path, *query = NULL;
    int64_t ws;
    int c, r;

    while ((c = getopt_long(argc, argv, ":hw:jc", options, NULL)) != -1) {
        switch (c) {
        case 'w':
            week = optarg;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'c':
            csv = true;
            break;
        case 'h':
            cli_print_usage(&cmd_timesheet, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_timesheet, c, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error(&cmd_timesheet, "give one CONTRACT id");
    if (week && st_iso_week_parse(week, &ws) < 0)
        return cli_usage_error(&cmd_timesheet, "'%s' is not an ISO week (YYYY-Www)", week);
    if (csv && ctx->json)
        return cli_usage_error(&cmd_timesheet, "--json and --csv do not go together");

    if ((r = cli_client_open(ctx, true, &client)) != CLI_OK)
        return r;
    if (week)
        query = xasprintf("?week=%s%s", week, csv ? "&format=csv" : "");
    else
        query = xstrdup(csv ? "?format=csv" : "");
    path = cli_path("/contracts/", argv[optind], "/timesheets");
    {
        char *full = xasprintf("%s%s", path, query);
        free(path);
        path = full;
    }
    if (csv) {
        char *data = NULL;
        size_t len = 0;
        if ((r = cli_download(&client, path, &data, &len)) == CLI_OK)
            r = cli_save("-", data, len);
        free(data);
    } else if ((r = cli_call(&client, "GET", path, NULL, &resp)) == CLI_OK) {
        if (ctx->json)
            cli_print_json(resp);
        else
            print_timesheet(json_object_get(resp, "timesheet"));
    }
    json_decref(resp);
    free(path);
    free(query);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_timesheet = {
    .name = "timesheet",
    .summary = "a contract's weekly timesheet: figures, protection, state",
    .usage = usage,
    .run = run,
};
