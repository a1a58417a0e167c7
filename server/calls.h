/*
 * Calls: the signaling and rules of voice and video calls in rooms. The
 * hub (hub.c) hands every "call.*" request of a connection here; this
 * module decides (who may start, join or see a call, the 4-person cap, the
 * 45 s ring), keeps the calls in progress in memory, writes their rows
 * (calls, call_participants) and the room's timeline messages ("call
 * started", "missed call", "call ended, 12 min") through the store, and
 * answers through the two send functions the hub gives it. Media never
 * passes through stintd: offers, answers and ICE candidates are relayed to
 * one named participant's connection and never stored.
 *
 * The protocol is docs/api.md, "Calls".
 *
 * Not for: the WebSocket itself (hub.c), TURN credentials (turn.h), HTTP
 * (api-calls.c).
 *
 * Threads: everything here runs on the hub's thread (one struct calls per
 * hub). A connection is an opaque pointer the hub owns; it is compared,
 * never dereferenced, and calls_conn_gone() must be called before it is
 * freed. The send functions may re-enter calls_conn_gone() (a slow reader
 * closed while a message is queued): that is deferred to the end of the
 * outermost call into this module.
 */
#ifndef STINT_CALLS_H
#define STINT_CALLS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct store_tx;

#define CALL_MAX_PARTICIPANTS 4     /* a full mesh: each sends to the 3 others */
#define CALL_RING_S 45              /* unanswered this long: a missed call */
#define CALL_SIGNAL_MAX (32 * 1024) /* bytes of one call.signal message */
#define CALL_SIGNAL_BURST 100       /* call.signal messages a connection may send at once */
#define CALL_SIGNAL_PER_S 50        /* ... and then this many a second */

/* How the module speaks to connections; both borrow text (len bytes, not NUL-terminated). */
struct calls_out {
    void *arg;
    /* To one connection. */
    void (*to_conn)(void *arg, void *conn, const char *text, size_t len);
    /* To every connection of user_id that has said hello, but not except (NULL: all). */
    void (*to_user)(void *arg, const char *user_id, const void *except, const char *text,
                    size_t len);
};

struct calls;

/* A registry with no call in progress; out is copied. Never NULL (aborts on OOM). */
struct calls *calls_new(struct server *srv, const struct calls_out *out);
/* Forgets every call without writing anything (the store may be gone). Accepts NULL. */
void calls_free(struct calls *calls);

/*
 * One request of conn (whose user is user_id, named name): msg is the
 * parsed message (borrowed) of type type ("call.start", ...), len its size
 * in bytes. Always answers: an event, or {"type":"call.error",...} on conn;
 * a request never closes the connection.
 */
void calls_request(struct calls *calls, void *conn, const char *user_id, const char *name,
                   const char *type, json_t *msg, size_t len);

/* conn is closing: its user leaves every call it was in on this connection. */
void calls_conn_gone(struct calls *calls, void *conn);

/* The clock moved to now (server_now, seconds): ring timeouts. Call about once a second. */
void calls_tick(struct calls *calls, int64_t now);

/*
 * At start, in a write transaction: calls the rows say are in progress were
 * cut by a stop; they end now ("interrupted"). Returns 0 or a store error.
 */
int calls_recover(struct store_tx *tx, int64_t now);

/*
 * {"calls":[...]}: the newest limit calls of room_id (the caller checked
 * membership), with their participants, as docs/api.md shows them.
 */
int calls_list_json(struct store_tx *tx, const char *room_id, int limit, json_t **ret_json);

#endif
