/*
 * stint _upload: the helper process of the tracker (tracker/transport.h).
 * Not for people: `stint track`'s recorder runs it for one upload pass, or
 * for the reads a start needs, so that the recorder itself never loads
 * libcurl or a TLS library. It reads the token from its stdin, does the
 * work with the same code the in-process uploader runs (upload-pass.c) and
 * writes what happens as JSON lines on its stdout; the recorder reads them
 * back (transport-helper.c). Hidden from `stint help`.
 *
 *   stint _upload --server URL --account KEY --dir DIR [--totals CONTRACT --tz ZONE]
 *   stint _upload --server URL --start CONTRACT [--config]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/str.h"
#include "tracker/journal.h"
#include "tracker/upload-pass.h"

#define TOKEN_MAX 4096

static const char usage[] =
    "usage: stint _upload --server URL --account KEY --dir DIR [--totals CONTRACT --tz ZONE]\n"
    "       stint _upload --server URL --start CONTRACT [--config]\n"
    "\n"
    "The tracker's upload helper, run by 'stint track'; not meant to be run by hand.\n"
    "Reads the token on stdin and writes JSON lines on stdout.\n";

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    enum { OPT_SERVER = 256, OPT_ACCOUNT, OPT_DIR, OPT_TOTALS, OPT_TZ, OPT_START, OPT_CONFIG };
    static const struct option options[] = {
        {"server", required_argument, NULL, OPT_SERVER},
        {"account", required_argument, NULL, OPT_ACCOUNT},
        {"dir", required_argument, NULL, OPT_DIR},
        {"totals", required_argument, NULL, OPT_TOTALS},
        {"tz", required_argument, NULL, OPT_TZ},
        {"start", required_argument, NULL, OPT_START},
        {"config", no_argument, NULL, OPT_CONFIG},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *server = NULL, *account = NULL, *dir = NULL, *totals = NULL, *tz = "UTC",
               *start = NULL;
    bool config = false;
    struct tk_net net;
    char *token;
    char err[512];
    int c, r = CLI_OK;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case OPT_SERVER:
            server = optarg;
            break;
        case OPT_ACCOUNT:
            account = optarg;
            break;
        case OPT_DIR:
            dir = optarg;
            break;
        case OPT_TOTALS:
            totals = optarg;
            break;
        case OPT_TZ:
            tz = optarg;
            break;
        case OPT_START:
            start = optarg;
            break;
        case OPT_CONFIG:
            config = true;
            break;
        case 'h':
            cli_print_usage(&cmd_upload, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_upload, c, argv);
        }
    }
    if (optind < argc)
        return cli_usage_error(&cmd_upload, "unexpected argument '%s'", argv[optind]);
    if (!server || (!start && (!account || !dir)))
        return cli_usage_error(&cmd_upload, "--server with --start, or with --account and --dir");
    if (start && strlen(start) > 36)
        return cli_usage_error(&cmd_upload, "--start takes a contract id");
    token = st_read_secret_line(STDIN_FILENO, TOKEN_MAX);
    if (!token) {
        fprintf(stderr, "stint: _upload: no token on stdin\n");
        return CLI_USAGE;
    }
    if (tk_net_init(&net, server, token) < 0) {
        fprintf(stderr, "stint: _upload: cannot start libcurl\n");
        r = CLI_FAILED;
        goto out;
    }
    if (start) {
        struct tk_start_info info = {0};
        snprintf(info.contract_id, sizeof(info.contract_id), "%s", start);
        tk_fetch_start_run(&net, config, &info);
        tk_helper_write_start(stdout, &info);
        json_decref(info.contract);
    } else {
        struct tk_journal *j = NULL;
        struct tk_pass_sink sink;
        struct tk_pass_args a = {.account = account,
                                 .contract_id = totals ? totals : "",
                                 .tz = tz,
                                 .totals = totals != NULL};
        enum tk_pass_outcome o;

        /* The recorder holds the lock; this is a second connection, as the uploader thread's. */
        if (tk_journal_open(dir, 0, &j, err, sizeof(err)) < 0) {
            tk_helper_sink_init(&sink, stdout);
            sink.error(sink.ud, err);
            o = TK_PASS_OFFLINE;
        } else {
            tk_helper_sink_init(&sink, stdout);
            o = tk_pass_run(&net, j, &a, &sink);
        }
        tk_helper_write_outcome(stdout, o);
        tk_journal_free(j);
    }
    tk_net_release(&net);
out:
    explicit_bzero(token, strlen(token));
    free(token);
    return r;
}

const struct cli_command cmd_upload = {
    .name = "_upload",
    .summary = "the tracker's upload helper (not for people)",
    .usage = usage,
    .run = run,
};
