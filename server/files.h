/*
 * Files that messages carry: the rules for their names, their sniffed
 * types, how they are offered for download, and their rows in the store
 * (table files; who may read one).
 *
 * Not for: receiving the bytes (api-files.c streams them into the blob
 * store) nor attaching files to messages (messages.c).
 *
 * Errors: -EINVAL for input that breaks a rule (the caller answers 400),
 * -ENOENT for a file that does not exist or that the user may not see (the
 * same answer for both), store errors as store.h has them. Out-parameters
 * are written only on success. Nothing is printed.
 *
 * Threads: every function may be called from any thread; files_sniff
 * serialises its use of libmagic behind a lock.
 */
#ifndef STINT_FILES_H
#define STINT_FILES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/uuid.h"
#include "server/blob.h"

struct store_tx;

#define FILES_NAME_MAX 255            /* bytes of a sanitized name */
#define FILES_NAME_HEADER_MAX 1024    /* bytes of X-Filename as sent (percent-encoded) */
#define FILES_TYPE_MAX 127            /* bytes of a media type */
#define FILES_SNIFF_BYTES (64 * 1024) /* what files_sniff needs of the start of a file */

/*
 * Makes a name safe to store and to offer back: keeps the part after the
 * last '/' or '\', drops control characters and \/:*?"<>|, leading dots
 * and spaces and trailing dots and spaces, cuts it to FILES_NAME_MAX bytes
 * on a character boundary, and gives "file" when nothing is left. in is
 * len bytes (not NUL-terminated); -EINVAL when they are not UTF-8 (or hold
 * a NUL). ret holds FILES_NAME_MAX + 1 bytes.
 */
int files_name_sanitize(const char *in, size_t len, char ret[FILES_NAME_MAX + 1]);

/*
 * X-Filename as a client sends it (percent-encoded UTF-8, as
 * encodeURIComponent makes it; other bytes pass as they are) to a
 * sanitized name. -EINVAL when it is absent, longer than
 * FILES_NAME_HEADER_MAX, empty, has a broken escape, or does not decode to
 * UTF-8.
 */
int files_name_from_header(const char *header, char ret[FILES_NAME_MAX + 1]);

/*
 * The Content-Disposition of a download of name (a sanitized name):
 * attachment; filename="ASCII fallback"; filename*=UTF-8''percent-encoded
 * (RFC 6266). A new string the caller frees.
 */
char *files_disposition(const char *name);

/*
 * The media type of a file from its first bytes (at most FILES_SNIFF_BYTES
 * are looked at), by libmagic: "image/png", "text/html", ... and
 * "application/octet-stream" when libmagic cannot tell or fails. ret
 * holds FILES_TYPE_MAX + 1 bytes. Always succeeds.
 */
void files_sniff(const void *data, size_t len, char ret[FILES_TYPE_MAX + 1]);

/* A stored file. */
struct file_row {
    char id[ST_UUID_LEN + 1];
    char uploader_id[ST_UUID_LEN + 1];
    char name[FILES_NAME_MAX + 1];
    int64_t size;
    char type[FILES_TYPE_MAX + 1];
    char blob[BLOB_ID_LEN + 1];
    char thumb_blob[BLOB_ID_LEN + 1]; /* "" when it has none */
    int64_t created_at;
};

/* Inserts row (inside a store_write). */
int files_insert(struct store_tx *tx, const struct file_row *row);

/*
 * The file id as user_id may see it: they uploaded it, or they are a
 * member of a room where a message that is not deleted carries it.
 * -ENOENT otherwise (and for an unknown id).
 */
int files_get_for(struct store_tx *tx, const char *id, const char *user_id,
                  struct file_row *ret_row);

/*
 * The file object of the API: {"id","name","size","type","url","thumb_url"?,
 * "created_at"}. A new reference.
 */
json_t *files_json(const struct file_row *row);

/*
 * The files posted in the messages of room_id that are not deleted, newest
 * first (at most FILES_ROOM_MAX), each files_json() plus "message_id",
 * "author":{"id","name"} and "posted_at", as {"files":[...]}. The caller
 * checks membership first. On success *ret_json is a new reference.
 */
#define FILES_ROOM_MAX 500
int files_list_room(struct store_tx *tx, const char *room_id, json_t **ret_json);

/*
 * The files of message_id as the array a message object holds (files_json
 * objects in the order they were attached). On success *ret_array is a new
 * reference (an empty array for a message without files).
 */
int files_of_message(struct store_tx *tx, const char *message_id, json_t **ret_array);

#endif
