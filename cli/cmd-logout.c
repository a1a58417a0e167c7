/*
 * stint logout: revokes the token on the server, then forgets it. When the
 * server cannot be reached the token is kept, so that a later logout can
 * still revoke it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/signin.h"

static const char usage[] =
    "usage: stint logout\n"
    "\n"
    "Revokes the saved token on the server and removes auth.json. A token the\n"
    "server no longer knows is removed too.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    struct cli_reply reply = {0};
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (c == 'h') {
            cli_print_usage(&cmd_logout, false);
            return CLI_OK;
        }
        return cli_bad_option(&cmd_logout, c, argv);
    }
    if (optind < argc)
        return cli_usage_error(&cmd_logout, "unexpected argument '%s'", argv[optind]);

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    r = cli_client_send(&client, "POST", "/logout", NULL, &reply);
    if (r != CLI_OK) {
        fprintf(stderr, "stint: still signed in; run 'stint logout' again later\n");
        goto out;
    }
    /* 401: the server forgot the token already; there is nothing to revoke. */
    if ((reply.status < 200 || reply.status > 299) && reply.status != 401) {
        r = cli_reply_fail(&client, &reply);
        goto out;
    }
    r = st_signin_remove();
    if (r < 0) {
        char *path = st_signin_path();
        fprintf(stderr, "stint: cannot remove '%s': %s\n", path ? path : "auth.json",
                cli_strerror(-r));
        free(path);
        r = CLI_FAILED;
        goto out;
    }
    printf("signed out of %s\n", ctx->server);
    r = CLI_OK;
out:
    cli_reply_release(&reply);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_logout = {
    .name = "logout",
    .summary = "revoke the token and forget it",
    .usage = usage,
    .run = run,
};
