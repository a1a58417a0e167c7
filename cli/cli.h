/*
 * What every command of the stint command-line client shares: the exit
 * statuses scripts rely on (shared/spec/API.md), the context main.c builds
 * from the global options, and the shape of one entry of the command table.
 * Each cmd-<verb>.c exports one struct cli_command; main.c lists them.
 */
#ifndef STINT_CLI_H
#define STINT_CLI_H

#include <stdbool.h>
#include <stdio.h>

/* Exit statuses. Commands return one of these from their run function. */
enum cli_status {
    CLI_OK = 0,
    CLI_FAILED = 1,  /* network, server error, local file trouble */
    CLI_USAGE = 2,   /* unknown option, missing or malformed argument */
    CLI_NOAUTH = 3,  /* no saved token, or the server answered 401 */
    CLI_REFUSED = 4, /* the server answered another 4xx */
};

#define CLI_DEFAULT_SERVER "http://127.0.0.1:8080"

/* Built by main.c from the global options; a command may set json from its own --json. */
struct cli_ctx {
    /* Base URL without the trailing slash, e.g. http://127.0.0.1:8080; NULL when unusable. */
    const char *server;
    char *bad_server; /* the unusable value, when server is NULL */
    bool json;        /* --json given before the command or after it */
};

struct cli_command {
    const char *name;
    const char *summary; /* one line for `stint help` */
    const char *usage;   /* the full text for `stint help NAME` and `NAME --help` */
    /*
     * argv[0] is the command name; options start at argv[1]. Returns an
     * enum cli_status. The command prints its own errors, once.
     */
    int (*run)(struct cli_ctx *ctx, int argc, char **argv);
};

/*
 * The table of commands, terminated by NULL: commands-all.c on Linux,
 * commands-laptop.c on Windows (the build picks the file). The hidden ones
 * run but are not listed (the tracker's upload helper).
 */
extern const struct cli_command *const cli_commands[];
extern const struct cli_command *const cli_hidden_commands[];

/* Returns the command called name, or NULL. */
const struct cli_command *cli_find_command(const char *name);

/* Prints the global options and the list of commands (cmd-help.c). */
void cli_print_help(FILE *f);

/* Prints cmd's usage to stdout (asked for) or stderr (after a usage error). */
void cli_print_usage(const struct cli_command *cmd, bool to_stderr);

/*
 * Reports a getopt_long failure (opterr must be 0 and the optstring start
 * with ':'), prints the command's usage to stderr and returns CLI_USAGE.
 * c is what getopt_long returned ('?' or ':').
 */
int cli_bad_option(const struct cli_command *cmd, int c, char **argv);

/* Prints "stint: MESSAGE" to stderr, then cmd's usage, and returns CLI_USAGE. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The one operand a command takes after its options (argv[optind]):
 * "the WHAT is missing", an extra argument or an empty one is a usage
 * error: CLI_USAGE is returned after saying so. Else ret_arg is set and
 * CLI_OK returned.
 */
int cli_one_arg(const struct cli_command *cmd, int argc, char **argv, const char *what,
                const char **ret_arg);

/*
 * The tracker's journal folder (data_dir in tracker.conf, else
 * $XDG_DATA_HOME/stint), newly allocated; NULL after printing why
 * ("stint: CMD: ...") when tracker.conf is malformed or there is no home.
 */
char *cli_journal_dir(const char *cmd);

extern const struct cli_command cmd_help;
extern const struct cli_command cmd_signup;
extern const struct cli_command cmd_login;
extern const struct cli_command cmd_logout;
extern const struct cli_command cmd_whoami;
extern const struct cli_command cmd_contracts;
extern const struct cli_command cmd_diary;
extern const struct cli_command cmd_memo;
extern const struct cli_command cmd_tag;
extern const struct cli_command cmd_delete;
extern const struct cli_command cmd_manual;
extern const struct cli_command cmd_timesheet;
extern const struct cli_command cmd_invoices;
extern const struct cli_command cmd_invoice;
extern const struct cli_command cmd_approve;
extern const struct cli_command cmd_dispute;
extern const struct cli_command cmd_earnings;
extern const struct cli_command cmd_track;
extern const struct cli_command cmd_status;
extern const struct cli_command cmd_sync;
/* Hidden: the tracker's upload helper process (cmd-upload.c). */
extern const struct cli_command cmd_upload;
extern const struct cli_command cmd_screenshot;
extern const struct cli_command cmd_rooms;
extern const struct cli_command cmd_room;
extern const struct cli_command cmd_messages;
extern const struct cli_command cmd_send;
extern const struct cli_command cmd_watch;
extern const struct cli_command cmd_search;
extern const struct cli_command cmd_files;
extern const struct cli_command cmd_download;

#endif
