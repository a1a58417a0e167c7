/*
 * Rooms, their members and read markers (rooms.h). The rules of who may
 * change what live here, next to the SQL, so that a handler only parses
 * and replies.
 */
#include "server/rooms.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utc.h"
#include "lib/xalloc.h"
#include "server/events.h"
#include "server/store.h"

#define ROOM_LIST_MAX 1000

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

int room_refuse(int err, char why[ROOM_WHY_LEN], const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, ROOM_WHY_LEN, fmt, ap);
    va_end(ap);
    return err;
}

static bool is_group(const struct room *r)
{
    return strcmp(r->kind, "group") == 0;
}

static bool is_owner(const struct room *r)
{
    return strcmp(r->my_role, "owner") == 0;
}

static bool is_admin_or_owner(const char *role)
{
    return strcmp(role, "owner") == 0 || strcmp(role, "admin") == 0;
}

int rooms_get_for(struct store_tx *tx, const char *id, const char *user_id, struct room *ret_room)
{
    struct store_stmt *st =
        store_prepare(tx, "SELECT r.id, r.kind, r.title, r.contract_id, r.archived, r.created_at,"
                          " r.last_message_at, m.role FROM rooms r JOIN room_members m"
                          " ON m.room_id = r.id AND m.user_id = ? WHERE r.id = ?");
    struct room r = {0};
    int rc;

    store_bind_text(st, 1, user_id);
    store_bind_text(st, 2, id);
    rc = store_step(st);
    if (rc <= 0)
        return rc < 0 ? rc : -ENOENT;
    copy(r.id, sizeof(r.id), store_col_text(st, 0));
    copy(r.kind, sizeof(r.kind), store_col_text(st, 1));
    copy(r.title, sizeof(r.title), store_col_text(st, 2));
    copy(r.contract_id, sizeof(r.contract_id), store_col_text(st, 3));
    r.archived = store_col_int(st, 4) != 0;
    r.created_at = store_col_int(st, 5);
    r.last_message_at = store_col_null(st, 6) ? 0 : store_col_int(st, 6);
    copy(r.my_role, sizeof(r.my_role), store_col_text(st, 7));
    *ret_room = r;
    return 0;
}

/* The role of user_id in room_id into ret_role (16 bytes); -ENOENT when not a member. */
static int role_of(struct store_tx *tx, const char *room_id, const char *user_id, char ret_role[16])
{
    struct store_stmt *st =
        store_prepare(tx, "SELECT role FROM room_members WHERE room_id = ? AND user_id = ?");
    int r;

    store_bind_text(st, 1, room_id);
    store_bind_text(st, 2, user_id);
    r = store_step(st);
    if (r <= 0)
        return r < 0 ? r : -ENOENT;
    copy(ret_role, 16, store_col_text(st, 0));
    return 0;
}

int rooms_unread(struct store_tx *tx, const char *room_id, const char *user_id, int64_t *ret_count)
{
    struct store_stmt *st =
        store_prepare(tx, "SELECT COUNT(*) FROM messages m WHERE m.room_id = ? AND m.author_id <> ?"
                          " AND m.deleted = 0 AND m.seq > (SELECT last_read_seq FROM room_members"
                          " WHERE room_id = ? AND user_id = ?)");
    int r;

    store_bind_text(st, 1, room_id);
    store_bind_text(st, 2, user_id);
    store_bind_text(st, 3, room_id);
    store_bind_text(st, 4, user_id);
    r = store_step(st);
    if (r <= 0)
        return r < 0 ? r : -EIO;
    *ret_count = store_col_int(st, 0);
    return 0;
}

int rooms_to_json(struct store_tx *tx, const struct room *r, const char *user_id, json_t **ret_json)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT m.user_id, u.name, m.role FROM room_members m JOIN users u"
            " ON u.id = m.user_id WHERE m.room_id = ? ORDER BY m.joined_at, m.user_id");
    char created[ST_TIME_STRLEN], last[ST_TIME_STRLEN];
    json_t *members = json_array(), *out;
    int rc;

    store_bind_text(st, 1, r->id);
    while ((rc = store_step(st)) == 1)
        json_array_append_new(members,
                              json_pack("{s:s,s:s,s:s}", "user_id", store_col_text(st, 0), "name",
                                        store_col_text(st, 1), "role", store_col_text(st, 2)));
    if (rc < 0) {
        json_decref(members);
        return rc;
    }
    st_utc_format(r->created_at, created);
    out = json_pack("{s:s,s:s,s:s,s:o,s:b,s:s}", "id", r->id, "kind", r->kind, "title", r->title,
                    "members", members, "archived", r->archived, "created_at", created);
    if (r->contract_id[0])
        json_object_set_new(out, "contract_id", json_string(r->contract_id));
    if (r->last_message_at) {
        st_utc_format(r->last_message_at, last);
        json_object_set_new(out, "last_message_at", json_string(last));
    } else {
        json_object_set_new(out, "last_message_at", json_null());
    }
    if (user_id) {
        int64_t unread;
        if ((rc = rooms_unread(tx, r->id, user_id, &unread)) < 0) {
            json_decref(out);
            return rc;
        }
        json_object_set_new(out, "unread", json_integer(unread));
        json_object_set_new(out, "my_role", json_string(r->my_role));
    }
    *ret_json = out;
    return 0;
}

int rooms_list_json(struct store_tx *tx, const char *user_id, json_t **ret_json)
{
    /* The ids first: building each room runs other statements. */
    struct store_stmt *st = store_prepare(
        tx, "SELECT r.id FROM rooms r JOIN room_members m ON m.room_id = r.id AND m.user_id = ?"
            " ORDER BY COALESCE(r.last_message_at, r.created_at) DESC,"
            " COALESCE((SELECT MAX(x.seq) FROM messages x WHERE x.room_id = r.id), 0) DESC,"
            " r.created_at DESC, r.id LIMIT 1000");
    char(*ids)[ROOM_ID_MAX + 1] = xmalloc(sizeof(*ids) * ROOM_LIST_MAX);
    json_t *rooms = NULL;
    int n = 0, rc = 0;

    store_bind_text(st, 1, user_id);
    while (n < ROOM_LIST_MAX && (rc = store_step(st)) == 1)
        copy(ids[n++], sizeof(ids[0]), store_col_text(st, 0));
    if (rc < 0)
        goto out;
    rooms = json_array();
    for (int i = 0; i < n; i++) {
        struct room r;
        json_t *j;
        if ((rc = rooms_get_for(tx, ids[i], user_id, &r)) < 0 ||
            (rc = rooms_to_json(tx, &r, user_id, &j)) < 0)
            goto out;
        json_array_append_new(rooms, j);
    }
    *ret_json = json_pack("{s:o}", "rooms", rooms);
    rooms = NULL;
    rc = 0;
out:
    json_decref(rooms);
    free(ids);
    return rc;
}

int rooms_share_contract(struct store_tx *tx, const char *a, const char *b)
{
    struct store_stmt *st =
        store_prepare(tx, "SELECT 1 FROM contracts WHERE (client_id = ? AND freelancer_id = ?)"
                          " OR (client_id = ? AND freelancer_id = ?) LIMIT 1");
    int r;

    store_bind_text(st, 1, a);
    store_bind_text(st, 2, b);
    store_bind_text(st, 3, b);
    store_bind_text(st, 4, a);
    r = store_step(st);
    return r < 0 ? r : r == 1;
}

int rooms_event_updated(struct store_tx *tx, const struct room *r, int64_t now)
{
    json_t *room, *ev;
    int64_t id;
    int rc;

    if ((rc = rooms_to_json(tx, r, NULL, &room)) < 0)
        return rc;
    ev = json_pack("{s:s,s:s,s:o}", "type", "room.updated", "room_id", r->id, "room", room);
    id = events_append(tx, r->id, NULL, ev, now);
    json_decref(ev);
    return id < 0 ? (int)id : 0;
}

/*
 * A new member. joined_event is the newest event before the ones this
 * change appends, so the member gets the room.updated that announces them.
 */
static int insert_member(struct store_tx *tx, const char *room_id, const char *user_id,
                         const char *role, int64_t now)
{
    struct store_stmt *st;
    int64_t last = events_last_id(tx);

    if (last < 0)
        return (int)last;
    st = store_prepare(tx, "INSERT INTO room_members (room_id, user_id, role, joined_at,"
                           " joined_event, last_read_seq) VALUES (?, ?, ?, ?, ?, 0)");
    store_bind_text(st, 1, room_id);
    store_bind_text(st, 2, user_id);
    store_bind_text(st, 3, role);
    store_bind_int(st, 4, now);
    store_bind_int(st, 5, last);
    return store_run(st);
}

static int set_role(struct store_tx *tx, const char *room_id, const char *user_id, const char *role)
{
    struct store_stmt *st =
        store_prepare(tx, "UPDATE room_members SET role = ? WHERE room_id = ? AND user_id = ?");

    store_bind_text(st, 1, role);
    store_bind_text(st, 2, room_id);
    store_bind_text(st, 3, user_id);
    return store_run(st);
}

static int insert_room(struct store_tx *tx, const struct room *r, const char *created_by)
{
    struct store_stmt *st = store_prepare(
        tx, "INSERT INTO rooms (id, kind, title, contract_id, created_by, archived, created_at,"
            " last_message_at) VALUES (?, ?, ?, ?, ?, 0, ?, NULL)");

    store_bind_text(st, 1, r->id);
    store_bind_text(st, 2, r->kind);
    store_bind_text(st, 3, r->title);
    store_bind_text(st, 4, r->contract_id[0] ? r->contract_id : NULL);
    store_bind_text(st, 5, created_by);
    store_bind_int(st, 6, r->created_at);
    return store_run(st);
}

int rooms_create_for_contract(struct store_tx *tx, const char *contract_id, const char *title,
                              const char *client_id, const char *freelancer_id, int64_t now)
{
    struct room r = {.created_at = now};
    int rc;

    snprintf(r.id, sizeof(r.id), "c-%s", contract_id);
    copy(r.kind, sizeof(r.kind), "contract");
    copy(r.title, sizeof(r.title), title);
    copy(r.contract_id, sizeof(r.contract_id), contract_id);
    if ((rc = insert_room(tx, &r, client_id)) < 0 ||
        (rc = insert_member(tx, r.id, client_id, "member", now)) < 0 ||
        (rc = insert_member(tx, r.id, freelancer_id, "member", now)) < 0)
        return rc;
    return rooms_event_updated(tx, &r, now);
}

int rooms_create_group(struct store_tx *tx, const char *creator, const char *title,
                       json_t *member_ids, int64_t now, struct room *ret_room,
                       char ret_why[ROOM_WHY_LEN])
{
    struct room r = {.created_at = now};
    size_t i;
    json_t *v;
    int rc;

    st_uuid_new(r.id);
    copy(r.kind, sizeof(r.kind), "group");
    copy(r.title, sizeof(r.title), title);
    copy(r.my_role, sizeof(r.my_role), "owner");
    if (json_array_size(member_ids) > ROOM_MEMBER_IDS_MAX)
        return room_refuse(-EINVAL, ret_why, "at most %d 'member_ids'", ROOM_MEMBER_IDS_MAX);
    if ((rc = insert_room(tx, &r, creator)) < 0 ||
        (rc = insert_member(tx, r.id, creator, "owner", now)) < 0)
        return rc;
    json_array_foreach(member_ids, i, v) {
        const char *uid = json_string_value(v);
        char role[16];
        if (!uid)
            return room_refuse(-EINVAL, ret_why, "'member_ids' must hold user ids");
        if ((rc = role_of(tx, r.id, uid, role)) == 0)
            continue; /* the creator, or an id listed twice */
        if (rc != -ENOENT)
            return rc;
        if ((rc = rooms_share_contract(tx, creator, uid)) < 0)
            return rc;
        if (rc == 0)
            return room_refuse(-EPERM, ret_why, "you may add only people you share a contract with");
        if ((rc = insert_member(tx, r.id, uid, "member", now)) < 0)
            return rc;
    }
    if ((rc = rooms_event_updated(tx, &r, now)) < 0)
        return rc;
    *ret_room = r;
    return 0;
}

int rooms_update(struct store_tx *tx, struct room *r, const char *title, int archived, int64_t now,
                 char ret_why[ROOM_WHY_LEN])
{
    struct store_stmt *st;
    int rc;

    if (is_group(r) && !is_admin_or_owner(r->my_role))
        return room_refuse(-EPERM, ret_why, "only the room's owner and admins change it");
    if (title)
        copy(r->title, sizeof(r->title), title);
    if (archived >= 0)
        r->archived = archived != 0;
    st = store_prepare(tx, "UPDATE rooms SET title = ?, archived = ? WHERE id = ?");
    store_bind_text(st, 1, r->title);
    store_bind_int(st, 2, r->archived);
    store_bind_text(st, 3, r->id);
    if ((rc = store_run(st)) < 0)
        return rc;
    return rooms_event_updated(tx, r, now);
}

static int count_members(struct store_tx *tx, const char *room_id, int64_t *ret_n)
{
    struct store_stmt *st =
        store_prepare(tx, "SELECT COUNT(*) FROM room_members WHERE room_id = ?");
    int r;

    store_bind_text(st, 1, room_id);
    r = store_step(st);
    if (r <= 0)
        return r < 0 ? r : -EIO;
    *ret_n = store_col_int(st, 0);
    return 0;
}

int rooms_set_member(struct store_tx *tx, struct room *r, const char *actor, const char *user_id,
                     const char *role, int64_t now, char ret_why[ROOM_WHY_LEN])
{
    char current[16];
    int64_t n;
    int rc;

    if (strcmp(role, "member") != 0 && !is_admin_or_owner(role))
        return room_refuse(-EINVAL, ret_why, "'role' must be \"member\", \"admin\" or \"owner\"");
    if (!is_group(r))
        return room_refuse(-EBUSY, ret_why, "the members of a contract's room are its two parties");
    if (!is_admin_or_owner(r->my_role))
        return room_refuse(-EPERM, ret_why, "only the room's owner and admins add members");
    rc = role_of(tx, r->id, user_id, current);
    if (rc < 0 && rc != -ENOENT)
        return rc;
    if (rc == 0) {
        /* A present member: a change of role, the owner's alone. */
        if (!is_owner(r))
            return room_refuse(-EPERM, ret_why, "only the room's owner changes roles");
        if (strcmp(user_id, actor) == 0) {
            if (strcmp(role, "owner") == 0)
                return 0; /* nothing changes */
            return room_refuse(-EBUSY, ret_why, "the owner stays owner until they hand the room over");
        }
        if ((rc = set_role(tx, r->id, user_id, role)) < 0)
            return rc;
    } else {
        if (!is_owner(r) && strcmp(role, "member") != 0)
            return room_refuse(-EPERM, ret_why, "only the room's owner makes admins");
        if ((rc = count_members(tx, r->id, &n)) < 0)
            return rc;
        if (n >= ROOM_MEMBERS_MAX)
            return room_refuse(-EBUSY, ret_why, "a room holds at most %d members", ROOM_MEMBERS_MAX);
        if ((rc = rooms_share_contract(tx, actor, user_id)) < 0)
            return rc;
        if (rc == 0)
            return room_refuse(-EPERM, ret_why, "you may add only people you share a contract with");
        if ((rc = insert_member(tx, r->id, user_id, role, now)) < 0)
            return rc;
    }
    if (strcmp(role, "owner") == 0) {
        /* Handing over: one owner at a time. */
        if ((rc = set_role(tx, r->id, actor, "admin")) < 0)
            return rc;
        copy(r->my_role, sizeof(r->my_role), "admin");
    }
    return rooms_event_updated(tx, r, now);
}

int rooms_remove_member(struct store_tx *tx, struct room *r, const char *actor, const char *user_id,
                        int64_t now, char ret_why[ROOM_WHY_LEN])
{
    struct store_stmt *st;
    char target[16];
    json_t *ev;
    int64_t id;
    int rc;

    if (!is_group(r))
        return room_refuse(-EBUSY, ret_why, "the members of a contract's room are its two parties");
    if ((rc = role_of(tx, r->id, user_id, target)) < 0)
        return rc;
    if (strcmp(user_id, actor) == 0) {
        if (is_owner(r))
            return room_refuse(-EBUSY, ret_why, "the owner hands the room over before leaving");
    } else if (!is_admin_or_owner(r->my_role)) {
        return room_refuse(-EPERM, ret_why, "only the room's owner and admins remove members");
    } else if (!is_owner(r) && is_admin_or_owner(target)) {
        return room_refuse(-EPERM, ret_why, "only the room's owner removes an admin");
    }
    st = store_prepare(tx, "DELETE FROM room_members WHERE room_id = ? AND user_id = ?");
    store_bind_text(st, 1, r->id);
    store_bind_text(st, 2, user_id);
    if ((rc = store_run(st)) < 0 || (rc = rooms_event_updated(tx, r, now)) < 0)
        return rc;
    /* The one who left no longer hears the room: tell them apart. */
    ev = json_pack("{s:s,s:s,s:b}", "type", "room.updated", "room_id", r->id, "removed", 1);
    id = events_append(tx, r->id, user_id, ev, now);
    json_decref(ev);
    return id < 0 ? (int)id : 0;
}

int rooms_advance_marker(struct store_tx *tx, const char *room_id, const char *user_id, int64_t seq)
{
    struct store_stmt *st = store_prepare(
        tx, "UPDATE room_members SET last_read_seq = ? WHERE room_id = ? AND user_id = ?"
            " AND last_read_seq < ?");
    int r;

    store_bind_int(st, 1, seq);
    store_bind_text(st, 2, room_id);
    store_bind_text(st, 3, user_id);
    store_bind_int(st, 4, seq);
    if ((r = store_run(st)) < 0)
        return r;
    return store_changes(tx) > 0;
}

int rooms_mark_read(struct store_tx *tx, const struct room *r, const char *user_id,
                    const char *message_id, int64_t now, char ret_why[ROOM_WHY_LEN])
{
    struct store_stmt *st =
        store_prepare(tx, "SELECT seq FROM messages WHERE id = ? AND room_id = ?");
    int64_t seq, unread, id;
    json_t *ev;
    int rc;

    store_bind_text(st, 1, message_id);
    store_bind_text(st, 2, r->id);
    rc = store_step(st);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return room_refuse(-EINVAL, ret_why, "'message_id' is not a message of this room");
    seq = store_col_int(st, 0);
    if ((rc = rooms_advance_marker(tx, r->id, user_id, seq)) <= 0)
        return rc;
    if ((rc = rooms_unread(tx, r->id, user_id, &unread)) < 0)
        return rc;
    ev = json_pack("{s:s,s:s,s:s,s:I}", "type", "read", "room_id", r->id, "message_id", message_id,
                   "unread", (json_int_t)unread);
    id = events_append(tx, r->id, user_id, ev, now);
    json_decref(ev);
    return id < 0 ? (int)id : 0;
}
