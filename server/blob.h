/*
 * The blob store: immutable byte strings (screenshots, thumbnails, files)
 * named by the SHA-256 of their content. The database keeps the names; the
 * bytes live here. blob-fs.c is the filesystem implementation.
 *
 * Durability: blob_put() and blob_writer_commit() return only once the
 * bytes and their directory entry are on disk, so the database row that
 * names a blob may be committed after them. Thread-safe.
 */
#ifndef STINT_BLOB_H
#define STINT_BLOB_H

#include <stddef.h>

#define BLOB_ID_LEN 64 /* hex SHA-256 */

struct blob_store;
struct blob_writer;

int blob_open(const char *dir, struct blob_store **ret_store);
void blob_free(struct blob_store *bs);

/* Stores len bytes; writes the blob's id (and NUL) into ret_id. Idempotent. */
int blob_put(struct blob_store *bs, const void *data, size_t len, char ret_id[BLOB_ID_LEN + 1]);
/* Reads a whole blob into a new buffer the caller frees; -ENOENT when absent. */
int blob_get(struct blob_store *bs, const char *id, void **ret_data, size_t *ret_len);
/* Opens a blob for reading as a file descriptor the caller closes; -ENOENT when absent. */
int blob_open_fd(struct blob_store *bs, const char *id, size_t *ret_len);
/* Destroys a blob's bytes; 0 also when it was already gone. */
int blob_delete(struct blob_store *bs, const char *id);
/* True for a well-formed blob id (64 lowercase hex digits). */
int blob_id_valid(const char *id);

/* Streaming writes for bodies too large to hold: append, then commit or abort. */
struct blob_writer *blob_writer_new(struct blob_store *bs);
int blob_writer_append(struct blob_writer *w, const void *data, size_t len);
/* Makes the blob durable and frees w; ret_id as for blob_put. Frees w on failure too. */
int blob_writer_commit(struct blob_writer *w, char ret_id[BLOB_ID_LEN + 1], size_t *ret_len);
/* Throws away what was written and frees w. Accepts NULL. */
void blob_writer_abort(struct blob_writer *w);

#endif
