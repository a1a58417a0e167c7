/*
 * Messages of rooms: posting (with files and a reply), editing, deleting,
 * the pages of a room's history and full-text search, and the message's
 * JSON form. Every change appends its event (events.h) in the caller's
 * transaction; membership of the room is checked by the caller
 * (rooms_get_for) except where a function says otherwise.
 *
 * Not for: rooms and read markers (rooms.h), file rows and bytes (files.h),
 * HTTP (api-messages.c).
 *
 * Errors as rooms.h: -ENOENT (no such message, or not the caller's to
 * see), -EPERM (403), -EBUSY (409) and -EINVAL (400) with a sentence in
 * ret_why (ROOM_WHY_LEN bytes), store errors as store.h has them.
 * Out-parameters are written only on success. Nothing is printed.
 */
#ifndef STINT_MESSAGES_H
#define STINT_MESSAGES_H

#include <jansson.h>
#include <stdint.h>

#include "server/rooms.h"

struct store_tx;

#define MESSAGE_TEXT_MAX 10000 /* characters */
#define MESSAGE_FILES_MAX 10
#define MESSAGE_PAGE_MAX 100
#define MESSAGE_PAGE_DEFAULT 50
#define MESSAGE_QUERY_MAX 200 /* characters of a search */

/* What POST /rooms/{id}/messages asks for; all borrowed. */
struct message_new {
    const char *author_id;
    const char *text;     /* checked for length by the caller */
    json_t *file_ids;     /* array of strings, or NULL */
    const char *reply_to; /* or NULL */
};

/*
 * Posts m in room r (whose member the author is): refuses in an archived
 * room (-EBUSY), an empty text without files, files that are not the
 * author's uploads, and a reply_to outside r (-EINVAL). Moves the room's
 * last_message_at and the author's read marker, appends message.created.
 * On success *ret_json is the message object (a new reference).
 */
int messages_post(struct store_tx *tx, const struct room *r, const struct message_new *m,
                  int64_t now, json_t **ret_json, char ret_why[ROOM_WHY_LEN]);

/*
 * Replaces the text of message id as user_id: -ENOENT unless user_id is a
 * member of its room, -EPERM unless they wrote it, -EBUSY once deleted or
 * in an archived room. Appends message.edited. *ret_json: the message.
 */
int messages_edit(struct store_tx *tx, const char *id, const char *user_id, const char *text,
                  int64_t now, json_t **ret_json, char ret_why[ROOM_WHY_LEN]);

/*
 * Deletes message id as user_id (its author): the text is erased and the
 * files are no longer shown; the message keeps its place. Deleting a
 * deleted message changes nothing. Appends message.deleted.
 */
int messages_delete(struct store_tx *tx, const char *id, const char *user_id, int64_t now,
                    char ret_why[ROOM_WHY_LEN]);

/*
 * A page of room_id's history, newest first: limit messages before message
 * before (NULL: from the newest; it must be a message of the room, else
 * -EINVAL). *ret_json is {"messages":[...],"next_before":id|null}.
 */
int messages_page(struct store_tx *tx, const char *room_id, const char *before, int limit,
                  json_t **ret_json, char ret_why[ROOM_WHY_LEN]);

/*
 * Full-text search of q over the messages, not deleted, of the rooms
 * user_id is a member of, newest first, at most limit. q is split into
 * words of letters and digits, each matched as a prefix, all required;
 * -EINVAL when it holds no word. *ret_json is {"messages":[...]}.
 */
int messages_search(struct store_tx *tx, const char *user_id, const char *q, int limit,
                    json_t **ret_json, char ret_why[ROOM_WHY_LEN]);

/*
 * The FTS5 query for q: each word of letters and digits quoted and made a
 * prefix ("word"*), joined by AND; the other characters are dropped, so
 * nothing in q can be read as query syntax. NULL when q has no word; else a
 * new string the caller frees.
 */
char *messages_fts_query(const char *q);

#endif
