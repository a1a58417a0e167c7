/*
 * Content-addressed blobs on the filesystem: DIR/ab/abcdef... Written to a
 * temporary file, fsynced, renamed into place, and the directory fsynced,
 * so a blob is either whole or absent after a crash.
 */
#include "server/blob.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xalloc.h"

struct blob_store {
    char *dir;
};

struct blob_writer {
    struct blob_store *bs;
    crypto_hash_sha256_state hash;
    char *tmp_path;
    int fd;
    size_t len;
};

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int r = 0;

    if (fd < 0)
        return -errno;
    if (fsync(fd) < 0)
        r = -errno;
    close(fd);
    return r;
}

int blob_id_valid(const char *id)
{
    if (!id || strlen(id) != BLOB_ID_LEN)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

int blob_open(const char *dir, struct blob_store **ret_store)
{
    struct blob_store *bs;

    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -errno;
    bs = xcalloc(1, sizeof(*bs));
    bs->dir = xstrdup(dir);
    *ret_store = bs;
    return 0;
}

void blob_free(struct blob_store *bs)
{
    if (!bs)
        return;
    free(bs->dir);
    free(bs);
}

static char *blob_path(struct blob_store *bs, const char *id)
{
    return xasprintf("%s/%.2s/%s", bs->dir, id, id);
}

struct blob_writer *blob_writer_new(struct blob_store *bs)
{
    struct blob_writer *w = xcalloc(1, sizeof(*w));

    w->bs = bs;
    w->tmp_path = xasprintf("%s/tmp-XXXXXX", bs->dir);
    w->fd = mkostemp(w->tmp_path, O_CLOEXEC);
    if (w->fd < 0) {
        free(w->tmp_path);
        free(w);
        return NULL;
    }
    crypto_hash_sha256_init(&w->hash);
    return w;
}

int blob_writer_append(struct blob_writer *w, const void *data, size_t len)
{
    const char *p = data;
    size_t left = len;

    while (left > 0) {
        ssize_t n = write(w->fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += n;
        left -= (size_t)n;
    }
    crypto_hash_sha256_update(&w->hash, data, len);
    w->len += len;
    return 0;
}

void blob_writer_abort(struct blob_writer *w)
{
    if (!w)
        return;
    close(w->fd);
    unlink(w->tmp_path);
    free(w->tmp_path);
    free(w);
}

int blob_writer_commit(struct blob_writer *w, char ret_id[BLOB_ID_LEN + 1], size_t *ret_len)
{
    unsigned char digest[crypto_hash_sha256_BYTES];
    char id[BLOB_ID_LEN + 1], *sub = NULL, *path = NULL;
    int r = 0;

    crypto_hash_sha256_final(&w->hash, digest);
    sodium_bin2hex(id, sizeof(id), digest, sizeof(digest));
    if (fsync(w->fd) < 0) {
        r = -errno;
        goto out;
    }
    sub = xasprintf("%s/%.2s", w->bs->dir, id);
    if (mkdir(sub, 0700) == 0) {
        /* A new shard folder must itself be durable, or the blob may vanish with it. */
        if ((r = fsync_dir(w->bs->dir)) < 0)
            goto out;
    } else if (errno != EEXIST) {
        r = -errno;
        goto out;
    }
    path = blob_path(w->bs, id);
    /* Same content, same name: an existing blob is already the same bytes. */
    if (rename(w->tmp_path, path) < 0) {
        r = -errno;
        goto out;
    }
    if ((r = fsync_dir(sub)) < 0)
        goto out;
    memcpy(ret_id, id, sizeof(id));
    if (ret_len)
        *ret_len = w->len;
out:
    close(w->fd);
    if (r < 0)
        unlink(w->tmp_path);
    free(w->tmp_path);
    free(w);
    free(sub);
    free(path);
    return r;
}

int blob_put(struct blob_store *bs, const void *data, size_t len, char ret_id[BLOB_ID_LEN + 1])
{
    struct blob_writer *w = blob_writer_new(bs);
    int r;

    if (!w)
        return -errno ? -errno : -EIO;
    if ((r = blob_writer_append(w, data, len)) < 0) {
        blob_writer_abort(w);
        return r;
    }
    return blob_writer_commit(w, ret_id, NULL);
}

int blob_open_fd(struct blob_store *bs, const char *id, size_t *ret_len)
{
    char *path;
    struct stat stt;
    int fd;

    if (!blob_id_valid(id))
        return -ENOENT;
    path = blob_path(bs, id);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &stt) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    *ret_len = (size_t)stt.st_size;
    return fd;
}

int blob_get(struct blob_store *bs, const char *id, void **ret_data, size_t *ret_len)
{
    size_t len, got = 0;
    char *buf;
    int fd = blob_open_fd(bs, id, &len);

    if (fd < 0)
        return fd;
    buf = xmalloc(len);
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            close(fd);
            return -EIO;
        }
        got += (size_t)n;
    }
    close(fd);
    *ret_data = buf;
    *ret_len = len;
    return 0;
}

int blob_delete(struct blob_store *bs, const char *id)
{
    char *path, *sub;
    int r = 0;

    if (!blob_id_valid(id))
        return -ENOENT;
    path = blob_path(bs, id);
    sub = xasprintf("%s/%.2s", bs->dir, id);
    if (unlink(path) < 0 && errno != ENOENT)
        r = -errno;
    else if ((r = fsync_dir(sub)) == -ENOENT)
        r = 0;
    free(path);
    free(sub);
    return r;
}
