/*
 * stint delete: deletes segments of the current week (the freelancer's),
 * after saying how much time goes with them. Their screenshots are
 * destroyed by the server; nothing can bring them back, hence the question.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/prompt.h"
#include "lib/json.h"
#include "lib/xalloc.h"

#define MAX_SEGMENTS 1000

static const char usage[] =
    "usage: stint delete SEGMENT_ID... [--yes]\n"
    "\n"
    "Deletes segments: their time leaves the totals and their screenshots are\n"
    "destroyed. Shows the time that will be removed and asks first; --yes\n"
    "skips the question (needed when stdin is not a terminal). Only the\n"
    "freelancer may, until the week locks (Monday 12:00 UTC after it).\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"yes", no_argument, NULL, 'y'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    bool yes = false;
    long long total_s = 0, removed_s = 0;
    long long *tracked = NULL;
    char **ids = NULL;
    int nids = 0, deleted = 0, c, r;
    char dur[CLI_DURATION_LEN];

    while ((c = getopt_long(argc, argv, ":hy", options, NULL)) != -1) {
        switch (c) {
        case 'y':
            yes = true;
            break;
        case 'h':
            cli_print_usage(&cmd_delete, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_delete, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(&cmd_delete, "give at least one segment ID");
    if (argc - optind > MAX_SEGMENTS)
        return cli_usage_error(&cmd_delete, "at most %d segments at once", MAX_SEGMENTS);
    if (!yes && !cli_can_ask())
        return cli_usage_error(&cmd_delete, "stdin is not a terminal; confirm with --yes");

    ids = xcalloc((size_t)(argc - optind), sizeof(*ids));
    tracked = xcalloc((size_t)(argc - optind), sizeof(*tracked));
    /* The same ID twice would fail the second time: ask about each once. */
    for (int i = optind; i < argc; i++) {
        bool seen = false;
        for (int k = 0; k < nids; k++)
            seen = seen || strcmp(ids[k], argv[i]) == 0;
        if (!seen)
            ids[nids++] = argv[i];
    }

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        goto out;
    /* Look every segment up first, so that a bad ID deletes nothing. */
    for (int k = 0; k < nids; k++) {
        char *path = cli_path("/segments/", ids[k], "");
        json_t *resp = NULL, *seg;
        r = cli_call(&client, "GET", path, NULL, &resp);
        free(path);
        if (r != CLI_OK)
            goto out;
        seg = json_object_get(resp, "segment");
        if (!seg)
            seg = resp;
        tracked[k] = st_json_int(seg, "tracked_s", 0);
        total_s += tracked[k];
        json_decref(resp);
    }

    cli_format_duration(total_s, dur);
    if (!yes) {
        char *question = xasprintf("delete %d segment%s with %s of tracked time?", nids,
                                   nids == 1 ? "" : "s", dur);
        bool ok = cli_confirm(question);
        free(question);
        if (!ok) {
            fprintf(stderr, "stint: nothing deleted\n");
            r = CLI_FAILED;
            goto out;
        }
    }
    for (int k = 0; k < nids; k++) {
        char *path = cli_path("/segments/", ids[k], "");
        r = cli_call(&client, "DELETE", path, NULL, NULL);
        free(path);
        if (r != CLI_OK)
            break;
        deleted++;
        removed_s += tracked[k];
    }
    cli_format_duration(removed_s, dur);
    if (deleted > 0 || r == CLI_OK)
        printf("deleted %d segment%s; %s of tracked time removed\n", deleted,
               deleted == 1 ? "" : "s", dur);
out:
    cli_client_release(&client);
    free(ids);
    free(tracked);
    return r;
}

const struct cli_command cmd_delete = {
    .name = "delete",
    .summary = "delete segments (asks first; says how much time goes)",
    .usage = usage,
    .run = run,
};
