/*
 * Raw downloads and saving them. See download.h. The HTTP details mirror
 * cli_client_send (client.c): same timeouts, same cap on what is read,
 * the token only ever sent to the server it was issued by.
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
    struct curl_slist *headers = NULL;
    struct st_capbuf s = {.max = CLI_MAX_RESPONSE};
    char errbuf[CURL_ERROR_SIZE] = "";
    char *url = xasprintf("%s/api/v1%s", c->server, path), *auth = NULL;
    long status = 0;
    CURLcode code;
    int r = CLI_FAILED;

    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "stint/" STINT_VERSION);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, st_capbuf_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CLI_MAX_RESPONSE);
    if (c->token) {
        auth = xasprintf("Authorization: Bearer %s", c->token);
        headers = curl_slist_append(headers, auth);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    code = curl_easy_perform(curl);
    if (s.too_big || code == CURLE_FILESIZE_EXCEEDED) {
        fprintf(stderr, "stint: the answer from %s is larger than %u MiB\n", c->server,
                CLI_MAX_RESPONSE / (1024 * 1024));
        goto out;
    }
    if (code != CURLE_OK) {
        fprintf(stderr, "stint: cannot reach %s: %s\n", c->server,
                errbuf[0] ? errbuf : curl_easy_strerror(code));
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        struct cli_reply reply = {.status = status, .len = s.len};
        json_t *v = s.len ? json_loadb(s.data, s.len, 0, NULL) : NULL;
        reply.body = json_is_object(v) ? v : NULL;
        if (!reply.body)
            json_decref(v);
        r = cli_reply_fail(c, &reply);
        cli_reply_release(&reply);
        goto out;
    }
    *ret_data = s.data ? s.data : xcalloc(1, 1);
    *ret_len = s.len;
    s.data = NULL;
    r = CLI_OK;
out:
    curl_slist_free_all(headers);
    if (auth) {
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    free(s.data);
    free(url);
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
