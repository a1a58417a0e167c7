/*
 * Rooms: the conversations of messaging. A contract's room (id "c-" + the
 * contract id, kind "contract") is made with the contract and holds its two
 * parties for good; a group room (kind "group") is made by anyone, with
 * roles owner, admin and member. This module holds the rules of who may do
 * what to a room, its members and read markers, and the room's JSON form.
 * Every change appends its events (events.h) in the caller's transaction.
 *
 * Not for: messages (messages.h), files (files.h), HTTP (api-rooms.c).
 *
 * Errors: -ENOENT for a room that does not exist or that the user is not a
 * member of (the same answer for both); -EPERM (403), -EBUSY (409 conflict)
 * and -EINVAL (400) for a refusal, with a sentence in ret_why (ROOM_WHY_LEN
 * bytes, written only then); store errors as store.h has them.
 * Out-parameters are written only on success. Nothing is printed.
 */
#ifndef STINT_ROOMS_H
#define STINT_ROOMS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/uuid.h"

struct store_tx;

#define ROOM_TITLE_MAX 200      /* characters */
#define ROOM_MEMBER_IDS_MAX 255 /* ids in one POST /rooms */
#define ROOM_MEMBERS_MAX 500
#define ROOM_ID_MAX (ST_UUID_LEN + 2) /* "c-" + a contract id */
#define ROOM_WHY_LEN 160

/*
 * Refuses with err (-EPERM, -EBUSY or -EINVAL) and the sentence to show in
 * why; returns err. For rooms.c and messages.c, which refuse the same way.
 */
int room_refuse(int err, char why[ROOM_WHY_LEN], const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct room {
    char id[ROOM_ID_MAX + 1];
    char kind[16]; /* "contract" or "group" */
    char title[ROOM_TITLE_MAX * 4 + 1];
    char contract_id[ST_UUID_LEN + 1]; /* "" for a group room */
    bool archived;
    int64_t created_at;
    int64_t last_message_at; /* 0: no message yet */
    char my_role[16];        /* the caller's role: "owner", "admin" or "member" */
};

/* Loads room id when user_id is a member of it (with their role in my_role); else -ENOENT. */
int rooms_get_for(struct store_tx *tx, const char *id, const char *user_id, struct room *ret_room);

/*
 * The room object of docs/api.md. With user_id, as that member sees it
 * ("unread", "my_role"); with NULL, the form events carry (without them).
 * On success *ret_json is a new reference.
 */
int rooms_to_json(struct store_tx *tx, const struct room *r, const char *user_id,
                  json_t **ret_json);

/* {"rooms":[...]}: user_id's rooms, most recent activity first. */
int rooms_list_json(struct store_tx *tx, const char *user_id, json_t **ret_json);

/* 1 when users a and b are the two parties of some contract (any state), 0 when not. */
int rooms_share_contract(struct store_tx *tx, const char *a, const char *b);

/*
 * Makes the room of a new contract (inside the transaction that inserts the
 * contract): both parties "member", created by the client.
 */
int rooms_create_for_contract(struct store_tx *tx, const char *contract_id, const char *title,
                              const char *client_id, const char *freelancer_id, int64_t now);

/*
 * Makes a group room titled title (checked by the caller) with creator as
 * owner and each of member_ids (an array of strings; the creator and
 * repeats are skipped) as member. Each must share a contract with the
 * creator: -EPERM otherwise, the same for an id that does not exist.
 */
int rooms_create_group(struct store_tx *tx, const char *creator, const char *title,
                       json_t *member_ids, int64_t now, struct room *ret_room,
                       char ret_why[ROOM_WHY_LEN]);

/*
 * Renames (title non-NULL) and/or archives or restores (archived 0 or 1;
 * -1: unchanged) room r as user_id, whose role r->my_role holds.
 */
int rooms_update(struct store_tx *tx, struct room *r, const char *title, int archived, int64_t now,
                 char ret_why[ROOM_WHY_LEN]);

/*
 * Adds user_id to r as role ("member", "admin" or "owner"), or changes the
 * role of a present member, as actor (whose role r->my_role holds). Handing
 * "owner" over makes the old owner an admin.
 */
int rooms_set_member(struct store_tx *tx, struct room *r, const char *actor, const char *user_id,
                     const char *role, int64_t now, char ret_why[ROOM_WHY_LEN]);

/* Removes user_id from r as actor (leaving when they are the same); -ENOENT when not a member. */
int rooms_remove_member(struct store_tx *tx, struct room *r, const char *actor, const char *user_id,
                        int64_t now, char ret_why[ROOM_WHY_LEN]);

/*
 * Moves user_id's read marker in r forward to message_id (a message of r;
 * -EINVAL otherwise), never back, and tells their connections (a "read"
 * event) when it moved.
 */
int rooms_mark_read(struct store_tx *tx, const struct room *r, const char *user_id,
                    const char *message_id, int64_t now, char ret_why[ROOM_WHY_LEN]);

/*
 * Moves user_id's read marker in room_id forward to seq, never back. 1 when
 * it moved, 0 when not.
 */
int rooms_advance_marker(struct store_tx *tx, const char *room_id, const char *user_id,
                         int64_t seq);

/* The messages of others after user_id's read marker in room_id that are not deleted. */
int rooms_unread(struct store_tx *tx, const char *room_id, const char *user_id, int64_t *ret_count);

/* Appends a room.updated event with r as everyone in it sees it. */
int rooms_event_updated(struct store_tx *tx, const struct room *r, int64_t now);

#endif
