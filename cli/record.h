/*
 * The foreground timer of `stint track` (cli/record.c): stint-recorder runs
 * it on Linux, stint.exe in its own process on Windows. Not for parsing
 * the command line (cmd-track.c does, once, for both).
 */
#ifndef STINT_CLI_RECORD_H
#define STINT_CLI_RECORD_H

#include <stdbool.h>

struct tk_transport;

struct cli_record_args {
    const char *server;       /* base URL */
    const char *account;      /* the signed-in email ("" when unknown) */
    const char *contract;
    const char *memo;         /* may be NULL */
    const char *const *tags;  /* NULL-terminated; may be NULL */
    int ntags;
    int monitor;              /* TK_MONITOR_ALL or a monitor's number, when monitor_given */
    bool monitor_given;
    bool blur;
    long for_s;               /* stop by itself after this long; 0: until Ctrl-C */
};

/*
 * Runs the timer on a->contract until Ctrl-C, --for or the engine stops
 * it, then flushes the queue for a while and prints the day's totals.
 * transport and helper go to the engine as tk_engine_opts says. Returns an
 * exit status (enum cli_status) after printing any error once.
 */
int cli_record(const struct cli_record_args *a, const char *token,
               const struct tk_transport *transport, const char *helper);

#endif
