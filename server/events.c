/*
 * The event log (events.h): appending inside a writer's transaction, and
 * reading in id order for one user (replay) or for everyone (fan-out).
 *
 * Not for: the WebSocket side (hub.c).
 */
#include "server/events.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "server/store.h"

int64_t events_append(struct store_tx *tx, const char *room_id, const char *user_id,
                      const json_t *payload, int64_t now)
{
    struct store_stmt *st = store_prepare(
        tx, "INSERT INTO events (room_id, user_id, type, payload, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id");
    json_t *type = json_object_get(payload, "type");
    char *text = json_dumps(payload, JSON_COMPACT);
    int64_t id;
    int r;

    if (!text || !json_is_string(type) || (!room_id && !user_id)) {
        free(text);
        return -EINVAL;
    }
    store_bind_text(st, 1, room_id);
    store_bind_text(st, 2, user_id);
    store_bind_text(st, 3, json_string_value(type));
    store_bind_text(st, 4, text);
    store_bind_int(st, 5, now);
    free(text);
    r = store_step(st);
    if (r != 1)
        return r < 0 ? r : -EIO;
    id = store_col_int(st, 0);
    while ((r = store_step(st)) == 1)
        ;
    return r < 0 ? r : id;
}

int64_t events_last_id(struct store_tx *tx)
{
    struct store_stmt *st = store_prepare(tx, "SELECT COALESCE(MAX(id), 0) FROM events");
    int r = store_step(st);

    if (r != 1)
        return r < 0 ? r : -EIO;
    return store_col_int(st, 0);
}

/*
 * The event's text with its id put first: payload is "{...}" without "id",
 * so the result is {"id":"N",...} (or {"id":"N"} for an empty object).
 */
static char *with_id(int64_t id, const char *payload, size_t *ret_len)
{
    size_t plen = strlen(payload);
    char head[40];
    int hn;
    char *out;

    if (plen < 2 || payload[0] != '{')
        return NULL;
    hn = snprintf(head, sizeof(head), "{\"id\":\"%lld\"", (long long)id);
    out = xmalloc((size_t)hn + plen + 2);
    memcpy(out, head, (size_t)hn);
    if (plen == 2) { /* "{}" */
        out[hn] = '}';
        *ret_len = (size_t)hn + 1;
    } else {
        out[hn] = ',';
        memcpy(out + hn + 1, payload + 1, plen - 1);
        *ret_len = (size_t)hn + plen;
    }
    out[*ret_len] = '\0';
    return out;
}

int events_for_user(struct store_tx *tx, const char *user_id, int64_t after_id, int64_t upto_id,
                    int limit, events_fn fn, void *arg)
{
    /* Events for the user alone, and those of rooms they are in since they joined. */
    struct store_stmt *st = store_prepare(
        tx, "SELECT id, payload FROM events WHERE user_id = ? AND id > ? AND id <= ?"
            " UNION ALL"
            " SELECT e.id, e.payload FROM events e JOIN room_members m"
            "   ON m.room_id = e.room_id AND m.user_id = ?"
            " WHERE e.user_id IS NULL AND e.id > ? AND e.id <= ? AND e.id > m.joined_event"
            " ORDER BY 1 LIMIT ?");
    int n = 0, r;

    store_bind_text(st, 1, user_id);
    store_bind_int(st, 2, after_id);
    store_bind_int(st, 3, upto_id);
    store_bind_text(st, 4, user_id);
    store_bind_int(st, 5, after_id);
    store_bind_int(st, 6, upto_id);
    store_bind_int(st, 7, limit);
    while ((r = store_step(st)) == 1) {
        size_t len;
        char *json = with_id(store_col_int(st, 0), store_col_text(st, 1), &len);
        if (!json)
            continue;
        fn(store_col_int(st, 0), json, len, arg);
        free(json);
        n++;
    }
    return r < 0 ? r : n;
}

int events_fanout(struct store_tx *tx, int64_t after_id, int64_t upto_id, int limit,
                  events_fanout_fn fn, void *arg)
{
    /* One row per event and recipient; events first, in id order. */
    struct store_stmt *ev = store_prepare(
        tx, "SELECT id, room_id, user_id, payload FROM events WHERE id > ? AND id <= ?"
            " ORDER BY id LIMIT ?");
    int n = 0, r;

    store_bind_int(ev, 1, after_id);
    store_bind_int(ev, 2, upto_id);
    store_bind_int(ev, 3, limit);
    while ((r = store_step(ev)) == 1) {
        int64_t id = store_col_int(ev, 0);
        size_t len;
        char *json = with_id(id, store_col_text(ev, 3), &len);

        n++;
        if (!json)
            continue;
        if (!store_col_null(ev, 2)) {
            fn(id, store_col_text(ev, 2), json, len, arg);
        } else if (!store_col_null(ev, 1)) {
            struct store_stmt *mem = store_prepare(
                tx, "SELECT user_id FROM room_members WHERE room_id = ? AND joined_event < ?");
            int mr;
            store_bind_text(mem, 1, store_col_text(ev, 1));
            store_bind_int(mem, 2, id);
            while ((mr = store_step(mem)) == 1)
                fn(id, store_col_text(mem, 0), json, len, arg);
            if (mr < 0) {
                free(json);
                return mr;
            }
        }
        free(json);
    }
    return r < 0 ? r : n;
}
