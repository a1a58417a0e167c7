/*
 * stint download: one file of a message saved to disk. The download is
 * streamed from libcurl straight into a temporary file next to its
 * destination and renamed into place once whole, so a file is never held
 * in memory and never left half-written under its real name. Not for
 * invoices and CSVs (download.c).
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

/* An error answer is JSON of a few hundred bytes; more is not read. */
#define MAX_ERROR_BODY (64 * 1024)
/* A Content-Disposition header longer than this is ignored (names are at most 255 bytes). */
#define MAX_DISPOSITION 4096
/* The API caps a stored name at 255 bytes; a longer one from a server is cut. */
#define MAX_NAME 255

static const char download_usage[] =
    "usage: stint download FILE_ID [-o PATH] [--force] [--json]\n"
    "\n"
    "Saves a file of a message (see 'stint files' or 'stint messages --ids').\n"
    "By default it goes to the current directory under the name the server\n"
    "gives it; -o PATH saves it as PATH (into PATH when it is a directory;\n"
    "'-' writes to stdout). An existing file is not overwritten without\n"
    "--force. The bytes are streamed to a temporary file and renamed once\n"
    "complete, so an interrupted download leaves no half file behind.\n"
    "--json prints {\"path\",\"size\"} of the saved file.\n";

/* ---- stint download ---- */

struct dl {
    CURL *curl;
    int fd; /* the temporary file; -1 for stdout */
    bool to_stdout;
    long status;       /* the HTTP status, once the first byte of the body came */
    char *disposition; /* the Content-Disposition header's value, NULL until seen */
    char *err;         /* the body of an answer that is not 2xx (capped) */
    size_t err_len;
    int write_errno; /* a failed write to disk */
    curl_off_t received;
};

static size_t on_header(char *ptr, size_t size, size_t nitems, void *userdata)
{
    struct dl *d = userdata;
    size_t n = size * nitems;
    static const char key[] = "content-disposition:";

    /* Each response (a redirect's too) starts with its status line: forget the last one's. */
    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
        free(d->disposition);
        d->disposition = NULL;
        return n;
    }
    if (n > sizeof(key) - 1 && n < MAX_DISPOSITION && strncasecmp(ptr, key, sizeof(key) - 1) == 0) {
        size_t start = sizeof(key) - 1, end = n;
        while (start < end && (ptr[start] == ' ' || ptr[start] == '\t'))
            start++;
        while (end > start && (ptr[end - 1] == '\r' || ptr[end - 1] == '\n' ||
                               ptr[end - 1] == ' ' || ptr[end - 1] == '\t'))
            end--;
        free(d->disposition);
        d->disposition = xstrndup(ptr + start, end - start);
    }
    return n;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct dl *d = userdata;
    size_t n = size * nmemb, done = 0;

    if (!d->status)
        curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &d->status);
    if (d->status < 200 || d->status > 299) {
        /* An error: keep the start of its JSON for the message, never on disk. */
        size_t keep = n < MAX_ERROR_BODY - d->err_len ? n : MAX_ERROR_BODY - d->err_len;
        if (keep) {
            d->err = xrealloc(d->err, d->err_len + keep + 1);
            memcpy(d->err + d->err_len, ptr, keep);
            d->err_len += keep;
            d->err[d->err_len] = '\0';
        }
        return n;
    }
    if (d->to_stdout) {
        if (fwrite(ptr, 1, n, stdout) != n) {
            d->write_errno = errno ? errno : EIO;
            return 0;
        }
    } else {
        while (done < n) {
            ssize_t w = write(d->fd, ptr + done, n - done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                d->write_errno = w < 0 ? errno : EIO;
                return 0;
            }
            done += (size_t)w;
        }
    }
    d->received += (curl_off_t)n;
    return n;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * The file name a Content-Disposition value offers: filename*=UTF-8''...
 * (percent-decoded) when present, else the quoted filename="...". Returns
 * it newly allocated, not yet made safe, or NULL when there is none.
 */
static char *disposition_name(const char *v)
{
    const char *p = strcasestr(v, "filename*=");
    char *out;
    size_t n = 0;

    if (p) {
        p += strlen("filename*=");
        if (strncasecmp(p, "UTF-8''", 7) == 0) {
            p += 7;
            out = xmalloc(strlen(p) + 1);
            for (; *p && *p != ';' && *p != ' '; p++) {
                if (*p == '%') {
                    int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
                    if (hi < 0 || lo < 0) {
                        free(out);
                        goto plain;
                    }
                    out[n++] = (char)(hi << 4 | lo);
                    p += 2;
                } else {
                    out[n++] = *p;
                }
            }
            out[n] = '\0';
            return out;
        }
    }
plain:
    p = v;
    while ((p = strcasestr(p, "filename=")) != NULL) {
        /* Skip the "filename=" inside "filename*=" (not a match: '*' precedes '='). */
        p += strlen("filename=");
        if (*p != '"')
            continue;
        p++;
        out = xmalloc(strlen(p) + 1);
        for (; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            out[n++] = *p;
        }
        out[n] = '\0';
        return out;
    }
    return NULL;
}

/* Length of the UTF-8 sequence at s (1-4), or 0 when it is broken. */
static size_t utf8_len(const unsigned char *s)
{
    size_t len = s[0] < 0x80             ? 1
                 : (s[0] & 0xe0) == 0xc0 ? 2
                 : (s[0] & 0xf0) == 0xe0 ? 3
                 : (s[0] & 0xf8) == 0xf0 ? 4
                                         : 0;
    if (len == 2 && s[0] < 0xc2)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/*
 * Makes a name from the server safe to create in a directory, whatever the
 * server sent: the last path part only, control characters (C0, DEL, C1)
 * and broken UTF-8 as '_', no leading dots or spaces, no trailing dots or
 * spaces, at most MAX_NAME bytes cut between characters; "file" when
 * nothing is left. The stintd sends names already like this; another
 * server might not. Returns a new string.
 */
static char *safe_name(const char *raw)
{
    const char *base = raw;
    char *out = xmalloc(MAX_NAME + 1);
    size_t n = 0;

    for (const char *p = raw; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    while (*base == '.' || *base == ' ')
        base++;
    for (const unsigned char *p = (const unsigned char *)base; *p;) {
        size_t len = utf8_len(p);
        bool control =
            len == 0 || p[0] < 0x20 || p[0] == 0x7f || (len == 2 && p[0] == 0xc2 && p[1] < 0xa0);
        if (control) {
            if (n + 1 > MAX_NAME)
                break;
            out[n++] = '_';
            p += len ? len : 1;
            continue;
        }
        if (n + len > MAX_NAME)
            break;
        memcpy(out + n, p, len);
        n += len;
        p += len;
    }
    while (n > 0 && (out[n - 1] == '.' || out[n - 1] == ' '))
        n--;
    out[n] = '\0';
    if (n == 0) {
        free(out);
        return xstrdup("file");
    }
    return out;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory part of path ("." when it has none), newly allocated. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

/* The name the file would have, made from the server's name for it, in dir (NULL: here). */
static char *join(const char *dir, const char *name)
{
    if (!dir)
        return xstrdup(name);
    return xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
}

/*
 * Moves tmp to path: with force, replacing what is there; without,
 * refusing when path exists (also one made while the download ran).
 * Returns 0 or a negative errno (-EEXIST: it exists).
 */
static int put_in_place(const char *tmp, const char *path, bool force)
{
    if (force)
        return rename(tmp, path) == 0 ? 0 : -errno;
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -errno;
    /* A file system without RENAME_NOREPLACE: a hard link fails on an existing name too. */
    if (link(tmp, path) < 0)
        return -errno;
    unlink(tmp);
    return 0;
}

/*
 * The temporary file of the download under way, removed if Ctrl-C or
 * SIGTERM ends the command, so no hidden half file stays behind.
 */
static char *volatile pending_tmp;

static void on_stop_signal(int sig)
{
    char *tmp = pending_tmp;

    if (tmp)
        unlink(tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

enum { OPT_FORCE = 256 };

static int download_run(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, OPT_FORCE},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_client client = {0};
    struct dl d = {.fd = -1};
    struct cli_request rq = {0}; /* cli_request_end accepts it unbegun */
    const char *output = NULL, *id;
    char *tmp = NULL, *dest = NULL, *tmpdir = NULL;
    char *raw = NULL, *name = NULL, *idpath = NULL;
    bool force = false, into_dir = false;
    CURLcode code;
    int c, r;

    while ((c = getopt_long(argc, argv, ":ho:", options, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (!*optarg)
                return cli_usage_error(&cmd_download, "-o is empty");
            output = optarg;
            break;
        case OPT_FORCE:
            force = true;
            break;
        case 'j':
            ctx->json = true;
            break;
        case 'h':
            cli_print_usage(&cmd_download, false);
            return CLI_OK;
        default:
            return cli_bad_option(&cmd_download, c, argv);
        }
    }
    if ((r = cli_one_arg(&cmd_download, argc, argv, "FILE_ID", &id)) != CLI_OK)
        return r;

    d.to_stdout = output && strcmp(output, "-") == 0;
    into_dir = output && !d.to_stdout && is_dir(output);
    if (output && !d.to_stdout && !into_dir) {
        /* The name is known: refuse before a single byte moves. */
        dest = xstrdup(output);
        if (!force && access(dest, F_OK) == 0) {
            fprintf(stderr, "stint: download: '%s' exists: use --force to overwrite it\n", dest);
            free(dest);
            return CLI_FAILED;
        }
    }

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK) {
        free(dest);
        return r;
    }
    if (!d.to_stdout) {
        /* Next to where the file goes, so the rename stays on one file system. */
        tmpdir = dest ? dir_of(dest) : xstrdup(into_dir ? output : ".");
        tmp = join(tmpdir, ".stint-download-XXXXXX");
        d.fd = mkostemp(tmp, O_CLOEXEC);
        if (d.fd < 0) {
            fprintf(stderr, "stint: download: cannot create a file in '%s': %s\n", tmpdir,
                    cli_strerror(errno));
            free(tmp);
            tmp = NULL;
            r = CLI_FAILED;
            goto out;
        }
        pending_tmp = tmp;
        signal(SIGINT, on_stop_signal);
        signal(SIGTERM, on_stop_signal);
        /* mkostemp makes it 0600; a download is an ordinary file (0666 less the umask). */
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(d.fd, 0666 & ~mask) < 0) {
            /* Not worth failing over: the file is still the user's. */
        }
    }

    idpath = cli_path("/files/", id, "");
    d.curl = client.curl;
    cli_request_begin(&client, idpath, &rq);
    curl_easy_setopt(d.curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(d.curl, CURLOPT_HEADERDATA, &d);
    curl_easy_setopt(d.curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(d.curl, CURLOPT_WRITEDATA, &d);
    curl_easy_setopt(d.curl, CURLOPT_HTTPHEADER, rq.headers);
    code = curl_easy_perform(d.curl);
    if (d.write_errno) {
        fprintf(stderr, "stint: download: cannot write '%s': %s\n", d.to_stdout ? "stdout" : tmp,
                cli_strerror(d.write_errno));
        r = CLI_FAILED;
        goto out;
    }
    if (code != CURLE_OK) {
        cli_request_report(&client, code, &rq);
        r = CLI_FAILED;
        goto out;
    }
    if (!d.status)
        curl_easy_getinfo(d.curl, CURLINFO_RESPONSE_CODE, &d.status);
    if (d.status < 200 || d.status > 299) {
        r = cli_reply_fail_body(&client, d.status, d.err, d.err_len);
        goto out;
    }
    if (d.to_stdout) {
        if (fflush(stdout) != 0) {
            fprintf(stderr, "stint: download: cannot write to stdout: %s\n", cli_strerror(errno));
            r = CLI_FAILED;
        }
        goto out;
    }
    if (fsync(d.fd) < 0 || close(d.fd) < 0) {
        d.fd = -1;
        fprintf(stderr, "stint: download: cannot write '%s': %s\n", tmp, cli_strerror(errno));
        r = CLI_FAILED;
        goto out;
    }
    d.fd = -1;
    if (!dest) {
        raw = d.disposition ? disposition_name(d.disposition) : NULL;
        name = safe_name(raw ? raw : "file");
        dest = join(into_dir ? output : NULL, name);
    }
    r = put_in_place(tmp, dest, force);
    if (r < 0) {
        /* The name came from the server: shown cleaned, like any text of its. */
        char *shown = cli_msg_clean(dest, false, NULL);
        if (r == -EEXIST)
            fprintf(stderr, "stint: download: '%s' exists: use --force to overwrite it\n", shown);
        else
            fprintf(stderr, "stint: download: cannot write '%s': %s\n", shown, cli_strerror(-r));
        free(shown);
        r = CLI_FAILED;
        goto out;
    }
    pending_tmp = NULL;
    free(tmp);
    tmp = NULL; /* in place: nothing to remove */
    if (ctx->json) {
        json_t *v = json_pack("{s:s,s:I}", "path", dest, "size", (json_int_t)d.received);
        cli_print_json(v);
        json_decref(v);
    } else {
        char size[CLI_SIZE_LEN];
        char *shown = cli_msg_clean(dest, false, NULL);
        cli_format_size((long long)d.received, size);
        printf("saved %s (%s)\n", shown, size);
        free(shown);
    }
    r = CLI_OK;
out:
    pending_tmp = NULL;
    if (d.fd >= 0)
        close(d.fd);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    cli_request_end(&rq);
    free(d.disposition);
    free(d.err);
    free(idpath);
    free(tmpdir);
    free(dest);
    free(raw);
    free(name);
    cli_client_release(&client);
    return r;
}

const struct cli_command cmd_download = {
    .name = "download",
    .summary = "save a file of a message",
    .usage = download_usage,
    .run = download_run,
};
