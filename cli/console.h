/*
 * What the foreground timer waits on besides the engine: a request to stop
 * (Ctrl-C, SIGTERM/SIGHUP; a console close on Windows), `stint sync`'s
 * nudge to upload now (cli_console_poke from the other process), and the
 * answer to the idle question on the terminal. console-posix.c (signals
 * turned into bytes on a pipe, poll) or console-win32.c (a console control
 * handler and a named event, WaitForMultipleObjects), picked by the build.
 * One timer per process; not thread-safe.
 */
#ifndef STINT_CLI_CONSOLE_H
#define STINT_CLI_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
    CLI_CONSOLE_STOP = 1,  /* Ctrl-C or the like: stop the timer */
    CLI_CONSOLE_KICK = 2,  /* `stint sync` asked for an upload now */
    CLI_CONSOLE_INPUT = 4, /* the terminal has input for cli_console_read */
};

/* Starts catching the stop requests and the nudge; 0 or a negative errno. */
int cli_console_open(void);
void cli_console_close(void);

/*
 * Waits at most timeout_ms for engine_fd (-1: none) to turn readable or
 * for one of the above (the terminal only with want_input); returns the
 * CLI_CONSOLE_* bits that happened (0 on a timeout or the engine's fd).
 */
unsigned cli_console_wait(int engine_fd, int timeout_ms, bool want_input);

/* Reads what the terminal has (after CLI_CONSOLE_INPUT); bytes read, or <= 0. */
ssize_t cli_console_read(char *buf, size_t len);

/* True when stdin is a terminal that can answer a question. */
bool cli_console_is_tty(void);

/*
 * From another process (`stint sync`): asks the timer of process pid to
 * upload now. 0; -ESRCH when there is no such timer; another negative errno.
 */
int cli_console_poke(int pid);

#endif
