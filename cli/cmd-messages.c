/*
 * stint messages: one page of a room's messages, oldest to newest; and
 * stint search: full-text search over the caller's rooms. Both print
 * others' text only through cli_msg_print (messaging.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/messaging.h"
#include "cli/output.h"
#include "lib/json.h"
#include "lib/xalloc.h"

/* The API's caps (docs/api.md): a page holds 1-100 messages, a query 1-200 characters. */
#define MAX_LIMIT 100
#define MAX_QUERY 200

static const char messages_usage[] =
    "usage: stint messages ROOM [--before ID] [--limit N] [--ids] [--json]\n"
    "\n"
    "Prints the latest page of a room's messages (N of them, 1-100, default\n"
    "50), oldest first: local time, author, text, '(edited)', '[deleted]' and\n"
    "the files attached. --before ID shows the page before that message; the\n"
    "first line says which ID to pass for older ones. --ids shows message and\n"
    "file ids (for --before and 'stint send --reply-to'). Reading the latest\n"
    "page moves your read marker to its newest message.\n"
    "ROOM is a room id, a contract id, or the start of a room's title that\n"
    "fits one room only. --json prints the server's answer (newest first).\n";

static const char search_usage[] =
    "usage: stint search QUERY [--limit N] [--ids] [--json]\n"
    "\n"
    "Searches the messages of all your rooms (words match as prefixes,\n"
    "accents are ignored), newest first, at most N (1-100, default 50).\n";

/* Parses --limit N; returns 0 or -EINVAL. */
static int parse_limit(const char *s, int *ret)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > MAX_LIMIT)
        return -EINVAL;
    *ret = (int)v;
    return 0;
}

enum { OPT_BEFORE = 256, OPT_LIMIT, OPT_IDS };

static int messages_run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"before", required_argument, NULL, OPT_BEFORE},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"ids", no_argument, NULL, OPT_IDS},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    const char *before = NULL;
    int limit = 50;
    bool ids = false;
    json_t *room = NULL, *resp = NULL, *msgs;
    char *path = NULL, *query = NULL;
    const char *room_arg = NULL;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case OPT_BEFORE:
            if (!*optarg)
                return cli_usage_error(&cmd_messages, "--before is empty");
            before = optarg;
            break;
        case OPT_LIMIT:
            if (parse_limit(optarg, &limit) < 0)
                return cli_usage_error(&cmd_messages, "--limit is a number from 1 to %d, not '%s'",
                                       MAX_LIMIT, optarg);
            break;
        case OPT_IDS:
            ids = true;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_messages, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_messages, c, argv);
        }
    }
    if ((r = cli_one_arg(&cmd_messages, argc, argv, "ROOM", &room_arg)) != CLI_OK)
        return r;

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    r = cli_room_find(&client, "messages", room_arg, &room);
    if (r != CLI_OK)
        goto out;
    if (before) {
        char *e = cli_query_escape(before);
        query = xasprintf("/messages?limit=%d&before=%s", limit, e);
        free(e);
    } else {
        query = xasprintf("/messages?limit=%d", limit);
    }
    path = cli_path("/rooms/", st_json_str(room, "id", ""), query);
    r = cli_call(&client, "GET", path, NULL, &resp);
    if (r != CLI_OK)
        goto out;
    msgs = json_object_get(resp, "messages");
    if (ctx->json) {
        cli_print_json(resp);
    } else if (json_array_size(msgs) == 0) {
        printf(before ? "no older messages\n" : "no messages yet\n");
    } else {
        const char *older = st_json_str(resp, "next_before", NULL);
        if (older) {
            char *clean = cli_msg_clean(older, false, NULL);
            printf("(older messages: --before %s)\n", clean);
            free(clean);
        }
        /* The server gives newest first; a conversation reads oldest first. */
        for (size_t i = json_array_size(msgs); i-- > 0;)
            cli_msg_print(json_array_get(msgs, i), NULL, ids, msgs);
    }
    if (!before && json_array_size(msgs) > 0 && st_json_int(room, "unread", 0) > 0) {
        /* Seen: move the read marker. Not being able to is worth a word, not a failure. */
        char *read = cli_path("/rooms/", st_json_str(room, "id", ""), "/read");
        json_t *req =
            json_pack("{s:s}", "message_id", st_json_str(json_array_get(msgs, 0), "id", ""));
        if (cli_call(&client, "POST", read, req, NULL) != CLI_OK)
            fprintf(stderr, "stint: messages: the read marker was not moved\n");
        json_decref(req);
        free(read);
    }
out:
    free(query);
    free(path);
    json_decref(resp);
    json_decref(room);
    cli_client_release(&client);
    return r;
}

static int search_run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"ids", no_argument, NULL, OPT_IDS},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    int limit = 50;
    bool ids = false;
    json_t *resp = NULL, *rooms = NULL, *msgs, *m;
    char *q = NULL, *path = NULL;
    size_t i;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case OPT_LIMIT:
            if (parse_limit(optarg, &limit) < 0)
                return cli_usage_error(&cmd_search, "--limit is a number from 1 to %d, not '%s'",
                                       MAX_LIMIT, optarg);
            break;
        case OPT_IDS:
            ids = true;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_search, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_search, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(&cmd_search, "the QUERY is missing");
    if (optind + 1 < argc)
        return cli_usage_error(&cmd_search,
                               "unexpected argument '%s' (quote a query of several words)",
                               argv[optind + 1]);
    if (!argv[optind][0])
        return cli_usage_error(&cmd_search, "the QUERY is empty");
    if (strlen(argv[optind]) > 4 * MAX_QUERY)
        return cli_usage_error(&cmd_search, "the QUERY is longer than %d characters", MAX_QUERY);

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    q = cli_query_escape(argv[optind]);
    path = xasprintf("/search?q=%s&limit=%d", q, limit);
    r = cli_call(&client, "GET", path, NULL, &resp);
    if (r != CLI_OK)
        goto out;
    if (ctx->json) {
        cli_print_json(resp);
        goto out;
    }
    msgs = json_object_get(resp, "messages");
    if (json_array_size(msgs) == 0) {
        printf("no messages found\n");
        goto out;
    }
    /* Room titles, to say where each message is. */
    r = cli_call(&client, "GET", "/rooms", NULL, &rooms);
    if (r != CLI_OK)
        goto out;
    json_array_foreach(msgs, i, m)
    {
        const char *room_id = st_json_str(m, "room_id", "");
        const char *title = room_id;
        json_t *room;
        size_t k;
        json_array_foreach(json_object_get(rooms, "rooms"), k, room)
        {
            if (strcmp(st_json_str(room, "id", ""), room_id) == 0) {
                title = st_json_str(room, "title", room_id);
                break;
            }
        }
        cli_msg_print(m, title, ids, NULL);
    }
out:
    free(q);
    free(path);
    json_decref(rooms);
    json_decref(resp);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_messages = {
    .name = "messages",
    .summary = "show a room's messages",
    .usage = messages_usage,
    .run = messages_run,
};

const struct cli_command cmd_search = {
    .name = "search",
    .summary = "search the messages of your rooms",
    .usage = search_usage,
    .run = search_run,
};
