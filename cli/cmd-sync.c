/*
 * stint sync: sends what the tracker queued on this machine and waits until
 * the server has it, with a progress bar. When a tracker runs, it asks that
 * tracker to upload now (cli_console_poke) and watches the journal; otherwise it
 * takes the journal's lock itself, recovers what a crash left, and runs the
 * uploader until the queue is empty or the time is up.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/console.h"
#include "cli/output.h"
#include "lib/xalloc.h"
#include "tracker/engine.h"
#include "tracker/journal.h"
#include "tracker/upload-pass.h"
#include "tracker/uploader.h"

#define DEFAULT_TIMEOUT_S 60
#define POLL_MS 200

static const char usage[] =
    "usage: stint sync [--timeout SECONDS]\n"
    "\n"
    "Uploads the segments and screenshots the tracker queued on this machine and\n"
    "waits until the server has them all (at most SECONDS, default 60), showing\n"
    "progress. Exits 0 when the queue is empty, 1 when the server could not be\n"
    "reached in time, 4 when the server refused a segment for good.\n";

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void progress(bool tty, int done, int total, const char *note)
{
    char bar[64];
    int width = 30, filled = total > 0 ? done * width / total : width;
    bool fancy = cli_fancy();
    size_t used = 0;

    if (!tty)
        return;
    for (int i = 0; i < width; i++)
        used += (size_t)snprintf(bar + used, sizeof(bar) - used, "%s",
                                 i < filled ? (fancy ? "\u2588" : "#") : (fancy ? "\u2591" : "."));
    printf("\r\033[K[%s] %d/%d segments%s%s", bar, done, total, note ? "  " : "", note ? note : "");
    fflush(stdout);
}

static int queued(struct tk_journal *j, const char *account, int *ret_refused)
{
    struct tk_journal_stats st;

    if (tk_journal_stats(j, account, &st) < 0)
        return -1;
    *ret_refused = st.refused;
    return st.queued;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"timeout", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    struct tk_journal *j = NULL;
    struct tk_uploader *up = NULL;
    bool tty = isatty(STDOUT_FILENO), watching = false;
    int timeout_s = DEFAULT_TIMEOUT_S, c, r, pid, total, left, refused0 = 0, refused = 0;
    char err[512], last_error[256] = "";
    char *dir = NULL, *account = NULL;
    int64_t deadline;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 't': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (!*optarg || *end || v < 1 || v > 86400)
                return cli_usage_error(&cmd_sync, "--timeout is seconds from 1 to 86400, not '%s'",
                                       optarg);
            timeout_s = (int)v;
            break;
        }
        case 'h':
            cli_print_usage(&cmd_sync, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_sync, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_sync, "unexpected argument '%s'", argv[optind]);
    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    account = tk_engine_account_key(ctx->server, client.email);
    dir = cli_journal_dir("sync");
    if (!dir) {
        r = CLI_FAILED;
        goto out;
    }

    pid = tk_journal_lock_holder(dir);
    if (pid == 0) {
        r = tk_journal_open(dir, TK_JOURNAL_LOCKED, &j, err, sizeof(err));
        if (r == -EBUSY) {
            pid = tk_journal_lock_holder(dir); /* a tracker started meanwhile */
        } else if (r < 0) {
            fprintf(stderr, "stint: sync: %s\n", err);
            r = CLI_FAILED;
            goto out;
        } else {
            struct tk_uploader_opts uo = {.transport = &tk_transport_curl,
                                          .server = ctx->server,
                                          .token = client.token,
                                          .account = account};
            if (tk_journal_recover(j) < 0) {
                fprintf(stderr, "stint: sync: cannot recover the journal in '%s'\n", dir);
                r = CLI_FAILED;
                goto out;
            }
            if (queued(j, account, &refused0) == 0) {
                printf("nothing to upload\n");
                r = CLI_OK;
                goto out;
            }
            if (tk_uploader_start(j, &uo, &up, err, sizeof(err)) < 0) {
                fprintf(stderr, "stint: sync: %s\n", err);
                r = CLI_FAILED;
                goto out;
            }
            tk_uploader_kick(up);
        }
    }
    if (!j) {
        /* A tracker holds the journal: ask it to upload now, and watch. */
        watching = true;
        if (tk_journal_open(dir, TK_JOURNAL_READONLY, &j, err, sizeof(err)) < 0) {
            fprintf(stderr, "stint: sync: %s\n", err);
            r = CLI_FAILED;
            goto out;
        }
        /*
         * Only a running tracker (it says so in meta "tracking", after its
         * handler is in place) is asked; the holder may also be another
         * `stint sync`, for which SIGUSR1 would be fatal.
         */
        char *tracking = tk_journal_meta_get(j, "tracking");
        int pr = pid > 1 && tracking && *tracking ? cli_console_poke(pid) : 0;
        if (pr < 0 && pr != -ESRCH)
            fprintf(stderr, "stint: sync: cannot signal the tracker (pid %d): %s\n", pid,
                    cli_strerror(-pr));
        free(tracking);
        if (queued(j, account, &refused0) == 0) {
            printf("nothing to upload\n");
            r = CLI_OK;
            goto out;
        }
    }

    total = queued(j, account, &refused0);
    deadline = mono_ms() + (int64_t)timeout_s * 1000;
    for (;;) {
        bool busy = false;
        left = queued(j, account, &refused);
        if (left < 0) {
            fprintf(stderr, "stint: sync: cannot read the journal\n");
            r = CLI_FAILED;
            goto out;
        }
        if (left > total)
            total = left;
        if (up) {
            struct tk_upload_status us;
            tk_uploader_status(up, &us);
            busy = us.busy;
            snprintf(last_error, sizeof(last_error), "%s", us.last_error);
            if (us.auth_failed) {
                if (tty)
                    printf("\n");
                fprintf(stderr, "stint: sync: %s\n", us.last_error);
                r = CLI_NOAUTH;
                goto out;
            }
        }
        progress(tty, total - left, total, last_error[0] ? "(retrying)" : NULL);
        if (left == 0 && !busy)
            break;
        if (mono_ms() >= deadline)
            break;
        sleep_ms(POLL_MS);
    }
    if (tty)
        printf("\n");
    if (left > 0) {
        char *e = cli_clean(last_error[0] ? last_error : "the server did not take them in time");
        fprintf(stderr, "stint: sync: %d segment%s still queued: %s\n", left, left == 1 ? "" : "s",
                e);
        free(e);
        r = CLI_FAILED;
    } else if (refused > refused0) {
        fprintf(stderr,
                "stint: sync: the server refused %d segment%s for good: see 'stint status'\n",
                refused - refused0, refused - refused0 == 1 ? "" : "s");
        r = CLI_REFUSED;
    } else {
        printf("%d segment%s uploaded%s\n", total, total == 1 ? "" : "s",
               watching ? " (by the running tracker)" : "");
        r = CLI_OK;
    }
out:
    tk_uploader_stop(up);
    tk_journal_free(j);
    free(dir);
    free(account);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_sync = {
    .name = "sync",
    .summary = "upload the tracker's queue now, with progress",
    .usage = usage,
    .run = run,
};
