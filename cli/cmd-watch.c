/*
 * stint watch: a live stream of the caller's events over the WebSocket
 * /api/v1/ws (ws.h). On a drop it reconnects with `since` set to the last
 * event id it saw, backing off, so that nothing is missed and nothing is
 * printed twice. Ctrl-C (or SIGTERM) ends it with status 0.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/messaging.h"
#include "cli/output.h"
#include "cli/ws.h"
#include "lib/json.h"
#include "lib/xalloc.h"

/* The server pings every 30 s; this long without a byte means the line is dead. */
#define SILENCE_MS 75000
#define BACKOFF_MAX_S 30
/* Event ids are decimal integers: 20 digits hold any 64-bit one. */
#define MAX_ID_DIGITS 20

static const char usage[] =
    "usage: stint watch [--since ID] [--json]\n"
    "\n"
    "Prints the events of your rooms as they happen, one line each: local\n"
    "time, room, author and text of each new, edited or deleted message, and\n"
    "changes to rooms. With --json, each line is one event as the server\n"
    "sent it (JSON, compact), and each connection starts with the server's\n"
    "{\"type\":\"welcome\",...} line. --since ID first replays the events after\n"
    "event ID. When the connection drops, watch reconnects (waiting 1, 2,\n"
    "4 ... up to 30 s) and asks for the events after the last one it saw, so\n"
    "none is missed or shown twice. Ctrl-C stops it (exit status 0).\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > MAX_ID_DIGITS)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Compares two decimal ids as numbers. */
static int id_cmp(const char *a, const char *b)
{
    size_t la, lb;

    while (*a == '0' && a[1])
        a++;
    while (*b == '0' && b[1])
        b++;
    la = strlen(a);
    lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a, b);
}

struct watch {
    struct cli_ctx *ctx;
    struct cli_client *client;
    char last_id[MAX_ID_DIGITS + 1]; /* "" before any */
    json_t *titles;                  /* room id -> title, for the human form */
    bool titles_fetched_for_miss;
};

static void load_titles(struct watch *w)
{
    json_t *resp = NULL, *room;
    size_t i;

    if (cli_call(w->client, "GET", "/rooms", NULL, &resp) != CLI_OK)
        return; /* the room id is shown instead */
    json_array_foreach(json_object_get(resp, "rooms"), i, room)
    {
        const char *id = st_json_str(room, "id", NULL);
        if (id)
            json_object_set_new(w->titles, id, json_string(st_json_str(room, "title", id)));
    }
    json_decref(resp);
}

static const char *title_of(struct watch *w, const char *room_id)
{
    const char *t = json_string_value(json_object_get(w->titles, room_id));

    if (!t && !w->titles_fetched_for_miss) {
        /* A room made since we started: ask once per miss streak. */
        w->titles_fetched_for_miss = true;
        load_titles(w);
        t = json_string_value(json_object_get(w->titles, room_id));
    }
    if (t)
        w->titles_fetched_for_miss = false;
    return t ? t : room_id;
}

static void print_human(struct watch *w, json_t *ev, const char *type)
{
    const char *room_id = st_json_str(ev, "room_id", "");

    if (strncmp(type, "message.", 8) == 0) {
        cli_msg_print(json_object_get(ev, "message"), title_of(w, room_id), false, NULL);
    } else if (strcmp(type, "room.updated") == 0) {
        json_t *room = json_object_get(ev, "room");
        char *title;
        if (room)
            json_object_set_new(w->titles, room_id,
                                json_string(st_json_str(room, "title", room_id)));
        title = cli_msg_clean(title_of(w, room_id), false, NULL);
        if (st_json_bool(ev, "removed", false))
            printf("you are no longer in room '%s'\n", title);
        else
            printf("room '%s' changed%s\n", title,
                   st_json_bool(room, "archived", false) ? " (archived)" : "");
        free(title);
    }
    /* read and typing: nothing a log of the rooms needs. */
}

/*
 * Handles one message from the server. Returns 1 on the welcome, 0 for
 * anything else.
 */
static int handle(struct watch *w, const char *text, size_t len)
{
    json_t *ev = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    const char *type = st_json_str(ev, "type", "");
    json_t *id = json_object_get(ev, "id");
    int r = 0;

    if (!json_is_object(ev))
        goto out;
    if (strcmp(type, "welcome") == 0) {
        const char *last = st_json_str(ev, "last_event_id", NULL);
        if (!w->last_id[0] && last && valid_id(last))
            snprintf(w->last_id, sizeof(w->last_id), "%s", last);
        r = 1;
    } else if (json_is_string(id)) {
        const char *s = json_string_value(id);
        /* A replay that overlaps what we printed is not printed again. */
        if (!valid_id(s) || (w->last_id[0] && id_cmp(s, w->last_id) <= 0))
            goto out;
        snprintf(w->last_id, sizeof(w->last_id), "%s", s);
    }
    if (w->ctx->json) {
        char *line = json_dumps(ev, JSON_COMPACT);
        if (line)
            printf("%s\n", line);
        free(line);
    } else if (r == 0) {
        print_human(w, ev, type);
    }
    fflush(stdout);
out:
    json_decref(ev);
    return r;
}

/* Sleeps seconds, or less when a signal in the blocked set comes. */
static void nap(int seconds, const sigset_t *waitmask)
{
    struct timespec ts = {.tv_sec = seconds};

    ppoll(NULL, 0, &ts, waitmask);
}

enum { OPT_SINCE = 256 };

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"since", required_argument, NULL, OPT_SINCE},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    struct watch w = {.ctx = ctx, .client = &client};
    struct sigaction sa = {.sa_handler = on_signal};
    sigset_t block, waitmask;
    struct cli_ws_options wopt = {.user_agent = "stint/" STINT_VERSION, .cancel = &stop};
    char *url = NULL;
    bool ever_welcomed = false;
    int backoff = 1;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case OPT_SINCE:
            if (!valid_id(optarg))
                return cli_usage_error(&cmd_watch, "--since is an event id (digits), not '%s'",
                                       optarg);
            snprintf(w.last_id, sizeof(w.last_id), "%s", optarg);
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_watch, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_watch, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_watch, "unexpected argument '%s'", argv[optind]);

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    w.titles = json_object();
    if (!ctx->json)
        load_titles(&w);
    url = xasprintf("%s/api/v1/ws", client.server);

    /* Signals stay blocked but during waits (ppoll) and connects, so none is lost. */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);

    r = CLI_OK;
    while (!stop) {
        struct cli_ws *ws = NULL;
        char err[256];
        long status = 0;
        bool welcomed = false;
        const char *why = NULL;
        char whybuf[300];
        int e;

        sigprocmask(SIG_SETMASK, &waitmask, NULL);
        e = cli_ws_connect(url, &wopt, &ws, &status, err, sizeof(err));
        sigprocmask(SIG_BLOCK, &block, NULL);
        if (stop) {
            cli_ws_free(ws);
            break;
        }
        if (e < 0) {
            if (status == 401) {
                fprintf(stderr, "stint: not signed in: the server refused the token\n");
                r = CLI_NOAUTH;
                break;
            }
            if (!ever_welcomed) {
                /* Nothing worked yet: report like any command instead of retrying for ever. */
                if (status >= 400 && status < 500) {
                    fprintf(stderr, "stint: refused: %s\n", err);
                    r = CLI_REFUSED;
                } else {
                    fprintf(stderr, "stint: cannot reach %s: %s\n", client.server, err);
                    r = CLI_FAILED;
                }
                break;
            }
            snprintf(whybuf, sizeof(whybuf), "%s", err);
            why = whybuf;
        } else {
            json_t *hello = json_pack("{s:s,s:s}", "type", "hello", "token", client.token);
            char *text;
            if (w.last_id[0])
                json_object_set_new(hello, "since", json_string(w.last_id));
            text = json_dumps(hello, JSON_COMPACT);
            cli_json_wipe(hello, "token");
            json_decref(hello);
            e = text ? cli_ws_send_text(ws, text, strlen(text)) : -ENOMEM;
            if (text) {
                explicit_bzero(text, strlen(text));
                free(text);
            }
            while (e == 0 && !stop) {
                char *msg;
                size_t len;
                e = cli_ws_recv(ws, SILENCE_MS, &waitmask, &msg, &len);
                if (e == -EINTR) {
                    e = 0;
                    continue;
                }
                if (e < 0)
                    break;
                if (handle(&w, msg, len) == 1) {
                    if (ever_welcomed && !welcomed)
                        fprintf(stderr, "stint: watch: reconnected\n");
                    else if (!ever_welcomed && !ctx->json && isatty(STDERR_FILENO))
                        fprintf(stderr, "stint: watch: connected; Ctrl-C stops\n");
                    welcomed = ever_welcomed = true;
                    backoff = 1;
                }
                free(msg);
            }
            if (!stop) {
                int code = cli_ws_close_code(ws);
                if (!welcomed && code == 1008) {
                    fprintf(stderr, "stint: not signed in: the server refused the token\n");
                    r = CLI_NOAUTH;
                    cli_ws_free(ws);
                    break;
                }
                if (e == -ETIMEDOUT)
                    why = "no sign of life for 75 s";
                else if (code == 1001)
                    why = "the server is going away";
                else if (code) {
                    snprintf(whybuf, sizeof(whybuf), "closed by the server (%d)", code);
                    why = whybuf;
                } else {
                    why = e == -EPROTO ? "the server broke the protocol" : "the connection broke";
                }
            }
        }
        cli_ws_free(ws);
        if (stop)
            break;
        fprintf(stderr, "stint: watch: %s; reconnecting in %d s\n", why ? why : "disconnected",
                backoff);
        nap(backoff, &waitmask);
        backoff = backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : backoff * 2;
    }
    sigprocmask(SIG_SETMASK, &waitmask, NULL);
    free(url);
    json_decref(w.titles);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_watch = {
    .name = "watch",
    .summary = "print the events of your rooms live",
    .usage = usage,
    .run = run,
};
