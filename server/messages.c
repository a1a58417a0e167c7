/*
 * Messages (messages.h): their rows, the rules of posting, editing and
 * deleting, history pages and search. Ordering is by messages.seq, the
 * table's integer key, which grows with every post (the store has one
 * writer), so pages never skip nor repeat a message.
 *
 * Search is the one SQLite-specific query of messaging (FTS5 MATCH on
 * messages_fts); a PostgreSQL backend replaces it with a tsvector query.
 */
#include "server/messages.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/str.h"
#include "lib/utc.h"
#include "lib/xalloc.h"
#include "server/events.h"
#include "server/files.h"
#include "server/store.h"
#include "server/users.h"

#define MSG_COLS                                                                                   \
    "m.id, m.room_id, m.author_id, u.name, m.text, m.reply_to, m.created_at, m.edited_at,"         \
    " m.deleted, m.seq"


/* The message object of the row st is on (columns MSG_COLS). */
static int row_to_json(struct store_tx *tx, struct store_stmt *st, json_t **ret_json)
{
    char created[ST_TIME_STRLEN], edited[ST_TIME_STRLEN];
    bool deleted = store_col_int(st, 8) != 0;
    json_t *files, *out;
    int r;

    if (deleted) {
        files = json_array();
    } else if ((r = files_of_message(tx, store_col_text(st, 0), &files)) < 0) {
        return r;
    }
    st_utc_format(store_col_int(st, 6), created);
    out = json_pack("{s:s,s:s,s:o,s:s,s:o,s:s,s:b}", "id", store_col_text(st, 0), "room_id",
                    store_col_text(st, 1), "author",
                    users_ref_json(store_col_text(st, 2), store_col_text(st, 3)), "text",
                    deleted ? "" : store_col_text(st, 4), "files", files, "created_at", created,
                    "deleted", deleted);
    if (!store_col_null(st, 5))
        json_object_set_new(out, "reply_to", json_string(store_col_text(st, 5)));
    if (!store_col_null(st, 7)) {
        st_utc_format(store_col_int(st, 7), edited);
        json_object_set_new(out, "edited_at", json_string(edited));
    }
    *ret_json = out;
    return 0;
}

/* The message object of message id (no membership check). */
static int message_json(struct store_tx *tx, const char *id, json_t **ret_json)
{
    struct store_stmt *st =
        store_prepare(tx, "SELECT " MSG_COLS " FROM messages m JOIN users u ON u.id = m.author_id"
                          " WHERE m.id = ?");
    int r;

    store_bind_text(st, 1, id);
    r = store_step(st);
    if (r <= 0)
        return r < 0 ? r : -ENOENT;
    return row_to_json(tx, st, ret_json);
}

/* Appends a message.* event with the message as it now is; *ret_json gets the message. */
static int append_event(struct store_tx *tx, const char *type, const char *id, int64_t now,
                        json_t **ret_json)
{
    json_t *msg, *ev;
    int64_t eid;
    int r;

    if ((r = message_json(tx, id, &msg)) < 0)
        return r;
    ev = json_pack("{s:s,s:s,s:O}", "type", type, "room_id",
                   json_string_value(json_object_get(msg, "room_id")), "message", msg);
    eid = events_append(tx, json_string_value(json_object_get(msg, "room_id")), NULL, ev, now);
    json_decref(ev);
    if (eid < 0) {
        json_decref(msg);
        return (int)eid;
    }
    if (ret_json)
        *ret_json = msg;
    else
        json_decref(msg);
    return 0;
}

/* Checks the files of a new message: each an upload of author_id, none twice. */
static int check_files(struct store_tx *tx, json_t *file_ids, const char *author_id,
                       char why[ROOM_WHY_LEN])
{
    size_t i, j;
    json_t *v;

    json_array_foreach(file_ids, i, v) {
        struct store_stmt *st;
        const char *id = json_string_value(v);
        int r;

        if (!id)
            return room_refuse(-EINVAL, why, "'file_ids' must hold file ids");
        for (j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(file_ids, j)), id) == 0)
                return room_refuse(-EINVAL, why, "file '%.40s' is listed twice", id);
        st = store_prepare(tx, "SELECT 1 FROM files WHERE id = ? AND uploader_id = ?");
        store_bind_text(st, 1, id);
        store_bind_text(st, 2, author_id);
        if ((r = store_step(st)) < 0)
            return r;
        if (r == 0)
            return room_refuse(-EINVAL, why, "file '%.40s' is not one you uploaded", id);
    }
    return 0;
}

int messages_post(struct store_tx *tx, const struct room *r, const struct message_new *m,
                  int64_t now, json_t **ret_json, char ret_why[ROOM_WHY_LEN])
{
    size_t nfiles = m->file_ids ? json_array_size(m->file_ids) : 0;
    char id[ST_UUID_LEN + 1];
    struct store_stmt *st;
    int64_t seq, unread;
    json_t *v;
    size_t i;
    int rc;

    if (r->archived)
        return room_refuse(-EBUSY, ret_why, "the room is archived");
    if (nfiles > MESSAGE_FILES_MAX)
        return room_refuse(-EINVAL, ret_why, "at most %d 'file_ids'", MESSAGE_FILES_MAX);
    if (!m->text[0] && nfiles == 0)
        return room_refuse(-EINVAL, ret_why, "'text' may be empty only when files are attached");
    if (m->reply_to) {
        st = store_prepare(tx, "SELECT 1 FROM messages WHERE id = ? AND room_id = ?");
        store_bind_text(st, 1, m->reply_to);
        store_bind_text(st, 2, r->id);
        if ((rc = store_step(st)) < 0)
            return rc;
        if (rc == 0)
            return room_refuse(-EINVAL, ret_why, "'reply_to' is not a message of this room");
    }
    if (m->file_ids && (rc = check_files(tx, m->file_ids, m->author_id, ret_why)) < 0)
        return rc;
    /* What the author had not read yet, to tell their other devices it is read now. */
    if ((rc = rooms_unread(tx, r->id, m->author_id, &unread)) < 0)
        return rc;

    st_uuid_new(id);
    st = store_prepare(tx, "INSERT INTO messages (id, room_id, author_id, text, reply_to,"
                           " created_at, edited_at, deleted) VALUES (?, ?, ?, ?, ?, ?, NULL, 0)");
    store_bind_text(st, 1, id);
    store_bind_text(st, 2, r->id);
    store_bind_text(st, 3, m->author_id);
    store_bind_text(st, 4, m->text);
    store_bind_text(st, 5, m->reply_to);
    store_bind_int(st, 6, now);
    if ((rc = store_run(st)) < 0)
        return rc;
    st = store_prepare(tx, "SELECT seq FROM messages WHERE id = ?");
    store_bind_text(st, 1, id);
    if ((rc = store_step(st)) <= 0)
        return rc < 0 ? rc : -EIO;
    seq = store_col_int(st, 0);
    json_array_foreach(m->file_ids, i, v) {
        st = store_prepare(tx, "INSERT INTO message_files (message_id, file_id, pos)"
                               " VALUES (?, ?, ?)");
        store_bind_text(st, 1, id);
        store_bind_text(st, 2, json_string_value(v));
        store_bind_int(st, 3, (int64_t)i);
        if ((rc = store_run(st)) < 0)
            return rc;
    }
    st = store_prepare(tx, "UPDATE rooms SET last_message_at = ? WHERE id = ?");
    store_bind_int(st, 1, now);
    store_bind_text(st, 2, r->id);
    if ((rc = store_run(st)) < 0)
        return rc;
    /* Writing in a room is reading it up to there. */
    if ((rc = rooms_advance_marker(tx, r->id, m->author_id, seq)) < 0)
        return rc;
    if ((rc = append_event(tx, "message.created", id, now, ret_json)) < 0)
        return rc;
    if (unread > 0) {
        json_t *ev = json_pack("{s:s,s:s,s:s,s:i}", "type", "read", "room_id", r->id, "message_id",
                               id, "unread", 0);
        int64_t eid = events_append(tx, r->id, m->author_id, ev, now);
        json_decref(ev);
        if (eid < 0) {
            json_decref(*ret_json);
            return (int)eid;
        }
    }
    return 0;
}

/* What an edit or a delete needs to know of message id, seen by user_id (a member). */
struct msg_state {
    char room_id[ROOM_ID_MAX + 1];
    bool mine, deleted, archived;
    int64_t nfiles;
};

static int load_state(struct store_tx *tx, const char *id, const char *user_id,
                      struct msg_state *ret_state)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT m.room_id, m.author_id, m.deleted, r.archived,"
            " (SELECT COUNT(*) FROM message_files f WHERE f.message_id = m.id)"
            " FROM messages m JOIN rooms r ON r.id = m.room_id"
            " JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = ? WHERE m.id = ?");
    struct msg_state s = {0};
    int r;

    store_bind_text(st, 1, user_id);
    store_bind_text(st, 2, id);
    r = store_step(st);
    if (r <= 0)
        return r < 0 ? r : -ENOENT;
    snprintf(s.room_id, sizeof(s.room_id), "%s", store_col_text(st, 0));
    s.mine = strcmp(store_col_text(st, 1), user_id) == 0;
    s.deleted = store_col_int(st, 2) != 0;
    s.archived = store_col_int(st, 3) != 0;
    s.nfiles = store_col_int(st, 4);
    *ret_state = s;
    return 0;
}

int messages_edit(struct store_tx *tx, const char *id, const char *user_id, const char *text,
                  int64_t now, json_t **ret_json, char ret_why[ROOM_WHY_LEN])
{
    struct store_stmt *st;
    struct msg_state s;
    int r;

    if ((r = load_state(tx, id, user_id, &s)) < 0)
        return r;
    if (!s.mine)
        return room_refuse(-EPERM, ret_why, "only the author edits a message");
    if (s.deleted)
        return room_refuse(-EBUSY, ret_why, "the message was deleted");
    if (s.archived)
        return room_refuse(-EBUSY, ret_why, "the room is archived");
    if (!text[0] && s.nfiles == 0)
        return room_refuse(-EINVAL, ret_why, "'text' may be empty only when files are attached");
    st = store_prepare(tx, "UPDATE messages SET text = ?, edited_at = ? WHERE id = ?");
    store_bind_text(st, 1, text);
    store_bind_int(st, 2, now);
    store_bind_text(st, 3, id);
    if ((r = store_run(st)) < 0)
        return r;
    return append_event(tx, "message.edited", id, now, ret_json);
}

int messages_delete(struct store_tx *tx, const char *id, const char *user_id, int64_t now,
                    char ret_why[ROOM_WHY_LEN])
{
    struct store_stmt *st;
    struct msg_state s;
    int r;

    if ((r = load_state(tx, id, user_id, &s)) < 0)
        return r;
    if (!s.mine)
        return room_refuse(-EPERM, ret_why, "only the author deletes a message");
    if (s.deleted)
        return 0;
    /* The words go (search and the FTS index forget them); the place stays. */
    st = store_prepare(tx, "UPDATE messages SET text = '', deleted = 1 WHERE id = ?");
    store_bind_text(st, 1, id);
    if ((r = store_run(st)) < 0)
        return r;
    return append_event(tx, "message.deleted", id, now, NULL);
}

int messages_page(struct store_tx *tx, const char *room_id, const char *before, int limit,
                  json_t **ret_json, char ret_why[ROOM_WHY_LEN])
{
    struct store_stmt *st;
    int64_t before_seq = INT64_MAX;
    json_t *list, *next = json_null();
    int n = 0, r;

    if (before) {
        st = store_prepare(tx, "SELECT seq FROM messages WHERE id = ? AND room_id = ?");
        store_bind_text(st, 1, before);
        store_bind_text(st, 2, room_id);
        if ((r = store_step(st)) < 0)
            return r;
        if (r == 0)
            return room_refuse(-EINVAL, ret_why, "'before' is not a message of this room");
        before_seq = store_col_int(st, 0);
    }
    /* One more than asked: whether an older page exists. */
    st = store_prepare(tx, "SELECT " MSG_COLS " FROM messages m JOIN users u"
                           " ON u.id = m.author_id WHERE m.room_id = ? AND m.seq < ?"
                           " ORDER BY m.seq DESC LIMIT ?");
    store_bind_text(st, 1, room_id);
    store_bind_int(st, 2, before_seq);
    store_bind_int(st, 3, limit + 1);
    list = json_array();
    while ((r = store_step(st)) == 1) {
        json_t *msg;
        if (n == limit) {
            next = json_string(
                json_string_value(json_object_get(json_array_get(list, (size_t)n - 1), "id")));
            break;
        }
        if ((r = row_to_json(tx, st, &msg)) < 0)
            break;
        json_array_append_new(list, msg);
        n++;
    }
    if (r < 0) {
        json_decref(list);
        return r;
    }
    *ret_json = json_pack("{s:o,s:o}", "messages", list, "next_before", next);
    return 0;
}

/*
 * Whether cp belongs to a word. ASCII: letters and digits. Beyond ASCII,
 * everything but the blocks of spaces, punctuation, symbols and emoji
 * (the tokenizer splits whatever is left as it must; a word that turns out
 * to hold no token matches nothing, it is never a syntax error).
 */
static bool word_char(unsigned cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    if (cp <= 0xBF || cp == 0xD7 || cp == 0xF7)
        return false;
    if ((cp >= 0x2000 && cp <= 0x2BFF) || (cp >= 0x3000 && cp <= 0x303F) ||
        (cp >= 0xFE30 && cp <= 0xFE4F) || cp == 0xFEFF || (cp >= 0xFF00 && cp <= 0xFF0F) ||
        (cp >= 0xFF1A && cp <= 0xFF20) || (cp >= 0xFF3B && cp <= 0xFF40) ||
        (cp >= 0xFF5B && cp <= 0xFF65) || (cp >= 0x1F000 && cp <= 0x1FAFF))
        return false;
    return true;
}

char *messages_fts_query(const char *q)
{
    const unsigned char *p = (const unsigned char *)q;
    size_t len = strlen(q), o = 0;
    /* Each byte of q at most once, plus `"` `"* AND ` around each word. */
    char *out = xmalloc(len * 9 + 1);
    bool in_word = false;

    while (*p) {
        long cp;
        size_t n = st_utf8_decode(p, &cp);
        if (cp > 0 && word_char((unsigned)cp)) {
            if (!in_word) {
                if (o)
                    o += (size_t)sprintf(out + o, " AND ");
                out[o++] = '"';
                in_word = true;
            }
            memcpy(out + o, p, n);
            o += n;
        } else if (in_word) {
            o += (size_t)sprintf(out + o, "\"*");
            in_word = false;
        }
        p += n;
    }
    if (in_word)
        o += (size_t)sprintf(out + o, "\"*");
    out[o] = '\0';
    if (!o) {
        free(out);
        return NULL;
    }
    return out;
}

int messages_search(struct store_tx *tx, const char *user_id, const char *q, int limit,
                    json_t **ret_json, char ret_why[ROOM_WHY_LEN])
{
    struct store_stmt *st;
    char *match = messages_fts_query(q);
    json_t *list;
    int r;

    if (!match)
        return room_refuse(-EINVAL, ret_why, "'q' holds no word to search for");
    st = store_prepare(tx, "SELECT " MSG_COLS " FROM messages_fts"
                           " JOIN messages m ON m.seq = messages_fts.rowid"
                           " JOIN users u ON u.id = m.author_id"
                           " JOIN room_members rm ON rm.room_id = m.room_id AND rm.user_id = ?"
                           " WHERE messages_fts MATCH ? AND m.deleted = 0"
                           " ORDER BY m.seq DESC LIMIT ?");
    store_bind_text(st, 1, user_id);
    store_bind_text(st, 2, match);
    store_bind_int(st, 3, limit);
    free(match);
    list = json_array();
    while ((r = store_step(st)) == 1) {
        json_t *msg;
        if ((r = row_to_json(tx, st, &msg)) < 0)
            break;
        json_array_append_new(list, msg);
    }
    if (r < 0) {
        json_decref(list);
        return r;
    }
    *ret_json = json_pack("{s:o}", "messages", list);
    return 0;
}
