/*
 * stint-recorder: the long-running half of `stint track`. `stint track`
 * checks the command line and the sign-in, then replaces itself with this
 * program (same process, same terminal), which runs the timer in the
 * foreground with a one-line live status, asks the idle question on the
 * terminal, and on Ctrl-C (or after --for) stops cleanly: the partial
 * segment is written and, when the server can be reached, uploaded before
 * exiting. It links the engine without any HTTP: every request runs in a
 * short-lived helper process (`stint _upload`, tracker/transport.h), so
 * the hours of recording hold no libcurl and no TLS library in memory.
 * All recording rules live in tracker/; this file only drives the engine's
 * loop and talks to the person at the terminal.
 *
 *   stint-recorder --server URL --account EMAIL --helper STINT --token-fd N
 *                  --contract ID [--memo TEXT] [--tag TAG]... [--monitor all|N]
 *                  [--blur] [--for-s SECONDS]
 *
 * Not meant to be run by hand; `stint track --help` is the documentation.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "cli/zone.h"
#include "lib/str.h"
#include "lib/tz.h"
#include "lib/xalloc.h"
#include "tracker/engine.h"

#define MAX_TAGS 20
#define TOKEN_MAX 4096
#define FLUSH_WAIT_MS 15000

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

struct track {
    struct tk_engine *e;
    bool tty;
    bool drawn;   /* a status line is on screen and must be cleared first */
    bool stopped; /* the engine stopped the timer by itself */
    enum tk_stop_reason stop_reason;
    bool failed; /* something the exit status must report */
    const struct st_tz *tz;
    int seconds;          /* show seconds in times: segments shorter than a minute */
    char last_error[256]; /* the uploader's last complaint, said once */
    int64_t last_line;    /* when the non-terminal status line was printed (mono s) */
};

static int64_t mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* ---- output ---- */

static void clear_line(struct track *t)
{
    if (t->tty && t->drawn) {
        fputs("\r\033[K", stdout);
        fflush(stdout);
        t->drawn = false;
    }
}

/* Prints a message on its own line (stderr), out of the way of the status line. */
static void say(struct track *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct track *t, const char *fmt, ...)
{
    va_list ap;

    clear_line(t);
    fputs("stint: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

/* The ten buckets: filled with input, hollow when tracked without input, a dot when not yet. */
static void format_bars(const struct tk_status *st, char *out, size_t len)
{
    bool fancy = cli_fancy();
    size_t used = 0;

    out[0] = '\0';
    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        const struct st_bucket *b = &st->buckets[i];
        /* Input under the segment's measure: counts, or active seconds (Wayland). */
        bool input =
            st->measure == ST_MEASURE_ACTIVE_SECONDS ? b->active_s > 0 : b->keys || b->mouse;
        const char *c = input          ? (fancy ? "\u25ae" : "#")
                        : b->tracked_s ? (fancy ? "\u25af" : "-")
                                       : (fancy ? "\u00b7" : ".");
        used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s", c);
    }
}

static void status_line(struct track *t, char *out, size_t len)
{
    struct tk_status st;
    char today[CLI_DURATION_LEN], week[CLI_DURATION_LEN], limit[CLI_DURATION_LEN], bars[64];
    char seg[16] = "";

    tk_engine_status(t->e, &st);
    cli_format_duration(st.today_s, today);
    cli_format_duration(st.week_s, week);
    format_bars(&st, bars, sizeof(bars));
    if (st.running)
        cli_format_clock(st.segment_start, t->tz, t->seconds, seg);
    if (st.weekly_limit_s >= 0)
        cli_format_duration(st.weekly_limit_s, limit);
    snprintf(out, len, "%s today %s%s | week %s%s%s | %s %s | queue %d | %s%s",
             st.running ? (st.idle_prompt ? "IDLE" : "tracking") : "stopped", today,
             st.totals_known ? "" : "*", week, st.weekly_limit_s >= 0 ? " of " : "",
             st.weekly_limit_s >= 0 ? limit : "", seg, bars, st.queued,
             st.online ? "online" : "offline", st.refused ? " | refused!" : "");
}

static void draw(struct track *t)
{
    char line[300];
    struct tk_status st;

    tk_engine_status(t->e, &st);
    if (strcmp(st.last_error, t->last_error) != 0) {
        snprintf(t->last_error, sizeof(t->last_error), "%s", st.last_error);
        if (st.last_error[0]) {
            char *clean = cli_clean(st.last_error);
            say(t, "upload: %s (the queue is kept and retried)", clean);
            free(clean);
        }
    }

    status_line(t, line, sizeof(line));
    if (t->tty) {
        printf("\r\033[K%s", line);
        fflush(stdout);
        t->drawn = true;
    } else if (mono_s() - t->last_line >= 60) {
        /* Logs get a line a minute, not a line a second. */
        printf("%s\n", line);
        fflush(stdout);
        t->last_line = mono_s();
    }
}

static void on_event(const struct tk_event *ev, void *userdata)
{
    struct track *t = userdata;
    char when[16] = "";

    if (ev->segment_start)
        cli_format_clock(ev->segment_start, t->tz, t->seconds, when);
    switch (ev->type) {
    case TK_EVENT_STARTED:
        break;
    case TK_EVENT_STOPPED:
        t->stopped = true;
        t->stop_reason = ev->reason;
        if (ev->reason != TK_STOP_USER)
            say(t, "the timer stopped: %s", ev->message ? ev->message : "");
        if (ev->reason == TK_STOP_QUOTA || ev->reason == TK_STOP_PLATFORM ||
            ev->reason == TK_STOP_ERROR)
            t->failed = true;
        break;
    case TK_EVENT_BUCKET:
        if (!t->tty) {
            printf("bucket %d of the %s segment: %d s, %d keys, %d mouse, %d synthetic\n",
                   ev->bucket + 1, when, ev->value.tracked_s, ev->value.keys, ev->value.mouse,
                   ev->value.synthetic);
            fflush(stdout);
        }
        break;
    case TK_EVENT_SEGMENT:
        if (!t->tty) {
            printf("segment %s closed\n", when);
            fflush(stdout);
        }
        break;
    case TK_EVENT_SCREENSHOT:
        if (ev->path) {
            if (!t->tty) {
                printf("screenshot of the %s segment: %s\n", when, ev->path);
                fflush(stdout);
            }
        } else {
            say(t, "no screenshot for the %s segment: %s", when, ev->message ? ev->message : "");
        }
        break;
    case TK_EVENT_IDLE: {
        char since[16];
        cli_format_clock(ev->idle_since, t->tz, 1, since);
        say(t,
            "no input since %s. Keep that time (k), discard it (d) or stop (s)? "
            "Without an answer in 5 minutes the timer stops and the idle time is discarded.",
            since);
        break;
    }
    case TK_EVENT_LIMIT:
    case TK_EVENT_QUOTA:
        say(t, "%s", ev->message ? ev->message : "");
        break;
    case TK_EVENT_REFUSED: {
        char *clean = cli_clean(ev->message ? ev->message : "");
        say(t, "segment %s (%s): %s", ev->segment_id, when, clean);
        free(clean);
        break;
    }
    case TK_EVENT_UPLOAD:
        break;
    }
}

/* Reads the answer to the idle prompt from the terminal. */
static void read_answer(struct track *t)
{
    char buf[64];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf) - 1);
    int r = -ENOENT;

    if (n <= 0)
        return;
    for (ssize_t i = 0; i < n; i++) {
        switch (tolower((unsigned char)buf[i])) {
        case 'k':
            r = tk_engine_answer_idle(t->e, TK_IDLE_KEEP);
            break;
        case 'd':
            r = tk_engine_answer_idle(t->e, TK_IDLE_DISCARD);
            break;
        case 's':
            r = tk_engine_answer_idle(t->e, TK_IDLE_STOP);
            break;
        default:
            continue;
        }
        break;
    }
    if (r == 0)
        say(t, "noted");
}

/* Maps an engine error at the start to an exit status. */
static int start_status(int r)
{
    switch (r) {
    case -EINVAL:
        return CLI_USAGE;
    case -EACCES:
        return CLI_NOAUTH;
    case -ENOENT:
    case -EPERM:
        return CLI_REFUSED;
    default:
        return CLI_FAILED;
    }
}

/* After the stop: give the uploader a moment to send what was just queued. */
static void flush(struct track *t)
{
    int64_t deadline = mono_s() * 1000 + FLUSH_WAIT_MS;
    struct tk_status st;
    struct timespec ts;

    tk_engine_kick(t->e);
    for (;;) {
        struct pollfd p[2] = {{.fd = tk_engine_fd(t->e), .events = POLLIN},
                              {.fd = signal_pipe[0], .events = POLLIN}};
        int64_t now;
        tk_engine_tick(t->e);
        tk_engine_status(t->e, &st);
        if (st.queued == 0 && !st.uploading)
            break;
        if (!st.online && !st.uploading)
            break;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        if (now >= deadline)
            break;
        if (poll(p, 2, 200) > 0 && (p[1].revents & POLLIN))
            break; /* a second Ctrl-C: leave the rest to the next run or 'stint sync' */
    }
    tk_engine_status(t->e, &st);
    clear_line(t);
    {
        char today[CLI_DURATION_LEN], week[CLI_DURATION_LEN];
        cli_format_duration(st.today_s, today);
        cli_format_duration(st.week_s, week);
        printf("stopped: %s today, %s this week%s\n", today, week,
               st.totals_known ? "" : " (counted locally; the server's totals are not known)");
    }
    if (st.queued > 0)
        printf("%d segment%s queued: %s\n", st.queued, st.queued == 1 ? "" : "s",
               st.online ? "still uploading; run 'stint sync' to wait for them"
                         : "the server cannot be reached; they upload on the next 'stint track' "
                           "or with 'stint sync'");
    else
        printf("everything is on the server\n");
    if (st.refused > 0)
        printf("%d segment%s refused by the server: see 'stint status'\n", st.refused,
               st.refused == 1 ? " was" : "s were");
}

static int bad_arguments(const char *what)
{
    fprintf(stderr, "stint-recorder: %s (run 'stint track' instead)\n", what);
    return CLI_USAGE;
}

int main(int argc, char **argv)
{
    enum {
        OPT_SERVER = 256,
        OPT_ACCOUNT,
        OPT_HELPER,
        OPT_TOKEN_FD,
        OPT_CONTRACT,
        OPT_MEMO,
        OPT_TAG,
        OPT_MONITOR,
        OPT_BLUR,
        OPT_FOR,
    };
    static const struct option options[] = {
        {"server", required_argument, NULL, OPT_SERVER},
        {"account", required_argument, NULL, OPT_ACCOUNT},
        {"helper", required_argument, NULL, OPT_HELPER},
        {"token-fd", required_argument, NULL, OPT_TOKEN_FD},
        {"contract", required_argument, NULL, OPT_CONTRACT},
        {"memo", required_argument, NULL, OPT_MEMO},
        {"tag", required_argument, NULL, OPT_TAG},
        {"monitor", required_argument, NULL, OPT_MONITOR},
        {"blur", no_argument, NULL, OPT_BLUR},
        {"for-s", required_argument, NULL, OPT_FOR},
        {NULL, 0, NULL, 0},
    };
    const char *server = NULL, *account = NULL, *helper = NULL, *contract = NULL, *memo = NULL;
    const char *tags[MAX_TAGS + 1] = {NULL};
    int ntags = 0, monitor = TK_MONITOR_ALL, token_fd = -1, c, r;
    long for_s = 0;
    bool blur = false, monitor_given = false;
    char *token = NULL;
    struct tk_settings set;
    struct tk_engine_opts o = {0};
    struct track t = {0};
    struct sigaction sa = {0};
    char err[512];
    int64_t started, last_draw = 0;
    bool stop_asked = false;

    setlocale(LC_CTYPE, "");
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case OPT_SERVER:
            server = optarg;
            break;
        case OPT_ACCOUNT:
            account = optarg;
            break;
        case OPT_HELPER:
            helper = optarg;
            break;
        case OPT_TOKEN_FD:
            token_fd = (int)strtol(optarg, &end, 10);
            if (!*optarg || *end || token_fd < 0)
                return bad_arguments("--token-fd is a file descriptor");
            break;
        case OPT_CONTRACT:
            contract = optarg;
            break;
        case OPT_MEMO:
            memo = optarg;
            break;
        case OPT_TAG:
            if (ntags == MAX_TAGS)
                return bad_arguments("too many tags");
            tags[ntags++] = optarg;
            break;
        case OPT_MONITOR:
            monitor_given = true;
            monitor = strcmp(optarg, "all") == 0 ? TK_MONITOR_ALL : (int)strtol(optarg, &end, 10);
            if (monitor != TK_MONITOR_ALL && (!*optarg || *end || monitor < 0 ||
                                              monitor >= TK_MAX_MONITORS))
                return bad_arguments("--monitor is all or a number");
            break;
        case OPT_BLUR:
            blur = true;
            break;
        case OPT_FOR:
            for_s = strtol(optarg, &end, 10);
            if (!*optarg || *end || for_s < 0)
                return bad_arguments("--for-s is seconds");
            break;
        default:
            return bad_arguments("unknown option");
        }
    }
    if (optind < argc || !server || !account || !helper || token_fd < 0 || !contract)
        return bad_arguments("--server, --account, --helper, --token-fd and --contract are needed");
    token = st_read_secret_line(token_fd, TOKEN_MAX);
    close(token_fd);
    if (!token)
        return bad_arguments("no token on --token-fd");
    if (tk_settings_load(&set, err, sizeof(err)) < 0) {
        fprintf(stderr, "stint: track: %s\n", err);
        r = CLI_USAGE;
        goto out;
    }

    o.server = server;
    o.token = token;
    o.account = account;
    o.transport = &tk_transport_helper;
    o.helper = helper;
    tk_settings_apply(&set, &o);
    if (monitor_given)
        o.monitor = monitor;
    if (blur)
        o.encode.blur = true;
    t.tty = isatty(STDOUT_FILENO);
    t.tz = st_tz_get("UTC");

    if ((r = tk_engine_new(&o, on_event, &t, &t.e, err, sizeof(err))) < 0) {
        fprintf(stderr, "stint: track: %s\n", err);
        r = CLI_FAILED;
        goto out;
    }

    if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        perror("stint: track: pipe");
        r = CLI_FAILED;
        goto out;
    }
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL); /* 'stint sync' asks for an upload now */

    r = tk_engine_start(t.e, contract, memo, ntags ? tags : NULL, err, sizeof(err));
    if (r < 0) {
        fprintf(stderr, "stint: track: %s\n", err);
        r = start_status(r);
        goto out;
    }
    {
        struct tk_status st;
        tk_engine_status(t.e, &st);
        t.tz = st_tz_get(st.tz);
        if (!t.tz)
            t.tz = st_tz_get("UTC");
        t.seconds = st.segment_s % 60 != 0;
        printf("tracking contract %s%s%s; segments of %d s; Ctrl-C stops\n", contract,
               memo ? ": " : "", memo ? memo : "", st.segment_s);
        fflush(stdout);
    }
    started = mono_s();

    while (!t.stopped) {
        struct pollfd p[3] = {{.fd = tk_engine_fd(t.e), .events = POLLIN},
                              {.fd = signal_pipe[0], .events = POLLIN},
                              {.fd = STDIN_FILENO, .events = POLLIN}};
        int timeout = tk_engine_timeout_ms(t.e);
        struct tk_status st;
        int nfds = 2;

        tk_engine_status(t.e, &st);
        if (st.idle_prompt && isatty(STDIN_FILENO))
            nfds = 3;
        if (poll(p, (nfds_t)nfds, timeout) < 0 && errno != EINTR) {
            perror("stint: track: poll");
            break;
        }
        if (p[1].revents & POLLIN) {
            char sig;
            while (read(signal_pipe[0], &sig, 1) == 1) {
                if (sig == SIGUSR1)
                    tk_engine_kick(t.e);
                else
                    stop_asked = true;
            }
        }
        if (nfds == 3 && (p[2].revents & POLLIN))
            read_answer(&t);
        tk_engine_tick(t.e);
        if (for_s && mono_s() - started >= for_s)
            stop_asked = true;
        if (stop_asked) {
            tk_engine_stop(t.e);
            break;
        }
        if (mono_s() != last_draw) {
            draw(&t);
            last_draw = mono_s();
        }
    }
    flush(&t);
    r = t.failed ? CLI_FAILED : CLI_OK;
out:
    tk_engine_free(t.e);
    if (signal_pipe[0] >= 0) {
        close(signal_pipe[0]);
        close(signal_pipe[1]);
        signal_pipe[0] = signal_pipe[1] = -1;
    }
    if (token) {
        explicit_bzero(token, strlen(token));
        free(token);
    }
    return r;
}
