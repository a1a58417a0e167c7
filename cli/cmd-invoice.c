/*
 * stint invoice: one invoice. Without options, a summary with a line per
 * day; --pdf FILE and --csv FILE save the server's renderings ("-" for
 * stdout); --json prints the server's object.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/download.h"
#include "cli/output.h"
#include "lib/json.h"

static const char usage[] =
    "usage: stint invoice ID [--pdf FILE] [--csv FILE] [--json]\n"
    "\n"
    "Shows an invoice: both parties, the week, the rate, a line per day, the\n"
    "total charged to the client, the platform fee and what the freelancer\n"
    "receives, and how the payment stands. --pdf FILE saves the one-page PDF,\n"
    "--csv FILE the CSV (FILE '-' writes to stdout); --json prints the\n"
    "server's answer.\n";

static void print_invoice(json_t *inv)
{
    static const char *const headers[] = {"DATE", "BILLABLE", "AMOUNT"};
    const char *cur = st_json_str(inv, "currency", "");
    char money[CLI_MONEY_LEN], d[CLI_DURATION_LEN];
    char *client = cli_clean(st_json_str(json_object_get(inv, "client"), "name", ""));
    char *freelancer = cli_clean(st_json_str(json_object_get(inv, "freelancer"), "name", ""));
    char *title = cli_clean(st_json_str(inv, "title", ""));
    struct cli_table *t = cli_table_new(3, headers);
    json_t *line;
    size_t i;

    printf("invoice %06lld (%s), week %s\n", st_json_int(inv, "number", 0),
           st_json_str(inv, "id", ""), st_json_str(inv, "week", ""));
    printf("from %s to %s, contract \"%s\"\n", freelancer, client, title);
    cli_format_money(st_json_int(inv, "hourly_rate_cents", 0), cur, money);
    printf("rate %s per hour\n\n", money);
    cli_table_set_right(t, 1);
    cli_table_set_right(t, 2);
    json_array_foreach(json_object_get(inv, "lines"), i, line)
    {
        cli_format_duration(st_json_int(line, "billable_s", 0), d);
        cli_format_money(st_json_int(line, "amount_cents", 0), cur, money);
        const char *cells[] = {st_json_str(line, "date", ""), d, money};
        cli_table_add(t, cells);
    }
    cli_format_duration(st_json_int(inv, "billable_s", 0), d);
    cli_format_money(st_json_int(inv, "amount_cents", 0), cur, money);
    {
        const char *cells[] = {"total", d, money};
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    if (st_json_int(inv, "refunded_cents", 0)) {
        cli_format_money(-st_json_int(inv, "refunded_cents", 0), cur, money);
        printf("refund of disputed time: %s\n", money);
    }
    cli_format_money(st_json_int(inv, "net_amount_cents", 0), cur, money);
    printf("due from the client:     %s (%s)\n", money, st_json_str(inv, "state", ""));
    cli_format_money(-st_json_int(inv, "fee_cents", 0), cur, money);
    printf("platform fee:            %s\n", money);
    cli_format_money(st_json_int(inv, "payout_cents", 0), cur, money);
    printf("freelancer receives:     %s\n", money);
    free(client);
    free(freelancer);
    free(title);
}

static int fetch_to(struct cli_client *client, const char *id, const char *suffix, const char *file)
{
    char *path = cli_path("/invoices/", id, suffix), *data = NULL;
    size_t len = 0;
    int r = cli_download(client, path, &data, &len);

    if (r == CLI_OK)
        r = cli_save(file, data, len);
    if (r == CLI_OK && strcmp(file, "-") != 0)
        fprintf(stderr, "saved %s (%zu bytes)\n", file, len);
    free(data);
    free(path);
    return r;
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"pdf", required_argument, NULL, 'p'},
        {"csv", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    const char *pdf = NULL, *csv = NULL;
    json_t *resp = NULL;
    int c, r;

    while ((c = getopt_long(argc, argv, ":hp:c:j", options, NULL)) != -1) {
        switch (c) {
        case 'p':
            pdf = optarg;
            break;
        case 'c':
            csv = optarg;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_invoice, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_invoice, c, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error(&cmd_invoice, "give one invoice ID");
    if (pdf && csv && strcmp(pdf, "-") == 0 && strcmp(csv, "-") == 0)
        return cli_usage_error(&cmd_invoice, "only one of --pdf and --csv may write to stdout");
    if ((r = cli_client_open(ctx, true, &client)) != CLI_OK)
        return r;
    if (pdf && (r = fetch_to(&client, argv[optind], ".pdf", pdf)) != CLI_OK)
        goto out;
    if (csv && (r = fetch_to(&client, argv[optind], ".csv", csv)) != CLI_OK)
        goto out;
    if ((pdf || csv) && !ctx->json)
        goto out;
    {
        char *path = cli_path("/invoices/", argv[optind], "");
        r = cli_call(&client, "GET", path, NULL, &resp);
        free(path);
    }
    if (r != CLI_OK)
        goto out;
    if (ctx->json)
        cli_print_json(resp);
    else
        print_invoice(json_object_get(resp, "invoice"));
out:
    json_decref(resp);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_invoice = {
    .name = "invoice",
    .summary = "one invoice; save it as PDF or CSV",
    .usage = usage,
    .run = run,
};
