/*
 * stint manual: adds manual time to a contract (where the contract allows
 * it): an interval in the current week that overlaps no tracked time, with
 * a memo. The server cuts it into segments flagged "manual".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/zone.h"
#include "lib/json.h"
#include "lib/utc.h"
#include "lib/xalloc.h"

#define MAX_TAGS 64

static const char usage[] =
    "usage: stint manual CONTRACT --start TIME --end TIME --memo TEXT [--tag TAG]...\n"
    "                    [--tz ZONE] [--json]\n"
    "\n"
    "Adds manual time (flagged 'manual', never protected). TIME is RFC 3339\n"
    "(2026-11-23T09:00:00Z, 2026-11-23T10:00:00+01:00) or a wall-clock time\n"
    "'YYYY-MM-DD HH:MM[:SS]' in ZONE (default: your account's time zone).\n"
    "--tag may be repeated.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"start", required_argument, NULL, 's'}, {"end", required_argument, NULL, 'e'},
        {"memo", required_argument, NULL, 'm'},  {"tag", required_argument, NULL, 't'},
        {"tz", required_argument, NULL, 'z'},    {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *start_s = NULL, *end_s = NULL, *memo = NULL, *tz_opt = NULL;
    struct cli_client client = {0};
    const struct st_tz *tz;
    json_t *tags = json_array(), *req = NULL, *resp = NULL;
    char start[ST_TIME_STRLEN], end[ST_TIME_STRLEN], dur[CLI_DURATION_LEN];
    int64_t t0, t1;
    char *path = NULL;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 's':
            start_s = optarg;
            break;
        case 'e':
            end_s = optarg;
            break;
        case 'm':
            memo = optarg;
            break;
        case 't':
            if (json_array_size(tags) >= MAX_TAGS ||
                json_array_append_new(tags, json_string(optarg)) < 0) {
                r = cli_usage_error(&cmd_manual, "too many tags, or not UTF-8 text");
                goto out;
            }
            break;
        case 'z':
            tz_opt = optarg;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_manual, false);
            r = CLI_OK;
            goto out;
        default:
            r = cli_bad_option(&cmd_manual, c, argv);
            goto out;
        }
    }
    if (optind >= argc) {
        r = cli_usage_error(&cmd_manual, "the contract ID is missing");
        goto out;
    }
    if (optind + 1 < argc) {
        r = cli_usage_error(&cmd_manual, "unexpected argument '%s'", argv[optind + 1]);
        goto out;
    }
    if (!start_s || !end_s || !memo) {
        r = cli_usage_error(&cmd_manual, "--start, --end and --memo are required");
        goto out;
    }

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        goto out;
    r = cli_zone_resolve(&client, tz_opt, &tz);
    if (r != CLI_OK)
        goto out;
    if (cli_parse_time(start_s, tz, &t0) < 0) {
        r = cli_usage_error(&cmd_manual, "--start '%s' is not a time in %s", start_s,
                            st_tz_name(tz));
        goto out;
    }
    if (cli_parse_time(end_s, tz, &t1) < 0) {
        r = cli_usage_error(&cmd_manual, "--end '%s' is not a time in %s", end_s, st_tz_name(tz));
        goto out;
    }
    if (t1 <= t0) {
        r = cli_usage_error(&cmd_manual, "--end must be after --start");
        goto out;
    }
    st_utc_format(t0, start);
    st_utc_format(t1, end);
    req = json_pack("{s:s, s:s, s:s}", "start", start, "end", end, "memo", memo);
    if (!req) {
        r = cli_usage_error(&cmd_manual, "the memo is not UTF-8 text");
        goto out;
    }
    if (json_array_size(tags) > 0)
        json_object_set(req, "tags", tags);

    path = cli_path("/contracts/", argv[optind], "/manual");
    r = cli_call(&client, "POST", path, req, &resp);
    if (r != CLI_OK)
        goto out;
    if (ctx->json) {
        cli_print_json(resp);
    } else {
        char from[9], to[9];
        cli_format_clock(t0, tz, 0, from);
        cli_format_clock(t1, tz, 0, to);
        cli_format_duration(t1 - t0, dur);
        printf("added %s of manual time, %s-%s %s, in %zu segment%s\n", dur, from, to,
               st_tz_name(tz), json_array_size(json_object_get(resp, "segments")),
               json_array_size(json_object_get(resp, "segments")) == 1 ? "" : "s");
    }
out:
    json_decref(tags);
    json_decref(req);
    json_decref(resp);
    free(path);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_manual = {
    .name = "manual",
    .summary = "add manual time to a contract",
    .usage = usage,
    .run = run,
};
