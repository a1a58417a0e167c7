/*
 * Unit tests of the blob store (server/blob-fs.c) on the real filesystem in
 * a temporary directory: bytes come back as they went in, under the name
 * that is their SHA-256, stored once however often they are put; the
 * streaming writer agrees with blob_put and leaves nothing behind when
 * aborted; ids that are not blob ids never reach the filesystem.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/blob.h"

struct fixture {
    char root[64];
    char dir[96]; /* root/a/blobs: ids that climb out land inside root */
    struct blob_store *bs;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->root, sizeof(f->root), "/tmp/stint-blob-XXXXXX");
    if (!mkdtemp(f->root)) {
        free(f);
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "%s/a", f->root);
    if (mkdir(f->dir, 0700) < 0)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "%s/a/blobs", f->root);
    if (blob_open(f->dir, &f->bs) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    blob_free(f->bs);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
    if (system(cmd) != 0)
        fprintf(stderr, "# cannot remove %s\n", f->root);
    free(f);
    return 0;
}

/* n bytes that differ from one seed to the next. */
static unsigned char *bytes(size_t n, unsigned seed)
{
    unsigned char *p = malloc(n ? n : 1);
    uint32_t x = seed * 2654435761u + 1;

    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (unsigned char)x;
    }
    return p;
}

static void sha256_hex(const void *data, size_t len, char out[BLOB_ID_LEN + 1])
{
    unsigned char d[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(d, data, len);
    sodium_bin2hex(out, BLOB_ID_LEN + 1, d, sizeof(d));
}

/* What lies under the blob directory: regular files, and those named like temporaries. */
static int nfiles, ntemp;

static int count_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (type == FTW_F) {
        nfiles++;
        if (strncmp(path + ftw->base, "tmp", 3) == 0)
            ntemp++;
    }
    return 0;
}

static void count_files(struct fixture *f)
{
    nfiles = ntemp = 0;
    assert_int_equal(nftw(f->dir, count_one, 16, FTW_PHYS), 0);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static void put_then_get_gives_the_same_bytes(void **state)
{
    struct fixture *f = *state;
    static const size_t sizes[] = {0, 1, 4095, 4096, 300 * 1024 + 7};
    char id[BLOB_ID_LEN + 1];

    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        unsigned char *data = bytes(sizes[i], (unsigned)i);
        void *got = NULL;
        size_t len = 12345;

        assert_int_equal(blob_put(f->bs, data, sizes[i], id), 0);
        assert_int_equal(blob_get(f->bs, id, &got, &len), 0);
        assert_int_equal(len, sizes[i]);
        assert_memory_equal(got, data, sizes[i]);
        free(got);
        free(data);
    }
}

static void the_id_is_the_sha256_of_the_bytes(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = bytes(100000, 7);
    char id[BLOB_ID_LEN + 1], want[BLOB_ID_LEN + 1], path[256];
    struct stat st;

    assert_int_equal(blob_put(f->bs, "abc", 3, id), 0);
    assert_string_equal(id, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    assert_int_equal(blob_put(f->bs, data, 100000, id), 0);
    sha256_hex(data, 100000, want);
    assert_string_equal(id, want);
    assert_true(blob_id_valid(id));

    /* Stored where an operator would look for it: DIR/ab/abcdef... */
    snprintf(path, sizeof(path), "%s/%.2s/%s", f->dir, id, id);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 100000);
    free(data);
}

static void the_same_bytes_are_stored_once(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = bytes(5000, 1), *other = bytes(5000, 2);
    char a[BLOB_ID_LEN + 1], b[BLOB_ID_LEN + 1], c[BLOB_ID_LEN + 1];

    assert_int_equal(blob_put(f->bs, data, 5000, a), 0);
    assert_int_equal(blob_put(f->bs, data, 5000, b), 0);
    assert_string_equal(a, b);
    count_files(f);
    assert_int_equal(nfiles, 1);

    assert_int_equal(blob_put(f->bs, other, 5000, c), 0);
    assert_string_not_equal(a, c);
    count_files(f);
    assert_int_equal(nfiles, 2);
    assert_int_equal(ntemp, 0);
    free(data);
    free(other);
}

struct racer {
    struct blob_store *bs;
    const unsigned char *data;
    size_t len;
    pthread_barrier_t *start;
    char id[BLOB_ID_LEN + 1];
    int r;
};

static void *race_put(void *arg)
{
    struct racer *rc = arg;

    pthread_barrier_wait(rc->start);
    rc->r = blob_put(rc->bs, rc->data, rc->len, rc->id);
    return NULL;
}

static void concurrent_puts_of_the_same_bytes_agree(void **state)
{
    enum { N = 8 };
    struct fixture *f = *state;
    unsigned char *data = bytes(64 * 1024, 3);
    struct racer rc[N];
    pthread_t t[N];
    pthread_barrier_t start;
    void *got;
    size_t len;

    pthread_barrier_init(&start, NULL, N);
    for (int i = 0; i < N; i++) {
        rc[i] = (struct racer){.bs = f->bs, .data = data, .len = 64 * 1024, .start = &start};
        assert_int_equal(pthread_create(&t[i], NULL, race_put, &rc[i]), 0);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < N; i++) {
        assert_int_equal(rc[i].r, 0);
        assert_string_equal(rc[i].id, rc[0].id);
    }
    count_files(f);
    assert_int_equal(nfiles, 1);
    assert_int_equal(ntemp, 0);
    assert_int_equal(blob_get(f->bs, rc[0].id, &got, &len), 0);
    assert_int_equal(len, 64 * 1024);
    assert_memory_equal(got, data, len);
    free(got);
    free(data);
}

static void the_streaming_writer_equals_blob_put(void **state)
{
    struct fixture *f = *state;
    size_t total = 200 * 1024 + 3, off = 0, chunk = 1, len = 0;
    unsigned char *data = bytes(total, 4);
    char put_id[BLOB_ID_LEN + 1], id[BLOB_ID_LEN + 1];
    struct blob_writer *w = blob_writer_new(f->bs);
    void *got;

    assert_non_null(w);
    /* Chunks of 1, 3, 9, ... bytes: boundaries fall anywhere. */
    while (off < total) {
        size_t n = chunk < total - off ? chunk : total - off;
        assert_int_equal(blob_writer_append(w, data + off, n), 0);
        off += n;
        chunk = chunk * 3 % 65521 + 1;
    }
    assert_int_equal(blob_writer_append(w, data, 0), 0);
    assert_int_equal(blob_writer_commit(w, id, &len), 0);
    assert_int_equal(len, total);

    assert_int_equal(blob_put(f->bs, data, total, put_id), 0);
    assert_string_equal(id, put_id);
    assert_int_equal(blob_get(f->bs, id, &got, &len), 0);
    assert_int_equal(len, total);
    assert_memory_equal(got, data, total);
    count_files(f);
    assert_int_equal(nfiles, 1);
    free(got);
    free(data);
}

static void an_aborted_writer_leaves_nothing(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = bytes(10000, 5);
    char id[BLOB_ID_LEN + 1];
    struct blob_writer *w = blob_writer_new(f->bs);
    void *got;
    size_t len;

    assert_non_null(w);
    assert_int_equal(blob_writer_append(w, data, 10000), 0);
    count_files(f);
    assert_int_equal(ntemp, 1); /* the control: the bytes were on disk */
    blob_writer_abort(w);
    blob_writer_abort(NULL);
    count_files(f);
    assert_int_equal(nfiles, 0);

    /* Nor does a blob of those bytes exist. */
    sha256_hex(data, 10000, id);
    assert_int_equal(blob_get(f->bs, id, &got, &len), -ENOENT);
    free(data);
}

static void delete_removes_and_may_be_repeated(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = bytes(3000, 6);
    char id[BLOB_ID_LEN + 1], keep[BLOB_ID_LEN + 1];
    void *got = NULL;
    size_t len;

    assert_int_equal(blob_put(f->bs, data, 3000, id), 0);
    assert_int_equal(blob_put(f->bs, "keep me", 7, keep), 0);
    assert_int_equal(blob_delete(f->bs, id), 0);
    assert_int_equal(blob_get(f->bs, id, &got, &len), -ENOENT);
    assert_null(got);
    assert_int_equal(blob_open_fd(f->bs, id, &len), -ENOENT);
    count_files(f);
    assert_int_equal(nfiles, 1);
    assert_int_equal(blob_delete(f->bs, id), 0); /* already gone: fine */

    /* A valid id that never existed, whose directory does not exist either. */
    assert_int_equal(
        blob_delete(f->bs, "0000000000000000000000000000000000000000000000000000000000000000"), 0);

    /* The other blob is untouched, and the deleted one can come back. */
    assert_int_equal(blob_get(f->bs, keep, &got, &len), 0);
    assert_int_equal(len, 7);
    assert_memory_equal(got, "keep me", 7);
    free(got);
    assert_int_equal(blob_put(f->bs, data, 3000, id), 0);
    assert_int_equal(blob_get(f->bs, id, &got, &len), 0);
    assert_int_equal(len, 3000);
    free(got);
    free(data);
}

static void ids_that_are_not_blob_ids_never_reach_the_filesystem(void **state)
{
    struct fixture *f = *state;
    char upper[BLOB_ID_LEN + 1], lower[BLOB_ID_LEN + 1], path[256];
    const char *bad[7];
    void *got = NULL;
    size_t len = 0;
    struct stat st;

    /* A real blob, and the same name in capitals planted beside it. */
    assert_int_equal(blob_put(f->bs, "abc", 3, lower), 0);
    for (int i = 0; i <= BLOB_ID_LEN; i++)
        upper[i] = (char)(lower[i] >= 'a' && lower[i] <= 'f' ? lower[i] - 32 : lower[i]);
    snprintf(path, sizeof(path), "%s/%.2s", f->dir, upper);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/%.2s/%s", f->dir, upper, upper);
    write_file(path, "planted");
    /* And a file that "../x" would reach from the blob directory. */
    snprintf(path, sizeof(path), "%s/x", f->root);
    write_file(path, "secret");

    bad[0] = upper;
    bad[1] = "../x";
    bad[2] = "ba7816bf";                                                          /* short */
    bad[3] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0"; /* long */
    bad[4] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a/";
    bad[5] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a ";
    bad[6] = "";
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(blob_id_valid(bad[i]));
        if (blob_get(f->bs, bad[i], &got, &len) != -ENOENT)
            fail_msg("blob_get('%s') did not answer -ENOENT", bad[i]);
        assert_null(got);
        assert_int_equal(blob_open_fd(f->bs, bad[i], &len), -ENOENT);
        assert_int_equal(blob_delete(f->bs, bad[i]), -ENOENT);
    }
    assert_false(blob_id_valid(NULL));

    /* Neither planted file was deleted, and the real blob is still there. */
    snprintf(path, sizeof(path), "%s/%.2s/%s", f->dir, upper, upper);
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/x", f->root);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(blob_get(f->bs, lower, &got, &len), 0);
    assert_int_equal(len, 3);
    free(got);
}

static void open_fd_gives_the_length_and_the_bytes(void **state)
{
    struct fixture *f = *state;
    unsigned char *data = bytes(70000, 8), *back = malloc(70001);
    char id[BLOB_ID_LEN + 1];
    size_t len = 0, got = 0;
    ssize_t n;
    int fd;

    assert_non_null(back);
    assert_int_equal(blob_put(f->bs, data, 70000, id), 0);
    fd = blob_open_fd(f->bs, id, &len);
    assert_true(fd >= 0);
    assert_int_equal(len, 70000);
    while ((n = read(fd, back + got, 70001 - got)) > 0)
        got += (size_t)n;
    assert_int_equal(n, 0);
    assert_int_equal(got, 70000);
    assert_memory_equal(back, data, 70000);
    /* Read-only: a handler cannot damage the blob through it. */
    assert_int_equal(write(fd, "x", 1), -1);
    assert_int_equal(close(fd), 0);

    assert_int_equal(blob_put(f->bs, "", 0, id), 0);
    fd = blob_open_fd(f->bs, id, &len);
    assert_true(fd >= 0);
    assert_int_equal(len, 0);
    close(fd);
    free(back);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(put_then_get_gives_the_same_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(the_id_is_the_sha256_of_the_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(the_same_bytes_are_stored_once, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_puts_of_the_same_bytes_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(the_streaming_writer_equals_blob_put, setup, teardown),
        cmocka_unit_test_setup_teardown(an_aborted_writer_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_removes_and_may_be_repeated, setup, teardown),
        cmocka_unit_test_setup_teardown(ids_that_are_not_blob_ids_never_reach_the_filesystem, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(open_fd_gives_the_length_and_the_bytes, setup, teardown),
    };

    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
