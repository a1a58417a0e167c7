/*
 * stint files: the files posted in a room, newest first. Saving one is
 * stint download (cmd-download.c).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/messaging.h"
#include "cli/output.h"
#include "lib/json.h"
#include "lib/xalloc.h"
static const char files_usage[] =
    "usage: stint files ROOM [--json]\n"
    "\n"
    "Lists the files posted in a room, newest first: name, size, type, who\n"
    "posted it, when (local time) and the file's id for 'stint download'.\n"
    "ROOM is a room id, a contract id, or the start of a room's title that\n"
    "fits one room only. --json prints the server's answer.\n";


/* ---- stint files ---- */

static int files_run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const headers[] = {"NAME", "SIZE", "TYPE", "POSTED BY", "WHEN", "ID"};
    struct cli_client client = {0};
    struct cli_table *table = NULL;
    json_t *room = NULL, *resp = NULL, *files, *f;
    char *path = NULL;
    size_t i;
    const char *room_arg = NULL;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_files, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_files, c, argv);
        }
    }
    if ((r = cli_one_arg(&cmd_files, argc, argv, "ROOM", &room_arg)) != CLI_OK)
        return r;

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    r = cli_room_find(&client, "files", room_arg, &room);
    if (r != CLI_OK)
        goto out;
    path = cli_path("/rooms/", st_json_str(room, "id", ""), "/files");
    r = cli_call(&client, "GET", path, NULL, &resp);
    if (r != CLI_OK)
        goto out;
    if (ctx->json) {
        cli_print_json(resp);
        goto out;
    }
    files = json_object_get(resp, "files");
    if (json_array_size(files) == 0) {
        printf("no files in this room\n");
        goto out;
    }
    table = cli_table_new(6, headers);
    cli_table_set_max(table, 0, 48);
    cli_table_set_right(table, 1);
    cli_table_set_max(table, 2, 32);
    cli_table_set_max(table, 3, 32);
    json_array_foreach(files, i, f)
    {
        char size[CLI_SIZE_LEN], when[CLI_LOCAL_TIME_LEN];
        char *name = cli_msg_clean(st_json_str(f, "name", "?"), false, NULL);
        char *type = cli_msg_clean(st_json_str(f, "type", "?"), false, NULL);
        char *author =
            cli_msg_clean(st_json_str(json_object_get(f, "author"), "name", "?"), false, NULL);
        char *id = cli_msg_clean(st_json_str(f, "id", "?"), false, NULL);

        cli_format_size(st_json_int(f, "size", 0), size);
        cli_format_local_time(st_json_str(f, "posted_at", st_json_str(f, "created_at", NULL)),
                              when);
        const char *cells[] = {name, size, type, author, when, id};
        cli_table_add(table, cells);
        free(name);
        free(type);
        free(author);
        free(id);
    }
    cli_table_print(table, stdout);
out:
    cli_table_free(table);
    free(path);
    json_decref(resp);
    json_decref(room);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_files = {
    .name = "files",
    .summary = "list the files posted in a room",
    .usage = files_usage,
    .run = files_run,
};
