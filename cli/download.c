/*
 * Raw downloads and saving them. See download.h. The request is set up by
 * cli_request_begin (client.c), as every request of the CLI: same
 * timeouts, the token only ever sent to the server it was issued by; the
 * answer is capped like cli_client_send's.
 */
#include "cli/download.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/output.h"
#include "lib/str.h"
#include "lib/xalloc.h"

int cli_download(struct cli_client *c, const char *path, char **ret_data, size_t *ret_len)
{
    CURL *curl = c->curl;
    struct cli_request rq;
    struct st_capbuf s = {.max = CLI_MAX_RESPONSE};
    long status = 0;
    CURLcode code;
    int r = CLI_FAILED;

    cli_request_begin(c, path, &rq);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, st_capbuf_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CLI_MAX_RESPONSE);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, rq.headers);
    code = curl_easy_perform(curl);
    if (s.too_big || code == CURLE_FILESIZE_EXCEEDED) {
        fprintf(stderr, "stint: the answer from %s is larger than %u MiB\n", c->server,
                CLI_MAX_RESPONSE / (1024 * 1024));
        goto out;
    }
    if (code != CURLE_OK) {
        cli_request_report(c, code, &rq);
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        r = cli_reply_fail_body(c, status, s.data, s.len);
        goto out;
    }
    *ret_data = s.data ? s.data : xcalloc(1, 1);
    *ret_len = s.len;
    s.data = NULL;
    r = CLI_OK;
out:
    cli_request_end(&rq);
    free(s.data);
    return r;
}

int cli_save(const char *path, const char *data, size_t len)
{
    char *tmp;
    size_t done = 0;
    bool ok;
    int fd;

    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) != len) {
            fprintf(stderr, "stint: cannot write to stdout: %s\n", cli_strerror(errno));
            return CLI_FAILED;
        }
        return CLI_OK;
    }
    tmp = xasprintf("%s.tmp-%ld", path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "stint: cannot create '%s': %s\n", tmp, cli_strerror(errno));
        free(tmp);
        return CLI_FAILED;
    }
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    ok = done == len && fsync(fd) == 0;
    if (close(fd) < 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "stint: cannot write '%s': %s\n", path, cli_strerror(errno));
        unlink(tmp);
        free(tmp);
        return CLI_FAILED;
    }
    if (rename(tmp, path) < 0) {
        fprintf(stderr, "stint: cannot write '%s': %s\n", path, cli_strerror(errno));
        unlink(tmp);
        free(tmp);
        return CLI_FAILED;
    }
    free(tmp);
    return CLI_OK;
}
