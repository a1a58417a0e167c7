/*
 * stint screenshot --last: where the tracker's last screenshot is on this
 * machine, so that the freelancer can look at what was captured (DOMAIN.md,
 * privacy). Reads the journal only; talks to no server.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "lib/xalloc.h"
#include "tracker/journal.h"

static const char usage[] = "usage: stint screenshot --last\n"
                            "\n"
                            "Prints the path of the last screenshot the tracker took on this\n"
                            "machine (it stays on disk after upload until the next one).\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"last", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct tk_journal *j = NULL;
    bool last = false;
    char err[512];
    char *dir, *rel = NULL, *path = NULL;
    struct stat sb;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'l':
            last = true;
            break;
        case 'h':
            cli_print_usage(&cmd_screenshot, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_screenshot, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_screenshot, "unexpected argument '%s'", argv[optind]);
    if (!last)
        return cli_usage_error(&cmd_screenshot, "say which screenshot: --last");

    dir = cli_journal_dir("screenshot");
    if (!dir)
        return CLI_FAILED;
    r = tk_journal_open(dir, TK_JOURNAL_READONLY, &j, err, sizeof(err));
    if (r == -ENOENT) {
        fprintf(stderr, "stint: screenshot: no screenshot yet: the tracker has not run here\n");
        r = CLI_FAILED;
        goto out;
    }
    if (r < 0) {
        fprintf(stderr, "stint: screenshot: %s\n", err);
        r = CLI_FAILED;
        goto out;
    }
    rel = tk_journal_meta_get(j, "last_shot");
    if (rel && *rel)
        path = xasprintf("%s/%s", dir, rel);
    if (!path || stat(path, &sb) < 0) {
        fprintf(stderr, "stint: screenshot: no screenshot yet\n");
        r = CLI_FAILED;
        goto out;
    }
    printf("%s\n", path);
    r = CLI_OK;
out:
    free(path);
    free(rel);
    free(dir);
    tk_journal_free(j);
    return r;
}

const struct cli_command cmd_screenshot = {
    .name = "screenshot",
    .summary = "print the path of the tracker's last screenshot",
    .usage = usage,
    .run = run,
};
