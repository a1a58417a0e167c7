/*
 * stint help: the list of commands, and the usage of one. The same text
 * serves `stint --help` and a command line that names no command.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char global_usage[] =
    "usage: stint [--server URL] [--json] COMMAND [ARGS...]\n"
    "\n"
    "Global options:\n"
    "  --server URL  the stintd to talk to (default: $STINT_SERVER, else the\n"
    "                server of the last login, else " CLI_DEFAULT_SERVER ")\n"
    "  --json        print what the server answered, as JSON\n"
    "  --help        show this help\n"
    "  --version     show the version\n"
    "\n"
    "Exit status: 0 ok, 1 failed, 2 usage error, 3 not signed in,\n"
    "4 refused by the server.\n";

void cli_print_help(FILE *f)
{
    fputs(global_usage, f);
    fputs("\nCommands:\n", f);
    for (int i = 0; cli_commands[i]; i++)
        fprintf(f, "  %-10s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
    fputs("\nRun 'stint help COMMAND' or 'stint COMMAND --help' for its options.\n", f);
}

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    const struct cli_command *cmd;

    if (argc > 1 && argv[1][0] == '-') {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
            cli_print_usage(&cmd_help, false);
            return CLI_OK;
        }
        return cli_usage_error(&cmd_help, "unknown option '%s'", argv[1]);
    }
    if (argc > 2)
        return cli_usage_error(&cmd_help, "too many arguments");
    if (argc < 2) {
        cli_print_help(stdout);
        return CLI_OK;
    }
    cmd = cli_find_command(argv[1]);
    if (!cmd) {
        fprintf(stderr, "stint: help: unknown command '%s'\n", argv[1]);
        return CLI_USAGE;
    }
    cli_print_usage(cmd, false);
    return CLI_OK;
}

const struct cli_command cmd_help = {
    .name = "help",
    .summary = "show the commands, or one command's options",
    .usage = "usage: stint help [COMMAND]\n",
    .run = run,
};
