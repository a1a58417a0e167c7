/*
 * stint approve: the client approves a timesheet in review, before the
 * review window closes on its own at the end of Friday.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/json.h"

static const char usage[] =
    "usage: stint approve TIMESHEET [--json]\n"
    "\n"
    "Approves a timesheet in review (the client only). Without an approval or\n"
    "a dispute, a timesheet is approved when its review window closes (the end\n"
    "of the Friday after the lock). TIMESHEET is the id 'stint timesheet' shows.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    json_t *resp = NULL, *t;
    char *path, money[CLI_MONEY_LEN];
    int c, r;

    while ((c = getopt_long(argc, argv, ":hj", options, NULL)) != -1) {
        switch (c) {
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_approve, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_approve, c, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error(&cmd_approve, "give one TIMESHEET id");
    if ((r = cli_client_open(ctx, true, &client)) != CLI_OK)
        return r;
    path = cli_path("/timesheets/", argv[optind], "/approve");
    r = cli_call(&client, "POST", path, NULL, &resp);
    free(path);
    if (r == CLI_OK) {
        if (ctx->json) {
            cli_print_json(resp);
        } else {
            t = json_object_get(resp, "timesheet");
            cli_format_money(st_json_int(t, "amount_cents", 0), st_json_str(t, "currency", ""),
                             money);
            printf("approved timesheet %s (week %s, %s)\n", st_json_str(t, "id", ""),
                   st_json_str(t, "week", ""), money);
        }
    }
    json_decref(resp);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_approve = {
    .name = "approve",
    .summary = "approve a timesheet in review (client)",
    .usage = usage,
    .run = run,
};
