/*
 * stint, the command-line client of stintd: reads the global options,
 * decides which server to talk to, and hands the rest of the command line
 * to one entry of the command table. The commands live in cmd-<verb>.c;
 * the table in commands-all.c (Linux) or commands-laptop.c (Windows).
 */
#include <curl/curl.h>
#include <getopt.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/os.h"
#include "lib/signin.h"
#include "lib/xalloc.h"
#include "tracker/settings.h"

const struct cli_command *cli_find_command(const char *name)
{
    for (int i = 0; cli_commands[i]; i++)
        if (strcmp(cli_commands[i]->name, name) == 0)
            return cli_commands[i];
    return NULL;
}

void cli_print_usage(const struct cli_command *cmd, bool to_stderr)
{
    fputs(cmd->usage, to_stderr ? stderr : stdout);
}

int cli_bad_option(const struct cli_command *cmd, int c, char **argv)
{
    const char *arg = argv[optind - 1];

    if (c == ':')
        fprintf(stderr, "stint: %s: option '%s' needs a value\n", cmd->name, arg);
    else if (optopt && !(arg[0] == '-' && arg[1] == '-'))
        fprintf(stderr, "stint: %s: unknown option '-%c'\n", cmd->name, optopt);
    else
        fprintf(stderr, "stint: %s: unknown option '%s'\n", cmd->name, arg);
    cli_print_usage(cmd, true);
    return CLI_USAGE;
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "stint: %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    cli_print_usage(cmd, true);
    return CLI_USAGE;
}

int cli_one_arg(const struct cli_command *cmd, int argc, char **argv, const char *what,
                const char **ret_arg)
{
    if (optind >= argc)
        return cli_usage_error(cmd, "the %s is missing", what);
    if (optind + 1 < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    if (!argv[optind][0])
        return cli_usage_error(cmd, "the %s is empty", what);
    *ret_arg = argv[optind];
    return CLI_OK;
}

char *cli_journal_dir(const char *cmd)
{
    struct tk_settings set;
    char err[512];
    char *dir;

    if (tk_settings_load(&set, err, sizeof(err)) < 0) {
        fprintf(stderr, "stint: %s: %s\n", cmd, err);
        return NULL;
    }
    dir = tk_settings_data_dir_dup(&set);
    if (!dir)
        fprintf(stderr, "stint: %s: no home directory: set XDG_DATA_HOME\n", cmd);
    return dir;
}

/*
 * Picks the server: --server, else $STINT_SERVER, else the server of the
 * saved login, else the default. Returns it newly allocated without a
 * trailing slash, or NULL when it is not a usable URL (then *ret_bad is
 * the value, newly allocated).
 */
static char *choose_server(const char *option, char **ret_bad)
{
    const char *env = getenv("STINT_SERVER");
    struct st_signin st = {0};
    char *url;
    size_t len;

    if (option)
        url = xstrdup(option);
    else if (env && *env)
        url = xstrdup(env);
    else if (st_signin_peek(&st) == 0)
        url = xstrdup(st.server);
    else
        url = xstrdup(CLI_DEFAULT_SERVER);
    st_signin_release(&st);

    len = strlen(url);
    while (len > 0 && url[len - 1] == '/')
        url[--len] = '\0';
    if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
        strchr(url + 7, '?') || strchr(url, ' ') || len > 2048) {
        *ret_bad = url;
        return NULL;
    }
    return url;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"server", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    struct cli_ctx ctx = {0};
    const struct cli_command *cmd;
    const char *server_opt = NULL;
    char *server = NULL;
    int c, r;

    setlocale(LC_CTYPE, "");
    st_os_console_utf8();
    argv = st_os_utf8_argv(argc, argv);
    opterr = 0;
    /* '+': stop at the command name; its options are the command's. */
    while ((c = getopt_long(argc, argv, "+:hV", options, NULL)) != -1) {
        switch (c) {
        case 's':
            server_opt = optarg;
            break;
        case 'j':
            ctx.json = true;
            break;
        case 'h':
            cli_print_help(stdout);
            return CLI_OK;
        case 'V':
            printf("stint %s\n", STINT_VERSION);
            return CLI_OK;
        case ':':
            fprintf(stderr, "stint: option '%s' needs a value\n", argv[optind - 1]);
            cli_print_help(stderr);
            return CLI_USAGE;
        default:
            fprintf(stderr, "stint: unknown option '%s'\n", argv[optind - 1]);
            cli_print_help(stderr);
            return CLI_USAGE;
        }
    }
    if (optind >= argc) {
        cli_print_help(stderr);
        return CLI_USAGE;
    }
    cmd = cli_find_command(argv[optind]);
    for (int i = 0; !cmd && cli_hidden_commands[i]; i++)
        if (strcmp(argv[optind], cli_hidden_commands[i]->name) == 0)
            cmd = cli_hidden_commands[i];
    if (!cmd) {
        fprintf(stderr, "stint: unknown command '%s'; see 'stint help'\n", argv[optind]);
        return CLI_USAGE;
    }

    /* A bad URL matters only to commands that talk to a server; help works regardless. */
    server = choose_server(server_opt, &ctx.bad_server);
    ctx.server = server;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "stint: cannot start libcurl\n");
        free(ctx.bad_server);
        free(server);
        return CLI_FAILED;
    }
    argc -= optind;
    argv += optind;
    /* 0 makes glibc's getopt start afresh for the command's own options. */
    optind = 0;
    r = cmd->run(&ctx, argc, argv);
    if (fflush(stdout) != 0 && r == CLI_OK) {
        perror("stint: cannot write the output");
        r = CLI_FAILED;
    }
    curl_global_cleanup();
    free(ctx.bad_server);
    free(server);
    return r;
}
