/*
 * Terminal input for the command-line client. The echo is restored on
 * every exit path, including Ctrl-C while a password is typed.
 */
#include "cli/prompt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/output.h"

static int tty_fd = -1;
static struct termios saved_termios;

static void restore_and_die(int sig)
{
    /* Only async-signal-safe calls here. */
    if (tty_fd >= 0) {
        tcsetattr(tty_fd, TCSAFLUSH, &saved_termios);
        (void)!write(tty_fd, "\n", 1);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads one line from fd into buf, capped; see cli_read_password. */
static int read_line(int fd, char *buf, size_t len)
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
    struct sigaction sa = {0}, old_int, old_term, old_hup;
    struct termios quiet;
    int fd, r;

    if (from_stdin)
        return read_line(STDIN_FILENO, buf, len);

    fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -ENOTTY;
    if (tcgetattr(fd, &saved_termios) < 0) {
        close(fd);
        return -ENOTTY;
    }
    sa.sa_handler = restore_and_die;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    tty_fd = fd;

    quiet = saved_termios;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
    quiet.c_lflag |= ICANON;
    (void)!write(fd, prompt, strlen(prompt));
    tcsetattr(fd, TCSAFLUSH, &quiet);
    r = read_line(fd, buf, len);
    tcsetattr(fd, TCSAFLUSH, &saved_termios);
    (void)!write(fd, "\n", 1);

    tty_fd = -1;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    close(fd);
    return r;
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
    r = read_line(STDIN_FILENO, answer, sizeof(answer));
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
