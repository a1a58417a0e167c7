/*
 * stint rooms: the caller's rooms as a table; and stint room: create a
 * group room, add a member, leave, archive. Users are named by id (there
 * is no user lookup in the API) or by the name of someone the caller shares
 * a contract with, which is whom a room may hold anyway.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/messaging.h"
#include "cli/output.h"
#include "lib/json.h"
#include "lib/xalloc.h"

/* The API's own caps: at most 255 members at creation. */
#define MAX_MEMBERS 255
/* Names listed in the MEMBERS column before "+N". */
#define LISTED_NAMES 6

static const char rooms_usage[] =
    "usage: stint rooms [--all] [--json]\n"
    "\n"
    "The rooms you are in, most recent activity first: title, kind, members,\n"
    "unread messages, last activity (local time) and id. Archived rooms are\n"
    "left out unless --all is given; then they are marked 'archived'.\n"
    "--json prints the server's answer, archived rooms included.\n";

static const char room_usage[] =
    "usage: stint room create TITLE --member USER [--member USER]... [--json]\n"
    "       stint room add ROOM USER [--admin] [--json]\n"
    "       stint room leave ROOM\n"
    "       stint room archive ROOM [--undo] [--json]\n"
    "\n"
    "ROOM is a room id, a contract id, or the start of a room's title that\n"
    "fits one room only. USER is a user id ('stint whoami' shows yours), or\n"
    "the name of someone you share a contract with. Only people you share a\n"
    "contract with can be added to a room.\n";

static int rooms_run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const headers[] = {"TITLE",  "KIND",          "MEMBERS",
                                          "UNREAD", "LAST ACTIVITY", "ID"};
    struct cli_client client = {0};
    struct cli_table *table = NULL;
    json_t *resp = NULL, *rooms, *room;
    bool all = false;
    size_t i, shown = 0;
    int c, r;

    while ((c = getopt_long(argc, argv, ":ah", options, NULL)) != -1) {
        switch (c) {
        case 'a':
            all = true;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_rooms, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_rooms, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_rooms, "unexpected argument '%s'", argv[optind]);

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    r = cli_call(&client, "GET", "/rooms", NULL, &resp);
    if (r != CLI_OK)
        goto out;
    if (ctx->json) {
        cli_print_json(resp);
        goto out;
    }
    rooms = json_object_get(resp, "rooms");
    table = cli_table_new(6, headers);
    cli_table_set_max(table, 0, 40);
    cli_table_set_max(table, 2, 40);
    cli_table_set_right(table, 3);
    json_array_foreach(rooms, i, room)
    {
        bool archived = st_json_bool(room, "archived", false);
        json_t *members = json_object_get(room, "members"), *m;
        char *names = xstrdup(""), *kind, unread[24], when[CLI_LOCAL_TIME_LEN];
        const char *last = st_json_str(room, "last_message_at", NULL);
        size_t k;

        if (archived && !all)
            continue;
        json_array_foreach(members, k, m)
        {
            char *next;
            if (k == LISTED_NAMES) {
                next = xasprintf("%s +%zu", names, json_array_size(members) - k);
                free(names);
                names = next;
                break;
            }
            next = xasprintf("%s%s%s", names, k ? ", " : "", st_json_str(m, "name", "?"));
            free(names);
            names = next;
        }
        kind = xasprintf("%s%s", st_json_str(room, "kind", "?"), archived ? ", archived" : "");
        snprintf(unread, sizeof(unread), "%lld", st_json_int(room, "unread", 0));
        if (last)
            cli_format_local_time(last, when);
        else
            snprintf(when, sizeof(when), "-");
        /* The table cleans every cell (cli_clean) before it prints. */
        const char *cells[] = {st_json_str(room, "title", ""), kind, names, unread, when,
                               st_json_str(room, "id", "")};
        cli_table_add(table, cells);
        shown++;
        free(names);
        free(kind);
    }
    if (shown == 0) {
        printf(json_array_size(rooms) ? "no rooms but archived ones (see --all)\n" : "no rooms\n");
        goto out;
    }
    cli_table_print(table, stdout);
out:
    cli_table_free(table);
    json_decref(resp);
    cli_client_release(&client);
    return r;
}

/*
 * Turns USER into a user id: an argument that names a party of one of the
 * caller's contracts (by id, or by name when only one person has it) gives
 * that id; anything else is taken as an id as typed and the server judges.
 */
static int resolve_user(struct cli_client *c, json_t **contracts, const char *arg, char **ret_id)
{
    static const char *const roles[] = {"client", "freelancer"};
    json_t *ct;
    const char *found = NULL;
    size_t i, hits = 0;
    int r;

    if (!*contracts) {
        r = cli_call(c, "GET", "/contracts", NULL, contracts);
        if (r != CLI_OK)
            return r;
    }
    json_array_foreach(json_object_get(*contracts, "contracts"), i, ct)
    {
        for (size_t k = 0; k < 2; k++) {
            json_t *p = json_object_get(ct, roles[k]);
            const char *id = st_json_str(p, "id", NULL);
            if (id && strcmp(id, arg) == 0) {
                *ret_id = xstrdup(id);
                return CLI_OK;
            }
            if (id && strcasecmp(st_json_str(p, "name", ""), arg) == 0 &&
                (!found || strcmp(found, id) != 0)) {
                hits++;
                found = id;
            }
        }
    }
    if (hits > 1) {
        char *clean = cli_msg_clean(arg, false, NULL);
        fprintf(stderr, "stint: room: more than one person is called '%s'; give a user id\n",
                clean);
        free(clean);
        return CLI_USAGE;
    }
    if (!found && strchr(arg, '@')) {
        /* The API looks no one up by email: say so rather than send it as an id. */
        char *clean = cli_msg_clean(arg, false, NULL);
        fprintf(stderr,
                "stint: room: '%s' is no one you share a contract with; name a user by id "
                "or by name\n",
                clean);
        free(clean);
        return CLI_USAGE;
    }
    *ret_id = xstrdup(found ? found : arg);
    return CLI_OK;
}

/* Prints {"room"} briefly, or the whole answer with --json. */
static void show_room(struct cli_ctx *ctx, json_t *resp, const char *done)
{
    json_t *room = json_object_get(resp, "room");
    char *title, *id;

    if (ctx->json) {
        cli_print_json(resp);
        return;
    }
    title = cli_msg_clean(st_json_str(room, "title", "?"), false, NULL);
    id = cli_msg_clean(st_json_str(room, "id", "?"), false, NULL);
    printf("room '%s' %s (id %s, %zu members)\n", title, done, id,
           json_array_size(json_object_get(room, "members")));
    free(title);
    free(id);
}

enum { OPT_MEMBER = 256, OPT_ADMIN, OPT_UNDO };

static int do_create(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"member", required_argument, NULL, OPT_MEMBER},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    const char *members[MAX_MEMBERS];
    size_t nmembers = 0;
    json_t *req = NULL, *ids, *contracts = NULL, *resp = NULL;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case OPT_MEMBER:
            if (nmembers == MAX_MEMBERS)
                return cli_usage_error(&cmd_room, "create: at most %d members", MAX_MEMBERS);
            if (!*optarg)
                return cli_usage_error(&cmd_room, "create: --member is empty");
            members[nmembers++] = optarg;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_room, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_room, c, argv);
        }
    }
    if (optind >= argc)
        return cli_usage_error(&cmd_room, "create: the TITLE is missing");
    if (optind + 1 < argc)
        return cli_usage_error(&cmd_room, "create: unexpected argument '%s'", argv[optind + 1]);
    if (!argv[optind][0])
        return cli_usage_error(&cmd_room, "create: the TITLE is empty");
    if (nmembers == 0)
        return cli_usage_error(&cmd_room, "create: name at least one --member");
    req = json_object();
    if (json_object_set_new(req, "title", json_string(argv[optind])) < 0) {
        json_decref(req);
        return cli_usage_error(&cmd_room, "create: the TITLE is not UTF-8 text");
    }
    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        goto out;
    ids = json_array();
    json_object_set_new(req, "member_ids", ids);
    for (size_t i = 0; i < nmembers; i++) {
        char *id = NULL;
        r = resolve_user(&client, &contracts, members[i], &id);
        if (r != CLI_OK)
            goto out;
        if (json_array_append_new(ids, json_string(id)) < 0) {
            free(id);
            r = cli_usage_error(&cmd_room, "create: --member is not UTF-8 text");
            goto out;
        }
        free(id);
    }
    r = cli_call(&client, "POST", "/rooms", req, &resp);
    if (r == CLI_OK)
        show_room(ctx, resp, "created");
out:
    json_decref(resp);
    json_decref(contracts);
    json_decref(req);
    cli_client_release(&client);
    return r;
}

/* Parses the options of add/leave/archive and their positional arguments (nargs of them). */
static int room_args(struct cli_ctx *ctx, int argc, char **argv, int nargs, bool *flag,
                     int flag_opt, const char **ret_args)
{
    static const struct option options[] = {
        {"admin", no_argument, NULL, OPT_ADMIN},
        {"undo", no_argument, NULL, OPT_UNDO},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (c == 'j') {
            ctx->json = true;
        } else if (c == 'h') {
            cli_print_usage(&cmd_room, false);
            return CLI_OK;
        } else if ((c == OPT_ADMIN || c == OPT_UNDO) && c == flag_opt) {
            *flag = true;
        } else if (c == OPT_ADMIN || c == OPT_UNDO) {
            return cli_usage_error(&cmd_room, "%s: unknown option '%s'", argv[0], argv[optind - 1]);
        } else {
            return cli_bad_option(&cmd_room, c, argv);
        }
    }
    if (argc - optind < nargs)
        return cli_usage_error(&cmd_room, "%s: %s", argv[0],
                               nargs == 1 ? "the ROOM is missing" : "ROOM and USER are needed");
    if (argc - optind > nargs)
        return cli_usage_error(&cmd_room, "%s: unexpected argument '%s'", argv[0],
                               argv[optind + nargs]);
    for (int i = 0; i < nargs; i++) {
        if (!argv[optind + i][0])
            return cli_usage_error(&cmd_room, "%s: an empty argument", argv[0]);
        ret_args[i] = argv[optind + i];
    }
    return -1; /* go on */
}

static int do_add(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_client client = {0};
    const char *args[2] = {NULL, NULL};
    bool admin = false;
    json_t *room = NULL, *contracts = NULL, *req = NULL, *resp = NULL;
    char *id = NULL, *path = NULL;
    int r;

    r = room_args(ctx, argc, argv, 2, &admin, OPT_ADMIN, args);
    if (r >= 0)
        return r;
    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    r = cli_room_find(&client, "room add", args[0], &room);
    if (r != CLI_OK)
        goto out;
    r = resolve_user(&client, &contracts, args[1], &id);
    if (r != CLI_OK)
        goto out;
    req = json_object();
    if (json_object_set_new(req, "user_id", json_string(id)) < 0) {
        r = cli_usage_error(&cmd_room, "add: USER is not UTF-8 text");
        goto out;
    }
    if (admin)
        json_object_set_new(req, "role", json_string("admin"));
    path = cli_path("/rooms/", st_json_str(room, "id", ""), "/members");
    r = cli_call(&client, "POST", path, req, &resp);
    if (r == CLI_OK)
        show_room(ctx, resp, "now holds them");
out:
    free(path);
    free(id);
    json_decref(resp);
    json_decref(req);
    json_decref(contracts);
    json_decref(room);
    cli_client_release(&client);
    return r;
}

static int do_leave(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_client client = {0};
    const char *args[1] = {NULL};
    json_t *room = NULL, *me = NULL;
    char *path = NULL, *suffix = NULL, *title = NULL;
    int r;

    r = room_args(ctx, argc, argv, 1, NULL, 0, args);
    if (r >= 0)
        return r;
    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    r = cli_room_find(&client, "room leave", args[0], &room);
    if (r != CLI_OK)
        goto out;
    r = cli_call(&client, "GET", "/me", NULL, &me);
    if (r != CLI_OK)
        goto out;
    {
        json_t *user = json_object_get(me, "user");
        char *e = cli_query_escape(st_json_str(user ? user : me, "id", ""));
        suffix = xasprintf("/members/%s", e);
        free(e);
    }
    path = cli_path("/rooms/", st_json_str(room, "id", ""), suffix);
    r = cli_call(&client, "DELETE", path, NULL, NULL);
    if (r == CLI_OK && !ctx->json) {
        title = cli_msg_clean(st_json_str(room, "title", "?"), false, NULL);
        printf("left room '%s'\n", title);
    }
out:
    free(title);
    free(path);
    free(suffix);
    json_decref(me);
    json_decref(room);
    cli_client_release(&client);
    return r;
}

static int do_archive(struct cli_ctx *ctx, int argc, char **argv)
{
    struct cli_client client = {0};
    const char *args[1] = {NULL};
    bool undo = false;
    json_t *room = NULL, *req = NULL, *resp = NULL;
    char *path = NULL;
    int r;

    r = room_args(ctx, argc, argv, 1, &undo, OPT_UNDO, args);
    if (r >= 0)
        return r;
    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    r = cli_room_find(&client, "room archive", args[0], &room);
    if (r != CLI_OK)
        goto out;
    req = json_pack("{s:b}", "archived", !undo);
    path = cli_path("/rooms/", st_json_str(room, "id", ""), "");
    r = cli_call(&client, "PATCH", path, req, &resp);
    if (r == CLI_OK)
        show_room(ctx, resp, undo ? "is back from the archive" : "archived");
out:
    free(path);
    json_decref(resp);
    json_decref(req);
    json_decref(room);
    cli_client_release(&client);
    return r;
}

static const struct {
    const char *name;
    int (*run)(struct cli_ctx *ctx, int argc, char **argv);
} subcommands[] = {
    {"create", do_create},
    {"add", do_add},
    {"leave", do_leave},
    {"archive", do_archive},
};

static int room_run(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(&cmd_room, "name a subcommand: create, add, leave or archive");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_print_usage(&cmd_room, false);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        if (strcmp(argv[1], subcommands[i].name) == 0) {
            optind = 0;
            return subcommands[i].run(ctx, argc - 1, argv + 1);
        }
    }
    return cli_usage_error(&cmd_room, "unknown subcommand '%s'", argv[1]);
}

const struct cli_command cmd_rooms = {
    .name = "rooms",
    .summary = "list your message rooms, with unread counts",
    .usage = rooms_usage,
    .run = rooms_run,
};

const struct cli_command cmd_room = {
    .name = "room",
    .summary = "create a group room, add a member, leave or archive a room",
    .usage = room_usage,
    .run = room_run,
};
