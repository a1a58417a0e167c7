/*
 * stint tag: replaces the tags of one segment (freelancer or client, until
 * the week locks), or clears them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"

/* More tags than a contract could define is a mistake, not a request. */
#define MAX_TAGS 64

static const char usage[] = "usage: stint tag SEGMENT_ID TAG... [--json]\n"
                            "       stint tag SEGMENT_ID --clear [--json]\n"
                            "\n"
                            "Sets the tags of a segment to exactly TAG... (or none with --clear).\n"
                            "The freelancer and the client may, until the week locks.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"clear", no_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    json_t *req = NULL, *resp = NULL, *tags;
    bool clear = false;
    char *path = NULL;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            clear = true;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_tag, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_tag, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(&cmd_tag, "the segment ID is missing");
    if (clear && argc - optind > 1)
        return cli_usage_error(&cmd_tag, "--clear takes no tags");
    if (!clear && argc - optind < 2)
        return cli_usage_error(&cmd_tag, "give at least one tag, or --clear");
    if (argc - optind - 1 > MAX_TAGS)
        return cli_usage_error(&cmd_tag, "at most %d tags", MAX_TAGS);

    tags = json_array();
    for (int i = optind + 1; i < argc; i++) {
        if (json_array_append_new(tags, json_string(argv[i])) < 0) {
            json_decref(tags);
            return cli_usage_error(&cmd_tag, "tag '%s' is not UTF-8 text", argv[i]);
        }
    }
    req = json_pack("{s:o}", "tags", tags);

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
        if (clear)
            printf("tags of segment %s cleared\n", id);
        else
            printf("tags of segment %s set\n", id);
        free(id);
    }
out:
    json_decref(req);
    json_decref(resp);
    free(path);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_tag = {
    .name = "tag",
    .summary = "set or clear the tags of a segment",
    .usage = usage,
    .run = run,
};
