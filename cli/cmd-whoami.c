/*
 * stint whoami: who the saved token belongs to, as the server sees it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/json.h"

static const char usage[] = "usage: stint whoami [--json]\n"
                            "\n"
                            "Shows the signed-in user: name, email, role, time zone, server.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    json_t *resp = NULL, *user;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_whoami, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_whoami, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_whoami, "unexpected argument '%s'", argv[optind]);

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    r = cli_call(&client, "GET", "/me", NULL, &resp);
    if (r != CLI_OK)
        goto out;
    if (ctx->json) {
        cli_print_json(resp);
        goto out;
    }
    user = json_object_get(resp, "user");
    {
        char *name = cli_clean(st_json_str(user, "name", ""));
        char *email = cli_clean(st_json_str(user, "email", ""));
        char *role = cli_clean(st_json_str(user, "role", ""));
        char *tz = cli_clean(st_json_str(user, "timezone", "UTC"));
        char *id = cli_clean(st_json_str(user, "id", ""));

        printf("%s <%s>\n", name, email);
        printf("role:      %s%s\n", role,
               st_json_bool(user, "id_verified", false) ? " (identity verified)" : "");
        printf("time zone: %s\n", tz);
        printf("user id:   %s\n", id);
        printf("server:    %s\n", ctx->server);
        free(name);
        free(email);
        free(role);
        free(tz);
        free(id);
    }
out:
    json_decref(resp);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_whoami = {
    .name = "whoami",
    .summary = "show the signed-in user",
    .usage = usage,
    .run = run,
};
