/*
 * A segment's screenshot: the freelancer uploads it (PUT, the body is the
 * image), the parties of the contract fetch it or its thumbnail (GET).
 *
 * An upload is checked by decoding it and its thumbnail made here, on the
 * request thread, before anything is stored; both blobs are durable before
 * the row that names them is committed, so a crash leaves at worst an
 * unnamed blob (which `stintd check` may report), never a row naming bytes
 * that are gone. Outsiders get 404 for both routes: they must not learn that
 * a segment exists.
 *
 * Not for: the segment itself (api-segments.c), decoding (image.c).
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/uuid.h"
#include "lib/week.h"
#include "lib/xalloc.h"
#include "server/api.h"
#include "server/blob.h"
#include "server/contracts.h"
#include "server/image.h"
#include "server/server.h"
#include "server/store.h"

/* What these handlers need of a segment row. */
struct shot_row {
    char contract_id[37];
    char freelancer_id[37];
    int64_t start;
    bool deleted;
    char status[16]; /* "" when NULL */
    char shot_blob[BLOB_ID_LEN + 1];
    char thumb_blob[BLOB_ID_LEN + 1];
    char shot_type[24];
};

/* An answer decided inside a transaction, sent once it is over. */
struct outcome {
    int status;
    const char *code;
    char msg[160];
};

/* Records a refusal and returns -EPERM so that a write transaction rolls back. */
static int refuse(struct outcome *o, int status, const char *code, const char *msg)
{
    o->status = status;
    o->code = code;
    snprintf(o->msg, sizeof(o->msg), "%s", msg);
    return -EPERM;
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* The segment with this id in a contract the user is a party to. */
static int load_row(struct store_tx *tx, const char *id, const char *user_id,
                    struct shot_row *ret_row)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT contract_id, freelancer_id, start, deleted, shot_status, shot_blob,"
            " thumb_blob, shot_type FROM segments WHERE id = ? AND contract_id IN"
            " (SELECT id FROM contracts WHERE client_id = ? OR freelancer_id = ?)"
            " ORDER BY received_at LIMIT 1");
    int r;

    store_bind_text(st, 1, id);
    store_bind_text(st, 2, user_id);
    store_bind_text(st, 3, user_id);
    if ((r = store_step(st)) <= 0)
        return r < 0 ? r : -ENOENT;
    copy(ret_row->contract_id, sizeof(ret_row->contract_id), store_col_text(st, 0));
    copy(ret_row->freelancer_id, sizeof(ret_row->freelancer_id), store_col_text(st, 1));
    ret_row->start = store_col_int(st, 2);
    ret_row->deleted = store_col_int(st, 3) != 0;
    copy(ret_row->status, sizeof(ret_row->status), store_col_text(st, 4));
    copy(ret_row->shot_blob, sizeof(ret_row->shot_blob), store_col_text(st, 5));
    copy(ret_row->thumb_blob, sizeof(ret_row->thumb_blob), store_col_text(st, 6));
    copy(ret_row->shot_type, sizeof(ret_row->shot_type), store_col_text(st, 7));
    return 0;
}

/*
 * Loads the segment for a party of its contract. Returns 0, -EPERM with a
 * 404 in o (absent, deleted, or the caller is no party: the same answer for
 * all three), or a store error.
 */
static int load_for_party(struct store_tx *tx, struct http_req *req, struct shot_row *ret_row,
                          struct contract *ret_c, struct outcome *o)
{
    int r = load_row(tx, req->params[0], req->user.id, ret_row);

    if (r == -ENOENT || (r == 0 && ret_row->deleted))
        return refuse(o, 404, "not_found", "segment not found");
    if (r < 0)
        return r;
    r = contracts_get_for(tx, ret_row->contract_id, &req->user, ret_c);
    if (r == -ENOENT)
        return refuse(o, 404, "not_found", "segment not found");
    return r;
}

/* ---- PUT /segments/:id/screenshot ---- */

struct put_ctx {
    struct http_req *req;
    const char *type; /* image_type_mime() of the upload */
    size_t bytes;
    char shot_id[BLOB_ID_LEN + 1]; /* the upload's blob id (SHA-256) */
    char thumb_id[BLOB_ID_LEN + 1];
    struct outcome o;
};

/*
 * The rules for attaching a screenshot, run before the upload is decoded
 * and again inside the write (the segment may have been deleted, or its
 * week locked, meanwhile). 0 when the upload may proceed; fills row.
 */
static int put_check(struct store_tx *tx, struct put_ctx *pc, struct shot_row *row)
{
    struct contract c;
    int r = load_for_party(tx, pc->req, row, &c, &pc->o);

    if (r < 0)
        return r;
    if (!contracts_is_freelancer(&c, &pc->req->user) ||
        strcmp(row->freelancer_id, pc->req->user.id) != 0)
        r = refuse(&pc->o, 403, "forbidden",
                   "only the segment's freelancer uploads its screenshot");
    else if (!c.screenshots_enabled)
        r = refuse(&pc->o, 403, "forbidden", "screenshots are turned off for this contract");
    else if (st_week_locked(row->start, server_now(pc->req->srv)))
        r = refuse(&pc->o, 409, "locked", "the segment's week is locked");
    else if (strcmp(row->status, "failed") == 0 || strcmp(row->status, "disabled") == 0)
        r = refuse(&pc->o, 409, "conflict", "the segment says no screenshot was taken");
    contracts_release(&c);
    return r;
}

/* Same bytes as stored: 200, nothing to write. Other bytes: 409. Nothing stored: 0. */
static int put_compare(struct put_ctx *pc, const struct shot_row *row)
{
    if (!row->shot_blob[0])
        return 0;
    if (strcmp(row->shot_blob, pc->shot_id) == 0) {
        pc->o.status = 200;
        return 1;
    }
    return refuse(&pc->o, 409, "conflict", "the segment already has a different screenshot");
}

static int put_precheck(struct store_tx *tx, void *arg)
{
    struct put_ctx *pc = arg;
    struct shot_row row;
    int r = put_check(tx, pc, &row);

    if (r < 0 || !pc->shot_id[0])
        return r;
    return put_compare(pc, &row);
}

static int put_write(struct store_tx *tx, void *arg)
{
    struct put_ctx *pc = arg;
    struct shot_row row;
    struct store_stmt *st;
    int r;

    if ((r = put_check(tx, pc, &row)) < 0)
        return r;
    if ((r = put_compare(pc, &row)) != 0)
        return r;
    st = store_prepare(tx, "UPDATE segments SET shot_blob = ?, shot_type = ?, shot_bytes = ?,"
                           " thumb_blob = ?, shot_status = 'ok', updated_at = ?"
                           " WHERE contract_id = ? AND id = ? AND deleted = 0"
                           " AND shot_blob IS NULL");
    store_bind_text(st, 1, pc->shot_id);
    store_bind_text(st, 2, pc->type);
    store_bind_int(st, 3, (int64_t)pc->bytes);
    store_bind_text(st, 4, pc->thumb_id);
    store_bind_int(st, 5, server_now(pc->req->srv));
    store_bind_text(st, 6, row.contract_id);
    store_bind_text(st, 7, pc->req->params[0]);
    if ((r = store_run(st)) < 0)
        return r;
    if (store_changes(tx) != 1)
        return -EIO; /* the row was checked in this transaction; cannot happen */
    pc->o.status = 201;
    return 0;
}

static void blob_id_of(const void *data, size_t len, char ret_id[BLOB_ID_LEN + 1])
{
    unsigned char digest[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(digest, data, len);
    sodium_bin2hex(ret_id, BLOB_ID_LEN + 1, digest, sizeof(digest));
}

static json_t *shot_json(const char *id, const struct put_ctx *pc, const struct image_info *info)
{
    char *url = xasprintf("/api/v1/segments/%s/screenshot", id);
    char *thumb = xasprintf("/api/v1/segments/%s/screenshot?size=thumb", id);
    json_t *o = json_pack("{s:{s:s,s:s,s:s,s:I,s:i,s:i}}", "screenshot", "url", url, "thumb_url",
                          thumb, "type", pc->type, "bytes", (json_int_t)pc->bytes, "width",
                          info->width, "height", info->height);

    free(url);
    free(thumb);
    return o;
}

static void reply_outcome(struct http_resp *resp, const struct outcome *o)
{
    http_reply_error(resp, o->status, o->code, "%s", o->msg);
}

#define DECODE_SLOTS 2

static sem_t decode_slots;
static pthread_once_t decode_once = PTHREAD_ONCE_INIT;

static void decode_init(void)
{
    sem_init(&decode_slots, 0, DECODE_SLOTS);
}

void api_screenshot_put(struct http_req *req, struct http_resp *resp)
{
    struct put_ctx pc = {.req = req};
    struct image_info info;
    char shot_check[BLOB_ID_LEN + 1];
    void *thumb = NULL;
    size_t thumb_len = 0;
    bool stored;
    int r;

    if (!st_uuid_valid(req->params[0])) {
        http_reply_error(resp, 404, "not_found", "segment not found");
        return;
    }
    if (req->body_len > SERVER_MAX_SCREENSHOT) { /* the route caps it; this keeps us honest */
        http_reply_error(resp, 413, "too_large", "a screenshot is at most %d bytes",
                         SERVER_MAX_SCREENSHOT);
        return;
    }
    if (req->body_len > 0)
        blob_id_of(req->body, req->body_len, pc.shot_id);
    /*
     * Who may upload is decided before the body is looked at; the same
     * read tells whether these bytes are already stored (200) or another
     * image is (409).
     */
    r = store_read(req->srv->store, put_precheck, &pc);
    if (r == -EPERM) {
        reply_outcome(resp, &pc.o);
        return;
    }
    if (r < 0) {
        http_reply_store_error(resp, r);
        return;
    }
    if (req->body_len == 0) {
        http_reply_error(resp, 400, "invalid_argument",
                         "the body must be the screenshot (JPEG or WebP); it is empty");
        return;
    }
    /* Decoding is the only check of the type: the Content-Type header is not trusted. */
    stored = r == 1;
    /*
     * A decoder may need hundreds of MB for a huge progressive JPEG; at
     * most DECODE_SLOTS run at once, so a burst of such uploads cannot run
     * the server out of memory.
     */
    pthread_once(&decode_once, decode_init);
    sem_wait(&decode_slots);
    r = image_process(req->body, req->body_len, &info, stored ? NULL : &thumb,
                      stored ? NULL : &thumb_len);
    sem_post(&decode_slots);
    if (r == -E2BIG) {
        http_reply_error(resp, 413, "too_large",
                         "a screenshot is at most %dx%d pixels and %d megapixels", IMAGE_MAX_SIDE,
                         IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS / 1000000);
        return;
    }
    if (r == -EINVAL) {
        http_reply_error(resp, 415, "unsupported_media_type",
                         "the body is not a JPEG or WebP image that decodes");
        return;
    }
    if (r < 0) {
        http_reply_store_error(resp, r);
        return;
    }
    pc.type = image_type_mime(info.type);
    pc.bytes = req->body_len;
    if (stored) {
        http_reply_json(resp, 200, shot_json(req->params[0], &pc, &info));
        return;
    }

    /* The bytes are durable before the row that names them. */
    if ((r = blob_put(req->srv->blobs, req->body, req->body_len, shot_check)) < 0 ||
        (r = blob_put(req->srv->blobs, thumb, thumb_len, pc.thumb_id)) < 0) {
        http_reply_store_error(resp, r);
        goto out;
    }
    if (strcmp(shot_check, pc.shot_id) != 0) {
        http_reply_store_error(resp, -EIO); /* the blob store names blobs by SHA-256 */
        goto out;
    }

    /* On failure the blobs stay behind unnamed; `stintd check` reports such orphans. */
    r = store_write(req->srv->store, put_write, &pc);
    if (r == -EPERM)
        reply_outcome(resp, &pc.o);
    else if (r < 0)
        http_reply_store_error(resp, r);
    else
        http_reply_json(resp, pc.o.status, shot_json(req->params[0], &pc, &info));
out:
    free(thumb);
}

/* ---- GET /segments/:id/screenshot[?size=thumb] ---- */

struct get_ctx {
    struct http_req *req;
    bool thumb;
    char blob[BLOB_ID_LEN + 1];
    const char *type;
    struct outcome o;
};

/* The media types a stored shot may have, as static strings for the response. */
static const char *stored_type(const char *t)
{
    if (strcmp(t, "image/jpeg") == 0)
        return "image/jpeg";
    if (strcmp(t, "image/webp") == 0)
        return "image/webp";
    return "application/octet-stream";
}

static int get_find(struct store_tx *tx, void *arg)
{
    struct get_ctx *gc = arg;
    struct shot_row row;
    struct contract c;
    int r = load_for_party(tx, gc->req, &row, &c, &gc->o);

    if (r < 0)
        return r;
    contracts_release(&c);
    copy(gc->blob, sizeof(gc->blob), gc->thumb ? row.thumb_blob : row.shot_blob);
    gc->type = gc->thumb ? "image/jpeg" : stored_type(row.shot_type);
    if (!gc->blob[0])
        return refuse(&gc->o, 404, "not_found", "the segment has no screenshot");
    return 0;
}

void api_screenshot_get(struct http_req *req, struct http_resp *resp)
{
    struct get_ctx gc = {.req = req};
    const char *size = http_query(req, "size");
    size_t len;
    int r, fd;

    if (!st_uuid_valid(req->params[0])) {
        http_reply_error(resp, 404, "not_found", "segment not found");
        return;
    }
    if (size && strcmp(size, "thumb") != 0) {
        http_reply_error(resp, 400, "invalid_argument",
                         "'size' must be \"thumb\", or absent for the full image");
        return;
    }
    gc.thumb = size != NULL;
    r = store_read(req->srv->store, get_find, &gc);
    if (r == -EPERM) {
        reply_outcome(resp, &gc.o);
        return;
    }
    if (r < 0) {
        http_reply_store_error(resp, r);
        return;
    }
    if (!blob_id_valid(gc.blob)) {
        http_reply_store_error(resp, -EIO);
        return;
    }
    /* A delete between the read and here destroys the bytes: then it is gone, a 404. */
    fd = blob_open_fd(req->srv->blobs, gc.blob, &len);
    if (fd == -ENOENT) {
        http_reply_error(resp, 404, "not_found", "the segment has no screenshot");
        return;
    }
    if (fd < 0) {
        http_reply_store_error(resp, fd);
        return;
    }
    /* http.c marks every response no-store: right for bytes that a delete destroys. */
    http_reply_fd(resp, 200, gc.type, fd, len);
}
