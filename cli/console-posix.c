/*
 * cli/console.h on Linux: SIGINT, SIGTERM and SIGHUP (stop) and SIGUSR1
 * (`stint sync`'s nudge) are turned into bytes on a pipe, which poll(2)
 * watches beside the engine's fd and stdin. Not for Windows
 * (console-win32.c).
 */
#include "cli/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

/* Signals arrive here and are turned into bytes on a pipe the loop polls. */
static int signal_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    char c = (char)sig;
    int saved = errno;

    if (write(signal_pipe[1], &c, 1) < 0) {
        /* The pipe is full: the loop is already due to look. */
    }
    errno = saved;
}

int cli_console_open(void)
{
    struct sigaction sa = {0};

    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL); /* 'stint sync' asks for an upload now */
    return 0;
}

void cli_console_close(void)
{
    if (signal_pipe[0] >= 0) {
        close(signal_pipe[0]);
        close(signal_pipe[1]);
        signal_pipe[0] = signal_pipe[1] = -1;
    }
}

unsigned cli_console_wait(int engine_fd, int timeout_ms, bool want_input)
{
    struct pollfd p[3] = {{.fd = engine_fd, .events = POLLIN},
                          {.fd = signal_pipe[0], .events = POLLIN},
                          {.fd = STDIN_FILENO, .events = POLLIN}};
    unsigned got = 0;

    if (poll(p, want_input ? 3 : 2, timeout_ms) <= 0)
        return 0;
    if (p[1].revents & POLLIN) {
        char sig;
        while (read(signal_pipe[0], &sig, 1) == 1)
            got |= sig == SIGUSR1 ? CLI_CONSOLE_KICK : CLI_CONSOLE_STOP;
    }
    if (want_input && (p[2].revents & POLLIN))
        got |= CLI_CONSOLE_INPUT;
    return got;
}

ssize_t cli_console_read(char *buf, size_t len)
{
    return read(STDIN_FILENO, buf, len);
}

bool cli_console_is_tty(void)
{
    return isatty(STDIN_FILENO);
}

int cli_console_poke(int pid)
{
    return kill(pid, SIGUSR1) < 0 ? -errno : 0;
}
