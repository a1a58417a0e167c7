/*
 * Sign-in storage shared by the CLI and the desktop app: one small JSON
 * file, written atomically and privately, and the token in the keyring
 * (lib/secret.h) when there is one. It knows nothing about HTTP.
 */
#include "lib/signin.h"
#include "lib/os.h"
#include "lib/secret.h"
#include "lib/str.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xalloc.h"

char *st_signin_path(void)
{
    char *dir = st_os_config_dir();
    char *path;

    if (!dir)
        return NULL;
    path = xasprintf("%s/auth.json", dir);
    free(dir);
    return path;
}

/*
 * Reads auth.json; with want_token, also the token, from the file or the
 * keyring as the file says. ret is written only on success.
 */
static int load(struct st_signin *ret, bool want_token)
{
    char *path = st_signin_path();
    char *buf = NULL;
    char *kept = NULL;
    json_t *root = NULL;
    const char *server, *token, *email, *token_in;
    struct stat sb;
    ssize_t n;
    int fd = -1;
    int r;

    if (!path)
        return -ENOENT;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        r = -errno;
        goto out;
    }
    if (fstat(fd, &sb) < 0) {
        r = -errno;
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        r = -EINVAL;
        goto out;
    }
    if (sb.st_size > ST_SIGNIN_MAX_BYTES) {
        r = -EFBIG;
        goto out;
    }
    buf = xmalloc(ST_SIGNIN_MAX_BYTES + 1);
    n = read(fd, buf, ST_SIGNIN_MAX_BYTES + 1);
    if (n < 0) {
        r = -errno;
        goto out;
    }
    if (n > ST_SIGNIN_MAX_BYTES) {
        r = -EFBIG;
        goto out;
    }
    root = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
    server = json_string_value(json_object_get(root, "server"));
    token = json_string_value(json_object_get(root, "token"));
    email = json_string_value(json_object_get(root, "email"));
    token_in = json_string_value(json_object_get(root, "token_in"));
    if (!server || !*server ||
        (token_in ? strcmp(token_in, ST_SIGNIN_IN_KEYRING) != 0 || token : !token || !*token)) {
        r = -EINVAL;
        goto out;
    }
    /* Only a token in the keyring asks it: the keyring module is loaded for nothing else here. */
    if (want_token && token_in) {
        r = st_secret_lookup(server, email, &kept);
        if (r < 0)
            goto out;
        if (!*kept) {
            r = -ENOENT;
            goto out;
        }
    } else if (want_token) {
        kept = xstrdup(token);
    }
    ret->server = xstrdup(server);
    ret->token = kept;
    ret->email = email ? xstrdup(email) : NULL;
    kept = NULL;
    r = 0;
out:
    if (kept) {
        explicit_bzero(kept, strlen(kept));
        free(kept);
    }
    if (buf) {
        explicit_bzero(buf, ST_SIGNIN_MAX_BYTES + 1);
        free(buf);
    }
    json_decref(root);
    if (fd >= 0)
        close(fd);
    free(path);
    return r;
}

int st_signin_load(struct st_signin *ret)
{
    return load(ret, true);
}

int st_signin_peek(struct st_signin *ret)
{
    return load(ret, false);
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int st_signin_save(const struct st_signin *st)
{
    char *dir = st_os_config_dir();
    char *path = NULL;
    char *tmp = NULL;
    char *text = NULL;
    json_t *root;
    bool in_keyring = false;
    int fd = -1;
    int r;

    if (!dir)
        return -ENOENT;
    r = st_mkdir_p(dir);
    if (r < 0)
        goto out;
    path = xasprintf("%s/auth.json", dir);
    tmp = xasprintf("%s/.auth.json.XXXXXX", dir);

    /* The keyring first: auth.json then says where the token is. */
    r = st_secret_store(st->server, st->email, st->token);
    in_keyring = r == 0;
    if (!in_keyring && !st_secret_file_allowed())
        goto out;
    if (in_keyring)
        root = json_pack("{s:s, s:s}", "server", st->server, "token_in", ST_SIGNIN_IN_KEYRING);
    else
        root = json_pack("{s:s, s:s}", "server", st->server, "token", st->token);
    if (st->email)
        json_object_set_new(root, "email", json_string(st->email));
    text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (!text) {
        r = -EINVAL;
        goto out;
    }

    /* mkstemp creates the file 0600; fchmod makes sure whatever the umask. */
    fd = mkstemp(tmp);
    if (fd < 0) {
        r = -errno;
        goto out;
    }
    if (fchmod(fd, 0600) < 0 || (r = write_all(fd, text, strlen(text))) < 0 ||
        (r = write_all(fd, "\n", 1)) < 0 || fsync(fd) < 0) {
        if (r == 0)
            r = -errno;
        goto out_unlink;
    }
    if (close(fd) < 0) {
        fd = -1;
        r = -errno;
        goto out_unlink;
    }
    fd = -1;
    if ((r = st_os_replace(tmp, path)) < 0)
        goto out_unlink;
    r = 0;
    goto out;

out_unlink:
    unlink(tmp);
out:
    /* auth.json still says what it said before: the new token must not linger in the keyring. */
    if (r < 0 && in_keyring)
        st_secret_clear();
    if (fd >= 0)
        close(fd);
    if (text) {
        explicit_bzero(text, strlen(text));
        free(text);
    }
    free(tmp);
    free(path);
    free(dir);
    return r;
}

int st_signin_remove(void)
{
    char *path = st_signin_path();
    int r = 0;

    /*
     * Whatever auth.json says, a token of ours in the keyring goes too (one
     * left by an earlier sign-in): this loads the keyring module when a
     * session bus is configured, as saving does.
     */
    st_secret_clear();
    if (!path)
        return 0;
    if (unlink(path) < 0 && errno != ENOENT)
        r = -errno;
    free(path);
    return r;
}

void st_signin_release(struct st_signin *st)
{
    if (st->token) {
        explicit_bzero(st->token, strlen(st->token));
        free(st->token);
    }
    free(st->server);
    free(st->email);
    st->server = st->token = st->email = NULL;
}
