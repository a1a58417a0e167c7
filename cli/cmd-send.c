/*
 * stint send: posts a message to a room, with files. Each file is uploaded
 * first (POST /files), streamed from disk with its length known up front,
 * never read whole; a progress bar goes to stderr when it is a terminal.
 * Then the message goes out with the files' ids.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/messaging.h"
#include "cli/output.h"
#include "lib/json.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* The API's caps: 10 files a message, 10,000 characters of text (4 bytes each at most). */
#define MAX_FILES 10
#define MAX_TEXT_BYTES (10000 * 4)
/* The answer to an upload is one small JSON object. */
#define MAX_UPLOAD_ANSWER (1024 * 1024)

static const char usage[] =
    "usage: stint send ROOM TEXT [--file FILE]... [--reply-to ID] [--json]\n"
    "\n"
    "Posts TEXT to ROOM; TEXT '-' reads it from stdin (up to 10,000\n"
    "characters; it may be '' when files are attached). Each --file (at most\n"
    "10) is uploaded first, with a progress bar on stderr when stderr is a\n"
    "terminal. --reply-to ID answers a message of the room ('stint messages\n"
    "ROOM --ids' shows ids). ROOM is a room id, a contract id, or the start of\n"
    "a room's title that fits one room only. --json prints the message made.\n";

struct upload {
    FILE *f;
    const char *name; /* for the progress bar */
    curl_off_t size;  /* what Content-Length promised */
    curl_off_t sent;  /* bytes handed to curl */
    bool short_read;  /* the file shrank or failed while being read */
    bool bar;         /* draw a progress bar on stderr */
    struct timespec start, last_draw;
    struct st_capbuf answer; /* the server's reply */
};

static double seconds_since(const struct timespec *t)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct upload *u = userdata;
    size_t want = size * nitems, n;
    curl_off_t left = u->size - u->sent;

    if ((curl_off_t)want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    n = fread(buf, 1, want, u->f);
    if (n == 0) {
        /* Fewer bytes than Content-Length said: stop rather than send a lie. */
        u->short_read = true;
        return CURL_READFUNC_ABORT;
    }
    u->sent += (curl_off_t)n;
    return n;
}

static void draw_bar(struct upload *u, curl_off_t now, bool last)
{
    char done[CLI_SIZE_LEN], total[CLI_SIZE_LEN], rate[CLI_SIZE_LEN];
    double elapsed = seconds_since(&u->start);
    int pct = u->size > 0 ? (int)(now * 100 / u->size) : 100;
    char bar[21];
    int fill = pct / 5;

    for (int i = 0; i < 20; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[20] = '\0';
    cli_format_size((long long)now, done);
    cli_format_size((long long)u->size, total);
    cli_format_size(elapsed > 0 ? (long long)((double)now / elapsed) : 0, rate);
    fprintf(stderr, "\r%.30s [%s] %3d%%  %s / %s  %s/s\033[K%s", u->name, bar, pct, done, total,
            rate, last ? "\n" : "");
    fflush(stderr);
}

static int on_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct upload *u = p;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    if (u->bar && seconds_since(&u->last_draw) >= 0.1) {
        clock_gettime(CLOCK_MONOTONIC, &u->last_draw);
        draw_bar(u, ulnow, false);
    }
    return 0;
}

/* The last part of a path, as the server would keep it. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash && slash[1] ? slash + 1 : path;
}

/*
 * Uploads the file at path (POST /files). Returns CLI_OK and the server's
 * file object in *ret_file, or an exit status after printing why.
 */
static int upload(struct cli_client *c, const char *path, json_t **ret_file)
{
    struct upload u = {.answer = {.max = MAX_UPLOAD_ANSWER}};
    struct cli_request rq = {0}; /* cli_request_end accepts it unbegun */
    struct stat st;
    char *fname = NULL, *enc = NULL, *clean_path;
    CURL *curl = c->curl;
    CURLcode code;
    long status = 0;
    json_t *body = NULL;
    int r = CLI_FAILED;

    clean_path = cli_msg_clean(path, false, NULL);
    u.f = fopen(path, "rb");
    if (!u.f) {
        fprintf(stderr, "stint: send: cannot open '%s': %s\n", clean_path, cli_strerror(errno));
        goto out;
    }
    if (fstat(fileno(u.f), &st) < 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "stint: send: '%s' is not a regular file\n", clean_path);
        goto out;
    }
    u.size = (curl_off_t)st.st_size;
    u.name = base_name(path);
    u.bar = isatty(STDERR_FILENO);
    clock_gettime(CLOCK_MONOTONIC, &u.start);
    u.last_draw = u.start;

    enc = curl_easy_escape(NULL, u.name, 0);
    if (!enc) {
        fprintf(stderr, "fatal: out of memory\n");
        abort();
    }
    fname = xasprintf("X-Filename: %s", enc);
    cli_request_begin(c, "/files", &rq);
    rq.headers = curl_slist_append(rq.headers, "Accept: application/json");
    rq.headers = curl_slist_append(rq.headers, "Content-Type: application/octet-stream");
    rq.headers = curl_slist_append(rq.headers, fname);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, rq.headers);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &u);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, u.size);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, st_capbuf_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &u.answer);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &u);

    code = curl_easy_perform(curl);
    if (u.bar)
        draw_bar(&u, u.sent, true);
    if (u.short_read) {
        fprintf(stderr, "stint: send: '%s' changed or failed while it was read\n", clean_path);
        goto out;
    }
    if (u.answer.too_big) {
        fprintf(stderr, "stint: send: the answer from %s is too large\n", c->server);
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK && status == 0) {
        cli_request_report(c, code, &rq);
        goto out;
    }
    if (u.answer.len > 0)
        body = json_loadb(u.answer.data, u.answer.len, JSON_REJECT_DUPLICATES, NULL);
    if (status < 200 || status > 299) {
        struct cli_reply reply = {.status = status, .body = json_is_object(body) ? body : NULL};
        fprintf(stderr, "stint: send: uploading '%s' failed\n", clean_path);
        r = cli_reply_fail(c, &reply);
        goto out;
    }
    if (code != CURLE_OK || !json_is_string(json_object_get(json_object_get(body, "file"), "id"))) {
        fprintf(stderr, "stint: bad answer from %s to the upload of '%s'\n", c->server, clean_path);
        goto out;
    }
    *ret_file = json_incref(json_object_get(body, "file"));
    r = CLI_OK;
out:
    json_decref(body);
    cli_request_end(&rq);
    curl_free(enc);
    free(fname);
    free(u.answer.data);
    free(clean_path);
    if (u.f)
        fclose(u.f);
    return r;
}

/* Reads the text from stdin, at most MAX_TEXT_BYTES. NULL after printing why. */
static char *read_stdin_text(void)
{
    char *buf = xmalloc(MAX_TEXT_BYTES + 2);
    size_t len = fread(buf, 1, MAX_TEXT_BYTES + 1, stdin);

    if (ferror(stdin)) {
        fprintf(stderr, "stint: send: cannot read the text from stdin\n");
        free(buf);
        return NULL;
    }
    if (len > MAX_TEXT_BYTES) {
        fprintf(stderr, "stint: send: the text is longer than 10,000 characters\n");
        free(buf);
        return NULL;
    }
    /* One trailing newline is the shell's, not the message's. */
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    buf[len] = '\0';
    return buf;
}

enum { OPT_FILE = 256, OPT_REPLY_TO };

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"file", required_argument, NULL, OPT_FILE},
        {"reply-to", required_argument, NULL, OPT_REPLY_TO},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    const char *files[MAX_FILES];
    size_t nfiles = 0;
    const char *reply_to = NULL;
    char *text = NULL, *path = NULL;
    json_t *room = NULL, *req = NULL, *ids, *resp = NULL;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case OPT_FILE:
            if (nfiles == MAX_FILES)
                return cli_usage_error(&cmd_send, "at most %d files in a message", MAX_FILES);
            if (!*optarg)
                return cli_usage_error(&cmd_send, "--file is empty");
            files[nfiles++] = optarg;
            break;
        case OPT_REPLY_TO:
            if (!*optarg)
                return cli_usage_error(&cmd_send, "--reply-to is empty");
            reply_to = optarg;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_send, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_send, c, argv);
        }
    }
    if (argc - optind < 2)
        return cli_usage_error(&cmd_send, "ROOM and TEXT are needed");
    if (argc - optind > 2)
        return cli_usage_error(&cmd_send,
                               "unexpected argument '%s' (quote a text of several words)",
                               argv[optind + 2]);
    if (!argv[optind][0])
        return cli_usage_error(&cmd_send, "the ROOM is empty");
    if (strcmp(argv[optind + 1], "-") == 0) {
        text = read_stdin_text();
        if (!text)
            return CLI_FAILED;
    } else {
        if (strlen(argv[optind + 1]) > MAX_TEXT_BYTES)
            return cli_usage_error(&cmd_send, "the TEXT is longer than 10,000 characters");
        text = xstrdup(argv[optind + 1]);
    }
    if (!*text && nfiles == 0) {
        free(text);
        return cli_usage_error(&cmd_send, "the TEXT is empty and no --file is given");
    }
    req = json_object();
    if (json_object_set_new(req, "text", json_string(text)) < 0) {
        r = cli_usage_error(&cmd_send, "the TEXT is not UTF-8 text");
        goto out;
    }
    if (reply_to && json_object_set_new(req, "reply_to", json_string(reply_to)) < 0) {
        r = cli_usage_error(&cmd_send, "--reply-to is not UTF-8 text");
        goto out;
    }

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        goto out;
    r = cli_room_find(&client, "send", argv[optind], &room);
    if (r != CLI_OK)
        goto out;
    if (nfiles > 0) {
        ids = json_array();
        json_object_set_new(req, "file_ids", ids);
        for (size_t i = 0; i < nfiles; i++) {
            json_t *file = NULL;
            r = upload(&client, files[i], &file);
            if (r != CLI_OK)
                goto out;
            json_array_append(ids, json_object_get(file, "id"));
            json_decref(file);
        }
    }
    path = cli_path("/rooms/", st_json_str(room, "id", ""), "/messages");
    r = cli_call(&client, "POST", path, req, &resp);
    if (r != CLI_OK)
        goto out;
    if (ctx->json)
        cli_print_json(resp);
    else
        cli_msg_print(json_object_get(resp, "message"), st_json_str(room, "title", ""), false,
                      NULL);
out:
    free(path);
    free(text);
    json_decref(resp);
    json_decref(req);
    json_decref(room);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_send = {
    .name = "send",
    .summary = "post a message to a room, with files",
    .usage = usage,
    .run = run,
};
