/*
 * Asking the person at the terminal: passwords (echo off) and yes/no
 * questions. Scripts never reach a prompt: they pass --password-stdin or
 * --yes, and a command that would have to ask without a terminal refuses.
 */
#ifndef STINT_CLI_PROMPT_H
#define STINT_CLI_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

/* The longest password line accepted, in bytes. */
#define CLI_PASSWORD_MAX 1024

/*
 * Reads one password line into buf (len >= CLI_PASSWORD_MAX + 1 bytes),
 * without the line end. From stdin when from_stdin; otherwise from the
 * terminal with echo off, after printing prompt on it. Returns 0; -ENOTTY
 * when there is no terminal to ask; -E2BIG for a line over
 * CLI_PASSWORD_MAX; -ENODATA for end of input before any character;
 * another negative errno on a read error. The caller wipes buf.
 */
int cli_read_password(const char *prompt, bool from_stdin, char *buf, size_t len);

/*
 * Prints why cli_read_password failed (its return value err) and returns
 * the exit status: CLI_USAGE for no terminal, no password or one too long.
 */
int cli_password_error(int err);

/*
 * Reads one line from fd into buf, as cli_read_password does (the same
 * caps and return values); for the tty-*.c files.
 */
int cli_read_line(int fd, char *buf, size_t len);

/*
 * Prints prompt on the terminal and reads one line with the echo off,
 * restoring the echo on every exit path, Ctrl-C included: tty-posix.c or
 * tty-win32.c. -ENOTTY when there is no terminal; else as cli_read_line.
 */
int cli_tty_read_quiet(const char *prompt, char *buf, size_t len);

/* True when stdin is a terminal, so that questions can be asked. */
bool cli_can_ask(void);

/* Prints question and " [y/N] " to stderr and returns true for a yes on stdin. */
bool cli_confirm(const char *question);

#endif
