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
 * All recording rules live in tracker/; this file reads its arguments and
 * the token, and cli_record (cli/record.c, shared with stint.exe on
 * Windows, which runs it in-process) drives the engine's loop and talks to
 * the person at the terminal.
 *
 *   stint-recorder --server URL --account EMAIL --helper STINT --token-fd N
 *                  --contract ID [--memo TEXT] [--tag TAG]... [--monitor all|N]
 *                  [--blur] [--for-s SECONDS]
 *
 * Not meant to be run by hand; `stint track --help` is the documentation.
 */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/record.h"
#include "lib/str.h"
#include "tracker/engine.h"
#include "tracker/transport.h"

#define MAX_TAGS 20
#define TOKEN_MAX 4096

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
    struct cli_record_args a = {0};

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
    a.server = server;
    a.account = account;
    a.contract = contract;
    a.memo = memo;
    a.tags = tags;
    a.ntags = ntags;
    a.monitor = monitor;
    a.monitor_given = monitor_given;
    a.blur = blur;
    a.for_s = for_s;
    r = cli_record(&a, token, &tk_transport_helper, helper);
    explicit_bzero(token, strlen(token));
    free(token);
    return r;
}
