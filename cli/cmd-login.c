/*
 * stint login: trades an email and password for a token and saves it (see
 * lib/signin.h). The password is never taken from the command line, where other
 * users could read it in the process list.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/prompt.h"
#include "lib/os.h"
#include "lib/signin.h"
#include "lib/json.h"
#include "lib/xalloc.h"

static const char usage[] =
    "usage: stint login --email EMAIL [--password-stdin] [--device NAME] [--json]\n"
    "\n"
    "Signs in and saves the token in $XDG_CONFIG_HOME/stint/auth.json (mode 0600).\n"
    "The password is asked for on the terminal, or read as one line from stdin\n"
    "with --password-stdin. NAME labels this sign-in on the server (default:\n"
    "'stint cli on HOSTNAME'). With --json, prints the user (not the token).\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"email", required_argument, NULL, 'e'},  {"password-stdin", no_argument, NULL, 'p'},
        {"device", required_argument, NULL, 'd'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *email = NULL, *device = NULL;
    bool from_stdin = false;
    char password[CLI_PASSWORD_MAX + 1] = "";
    char host[256] = "";
    char *device_buf = NULL;
    struct cli_client client = {0};
    struct st_signin st = {0};
    json_t *req = NULL, *resp = NULL;
    const char *token;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'e':
            email = optarg;
            break;
        case 'p':
            from_stdin = true;
            break;
        case 'd':
            device = optarg;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_login, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_login, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_login, "unexpected argument '%s'", argv[optind]);
    if (!email)
        return cli_usage_error(&cmd_login, "--email is required");
    if (!device) {
        if (st_os_host_name(host, sizeof(host)) < 0 || !host[0])
            snprintf(host, sizeof(host), "unknown host");
        device = device_buf = xasprintf("stint cli on %s", host);
    }

    r = cli_read_password("Password: ", from_stdin, password, sizeof(password));
    if (r < 0) {
        r = cli_password_error(r);
        goto out;
    }
    r = cli_client_open(ctx, false, &client);
    if (r != CLI_OK)
        goto out;
    req = json_pack("{s:s, s:s, s:s}", "email", email, "password", password, "device", device);
    if (!req) {
        r = cli_usage_error(&cmd_login, "the email and device name must be UTF-8 text");
        goto out;
    }
    r = cli_call(&client, "POST", "/login", req, &resp);
    if (r != CLI_OK)
        goto out;
    token = st_json_str(resp, "token", NULL);
    if (!token || !*token) {
        fprintf(stderr, "stint: bad answer from %s: no token\n", ctx->server);
        r = CLI_FAILED;
        goto out;
    }

    st.server = (char *)ctx->server;
    st.token = (char *)token;
    st.email = (char *)st_json_str(json_object_get(resp, "user"), "email", email);
    r = st_signin_save(&st);
    if (r < 0) {
        char *path = st_signin_path();
        fprintf(stderr, "stint: cannot save the sign-in to '%s': %s\n",
                path ? path : "$XDG_CONFIG_HOME/stint/auth.json", cli_strerror(-r));
        free(path);
        r = CLI_FAILED;
        goto out;
    }
    if (ctx->json) {
        json_t *user = json_pack("{s:O}", "user", json_object_get(resp, "user"));
        cli_print_json(user ? user : json_object());
        json_decref(user);
    } else {
        json_t *user = json_object_get(resp, "user");
        char *name = cli_clean(st_json_str(user, "name", ""));
        char *who = cli_clean(st_json_str(user, "email", email));
        char *role = cli_clean(st_json_str(user, "role", "?"));
        printf("signed in as %s <%s> (%s) on %s\n", name, who, role, ctx->server);
        free(name);
        free(who);
        free(role);
    }
    r = CLI_OK;
out:
    cli_json_wipe(req, "password");
    cli_json_wipe(resp, "token");
    json_decref(req);
    json_decref(resp);
    cli_client_release(&client);
    explicit_bzero(password, sizeof(password));
    free(device_buf);
    return r;
}

const struct cli_command cmd_login = {
    .name = "login",
    .summary = "sign in and save the token",
    .usage = usage,
    .run = run,
};
