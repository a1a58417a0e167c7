/*
 * stint track: checks the command line, the settings and the sign-in, then
 * runs the timer through cli_track_run, which the build picks: on Linux
 * (track-exec.c) it replaces this process with stint-recorder, which links
 * no HTTP or TLS library and uploads through `stint _upload` helpers; on
 * Windows (track-inproc.c) it runs the timer in this process with libcurl.
 * The usage text below is the documentation of both.
 */
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/record.h"
#include "cli/track.h"
#include "lib/xalloc.h"
#include "tracker/engine.h"
#include "tracker/settings.h"

#define MAX_FOR_S (7 * 24 * 3600)

static const char usage[] =
    "usage: stint track --contract ID [--memo TEXT] [--tag TAG]... [--monitor all|N]\n"
    "                   [--blur] [--for DURATION]\n"
    "\n"
    "Runs the timer on a contract in the foreground, with a live status line: time\n"
    "today and this week, the current segment's ten activity bars, the upload queue\n"
    "and whether the server is reachable. Ctrl-C stops: the partial segment is saved\n"
    "and uploaded. Needs a desktop session (on Linux, an X display: $DISPLAY).\n"
    "\n"
    "  --contract ID     the contract to track (see 'stint contracts')\n"
    "  --memo TEXT       what you are working on (required by most contracts)\n"
    "  --tag TAG         an activity tag of the contract; repeat for more\n"
    "  --monitor all|N   the screens to capture: all (default) or monitor N (0, 1, ...)\n"
    "  --blur            blur screenshots on this machine before they are uploaded\n"
    "  --for DURATION    stop by itself after DURATION (90s, 25m, 1h30m)\n"
    "\n"
    "Nothing is captured while the timer is stopped. Key presses and mouse events are\n"
    "counted, never recorded. Recorded time waits in $XDG_DATA_HOME/stint (Windows:\n"
    "%LOCALAPPDATA%\\stint) until the server has it; 'stint status' and 'stint sync'\n"
    "show and flush that queue.\n"
    "\n"
    "Settings, in $XDG_CONFIG_HOME/stint/tracker.conf (Windows: %APPDATA%\\stint),\n"
    "shared with the desktop app, or the environment; --monitor and --blur override\n"
    "the file:\n"
    "  quota_kb       STINT_QUOTA_KB       disk quota of the local queue (default 1 GiB)\n"
    "  idle_minutes   STINT_IDLE_MINUTES   no input this long opens the idle prompt (10)\n"
    "  jpeg_quality   STINT_JPEG_QUALITY   screenshot quality 1-100 (70)\n"
    "  format         STINT_SHOT_FORMAT    jpeg or webp (jpeg)\n"
    "  monitor                             all or a monitor's number (all)\n"
    "  blur                                true: blur screenshots (false)\n"
    "  data_dir                            the local queue's folder ($XDG_DATA_HOME/stint)\n";

/* "90", "90s", "25m", "1h30m", "2h5m10s" → seconds; -1 when malformed or over a week. */
static long long parse_duration(const char *s)
{
    long long total = 0, n = -1;

    if (!*s)
        return -1;
    for (const char *p = s; *p; p++) {
        if (isdigit((unsigned char)*p)) {
            n = (n < 0 ? 0 : n) * 10 + (*p - '0');
            if (n > MAX_FOR_S)
                return -1;
            continue;
        }
        if (n < 0)
            return -1;
        switch (*p) {
        case 'h':
            total += n * 3600;
            break;
        case 'm':
            total += n * 60;
            break;
        case 's':
            total += n;
            break;
        default:
            return -1;
        }
        n = -1;
    }
    if (n >= 0)
        total += n;
    return total > 0 && total <= MAX_FOR_S ? total : -1;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    enum { OPT_CONTRACT = 256, OPT_MEMO, OPT_TAG, OPT_MONITOR, OPT_BLUR, OPT_FOR };
    static const struct option options[] = {
        {"contract", required_argument, NULL, OPT_CONTRACT},
        {"memo", required_argument, NULL, OPT_MEMO},
        {"tag", required_argument, NULL, OPT_TAG},
        {"monitor", required_argument, NULL, OPT_MONITOR},
        {"blur", no_argument, NULL, OPT_BLUR},
        {"for", required_argument, NULL, OPT_FOR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *contract = NULL, *memo = NULL;
    const char *tags[CLI_TRACK_MAX_TAGS + 1] = {NULL};
    int ntags = 0, monitor = TK_MONITOR_ALL, c, r;
    long long for_s = 0;
    bool blur = false, monitor_given = false;
    struct cli_client client = {0};
    struct cli_record_args a = {0};
    struct tk_settings set;
    char err[512];

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case OPT_CONTRACT:
            contract = optarg;
            break;
        case OPT_MEMO:
            memo = optarg;
            break;
        case OPT_TAG:
            if (ntags == CLI_TRACK_MAX_TAGS)
                return cli_usage_error(&cmd_track, "at most %d tags", CLI_TRACK_MAX_TAGS);
            tags[ntags++] = optarg;
            break;
        case OPT_MONITOR:
            monitor_given = true;
            if (strcmp(optarg, "all") == 0) {
                monitor = TK_MONITOR_ALL;
            } else {
                char *end;
                long v = strtol(optarg, &end, 10);
                if (!*optarg || *end || v < 0 || v >= TK_MAX_MONITORS)
                    return cli_usage_error(&cmd_track, "--monitor is 'all' or a number, not '%s'",
                                           optarg);
                monitor = (int)v;
            }
            break;
        case OPT_BLUR:
            blur = true;
            break;
        case OPT_FOR:
            for_s = parse_duration(optarg);
            if (for_s < 0)
                return cli_usage_error(
                    &cmd_track, "--for is a duration like 90s, 25m or 1h30m, not '%s'", optarg);
            break;
        case 'h':
            cli_print_usage(&cmd_track, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_track, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_track, "unexpected argument '%s'", argv[optind]);
    if (!contract || !*contract)
        return cli_usage_error(&cmd_track, "--contract ID is required");
    if (tk_settings_load(&set, err, sizeof(err)) < 0) {
        fprintf(stderr, "stint: track: %s\n", err);
        return CLI_USAGE;
    }

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    a.server = ctx->server;
    a.account = client.email ? client.email : "";
    a.contract = contract;
    a.memo = memo;
    a.tags = tags;
    a.ntags = ntags;
    a.monitor = monitor;
    a.monitor_given = monitor_given;
    a.blur = blur;
    a.for_s = (long)for_s;
    r = cli_track_run(&client, &a);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_track = {
    .name = "track",
    .summary = "run the timer on a contract (activity, screenshots, offline queue)",
    .usage = usage,
    .run = run,
};
