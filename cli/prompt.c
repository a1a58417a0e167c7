/*
 * Terminal input for the command-line client. Reading a line with the echo
 * off is the system's part: tty-posix.c (termios on /dev/tty) or
 * tty-win32.c (the console's mode), which the build picks.
 */
#include "cli/prompt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/output.h"

int cli_read_line(int fd, char *buf, size_t len)
{
    size_t n = 0;
    bool too_long = false;
    bool any = false;

    for (;;) {
        char ch;
        ssize_t got = read(fd, &ch, 1);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (got == 0)
            break;
        any = true;
        if (ch == '\n')
            break;
        /* Keep reading to the line end so the rest is not taken as input. */
        if (n + 1 >= len || n >= CLI_PASSWORD_MAX) {
            too_long = true;
            continue;
        }
        buf[n++] = ch;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (too_long)
        return -E2BIG;
    if (!any)
        return -ENODATA;
    return 0;
}

int cli_read_password(const char *prompt, bool from_stdin, char *buf, size_t len)
{
    if (from_stdin)
        return cli_read_line(STDIN_FILENO, buf, len);
    return cli_tty_read_quiet(prompt, buf, len);
}

bool cli_can_ask(void)
{
    return isatty(STDIN_FILENO);
}

bool cli_confirm(const char *question)
{
    char answer[16];
    int r;

    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    r = cli_read_line(STDIN_FILENO, answer, sizeof(answer));
    return r == 0 &&
           (strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 || strcmp(answer, "yes") == 0);
}

int cli_password_error(int err)
{
    switch (err) {
    case -ENOTTY:
        fprintf(stderr, "stint: no terminal to ask for the password: use --password-stdin\n");
        return CLI_USAGE;
    case -E2BIG:
        fprintf(stderr, "stint: the password is longer than %d bytes\n", CLI_PASSWORD_MAX);
        return CLI_USAGE;
    case -ENODATA:
        fprintf(stderr, "stint: no password given\n");
        return CLI_USAGE;
    default:
        fprintf(stderr, "stint: cannot read the password: %s\n", cli_strerror(-err));
        return CLI_FAILED;
    }
}
