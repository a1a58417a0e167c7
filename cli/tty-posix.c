/*
 * cli_tty_read_quiet on Linux: the password is read from /dev/tty with
 * termios' echo off. The echo is restored on every exit path, including
 * Ctrl-C while a password is typed. Not for Windows (tty-win32.c).
 */
#include "cli/prompt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

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

int cli_tty_read_quiet(const char *prompt, char *buf, size_t len)
{
    struct sigaction sa = {0}, old_int, old_term, old_hup;
    struct termios quiet;
    int fd, r;

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
    r = cli_read_line(fd, buf, len);
    tcsetattr(fd, TCSAFLUSH, &saved_termios);
    (void)!write(fd, "\n", 1);

    tty_fd = -1;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    close(fd);
    return r;
}
