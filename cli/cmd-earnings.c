/*
 * stint earnings: what the ledger holds for the caller. For a freelancer,
 * per currency, the earnings still in the security period (pending) and
 * those available; for a client, what was paid in. Then the latest
 * movements, each with the account on the other side.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/json.h"

#define SHOW_ENTRIES 20

static const char usage[] =
    "usage: stint earnings [--json]\n"
    "\n"
    "Shows your ledger: a freelancer's earnings per currency, pending (in the\n"
    "5-day security period after the review) and available; a client's\n"
    "payments; then the latest movements. --json prints the server's answer\n"
    "(every account and up to 1000 entries).\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const h1[] = {"ACCOUNT", "CURRENCY", "PENDING", "AVAILABLE", "BALANCE"};
    static const char *const h2[] = {"WHEN", "WHAT", "AMOUNT", "ACCOUNT", "OTHER SIDE"};
    struct cli_client client = {0};
    json_t *resp = NULL, *accounts, *entries, *a;
    size_t i, n;
    int c, r;

    while ((c = getopt_long(argc, argv, ":hj", options, NULL)) != -1) {
        switch (c) {
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_earnings, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_earnings, c, argv);
        }
    }
    if (optind != argc)
        return cli_usage_error(&cmd_earnings, "unexpected argument '%s'", argv[optind]);
    if ((r = cli_client_open(ctx, true, &client)) != CLI_OK)
        return r;
    if ((r = cli_call(&client, "GET", "/ledger", NULL, &resp)) != CLI_OK)
        goto out;
    if (ctx->json) {
        cli_print_json(resp);
        goto out;
    }
    accounts = json_object_get(resp, "accounts");
    entries = json_object_get(resp, "entries");
    if (json_array_size(accounts) == 0) {
        printf("nothing in the ledger yet\n");
        goto out;
    }
    {
        struct cli_table *t = cli_table_new(5, h1);
        for (int col = 2; col < 5; col++)
            cli_table_set_right(t, col);
        json_array_foreach(accounts, i, a)
        {
            const char *cur = st_json_str(a, "currency", "");
            char p[CLI_MONEY_LEN], av[CLI_MONEY_LEN], b[CLI_MONEY_LEN];
            cli_format_money(st_json_int(a, "pending_cents", 0), cur, p);
            cli_format_money(st_json_int(a, "available_cents", 0), cur, av);
            cli_format_money(st_json_int(a, "balance_cents", 0), cur, b);
            const char *cells[] = {st_json_str(a, "name", ""), cur, p, av, b};
            cli_table_add(t, cells);
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    n = json_array_size(entries);
    if (n) {
        struct cli_table *t = cli_table_new(5, h2);
        cli_table_set_right(t, 2);
        printf("\nlatest movements:\n");
        for (i = n > SHOW_ENTRIES ? n - SHOW_ENTRIES : 0; i < n; i++) {
            json_t *e = json_array_get(entries, i);
            char amount[CLI_MONEY_LEN];
            cli_format_money(st_json_int(e, "amount_cents", 0), st_json_str(e, "currency", ""),
                             amount);
            const char *cells[] = {st_json_str(e, "ts", ""), st_json_str(e, "kind", ""), amount,
                                   st_json_str(e, "account", ""),
                                   st_json_str(e, "counter_account", "")};
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

const struct cli_command cmd_earnings = {
    .name = "earnings",
    .summary = "your earnings (pending, available) and ledger movements",
    .usage = usage,
    .run = run,
};
