/*
 * The event log behind the real-time channel: every change a member of a
 * room should hear about (a message posted, edited or deleted, a room
 * changed, a read marker moved) is appended here in the same write
 * transaction as the change itself, so an event exists exactly when its
 * change was committed. The hub (hub.h) sends events live and replays them
 * to a client that reconnects with `since`.
 *
 * Event ids are the table's integer key. The store has one writer, so ids
 * are handed out in commit order: a reader never sees event N+1 committed
 * without event N (a snapshot always holds a prefix of the log).
 *
 * Who gets an event: with user_id set, that user alone; otherwise the
 * room's members, each from the event after the one current when they
 * joined (room_members.joined_event).
 *
 * Not for: sending (hub.c) or deciding what happened (rooms.c, messages.c).
 */
#ifndef STINT_EVENTS_H
#define STINT_EVENTS_H

#include <jansson.h>
#include <stdint.h>

struct store_tx;

/*
 * Appends an event inside tx. payload is the event's JSON object without
 * "id" ({"type":...,"room_id":...,...}); it is borrowed. room_id may be NULL
 * only when user_id is set. Returns the new event id (> 0) or a negative
 * store error.
 */
int64_t events_append(struct store_tx *tx, const char *room_id, const char *user_id,
                      const json_t *payload, int64_t now);

/* The id of the newest event (0 when there is none), as seen by tx. */
int64_t events_last_id(struct store_tx *tx);

/*
 * Calls fn for each event after after_id and at most upto_id that user_id
 * may see, in id order, at most limit of them. json is the event's full
 * text with its "id" first ({"id":"N",...}), valid during the call only.
 * Returns how many were passed, or a negative store error.
 */
typedef void (*events_fn)(int64_t id, const char *json, size_t len, void *arg);
int events_for_user(struct store_tx *tx, const char *user_id, int64_t after_id, int64_t upto_id,
                    int limit, events_fn fn, void *arg);

/*
 * Calls fn for each event after after_id and at most upto_id with every
 * user who may see it (one call per event and recipient, in id order). For
 * the hub's live fan-out. Returns how many events were seen, or a negative
 * store error.
 */
typedef void (*events_fanout_fn)(int64_t id, const char *user_id, const char *json, size_t len,
                                 void *arg);
int events_fanout(struct store_tx *tx, int64_t after_id, int64_t upto_id, int limit,
                  events_fanout_fn fn, void *arg);

#endif
