/*
 * stint dispute: the client disputes segments of a timesheet in review,
 * with a reason. The server pauses the contract and sets its weekly limit
 * to 0 from next Monday; the freelancer has 3 days to answer.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/json.h"

#define MAX_SEGMENTS 2016

static const char usage[] =
    "usage: stint dispute TIMESHEET --reason TEXT SEGMENT... [--json]\n"
    "\n"
    "Disputes segments of a timesheet in review (the client only, until the\n"
    "end of the Friday after the lock). Filing pauses the contract and sets\n"
    "its weekly limit to 0 from next Monday. The freelancer has 3 days to\n"
    "accept (the segments are refunded) or decline (an admin decides).\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"reason", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    const char *reason = NULL;
    json_t *body, *ids, *resp = NULL, *d;
    char *path;
    int c, r;

    while ((c = getopt_long(argc, argv, ":hr:j", options, NULL)) != -1) {
        switch (c) {
        case 'r':
            reason = optarg;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_dispute, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_dispute, c, argv);
        }
    }
    if (!reason || !*reason)
        return cli_usage_error(&cmd_dispute, "say why with --reason");
    if (argc - optind < 2)
        return cli_usage_error(&cmd_dispute, "give the TIMESHEET id and at least one SEGMENT");
    if (argc - optind - 1 > MAX_SEGMENTS)
        return cli_usage_error(&cmd_dispute, "at most %d segments", MAX_SEGMENTS);
    ids = json_array();
    for (int i = optind + 1; i < argc; i++)
        json_array_append_new(ids, json_string(argv[i]));
    body = json_pack("{s:s,s:o}", "reason", reason, "segment_ids", ids);
    if (!body)
        return cli_usage_error(&cmd_dispute, "the reason and ids must be UTF-8 text");
    if ((r = cli_client_open(ctx, true, &client)) != CLI_OK) {
        json_decref(body);
        return r;
    }
    path = cli_path("/timesheets/", argv[optind], "/dispute");
    r = cli_call(&client, "POST", path, body, &resp);
    free(path);
    if (r == CLI_OK) {
        d = json_object_get(resp, "dispute");
        if (ctx->json)
            cli_print_json(resp);
        else
            printf("dispute %s filed on %zu segment%s; the freelancer may answer until %s\n",
                   st_json_str(d, "id", ""), json_array_size(json_object_get(d, "segment_ids")),
                   json_array_size(json_object_get(d, "segment_ids")) == 1 ? "" : "s",
                   st_json_str(d, "respond_by", ""));
    }
    json_decref(resp);
    json_decref(body);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_dispute = {
    .name = "dispute",
    .summary = "dispute segments of a timesheet in review (client)",
    .usage = usage,
    .run = run,
};
