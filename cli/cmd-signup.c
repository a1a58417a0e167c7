/*
 * stint signup: creates an account on the server. It does not sign in;
 * `stint login` does, so that scripts see one way to get a token.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "cli/prompt.h"
#include "lib/json.h"
#include "lib/xalloc.h"

static const char usage[] =
    "usage: stint signup --email EMAIL --name NAME --role client|freelancer\n"
    "                    [--timezone ZONE] [--password-stdin] [--json]\n"
    "\n"
    "Creates an account. The password (10 characters or more) is asked for on\n"
    "the terminal, twice, or read as one line from stdin with --password-stdin.\n"
    "ZONE is an IANA name such as Europe/Berlin (default: this machine's zone).\n"
    "Sign in afterwards with 'stint login --email EMAIL'.\n";

/*
 * This machine's IANA zone name from $TZ or the /etc/localtime link,
 * newly allocated, or NULL when it cannot be told (the server then uses UTC).
 */
static char *local_zone(void)
{
    const char *tz = getenv("TZ");
    char link[512];
    const char *mark;
    ssize_t n;

    if (tz && *tz == ':')
        tz++;
    if (tz && *tz && *tz != '/' && strchr(tz, '/'))
        return xstrdup(tz);
    n = readlink("/etc/localtime", link, sizeof(link) - 1);
    if (n <= 0)
        return NULL;
    link[n] = '\0';
    mark = strstr(link, "zoneinfo/");
    if (!mark || !mark[9])
        return NULL;
    return xstrdup(mark + 9);
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"email", required_argument, NULL, 'e'},    {"name", required_argument, NULL, 'n'},
        {"role", required_argument, NULL, 'r'},     {"timezone", required_argument, NULL, 't'},
        {"password-stdin", no_argument, NULL, 'p'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *email = NULL, *name = NULL, *role = NULL, *zone = NULL;
    bool from_stdin = false;
    char password[CLI_PASSWORD_MAX + 1] = "";
    char again[CLI_PASSWORD_MAX + 1] = "";
    struct cli_client client = {0};
    json_t *req = NULL, *resp = NULL;
    char *guessed = NULL;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'e':
            email = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'r':
            role = optarg;
            break;
        case 't':
            zone = optarg;
            break;
        case 'p':
            from_stdin = true;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_signup, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_signup, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_signup, "unexpected argument '%s'", argv[optind]);
    if (!email || !name || !role)
        return cli_usage_error(&cmd_signup, "--email, --name and --role are required");
    if (strcmp(role, "client") != 0 && strcmp(role, "freelancer") != 0)
        return cli_usage_error(&cmd_signup, "--role is 'client' or 'freelancer', not '%s'", role);
    if (!zone)
        zone = guessed = local_zone();

    r = cli_read_password("Password (10 characters or more): ", from_stdin, password,
                          sizeof(password));
    if (r < 0) {
        r = cli_password_error(r);
        goto out;
    }
    if (!from_stdin) {
        r = cli_read_password("Repeat the password: ", false, again, sizeof(again));
        if (r < 0) {
            r = cli_password_error(r);
            goto out;
        }
        if (strcmp(password, again) != 0) {
            fprintf(stderr, "stint: the passwords differ\n");
            r = CLI_USAGE;
            goto out;
        }
    }

    r = cli_client_open(ctx, false, &client);
    if (r != CLI_OK)
        goto out;
    req = json_pack("{s:s, s:s, s:s, s:s}", "email", email, "password", password, "name", name,
                    "role", role);
    if (!req) {
        fprintf(stderr, "stint: signup: the email and name must be UTF-8 text\n");
        r = CLI_USAGE;
        goto out;
    }
    if (zone)
        json_object_set_new(req, "timezone", json_string(zone));
    r = cli_call(&client, "POST", "/signup", req, &resp);
    if (r != CLI_OK)
        goto out;

    if (ctx->json) {
        cli_print_json(resp);
    } else {
        json_t *user = json_object_get(resp, "user");
        char *who = cli_clean(st_json_str(user, "email", email));
        printf("signed up %s as %s on %s\n", who, role, ctx->server);
        printf("sign in with: stint login --email %s\n", who);
        free(who);
    }
out:
    cli_json_wipe(req, "password");
    json_decref(req);
    json_decref(resp);
    cli_client_release(&client);
    explicit_bzero(password, sizeof(password));
    explicit_bzero(again, sizeof(again));
    free(guessed);
    return r;
}

const struct cli_command cmd_signup = {
    .name = "signup",
    .summary = "create an account (client or freelancer)",
    .usage = usage,
    .run = run,
};
