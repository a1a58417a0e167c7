/*
 * The foreground timer of `stint track`, shared by both ways it runs: in
 * stint-recorder on Linux (which uploads through the helper process) and in
 * stint.exe itself on Windows (in-process uploads with libcurl). It runs the
 * engine's loop with a one-line live status, asks the idle question on the
 * terminal, and on Ctrl-C (or after --for) stops cleanly: the partial
 * segment is written and, when the server can be reached, uploaded before
 * returning. Waiting (Ctrl-C, `stint sync`'s nudge, the terminal) is the
 * system's part (cli/console.h). All recording rules live in tracker/.
 */
#include "cli/record.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/console.h"
#include "cli/output.h"
#include "cli/zone.h"
#include "lib/os.h"
#include "lib/str.h"
#include "lib/tz.h"
#include "lib/xalloc.h"
#include "tracker/engine.h"
#include "tracker/settings.h"

#define FLUSH_WAIT_MS 15000

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
    } else if ((st_os_mono_ms() / 1000) - t->last_line >= 60) {
        /* Logs get a line a minute, not a line a second. */
        printf("%s\n", line);
        fflush(stdout);
        t->last_line = (st_os_mono_ms() / 1000);
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
    ssize_t n = cli_console_read(buf, sizeof(buf) - 1);
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
    int64_t deadline = st_os_mono_ms() + FLUSH_WAIT_MS;
    struct tk_status st;

    tk_engine_kick(t->e);
    for (;;) {
        tk_engine_tick(t->e);
        tk_engine_status(t->e, &st);
        if (st.queued == 0 && !st.uploading)
            break;
        if (!st.online && !st.uploading)
            break;
        if (st_os_mono_ms() >= deadline)
            break;
        if (cli_console_wait(tk_engine_fd(t->e), 200, false) & CLI_CONSOLE_STOP)
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

int cli_record(const struct cli_record_args *a, const char *token,
               const struct tk_transport *transport, const char *helper)
{
    struct tk_settings set;
    struct tk_engine_opts o = {0};
    struct track t = {0};
    char err[512];
    int64_t started, last_draw = 0;
    bool stop_asked = false, console_open = false;
    int r;

    if (tk_settings_load(&set, err, sizeof(err)) < 0) {
        fprintf(stderr, "stint: track: %s\n", err);
        r = CLI_USAGE;
        goto out;
    }

    o.server = a->server;
    o.token = token;
    o.account = a->account;
    o.transport = transport;
    o.helper = helper;
    tk_settings_apply(&set, &o);
    if (a->monitor_given)
        o.monitor = a->monitor;
    if (a->blur)
        o.encode.blur = true;
    t.tty = isatty(STDOUT_FILENO);
    t.tz = st_tz_get("UTC");

    if ((r = tk_engine_new(&o, on_event, &t, &t.e, err, sizeof(err))) < 0) {
        fprintf(stderr, "stint: track: %s\n", err);
        r = CLI_FAILED;
        goto out;
    }

    if ((r = cli_console_open()) < 0) {
        fprintf(stderr, "stint: track: cannot watch for Ctrl-C: %s\n", strerror(-r));
        r = CLI_FAILED;
        goto out;
    }
    console_open = true;

    r = tk_engine_start(t.e, a->contract, a->memo, a->ntags ? a->tags : NULL, err, sizeof(err));
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
        printf("tracking contract %s%s%s; segments of %d s; Ctrl-C stops\n", a->contract,
               a->memo ? ": " : "", a->memo ? a->memo : "", st.segment_s);
        fflush(stdout);
    }
    started = st_os_mono_ms() / 1000;

    while (!t.stopped) {
        int timeout = tk_engine_timeout_ms(t.e);
        struct tk_status st;
        unsigned got;

        tk_engine_status(t.e, &st);
        got = cli_console_wait(tk_engine_fd(t.e), timeout, st.idle_prompt && cli_console_is_tty());
        if (got & CLI_CONSOLE_KICK)
            tk_engine_kick(t.e);
        if (got & CLI_CONSOLE_STOP)
            stop_asked = true;
        if (got & CLI_CONSOLE_INPUT)
            read_answer(&t);
        tk_engine_tick(t.e);
        if (a->for_s && st_os_mono_ms() / 1000 - started >= a->for_s)
            stop_asked = true;
        if (stop_asked) {
            tk_engine_stop(t.e);
            break;
        }
        if (st_os_mono_ms() / 1000 != last_draw) {
            draw(&t);
            last_draw = st_os_mono_ms() / 1000;
        }
    }
    flush(&t);
    r = t.failed ? CLI_FAILED : CLI_OK;
out:
    tk_engine_free(t.e);
    if (console_open)
        cli_console_close();
    return r;
}
