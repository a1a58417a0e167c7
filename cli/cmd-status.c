/*
 * stint status: what the tracker on this machine is doing, read from its
 * journal: whether a tracker runs (and on what), what waits for the server,
 * when the last upload went through, and which segments the server refused
 * for good, and the desktop it would track here: the platform backend
 * select.c picks in this session, its routes and why others were not taken.
 * Talks to no server, so it answers offline too.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "lib/json.h"
#include "lib/utc.h"
#include "lib/xalloc.h"
#include "tracker/journal.h"
#include "tracker/platform/platform.h"

#define MAX_REFUSED_SHOWN 50

static const char usage[] =
    "usage: stint status [--json]\n"
    "\n"
    "Shows the tracker on this machine: whether it is tracking, the upload\n"
    "queue, the last upload, segments the server refused for good, and the\n"
    "desktop it tracks here (X11 or Wayland, and how).\n";

/* The backend this session would track with, and why: tk_platform_describe(). */
static json_t *desktop(void)
{
    struct tk_platform_ctx *pctx = NULL;
    char d[1024], err[512];

    if (tk_platform_native.open(NULL, &pctx, err, sizeof(err)) < 0)
        return json_sprintf("none: %s", err);
    tk_platform_describe(&tk_platform_native, pctx, d, sizeof(d));
    tk_platform_native.close(pctx);
    return json_string(d);
}

static json_t *time_or_null(int64_t t)
{
    char s[ST_TIME_STRLEN];

    if (t <= 0)
        return json_null();
    st_utc_format(t, s);
    return json_string(s);
}

/* Everything status shows, as JSON (the --json output, and the source of the text). */
static json_t *collect(const char *dir, struct tk_journal *j)
{
    struct tk_journal_stats st = {0};
    struct tk_refused refused[MAX_REFUSED_SHOWN];
    int pid = tk_journal_lock_holder(dir), n = 0;
    char *tracking = NULL, *last = NULL, *ustate = NULL;
    json_t *out, *tr = NULL, *us = NULL, *list = json_array();

    if (j) {
        tk_journal_stats(j, NULL, &st);
        n = tk_journal_refused(j, NULL, refused, MAX_REFUSED_SHOWN);
        tracking = tk_journal_meta_get(j, "tracking");
        last = tk_journal_meta_get(j, "last_upload");
        ustate = tk_journal_meta_get(j, "upload_state");
    }
    if (pid > 0 && tracking && *tracking)
        tr = json_loads(tracking, 0, NULL);
    if (ustate && *ustate)
        us = json_loads(ustate, 0, NULL);
    for (int i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s,s:s,s:o,s:i,s:s}", "id", refused[i].id,
                                              "contract_id", refused[i].contract_id, "start",
                                              time_or_null(refused[i].start), "tracked_s",
                                              refused[i].tracked_s, "reason", refused[i].reason));
    out = json_pack("{s:b,s:o,s:o,s:o,s:o,s:{s:i,s:i,s:I},s:o,s:o,s:o,s:{s:s,s:I}}", "tracking",
                    tr != NULL, "pid", pid > 0 ? json_integer(pid) : json_null(), "contract_id",
                    tr ? json_incref(json_object_get(tr, "contract_id")) : json_null(), "memo",
                    tr ? json_incref(json_object_get(tr, "memo")) : json_null(), "since",
                    time_or_null(tr ? st_json_int(tr, "since", 0) : 0), "queue", "segments",
                    st.queued, "screenshots", st.shots_queued, "seconds", (json_int_t)st.queued_s,
                    "last_upload", time_or_null(last ? atoll(last) : 0), "online",
                    us ? json_boolean(st_json_bool(us, "online", false)) : json_null(), "refused",
                    list, "journal", "dir", dir, "bytes", (json_int_t)st.disk_bytes);
    json_object_set_new(out, "desktop", desktop());
    if (pid > 0 && !tr)
        json_object_set_new(out, "busy", json_string("a stint process holds the journal (sync)"));
    if (us && *st_json_str(us, "error", ""))
        json_object_set_new(out, "last_error", json_string(st_json_str(us, "error", "")));
    json_decref(tr);
    json_decref(us);
    free(tracking);
    free(last);
    free(ustate);
    return out;
}

static void print_text(json_t *s)
{
    json_t *q = json_object_get(s, "queue"), *refused = json_object_get(s, "refused");
    char dur[CLI_DURATION_LEN];
    size_t i;

    if (json_is_true(json_object_get(s, "tracking"))) {
        char *memo = cli_clean(st_json_str(s, "memo", ""));
        printf("tracking     yes, contract %s since %s (pid %lld)%s%s\n",
               st_json_str(s, "contract_id", "?"), st_json_str(s, "since", "?"),
               st_json_int(s, "pid", 0), *memo ? ": " : "", memo);
        free(memo);
    } else {
        printf("tracking     no\n");
    }
    cli_format_duration(st_json_int(q, "seconds", 0), dur);
    if (st_json_int(q, "segments", 0) > 0)
        printf(
            "queue        %lld segment%s (%s of time, %lld screenshot%s) waiting for the server\n",
            st_json_int(q, "segments", 0), st_json_int(q, "segments", 0) == 1 ? "" : "s", dur,
            st_json_int(q, "screenshots", 0), st_json_int(q, "screenshots", 0) == 1 ? "" : "s");
    else
        printf("queue        empty\n");
    printf("last upload  %s\n", st_json_str(s, "last_upload", "never"));
    if (json_is_boolean(json_object_get(s, "online")))
        printf("server       %s\n", json_is_true(json_object_get(s, "online"))
                                        ? "reachable at the last try"
                                        : "unreachable at the last try");
    if (st_json_str(s, "last_error", NULL)) {
        char *e = cli_clean(st_json_str(s, "last_error", ""));
        printf("last error   %s\n", e);
        free(e);
    }
    if (json_array_size(refused) == 0) {
        printf("refused      none\n");
    } else {
        printf("refused      %zu segment%s the server will not take:\n", json_array_size(refused),
               json_array_size(refused) == 1 ? "" : "s");
        for (i = 0; i < json_array_size(refused); i++) {
            json_t *r = json_array_get(refused, i);
            char *why = cli_clean(st_json_str(r, "reason", ""));
            cli_format_duration(st_json_int(r, "tracked_s", 0), dur);
            printf("  %s  %s  %s  %s\n", st_json_str(r, "start", "?"), dur,
                   st_json_str(r, "id", ""), why);
            free(why);
        }
    }
    printf("desktop      %s\n", st_json_str(s, "desktop", ""));
    printf("journal      %s (%lld KiB)\n", st_json_str(json_object_get(s, "journal"), "dir", ""),
           st_json_int(json_object_get(s, "journal"), "bytes", 0) / 1024);
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct tk_journal *j = NULL;
    char err[512];
    char *dir;
    json_t *s;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_status, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_status, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_status, "unexpected argument '%s'", argv[optind]);
    dir = cli_journal_dir("status");
    if (!dir)
        return CLI_FAILED;
    r = tk_journal_open(dir, TK_JOURNAL_READONLY, &j, err, sizeof(err));
    if (r < 0 && r != -ENOENT) {
        fprintf(stderr, "stint: status: %s\n", err);
        free(dir);
        return CLI_FAILED;
    }
    s = collect(dir, j);
    if (ctx->json)
        cli_print_json(s);
    else
        print_text(s);
    json_decref(s);
    tk_journal_free(j);
    free(dir);
    return CLI_OK;
}

const struct cli_command cmd_status = {
    .name = "status",
    .summary = "show the tracker's state, upload queue and refused segments",
    .usage = usage,
    .run = run,
};
