/*
 * stint memo: changes the memo of one segment (the freelancer's, until
 * the week locks).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"

static const char usage[] = "usage: stint memo SEGMENT_ID TEXT [--json]\n"
                            "\n"
                            "Sets the memo of a segment. Only the freelancer may, and only until\n"
                            "the week locks (Monday 12:00 UTC after it).\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    json_t *req = NULL, *resp = NULL;
    char *path = NULL;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_memo, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_memo, c, argv);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error(&cmd_memo, "give a segment ID and the memo text");
    req = json_pack("{s:s}", "memo", argv[optind + 1]);
    if (!req)
        return cli_usage_error(&cmd_memo, "the memo is not UTF-8 text");

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        goto out;
    path = cli_path("/segments/", argv[optind], "");
    r = cli_call(&client, "PATCH", path, req, &resp);
    if (r != CLI_OK)
        goto out;
    if (ctx->json) {
        cli_print_json(resp);
    } else {
        char *id = cli_clean(argv[optind]);
        printf("memo of segment %s set\n", id);
        free(id);
    }
out:
    json_decref(req);
    json_decref(resp);
    free(path);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_memo = {
    .name = "memo",
    .summary = "set the memo of a segment",
    .usage = usage,
    .run = run,
};
