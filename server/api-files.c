/*
 * Files in messages: the streamed upload (POST /files), the download and
 * thumbnail (GET /files/{id}[/thumb]) and a room's list of files
 * (GET /rooms/{id}/files).
 *
 * An upload never sits whole in memory: each piece of the body goes to a
 * blob writer as it arrives, and only its first FILES_SNIFF_BYTES are kept
 * to sniff the type. The blob (and the thumbnail's) is durable before the
 * row that names it is committed, so a crash leaves at worst an unnamed
 * blob. Who may see a file is decided by files_get_for (files.c); anyone
 * else gets the 404 of an unknown id.
 *
 * Not for: names, types and the files table (files.c), attaching files to
 * messages (api-messages.c), decoding images (image.c).
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/uuid.h"
#include "lib/xalloc.h"
#include "server/api.h"
#include "server/blob.h"
#include "server/files.h"
#include "server/image.h"
#include "server/rooms.h"
#include "server/server.h"
#include "server/store.h"

/* Images up to this size get a thumbnail; it is made from the whole file, read back. */
#define THUMB_MAX_FILE (20 * 1000 * 1000)
/* Thumbnails made at once: a large PNG decodes to 4 bytes a pixel (up to 200 MB). */
#define THUMB_SLOTS 2

static sem_t thumb_slots;
static pthread_once_t thumb_once = PTHREAD_ONCE_INIT;

static void thumb_init(void)
{
    sem_init(&thumb_slots, 0, THUMB_SLOTS);
}

/* ---- POST /files ---- */

/* One upload in progress: req->stream_state from BEGIN to END or ABORT. */
struct upload {
    struct blob_writer *w;
    char name[FILES_NAME_MAX + 1];
    unsigned char *head; /* the first FILES_SNIFF_BYTES of the body, for files_sniff */
    size_t head_len;
};

static void upload_free(struct upload *up)
{
    if (!up)
        return;
    blob_writer_abort(up->w);
    free(up->head);
    free(up);
}

static void upload_begin(struct http_req *req, struct http_resp *resp)
{
    struct upload *up;
    struct blob_writer *w;

    up = xcalloc(1, sizeof(*up));
    if (files_name_from_header(http_header(req, "X-Filename"), up->name) < 0) {
        http_reply_error(resp, 400, "invalid_argument",
                         "X-Filename must be the file's name, percent-encoded UTF-8, at most %d "
                         "bytes",
                         FILES_NAME_HEADER_MAX);
        free(up);
        return;
    }
    if (!(w = blob_writer_new(req->srv->blobs))) {
        http_reply_store_error(resp, errno ? -errno : -EIO);
        free(up);
        return;
    }
    up->w = w;
    up->head = xmalloc(FILES_SNIFF_BYTES);
    req->stream_state = up;
}

static void upload_chunk(struct http_req *req, struct http_resp *resp)
{
    struct upload *up = req->stream_state;
    size_t keep;
    int r;

    if (up->head_len < FILES_SNIFF_BYTES) {
        keep = FILES_SNIFF_BYTES - up->head_len;
        if (keep > req->body_len)
            keep = req->body_len;
        memcpy(up->head + up->head_len, req->body, keep);
        up->head_len += keep;
    }
    /* Replying refuses the upload; http.c then calls ABORT, which frees up. */
    if ((r = blob_writer_append(up->w, req->body, req->body_len)) < 0)
        http_reply_store_error(resp, r);
}

/* Makes the thumbnail of an image file and stores it; "" in ret_id when there is none. */
static void make_thumb(struct http_req *req, const struct file_row *row,
                       char ret_id[BLOB_ID_LEN + 1])
{
    void *data = NULL, *thumb = NULL;
    size_t len, thumb_len = 0;
    int r;

    ret_id[0] = '\0';
    if (row->size > THUMB_MAX_FILE)
        return;
    if (strcmp(row->type, "image/jpeg") != 0 && strcmp(row->type, "image/webp") != 0 &&
        strcmp(row->type, "image/png") != 0)
        return;
    if (blob_get(req->srv->blobs, row->blob, &data, &len) < 0)
        return;
    pthread_once(&thumb_once, thumb_init);
    sem_wait(&thumb_slots);
    if (strcmp(row->type, "image/png") == 0)
        r = image_png_thumbnail(data, len, &thumb, &thumb_len);
    else
        r = image_thumbnail(data, len, &thumb, &thumb_len);
    sem_post(&thumb_slots);
    free(data);
    /* An image that does not decode is still a file; it just has no thumbnail. */
    if (r == 0 && blob_put(req->srv->blobs, thumb, thumb_len, ret_id) < 0)
        ret_id[0] = '\0';
    free(thumb);
}

static int insert_file(struct store_tx *tx, void *arg)
{
    return files_insert(tx, arg);
}

static void upload_end(struct http_req *req, struct http_resp *resp)
{
    struct upload *up = req->stream_state;
    struct file_row row = {0};
    size_t size;
    int r;

    req->stream_state = NULL;
    if (up->head_len == 0) {
        http_reply_error(resp, 400, "invalid_argument", "the body must be the file; it is empty");
        goto out;
    }
    files_sniff(up->head, up->head_len, row.type);
    r = blob_writer_commit(up->w, row.blob, &size);
    up->w = NULL; /* freed by the commit, whatever it returned */
    if (r < 0) {
        http_reply_store_error(resp, r);
        goto out;
    }
    st_uuid_new(row.id);
    snprintf(row.uploader_id, sizeof(row.uploader_id), "%s", req->user.id);
    snprintf(row.name, sizeof(row.name), "%s", up->name);
    row.size = (int64_t)size;
    row.created_at = server_now(req->srv);
    make_thumb(req, &row, row.thumb_blob);
    /* On failure the blobs stay behind unnamed, as for screenshots. */
    if ((r = store_write(req->srv->store, insert_file, &row)) < 0) {
        http_reply_store_error(resp, r);
        goto out;
    }
    http_reply_json(resp, 201, json_pack("{s:o}", "file", files_json(&row)));
out:
    upload_free(up);
}

void api_files_upload(struct http_req *req, struct http_resp *resp)
{
    switch (req->phase) {
    case HTTP_STREAM_BEGIN:
        upload_begin(req, resp);
        break;
    case HTTP_STREAM_CHUNK:
        upload_chunk(req, resp);
        break;
    case HTTP_STREAM_END:
        upload_end(req, resp);
        break;
    case HTTP_STREAM_ABORT:
        upload_free(req->stream_state);
        req->stream_state = NULL;
        break;
    case HTTP_STREAM_NONE:
        /* Only reached by an in-process caller that hands over a whole body. */
        http_reply_error(resp, 400, "invalid_argument", "the upload must be streamed");
        break;
    }
}

/* ---- GET /files/:id and /files/:id/thumb ---- */

struct get_ctx {
    const char *id;
    const char *user_id;
    struct file_row row;
};

static int get_file(struct store_tx *tx, void *arg)
{
    struct get_ctx *gc = arg;

    return files_get_for(tx, gc->id, gc->user_id, &gc->row);
}

static void reply_file(struct http_req *req, struct http_resp *resp, bool thumb)
{
    struct get_ctx gc = {.id = req->params[0], .user_id = req->user.id};
    const char *blob;
    size_t len;
    int r, fd;

    if (!st_uuid_valid(gc.id)) {
        http_reply_not_found(resp);
        return;
    }
    r = store_read(req->srv->store, get_file, &gc);
    if (r == -ENOENT) {
        http_reply_not_found(resp);
        return;
    }
    if (r < 0) {
        http_reply_store_error(resp, r);
        return;
    }
    blob = thumb ? gc.row.thumb_blob : gc.row.blob;
    if (thumb && !blob[0]) {
        http_reply_error(resp, 404, "not_found", "the file has no thumbnail");
        return;
    }
    fd = blob_open_fd(req->srv->blobs, blob, &len);
    if (fd < 0) {
        /* A row names a blob only once it is durable: a missing one is damage. */
        http_reply_store_error(resp, fd == -ENOENT ? -EIO : fd);
        return;
    }
    /* The type is the sniffed one, copied into a header (the row does not outlive us). */
    http_reply_fd(resp, 200, NULL, fd, len);
    http_add_header(resp, "Content-Type", thumb ? "image/jpeg" : gc.row.type);
    if (!thumb) {
        char *disposition = files_disposition(gc.row.name);
        http_add_header(resp, "Content-Disposition", disposition);
        free(disposition);
    }
    /* Whatever the bytes are (HTML, SVG), opened directly they run no script of ours. */
    http_add_header(resp, "Content-Security-Policy", "sandbox");
}

void api_files_get(struct http_req *req, struct http_resp *resp)
{
    reply_file(req, resp, false);
}

void api_files_thumb(struct http_req *req, struct http_resp *resp)
{
    reply_file(req, resp, true);
}

/* ---- GET /rooms/:id/files ---- */

struct room_files_ctx {
    const char *room_id;
    const char *user_id;
    json_t *out;
};

static int room_files(struct store_tx *tx, void *arg)
{
    struct room_files_ctx *rc = arg;
    struct room room;
    int r;

    /* Members only: anyone else gets the 404 of a room that does not exist. */
    if ((r = rooms_get_for(tx, rc->room_id, rc->user_id, &room)) < 0)
        return r;
    return files_list_room(tx, rc->room_id, &rc->out);
}

void api_rooms_files(struct http_req *req, struct http_resp *resp)
{
    struct room_files_ctx rc = {.room_id = req->params[0], .user_id = req->user.id};
    int r = store_read(req->srv->store, room_files, &rc);

    if (r == -ENOENT)
        http_reply_not_found(resp);
    else if (r < 0)
        http_reply_store_error(resp, r);
    else
        http_reply_json(resp, 200, rc.out);
}
