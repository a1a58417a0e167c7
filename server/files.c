/*
 * Files that messages carry: sanitized names, types sniffed by libmagic,
 * the Content-Disposition of a download, and the files table (who may see
 * a file is decided here, in SQL, once for every route).
 *
 * Not for: streaming uploads into the blob store (api-files.c) or attaching
 * files to messages (messages.c).
 */
#include "server/files.h"

#include <errno.h>
#include <magic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/str.h"
#include "lib/utc.h"
#include "lib/xalloc.h"
#include "server/store.h"

/* ---- names ---- */

/* Decodes one UTF-8 sequence of valid input at p; returns its length. */
static size_t utf8_next(const unsigned char *p, unsigned *ret_cp)
{
    if (p[0] < 0x80) {
        *ret_cp = p[0];
        return 1;
    }
    if (p[0] < 0xe0) {
        *ret_cp = ((unsigned)(p[0] & 0x1f) << 6) | (p[1] & 0x3f);
        return 2;
    }
    if (p[0] < 0xf0) {
        *ret_cp = ((unsigned)(p[0] & 0x0f) << 12) | ((unsigned)(p[1] & 0x3f) << 6) | (p[2] & 0x3f);
        return 3;
    }
    *ret_cp = ((unsigned)(p[0] & 0x07) << 18) | ((unsigned)(p[1] & 0x3f) << 12) |
              ((unsigned)(p[2] & 0x3f) << 6) | (p[3] & 0x3f);
    return 4;
}

/*
 * Characters a name never keeps: C0 and C1 controls, DEL, the ones Windows
 * forbids in names, and the invisible bidirectional controls that make
 * "invoice\u202Efdp.exe" read as "invoiceexe.pdf".
 */
static bool name_drops(unsigned cp)
{
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
        return true;
    if (cp < 0x80 && strchr("\\/:*?\"<>|", (int)cp))
        return true;
    return cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

static bool dot_or_space(char c)
{
    return c == '.' || c == ' ';
}

int files_name_sanitize(const char *in, size_t len, char ret[FILES_NAME_MAX + 1])
{
    const unsigned char *p, *end = (const unsigned char *)in + len;
    char *buf, *start, *stop;
    size_t n = 0;

    if (!st_utf8_valid(in, len))
        return -EINVAL;
    /* The last path part, whichever separator the client's system uses. */
    p = (const unsigned char *)in;
    for (const unsigned char *q = p; q < end; q++)
        if (*q == '/' || *q == '\\')
            p = q + 1;
    buf = xmalloc(len + 1);
    while (p < end) {
        unsigned cp;
        size_t k = utf8_next(p, &cp);
        if (!name_drops(cp)) {
            memcpy(buf + n, p, k);
            n += k;
        }
        p += k;
    }
    buf[n] = '\0';
    start = buf;
    while (dot_or_space(*start))
        start++;
    /* Cut on a character boundary first, then trim what the cut left at the end. */
    st_strlcpy(ret, start, FILES_NAME_MAX + 1);
    stop = ret + strlen(ret);
    while (stop > ret && dot_or_space(stop[-1]))
        stop--;
    *stop = '\0';
    if (!ret[0])
        snprintf(ret, FILES_NAME_MAX + 1, "file");
    free(buf);
    return 0;
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

int files_name_from_header(const char *header, char ret[FILES_NAME_MAX + 1])
{
    char buf[FILES_NAME_HEADER_MAX];
    size_t len, n = 0;
    int hi, lo;

    if (!header)
        return -EINVAL;
    len = strlen(header);
    if (len == 0 || len > FILES_NAME_HEADER_MAX)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (header[i] != '%') {
            buf[n++] = header[i];
            continue;
        }
        if (i + 2 >= len)
            return -EINVAL;
        hi = hex_value(header[i + 1]);
        lo = hex_value(header[i + 2]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        buf[n++] = (char)(hi << 4 | lo);
        i += 2;
    }
    return files_name_sanitize(buf, n, ret);
}

/* RFC 5987 attr-char: what filename*= keeps as it is. */
static bool attr_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$&+-.^_`|~", c);
}

char *files_disposition(const char *name)
{
    size_t len = strlen(name);
    /* Each byte becomes at most 3 in filename*, at most 1 in the fallback. */
    char *out = xmalloc(64 + len * 4), *o = out;
    const unsigned char *p = (const unsigned char *)name;

    o += sprintf(o, "attachment; filename=\"");
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        if (c >= 0x80) {
            /* One '_' for each character that ASCII cannot show. */
            *o++ = '_';
            i++;
            while (i < len && (p[i] & 0xc0) == 0x80)
                i++;
            continue;
        }
        *o++ = (c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '%') ? '_' : (char)c;
        i++;
    }
    o += sprintf(o, "\"; filename*=UTF-8''");
    for (size_t i = 0; i < len; i++) {
        if (attr_char(p[i]))
            *o++ = (char)p[i];
        else
            o += sprintf(o, "%%%02X", p[i]);
    }
    *o = '\0';
    return out;
}

/* ---- types ---- */

/*
 * One libmagic handle for the process, opened on first use, and lookups
 * take turns on it (a magic_t is not thread-safe). Measured: a lookup on 64
 * KiB takes under a millisecond, opening and loading the database about a
 * third of that again on top, so one handle per call would cost ~30 % more
 * CPU for nothing; the lock is held far less long than the upload took.
 */
static pthread_mutex_t magic_lock = PTHREAD_MUTEX_INITIALIZER;
static magic_t magic_handle;
static bool magic_failed;

/* A media type we are willing to send back as a header: type/subtype, token characters only. */
static bool type_well_formed(const char *t)
{
    const char *slash = strchr(t, '/');
    size_t len = strlen(t);

    if (!slash || slash == t || !slash[1] || len > FILES_TYPE_MAX)
        return false;
    for (const char *p = t; *p; p++) {
        char c = *p;
        if (p == slash)
            continue;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("!#$&^_.+-", c)))
            return false;
    }
    return strchr(slash + 1, '/') == NULL;
}

void files_sniff(const void *data, size_t len, char ret[FILES_TYPE_MAX + 1])
{
    const char *t = NULL;

    if (len > FILES_SNIFF_BYTES)
        len = FILES_SNIFF_BYTES;
    pthread_mutex_lock(&magic_lock);
    if (!magic_handle && !magic_failed) {
        magic_handle = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
        if (magic_handle && magic_load(magic_handle, NULL) < 0) {
            magic_close(magic_handle);
            magic_handle = NULL;
        }
        magic_failed = !magic_handle;
    }
    if (magic_handle && len > 0)
        t = magic_buffer(magic_handle, data, len);
    if (t && type_well_formed(t))
        snprintf(ret, FILES_TYPE_MAX + 1, "%s", t);
    else
        snprintf(ret, FILES_TYPE_MAX + 1, "application/octet-stream");
    pthread_mutex_unlock(&magic_lock);
}

/* ---- the files table ---- */

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

int files_insert(struct store_tx *tx, const struct file_row *row)
{
    struct store_stmt *st = store_prepare(
        tx, "INSERT INTO files (id, uploader_id, name, size, type, blob, thumb_blob, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");

    store_bind_text(st, 1, row->id);
    store_bind_text(st, 2, row->uploader_id);
    store_bind_text(st, 3, row->name);
    store_bind_int(st, 4, row->size);
    store_bind_text(st, 5, row->type);
    store_bind_text(st, 6, row->blob);
    store_bind_text(st, 7, row->thumb_blob[0] ? row->thumb_blob : NULL);
    store_bind_int(st, 8, row->created_at);
    return store_run(st);
}

#define FILE_COLUMNS                                                                               \
    "f.id, f.uploader_id, f.name, f.size, f.type, f.blob, f.thumb_blob, f.created_at"

/* Reads FILE_COLUMNS from the columns at first. */
static void read_row(struct store_stmt *st, int first, struct file_row *row)
{
    copy(row->id, sizeof(row->id), store_col_text(st, first));
    copy(row->uploader_id, sizeof(row->uploader_id), store_col_text(st, first + 1));
    copy(row->name, sizeof(row->name), store_col_text(st, first + 2));
    row->size = store_col_int(st, first + 3);
    copy(row->type, sizeof(row->type), store_col_text(st, first + 4));
    copy(row->blob, sizeof(row->blob), store_col_text(st, first + 5));
    copy(row->thumb_blob, sizeof(row->thumb_blob), store_col_text(st, first + 6));
    row->created_at = store_col_int(st, first + 7);
}

int files_get_for(struct store_tx *tx, const char *id, const char *user_id,
                  struct file_row *ret_row)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT " FILE_COLUMNS " FROM files f WHERE f.id = ? AND (f.uploader_id = ?"
            " OR EXISTS (SELECT 1 FROM message_files mf"
            " JOIN messages m ON m.id = mf.message_id AND m.deleted = 0"
            " JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = ?"
            " WHERE mf.file_id = f.id))");
    int r;

    store_bind_text(st, 1, id);
    store_bind_text(st, 2, user_id);
    store_bind_text(st, 3, user_id);
    if ((r = store_step(st)) <= 0)
        return r < 0 ? r : -ENOENT;
    read_row(st, 0, ret_row);
    return 0;
}

json_t *files_json(const struct file_row *row)
{
    char created[ST_TIME_STRLEN], *url = xasprintf("/api/v1/files/%s", row->id);
    json_t *o;

    st_utc_format(row->created_at, created);
    o = json_pack("{s:s,s:s,s:I,s:s,s:s,s:s}", "id", row->id, "name", row->name, "size",
                  (json_int_t)row->size, "type", row->type, "url", url, "created_at", created);
    if (row->thumb_blob[0]) {
        char *thumb = xasprintf("/api/v1/files/%s/thumb", row->id);
        json_object_set_new(o, "thumb_url", json_string(thumb));
        free(thumb);
    }
    free(url);
    return o;
}

int files_list_room(struct store_tx *tx, const char *room_id, json_t **ret_json)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT " FILE_COLUMNS ", m.id, m.author_id, u.name, m.created_at"
            " FROM messages m JOIN message_files mf ON mf.message_id = m.id"
            " JOIN files f ON f.id = mf.file_id JOIN users u ON u.id = m.author_id"
            " WHERE m.room_id = ? AND m.deleted = 0 ORDER BY m.seq DESC, mf.pos LIMIT ?");
    json_t *files = json_array();
    int r;

    store_bind_text(st, 1, room_id);
    store_bind_int(st, 2, FILES_ROOM_MAX);
    while ((r = store_step(st)) == 1) {
        struct file_row row;
        char posted[ST_TIME_STRLEN];
        json_t *o;

        read_row(st, 0, &row);
        o = files_json(&row);
        st_utc_format(store_col_int(st, 11), posted);
        json_object_set_new(o, "message_id", json_string(store_col_text(st, 8)));
        json_object_set_new(
            o, "author",
            json_pack("{s:s,s:s}", "id", store_col_text(st, 9), "name", store_col_text(st, 10)));
        json_object_set_new(o, "posted_at", json_string(posted));
        json_array_append_new(files, o);
    }
    if (r < 0) {
        json_decref(files);
        return r;
    }
    *ret_json = json_pack("{s:o}", "files", files);
    return 0;
}

int files_of_message(struct store_tx *tx, const char *message_id, json_t **ret_array)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT " FILE_COLUMNS " FROM message_files mf JOIN files f ON f.id = mf.file_id"
            " WHERE mf.message_id = ? ORDER BY mf.pos");
    json_t *files = json_array();
    int r;

    store_bind_text(st, 1, message_id);
    while ((r = store_step(st)) == 1) {
        struct file_row row;
        read_row(st, 0, &row);
        json_array_append_new(files, files_json(&row));
    }
    if (r < 0) {
        json_decref(files);
        return r;
    }
    *ret_array = files;
    return 0;
}
