/*
 * stint invoices: the caller's invoices, newest first, one row each with
 * number, week, contract title, amount, fee and payment state.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/json.h"

static const char usage[] =
    "usage: stint invoices [--json]\n"
    "\n"
    "Lists your invoices (a client's charges, a freelancer's earnings), newest\n"
    "first: number, week, contract, amount charged to the client (after any\n"
    "refund), the platform fee, what the freelancer receives, the payment's\n"
    "state (pending, paid, failed, void) and the id for 'stint invoice ID'.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const headers[] = {"NUMBER", "WEEK",   "CONTRACT", "AMOUNT",
                                          "FEE",    "PAYOUT", "STATE",    "ID"};
    struct cli_client client = {0};
    json_t *resp = NULL, *list, *inv;
    size_t i;
    int c, r;

    while ((c = getopt_long(argc, argv, ":hj", options, NULL)) != -1) {
        switch (c) {
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_invoices, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_invoices, c, argv);
        }
    }
    if (optind != argc)
        return cli_usage_error(&cmd_invoices, "unexpected argument '%s'", argv[optind]);
    if ((r = cli_client_open(ctx, true, &client)) != CLI_OK)
        return r;
    if ((r = cli_call(&client, "GET", "/invoices", NULL, &resp)) != CLI_OK)
        goto out;
    if (ctx->json) {
        cli_print_json(resp);
        goto out;
    }
    list = json_object_get(resp, "invoices");
    if (json_array_size(list) == 0) {
        printf("no invoices yet\n");
        goto out;
    }
    {
        struct cli_table *t = cli_table_new(8, headers);
        cli_table_set_right(t, 0);
        cli_table_set_right(t, 3);
        cli_table_set_right(t, 4);
        cli_table_set_right(t, 5);
        cli_table_set_max(t, 2, 30);
        json_array_foreach(list, i, inv)
        {
            const char *cur = st_json_str(inv, "currency", "");
            char number[24], amount[CLI_MONEY_LEN], fee[CLI_MONEY_LEN], payout[CLI_MONEY_LEN];
            snprintf(number, sizeof(number), "%06lld", st_json_int(inv, "number", 0));
            cli_format_money(st_json_int(inv, "net_amount_cents", 0), cur, amount);
            cli_format_money(st_json_int(inv, "fee_cents", 0), cur, fee);
            cli_format_money(st_json_int(inv, "payout_cents", 0), cur, payout);
            const char *cells[] = {
                number, st_json_str(inv, "week", ""),  st_json_str(inv, "title", ""), amount, fee,
                payout, st_json_str(inv, "state", ""), st_json_str(inv, "id", "")};
            cli_table_add(t, cells);
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
out:
    json_decref(resp);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_invoices = {
    .name = "invoices",
    .summary = "list your invoices",
    .usage = usage,
    .run = run,
};
