/*
 * stint track: checks the command line, the settings and the sign-in, then
 * replaces itself (exec, same process) with stint-recorder, the
 * long-running half of the tracker (cli/recorder.c). The recorder links no
 * HTTP or TLS library; it runs this very binary as `stint _upload` for
 * each upload, a short-lived helper (tracker/transport.h). The token goes
 * over a pipe, never on a command line. The usage text below is the
 * documentation of both halves.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "lib/xalloc.h"
#include "tracker/engine.h"
#include "tracker/settings.h"

#define MAX_TAGS 20
#define MAX_FOR_S (7 * 24 * 3600)
#define RECORDER "stint-recorder"

static const char usage[] =
    "usage: stint track --contract ID [--memo TEXT] [--tag TAG]... [--monitor all|N]\n"
    "                   [--blur] [--for DURATION]\n"
    "\n"
    "Runs the timer on a contract in the foreground, with a live status line: time\n"
    "today and this week, the current segment's ten activity bars, the upload queue\n"
    "and whether the server is reachable. Ctrl-C stops: the partial segment is saved\n"
    "and uploaded. Needs an X display ($DISPLAY).\n"
    "\n"
    "  --contract ID     the contract to track (see 'stint contracts')\n"
    "  --memo TEXT       what you are working on (required by most contracts)\n"
    "  --tag TAG         an activity tag of the contract; repeat for more\n"
    "  --monitor all|N   the screens to capture: all (default) or monitor N (0, 1, ...)\n"
    "  --blur            blur screenshots on this machine before they are uploaded\n"
    "  --for DURATION    stop by itself after DURATION (90s, 25m, 1h30m)\n"
    "\n"
    "Nothing is captured while the timer is stopped. Key presses and mouse events are\n"
    "counted, never recorded. Recorded time waits in $XDG_DATA_HOME/stint until the\n"
    "server has it; 'stint status' and 'stint sync' show and flush that queue.\n"
    "\n"
    "Settings, in $XDG_CONFIG_HOME/stint/tracker.conf (shared with the desktop app)\n"
    "or the environment; --monitor and --blur override the file:\n"
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

/* This binary's own path, for the recorder to run as the helper; NULL when unknown. */
static char *self_path(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    /* Replaced by an upgrade meanwhile: the new file at that path is the helper to run. */
    if (n > 10 && strcmp(buf + n - 10, " (deleted)") == 0)
        buf[n - 10] = '\0';
    return xstrdup(buf);
}

/* stint-recorder beside this binary (a build tree), else in LIBEXECDIR. */
static char *recorder_path(const char *self)
{
    if (self) {
        const char *slash = strrchr(self, '/');
        char *p = xasprintf("%.*s/%s", (int)(slash ? slash - self : 1), slash ? self : ".",
                            RECORDER);
        if (access(p, X_OK) == 0)
            return p;
        free(p);
    }
    return xstrdup(STINT_LIBEXECDIR "/" RECORDER);
}

/* A pipe holding the token, its read end left open across exec; -1 after printing why. */
static int token_pipe(const char *token)
{
    int p[2];
    size_t len = strlen(token);

    if (pipe2(p, O_CLOEXEC) < 0) {
        perror("stint: track: pipe");
        return -1;
    }
    /* A token is far below a pipe's buffer: this never blocks. */
    if (write(p[1], token, len) != (ssize_t)len || write(p[1], "\n", 1) != 1 ||
        fcntl(p[0], F_SETFD, 0) < 0) {
        perror("stint: track: pipe");
        close(p[0]);
        close(p[1]);
        return -1;
    }
    close(p[1]);
    return p[0];
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
    const char *tags[MAX_TAGS + 1] = {NULL};
    int ntags = 0, monitor = TK_MONITOR_ALL, c, r;
    long long for_s = 0;
    bool blur = false, monitor_given = false;
    struct cli_client client = {0};
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
            if (ntags == MAX_TAGS)
                return cli_usage_error(&cmd_track, "at most %d tags", MAX_TAGS);
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
    {
        char *self = self_path(), *recorder = recorder_path(self);
        char fdnum[16], secs[24], mon[16];
        const char *argv2[32 + 2 * MAX_TAGS];
        int n = 0, fd;

        if (!self) {
            fprintf(stderr, "stint: track: cannot find this program's own path\n");
            r = CLI_FAILED;
        } else if ((fd = token_pipe(client.token)) >= 0) {
            snprintf(fdnum, sizeof(fdnum), "%d", fd);
            argv2[n++] = RECORDER;
            argv2[n++] = "--server";
            argv2[n++] = ctx->server;
            argv2[n++] = "--account";
            argv2[n++] = client.email ? client.email : "";
            argv2[n++] = "--helper";
            argv2[n++] = self;
            argv2[n++] = "--token-fd";
            argv2[n++] = fdnum;
            argv2[n++] = "--contract";
            argv2[n++] = contract;
            if (memo) {
                argv2[n++] = "--memo";
                argv2[n++] = memo;
            }
            for (int i = 0; i < ntags; i++) {
                argv2[n++] = "--tag";
                argv2[n++] = tags[i];
            }
            if (monitor_given) {
                snprintf(mon, sizeof(mon), "%d", monitor);
                argv2[n++] = "--monitor";
                argv2[n++] = monitor == TK_MONITOR_ALL ? "all" : mon;
            }
            if (blur)
                argv2[n++] = "--blur";
            if (for_s) {
                snprintf(secs, sizeof(secs), "%lld", for_s);
                argv2[n++] = "--for-s";
                argv2[n++] = secs;
            }
            argv2[n] = NULL;
            fflush(stdout);
            fflush(stderr);
            execv(recorder, (char *const *)argv2);
            fprintf(stderr, "stint: track: cannot run the recorder '%s': %s\n", recorder,
                    strerror(errno));
            close(fd);
            r = CLI_FAILED;
        } else {
            r = CLI_FAILED;
        }
        free(self);
        free(recorder);
    }
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_track = {
    .name = "track",
    .summary = "run the timer on a contract (activity, screenshots, offline queue)",
    .usage = usage,
    .run = run,
};
