/*
 * The WebSocket hub (hub.h): one thread, one epoll set, every upgraded
 * connection at once, each a non-blocking socket driven by a wslay event
 * context. The design in a page is docs/internals/hub.md.
 *
 * Delivery: `last` is the newest event fanned out. A wake-up (hub_notify,
 * or the periodic sweep) reads the events after `last` in one snapshot and
 * queues each to the live connections of its recipients, then moves `last`.
 * A connection that says hello with an older `since` is "lagging": it pulls
 * its own events up to `last` from the store, a batch at a time while its
 * queue is short, and goes live once a batch comes back short. Fan-out
 * skips lagging connections, replay never reads past `last`: each event
 * reaches each connection once, in id order.
 *
 * Not for: deciding what the events are (events.c and the api-*.c writers).
 */
#include "server/hub.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "lib/json.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/auth.h"
#include "server/calls.h"
#include "server/events.h"
#include "server/http.h"
#include "server/hub-test.h"
#include "server/server.h"
#include "server/store.h"
#include "server/users.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define MAX_MSG (64 * 1024)            /* the largest client message (1009 past it) */
#define MAX_QUEUED (1024 * 1024)       /* unsent bytes before a reader is "too slow" */
#define REPLAY_LOW (64 * 1024)         /* a lagging connection pulls more below this */
#define REPLAY_BATCH 200               /* events per replay pull */
#define SEND_BUFFER (128 * 1024)       /* SO_SNDBUF of each socket (the kernel doubles it) */
#define READ_BUDGET (64 * 1024)        /* bytes read from one socket per wake-up (fairness) */
#define HELLO_MS 10000                 /* the hello must come this soon */
#define PING_MS 30000                  /* a ping this long after the last one */
#define IDLE_MS 75000                  /* closed after this long without a byte from the client */
#define CLOSE_WAIT_MS 3000             /* after our close frame, how long the client may take */
#define STOP_WAIT_MS 2000              /* hub_stop: how long closes may take to go out */
#define SWEEP_MS 1000                  /* timers and a safety fan-out this often */
#define MAX_ROOM_ID 100                /* characters of a room id in a typing request */
#define MAX_ROOM_MEMBERS 1000          /* typing relays to at most this many members */
#define USER_ID_MAX 37

enum conn_state {
    CONN_HELLO,   /* waiting for {"type":"hello"} */
    CONN_LAGGING, /* replaying from the store up to hub->last */
    CONN_LIVE,    /* gets the fan-out */
    CONN_CLOSING, /* our close frame is queued; reads are drained until the peer closes */
};

struct huser;

struct conn {
    struct hub *hub;
    int fd; /* -1: a test connection with no socket */
    struct MHD_UpgradeResponseHandle *urh;
    wslay_event_context_ptr ws;
    struct huser *user; /* after hello, until closing */
    struct conn *unext, *uprev; /* the user's connections */
    struct conn *next, *prev;   /* all connections */
    struct conn *pnext, **ppprev; /* the pending list (something to send or to pull) */
    char *in; /* bytes read before the hub got the socket (MHD's extra), or test input */
    size_t in_len, in_off;
    size_t read_budget;
    int64_t cursor; /* lagging: the last event id queued */
    int64_t opened_ms, last_recv_ms, last_ping_ms, last_typing_ms, close_by_ms;
    uint32_t epoll_mask;
    uint8_t state;
    bool io_failed;      /* the last read failed at the socket (EOF, reset), not in a frame */
    /* Where wslay is in the client's byte stream (see conn_park). */
    bool in_frame, in_fragments;
    uint64_t rx_bytes;  /* bytes handed to wslay */
    uint64_t rx_framed; /* bytes of the frames wslay has finished */
    uint64_t frame_len; /* header + payload of the frame being read */
    uint16_t close_code; /* what we closed with (tests) */
};

struct huser {
    char id[USER_ID_MAX];
    char *name;
    struct conn *conns;
    struct huser *next; /* hash chain */
};

struct adopt {
    int fd;
    char *extra;
    size_t extra_len;
    struct MHD_UpgradeResponseHandle *urh;
    struct adopt *next;
};

struct hub {
    struct server *srv;
    int epfd;
    pthread_t thread;
    bool threaded;
    atomic_bool stopping;
    int64_t last; /* the newest event fanned out */
    struct conn *conns;
    struct conn *pending;
    struct huser **users;
    size_t nbuckets, nusers;
    atomic_size_t nconns;
    size_t max_conns;
    int hello_ms, ping_ms, idle_ms, close_wait_ms;
    /* Sockets handed over by MHD's threads (under adopt_lock). */
    struct adopt *adopt_head, **adopt_tail;
    struct calls *calls; /* the calls in progress (calls.h) */
};

/*
 * One hub per process, like http.c's daemon: hub_notify() may run in a
 * handler while hub_stop() is under way, so what it touches (the eventfd)
 * outlives every stop. adopt_lock guards srv->hub for the upgrade callback
 * and the hub's adopt queue.
 */
static struct hub the_hub = {.epfd = -1};
static atomic_int wake_fd = -1;
static pthread_mutex_t adopt_lock = PTHREAD_MUTEX_INITIALIZER;
/* The epoll tag of the eventfd (connections are tagged with their struct conn). */
static char wake_tag;

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Users: a chained hash map from user id to their connections. */

static size_t hash_id(const char *s)
{
    size_t h = 14695981039346656037u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static struct huser *user_get(struct hub *hub, const char *id)
{
    if (!hub->nbuckets)
        return NULL;
    for (struct huser *u = hub->users[hash_id(id) & (hub->nbuckets - 1)]; u; u = u->next)
        if (strcmp(u->id, id) == 0)
            return u;
    return NULL;
}

static void users_grow(struct hub *hub)
{
    size_t n = hub->nbuckets ? hub->nbuckets * 2 : 64;
    struct huser **b = xcalloc(n, sizeof(*b));

    for (size_t i = 0; i < hub->nbuckets; i++) {
        struct huser *u = hub->users[i], *next;
        for (; u; u = next) {
            size_t k = hash_id(u->id) & (n - 1);
            next = u->next;
            u->next = b[k];
            b[k] = u;
        }
    }
    free(hub->users);
    hub->users = b;
    hub->nbuckets = n;
}

static struct huser *user_add(struct hub *hub, const char *id, const char *name)
{
    struct huser *u = user_get(hub, id);
    size_t k;

    if (u) {
        if (strcmp(u->name, name) != 0) {
            free(u->name);
            u->name = xstrdup(name);
        }
        return u;
    }
    if (hub->nusers >= hub->nbuckets)
        users_grow(hub);
    u = xcalloc(1, sizeof(*u));
    snprintf(u->id, sizeof(u->id), "%s", id);
    u->name = xstrdup(name);
    k = hash_id(id) & (hub->nbuckets - 1);
    u->next = hub->users[k];
    hub->users[k] = u;
    hub->nusers++;
    return u;
}

static void user_remove_if_empty(struct hub *hub, struct huser *u)
{
    struct huser **pp;

    if (u->conns)
        return;
    for (pp = &hub->users[hash_id(u->id) & (hub->nbuckets - 1)]; *pp; pp = &(*pp)->next) {
        if (*pp == u) {
            *pp = u->next;
            hub->nusers--;
            free(u->name);
            free(u);
            return;
        }
    }
}

static void conn_attach_user(struct conn *c, struct huser *u)
{
    c->user = u;
    c->uprev = NULL;
    c->unext = u->conns;
    if (u->conns)
        u->conns->uprev = c;
    u->conns = c;
}

static void conn_detach_user(struct conn *c)
{
    struct huser *u = c->user;

    if (!u)
        return;
    if (c->uprev)
        c->uprev->unext = c->unext;
    else
        u->conns = c->unext;
    if (c->unext)
        c->unext->uprev = c->uprev;
    c->user = NULL;
    c->unext = c->uprev = NULL;
    user_remove_if_empty(c->hub, u);
    /* Out of the user's list first: what the call's end sends does not come back to c. */
    calls_conn_gone(c->hub->calls, c);
}

/* The pending list: connections to flush or to pull replay for, at the next turn. */

static void pending_add(struct conn *c)
{
    struct hub *hub = c->hub;

    if (c->ppprev)
        return;
    c->pnext = hub->pending;
    if (hub->pending)
        hub->pending->ppprev = &c->pnext;
    c->ppprev = &hub->pending;
    hub->pending = c;
}

static void pending_remove(struct conn *c)
{
    if (!c->ppprev)
        return;
    *c->ppprev = c->pnext;
    if (c->pnext)
        c->pnext->ppprev = c->ppprev;
    c->pnext = NULL;
    c->ppprev = NULL;
}

/* wslay's I/O callbacks: the bytes MHD read past the request first, then the socket. */

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user_data)
{
    struct conn *c = user_data;
    ssize_t n;

    if (c->in) {
        n = (ssize_t)(c->in_len - c->in_off < len ? c->in_len - c->in_off : len);
        memcpy(buf, c->in + c->in_off, (size_t)n);
        c->in_off += (size_t)n;
        if (c->in_off == c->in_len) {
            free(c->in);
            c->in = NULL;
        }
        c->last_recv_ms = now_ms();
        c->rx_bytes += (uint64_t)n;
        return n;
    }
    if (c->fd < 0 || c->read_budget == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (len > c->read_budget)
        len = c->read_budget;
    do
        n = recv(c->fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        c->read_budget -= (size_t)n;
        c->last_recv_ms = now_ms();
        c->rx_bytes += (uint64_t)n;
        return n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    } else {
        c->io_failed = true; /* EOF or a reset */
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    }
    return -1;
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user_data)
{
    struct conn *c = user_data;
    ssize_t n;

    if (c->fd < 0)
        return (ssize_t)len; /* a test connection: what it sends is dropped */
    do
        n = send(c->fd, data, len, MSG_NOSIGNAL | (flags & WSLAY_MSG_MORE ? MSG_MORE : 0));
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static int ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user_data)
{
    memset(buf, 0, len); /* only clients mask; the hub is a server */
    return 0;
}

static wslay_event_context_ptr conn_ws(struct conn *c);

/* Starts the closing handshake: the close frame goes out before anything still queued. */
static void conn_close(struct conn *c, uint16_t code, const char *reason)
{
    if (c->state == CONN_CLOSING)
        return;
    c->state = CONN_CLOSING;
    c->close_code = code;
    c->close_by_ms = now_ms() + c->hub->close_wait_ms;
    conn_detach_user(c);
    wslay_event_queue_close(conn_ws(c), code, (const uint8_t *)reason, strlen(reason));
    pending_add(c);
}

/* Queues a text message; a reader that lets too much pile up is closed. */
static void conn_queue_text(struct conn *c, const char *text, size_t len)
{
    struct wslay_event_msg msg = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};

    if (c->state == CONN_CLOSING)
        return;
    if (wslay_event_queue_msg(conn_ws(c), &msg) != 0) {
        conn_close(c, WSLAY_CODE_INTERNAL_SERVER_ERROR, "cannot queue");
        return;
    }
    if (wslay_event_get_queued_msg_length(c->ws) > MAX_QUEUED) {
        conn_close(c, WSLAY_CODE_POLICY_VIOLATION, "too slow");
        return;
    }
    pending_add(c);
}

/* Replay: one batch of the user's events after the cursor, up to hub->last. */
struct replay {
    struct conn *c;
    int n;
};

static void replay_one(int64_t id, const char *json, size_t len, void *arg)
{
    struct replay *rp = arg;

    rp->c->cursor = id;
    conn_queue_text(rp->c, json, len);
}

static int replay_read(struct store_tx *tx, void *arg)
{
    struct replay *rp = arg;
    struct conn *c = rp->c;
    int n = events_for_user(tx, c->user->id, c->cursor, c->hub->last, REPLAY_BATCH, replay_one, rp);

    if (n < 0)
        return n;
    rp->n = n;
    return 0;
}

static void conn_replay(struct conn *c)
{
    struct replay rp = {.c = c};
    int r = store_read(c->hub->srv->store, replay_read, &rp);

    if (r < 0) {
        st_warn("websocket replay for '%s' failed: %s", c->user->id, strerror(-r));
        conn_close(c, WSLAY_CODE_INTERNAL_SERVER_ERROR, "try again");
        return;
    }
    if (c->state == CONN_LAGGING && rp.n < REPLAY_BATCH)
        c->state = CONN_LIVE; /* every event up to hub->last is queued: the fan-out takes over */
}

/* Typing: relayed to the room's other members if the sender is one. */
struct room_members {
    const char *room_id;
    const char *self;
    bool member;
    char (*ids)[USER_ID_MAX];
    size_t n;
};

static int members_read(struct store_tx *tx, void *arg)
{
    struct room_members *rm = arg;
    struct store_stmt *st =
        store_prepare(tx, "SELECT user_id FROM room_members WHERE room_id = ? LIMIT ?");
    int r;

    store_bind_text(st, 1, rm->room_id);
    store_bind_int(st, 2, MAX_ROOM_MEMBERS);
    while ((r = store_step(st)) == 1) {
        const char *id = store_col_text(st, 0);
        if (!id)
            continue;
        if (strcmp(id, rm->self) == 0)
            rm->member = true;
        else if (rm->n < MAX_ROOM_MEMBERS)
            snprintf(rm->ids[rm->n++], USER_ID_MAX, "%s", id);
    }
    return r < 0 ? r : 0;
}

static void conn_typing(struct conn *c, const char *room_id)
{
    struct hub *hub = c->hub;
    struct room_members rm = {.room_id = room_id, .self = c->user->id};
    int64_t now = now_ms();
    json_t *ev;
    char *text;
    size_t len;

    if (c->last_typing_ms && now - c->last_typing_ms < 1000)
        return; /* at most one a second; the rest are dropped */
    c->last_typing_ms = now;
    rm.ids = xmalloc(sizeof(*rm.ids) * MAX_ROOM_MEMBERS);
    if (store_read(hub->srv->store, members_read, &rm) < 0 || !rm.member)
        goto out; /* a room the sender is not in: as if it did not exist */
    ev = json_pack("{s:n,s:s,s:s,s:{s:s,s:s}}", "id", "type", "typing", "room_id", room_id,
                   "user", "id", c->user->id, "name", c->user->name);
    text = ev ? json_dumps(ev, JSON_COMPACT) : NULL;
    json_decref(ev);
    if (!text)
        goto out;
    len = strlen(text);
    for (size_t i = 0; i < rm.n; i++) {
        struct huser *u = user_get(hub, rm.ids[i]);
        for (struct conn *o = u ? u->conns : NULL; o; o = o->unext)
            conn_queue_text(o, text, len);
    }
    free(text);
out:
    free(rm.ids);
}

/* The send functions of calls.h. */
static void calls_to_conn(void *arg, void *conn, const char *text, size_t len)
{
    conn_queue_text(conn, text, len);
}

static void calls_to_user(void *arg, const char *user_id, const void *except, const char *text,
                          size_t len)
{
    struct huser *u = user_get(arg, user_id);

    for (struct conn *o = u ? u->conns : NULL, *next; o; o = next) {
        next = o->unext; /* a slow reader leaves the list */
        if (o != except)
            conn_queue_text(o, text, len);
    }
}

static const struct st_json_field hello_fields[] = {
    {"type", ST_JSON_STRING, true, false, 1, 16},
    {"token", ST_JSON_STRING, true, false, 1, 200},
    {"since", ST_JSON_STRING, false, true, 1, 19},
    {0},
};

static const struct st_json_field typing_fields[] = {
    {"type", ST_JSON_STRING, true, false, 1, 16},
    {"room_id", ST_JSON_STRING, true, false, 1, MAX_ROOM_ID},
    {0},
};

/* `since`: a string of digits; NULL or absent is "from now". -1 when malformed. */
static int64_t parse_since(const char *s)
{
    int64_t v = 0;

    if (!s)
        return INT64_MAX;
    if (!*s || strlen(s) > 18)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

static void conn_hello(struct conn *c, json_t *msg)
{
    struct hub *hub = c->hub;
    char err[160], welcome[160];
    struct user u;
    int64_t since;
    int n;

    if (st_json_check(msg, hello_fields, err, sizeof(err)) < 0 ||
        (since = parse_since(st_json_str(msg, "since", NULL))) < 0) {
        conn_close(c, WSLAY_CODE_POLICY_VIOLATION, "bad hello");
        return;
    }
    if (auth_user_from_token(hub->srv, json_string_value(json_object_get(msg, "token")), &u) < 0) {
        conn_close(c, WSLAY_CODE_POLICY_VIOLATION, "bad token");
        return;
    }
    conn_attach_user(c, user_add(hub, u.id, u.name));
    n = snprintf(welcome, sizeof(welcome),
                 "{\"type\":\"welcome\",\"user_id\":\"%s\",\"last_event_id\":\"%lld\"}", u.id,
                 (long long)hub->last);
    c->last_ping_ms = now_ms();
    /* A `since` past the live position (a store restored from a backup) starts live. */
    if (since < hub->last) {
        c->state = CONN_LAGGING;
        c->cursor = since;
    } else {
        c->state = CONN_LIVE;
    }
    conn_queue_text(c, welcome, (size_t)n);
}

/* A whole text message from the client. */
static void conn_message(struct conn *c, const uint8_t *data, size_t len)
{
    char err[160];
    json_t *msg;
    const char *type;

    if (c->state == CONN_CLOSING)
        return;
    if (!st_utf8_valid((const char *)data, len)) {
        conn_close(c, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, "not UTF-8");
        return;
    }
    msg = st_json_parse_object((const char *)data, len, err, sizeof(err));
    type = msg ? st_json_str(msg, "type", NULL) : NULL;
    if (!type) {
        conn_close(c, WSLAY_CODE_POLICY_VIOLATION, "not a request");
    } else if (c->state == CONN_HELLO) {
        if (strcmp(type, "hello") == 0)
            conn_hello(c, msg);
        else
            conn_close(c, WSLAY_CODE_POLICY_VIOLATION, "hello first");
    } else if (strcmp(type, "typing") == 0 &&
               st_json_check(msg, typing_fields, err, sizeof(err)) == 0) {
        conn_typing(c, json_string_value(json_object_get(msg, "room_id")));
    } else if (strncmp(type, "call.", 5) == 0) {
        /* Calls answer every request on the socket, a bad one with call.error: never a close. */
        calls_request(c->hub->calls, c, c->user->id, c->user->name, type, msg, len);
    } else {
        conn_close(c, WSLAY_CODE_POLICY_VIOLATION, "unknown request");
    }
    json_decref(msg);
}

static void ws_on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                      void *user_data)
{
    struct conn *c = user_data;

    if (arg->opcode == WSLAY_TEXT_FRAME)
        conn_message(c, arg->msg, arg->msg_length);
    else if (arg->opcode == WSLAY_BINARY_FRAME && c->state != CONN_CLOSING)
        conn_close(c, WSLAY_CODE_POLICY_VIOLATION, "text only");
    else if (arg->opcode == WSLAY_CONNECTION_CLOSE)
        pending_add(c); /* wslay queued the answer */
    /* Pings are answered by wslay; pongs only count as life (last_recv_ms). */
}

/* Frame boundaries, so that an idle connection can give its context back (conn_park). */
static void ws_on_frame_start(wslay_event_context_ptr ctx,
                              const struct wslay_event_on_frame_recv_start_arg *arg, void *user_data)
{
    struct conn *c = user_data;
    uint64_t n = arg->payload_length;

    /* Client frames are masked (wslay refuses others): 2 + extended length + 4. */
    c->frame_len = 2 + (n > 65535 ? 8 : n > 125 ? 2 : 0) + 4 + n;
    c->in_frame = true;
    if ((arg->opcode == WSLAY_TEXT_FRAME || arg->opcode == WSLAY_BINARY_FRAME) && !arg->fin)
        c->in_fragments = true;
    else if (arg->opcode == WSLAY_CONTINUATION_FRAME && arg->fin)
        c->in_fragments = false;
}

static void ws_on_frame_end(wslay_event_context_ptr ctx, void *user_data)
{
    struct conn *c = user_data;

    c->in_frame = false;
    c->rx_framed += c->frame_len;
}

static const struct wslay_event_callbacks ws_callbacks = {
    .recv_callback = ws_recv,
    .send_callback = ws_send,
    .genmask_callback = ws_genmask,
    .on_frame_recv_start_callback = ws_on_frame_start,
    .on_frame_recv_end_callback = ws_on_frame_end,
    .on_msg_recv_callback = ws_on_msg,
};

static wslay_event_context_ptr ws_new(struct conn *c)
{
    wslay_event_context_ptr ws;

    if (wslay_event_context_server_init(&ws, &ws_callbacks, c) != 0)
        abort(); /* only on out of memory */
    wslay_event_config_set_max_recv_msg_length(ws, MAX_MSG);
    return ws;
}

/* The connection's wslay context, made again if it was parked. */
static wslay_event_context_ptr conn_ws(struct conn *c)
{
    if (!c->ws)
        c->ws = ws_new(c);
    return c->ws;
}

/*
 * Gives an idle live connection's wslay context back (~9 KB, most of what
 * an idle connection costs) when it holds nothing: no message queued or
 * half sent, no close under way, and the client's stream at a frame
 * boundary (every byte handed to wslay belongs to a finished frame, and no
 * fragmented message is open). conn_ws() makes a fresh one when the
 * connection next reads or sends; a fresh context is in exactly the state
 * the old one was.
 */
static void conn_park(struct conn *c)
{
    if (!c->ws || c->state != CONN_LIVE || c->in || c->in_frame || c->in_fragments ||
        c->rx_bytes != c->rx_framed || wslay_event_want_write(c->ws) ||
        wslay_event_get_queued_msg_count(c->ws) != 0 || wslay_event_get_close_sent(c->ws) ||
        wslay_event_get_close_received(c->ws) || !wslay_event_get_read_enabled(c->ws) ||
        !wslay_event_get_write_enabled(c->ws))
        return;
    wslay_event_context_free(c->ws);
    c->ws = NULL;
}

static struct conn *conn_new(struct hub *hub, int fd, const char *extra, size_t extra_len,
                             struct MHD_UpgradeResponseHandle *urh)
{
    struct conn *c = xcalloc(1, sizeof(*c));

    c->hub = hub;
    c->fd = fd;
    c->urh = urh;
    c->ws = ws_new(c);
    if (extra_len) {
        c->in = xmalloc(extra_len);
        memcpy(c->in, extra, extra_len);
        c->in_len = extra_len;
    }
    c->opened_ms = c->last_recv_ms = now_ms();
    c->next = hub->conns;
    if (hub->conns)
        hub->conns->prev = c;
    hub->conns = c;
    atomic_fetch_add(&hub->nconns, 1);
    return c;
}

/* Forgets a connection at once: no more frames either way. */
static void conn_drop(struct conn *c)
{
    struct hub *hub = c->hub;

    pending_remove(c);
    conn_detach_user(c);
    if (c->fd >= 0) {
        epoll_ctl(hub->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        /* The shutdown tells the peer now; the descriptor is the hub's own
         * (see hub_adopt_one) unless MHD still holds the connection. */
        shutdown(c->fd, SHUT_RDWR);
        if (!c->urh)
            close(c->fd);
    }
    if (c->urh)
        http_upgrade_close(c->urh);
    if (c->prev)
        c->prev->next = c->next;
    else
        hub->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->ws)
        wslay_event_context_free(c->ws);
    free(c->in);
    free(c);
    atomic_fetch_sub(&hub->nconns, 1);
}

/*
 * Sends what is queued, pulls replay when it is short, and keeps the epoll
 * interest in step. Returns false when the connection is gone (dropped).
 */
static bool conn_pump(struct conn *c)
{
    struct hub *hub = c->hub;
    uint32_t mask;

    conn_ws(c);
    for (int round = 0; round < 4; round++) {
        if (c->state == CONN_LAGGING && wslay_event_get_queued_msg_length(c->ws) < REPLAY_LOW)
            conn_replay(c);
        if (wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0) {
            conn_drop(c);
            return false;
        }
        if (c->state != CONN_LAGGING || wslay_event_want_write(c->ws))
            break;
    }
    /* Both closes done, or a side that cannot go on: the connection is over. */
    if ((wslay_event_get_close_sent(c->ws) && wslay_event_get_close_received(c->ws)) ||
        (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws))) {
        conn_drop(c);
        return false;
    }
    /* Still lagging with room in the queue: another pull at the next turn. */
    if (c->state == CONN_LAGGING && !wslay_event_want_write(c->ws))
        pending_add(c);
    conn_park(c);
    if (c->fd < 0)
        return true;
    /* A parked connection only reads. */
    mask = !c->ws ? EPOLLIN
                  : (wslay_event_want_read(c->ws) ? EPOLLIN : 0) |
                        (wslay_event_want_write(c->ws) ? EPOLLOUT : 0);
    if (mask != c->epoll_mask) {
        struct epoll_event ev = {.events = mask, .data.ptr = c};
        epoll_ctl(hub->epfd, EPOLL_CTL_MOD, c->fd, &ev);
        c->epoll_mask = mask;
    }
    return true;
}

/*
 * wslay_event_recv failed. A frame header that breaks RFC 6455 (a control
 * frame fragmented or over 125 bytes, a length past 2^63) fails in wslay's
 * frame layer, which queues a close without a code; the client is owed
 * 1002. When nothing of ours was half sent, a fresh context sends it.
 * Returns false when the connection is gone (dropped).
 */
static bool conn_recv_failed(struct conn *c, bool was_idle)
{
    if (c->io_failed || !was_idle || c->state == CONN_CLOSING) {
        conn_drop(c);
        return false;
    }
    wslay_event_context_free(c->ws);
    c->ws = ws_new(c);
    wslay_event_shutdown_read(c->ws);
    conn_close(c, WSLAY_CODE_PROTOCOL_ERROR, "");
    return conn_pump(c);
}

/* Reads what the socket has (up to the budget); false when the connection is gone. */
static bool conn_read(struct conn *c)
{
    bool was_idle = !wslay_event_want_write(conn_ws(c));

    c->read_budget = READ_BUDGET;
    c->io_failed = false;
    if (wslay_event_recv(c->ws) != 0)
        return conn_recv_failed(c, was_idle);
    return conn_pump(c);
}

/* Fan-out: the events after hub->last to the live connections of their recipients. */
static void fanout_one(int64_t id, const char *user_id, const char *json, size_t len, void *arg)
{
    struct huser *u = user_get(arg, user_id);

    for (struct conn *c = u ? u->conns : NULL, *next; c; c = next) {
        next = c->unext; /* a slow reader leaves the list */
        if (c->state == CONN_LIVE)
            conn_queue_text(c, json, len);
    }
}

static int fanout_read(struct store_tx *tx, void *arg)
{
    struct hub *hub = arg;
    int64_t upto = events_last_id(tx);
    int n;

    if (upto < 0)
        return (int)upto;
    if (upto <= hub->last)
        return 0;
    n = events_fanout(tx, hub->last, upto, INT32_MAX, fanout_one, hub);
    if (n < 0)
        return n;
    hub->last = upto;
    return 0;
}

static void hub_fanout(struct hub *hub)
{
    int r = store_read(hub->srv->store, fanout_read, hub);

    if (r < 0)
        st_warn("websocket fan-out failed (retried): %s", strerror(-r));
}

/* Handles everything on the pending list once (what is added meanwhile waits a turn). */
static void hub_run_pending(struct hub *hub)
{
    struct conn *list = hub->pending;

    if (list)
        list->ppprev = &list;
    hub->pending = NULL;
    while (list) {
        struct conn *c = list;
        pending_remove(c);
        conn_pump(c);
    }
}

static void hub_adopt_one(struct hub *hub, struct adopt *a)
{
    struct conn *c;
    struct epoll_event ev = {.events = EPOLLIN};
    bool refuse = atomic_load(&hub->nconns) >= hub->max_conns;
    int fl = fcntl(a->fd, F_GETFL);

    if (fl < 0 || fcntl(a->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        http_upgrade_close(a->urh);
        return;
    }
    /* A fixed send buffer: no autotuning to megabytes per socket, and "1 MiB
     * waiting" means about that, not that plus what the kernel holds. */
    setsockopt(a->fd, SOL_SOCKET, SO_SNDBUF, &(int){SEND_BUFFER}, sizeof(int));
    {
        /*
         * The hub owns a duplicate of the socket and hands libmicrohttpd's
         * back at once, so that it frees its connection (and the memory pool
         * it keeps per connection) now rather than when the WebSocket ends:
         * about 20 KB less per idle connection. The socket stays open while
         * our descriptor does; conn_drop closes it.
         */
        int own = fcntl(a->fd, F_DUPFD_CLOEXEC, 3);
        http_upgrade_close(a->urh);
        a->urh = NULL;
        if (own < 0)
            return;
        a->fd = own;
    }
    c = conn_new(hub, a->fd, a->extra, a->extra_len, a->urh);
    ev.data.ptr = c;
    c->epoll_mask = EPOLLIN;
    if (epoll_ctl(hub->epfd, EPOLL_CTL_ADD, a->fd, &ev) < 0) {
        c->fd = -1; /* never in the set */
        conn_drop(c);
        return;
    }
    if (refuse) {
        conn_close(c, 1013, "try again later");
        c->close_by_ms = now_ms() + 1000;
    }
    if (c->in)
        conn_read(c);
}

static void hub_adopt_all(struct hub *hub)
{
    struct adopt *a;

    pthread_mutex_lock(&adopt_lock);
    a = hub->adopt_head;
    hub->adopt_head = NULL;
    hub->adopt_tail = &hub->adopt_head;
    pthread_mutex_unlock(&adopt_lock);
    while (a) {
        struct adopt *next = a->next;
        if (atomic_load(&hub->stopping))
            http_upgrade_close(a->urh);
        else
            hub_adopt_one(hub, a);
        free(a->extra);
        free(a);
        a = next;
    }
}

/* Timers: hello, idle and close deadlines, pings. */
static void hub_sweep(struct hub *hub, int64_t now)
{
    calls_tick(hub->calls, server_now(hub->srv));
    for (struct conn *c = hub->conns, *next; c; c = next) {
        next = c->next;
        if (c->state == CONN_CLOSING) {
            if (now >= c->close_by_ms)
                conn_drop(c);
        } else if (c->state == CONN_HELLO && now - c->opened_ms >= hub->hello_ms) {
            conn_close(c, WSLAY_CODE_POLICY_VIOLATION, "no hello");
        } else if (now - c->last_recv_ms >= hub->idle_ms) {
            conn_close(c, WSLAY_CODE_POLICY_VIOLATION, "idle");
        } else if (c->state != CONN_HELLO && now - c->last_ping_ms >= hub->ping_ms) {
            struct wslay_event_msg ping = {WSLAY_PING, NULL, 0};
            c->last_ping_ms = now;
            if (wslay_event_queue_msg(conn_ws(c), &ping) == 0)
                pending_add(c);
        }
    }
}

static void hub_stop_all(struct hub *hub)
{
    int64_t until = now_ms() + STOP_WAIT_MS;

    for (struct conn *c = hub->conns; c; c = c->next) {
        conn_close(c, WSLAY_CODE_GOING_AWAY, "server stopping");
        if (c->close_by_ms > until)
            c->close_by_ms = until;
    }
}

static void *hub_main(void *arg)
{
    struct hub *hub = arg;
    struct epoll_event evs[256];
    int64_t next_sweep = now_ms() + SWEEP_MS;
    int sweep_ms = SWEEP_MS;
    bool stopping = false;

    /* Timers shortened for the tests need a finer sweep. */
    if (hub->hello_ms / 2 < sweep_ms)
        sweep_ms = hub->hello_ms / 2;
    if (hub->ping_ms / 2 < sweep_ms)
        sweep_ms = hub->ping_ms / 2;
    if (hub->idle_ms / 4 < sweep_ms)
        sweep_ms = hub->idle_ms / 4;
    if (sweep_ms < 10)
        sweep_ms = 10;
    for (;;) {
        int64_t now = now_ms();
        int timeout = hub->pending ? 0 : (int)(next_sweep > now ? next_sweep - now : 0);
        int n = epoll_wait(hub->epfd, evs, 256, timeout);

        if (n < 0 && errno != EINTR) {
            st_error("websocket hub: epoll_wait: %s", strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            bool alive;
            if ((void *)c == (void *)&wake_tag) {
                uint64_t v;
                if (read(atomic_load(&wake_fd), &v, sizeof(v)) < 0 && errno != EAGAIN)
                    st_warn("websocket hub: eventfd: %s", strerror(errno));
                continue;
            }
            if (!c)
                continue; /* dropped earlier in this batch */
            alive = true;
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
                alive = conn_read(c);
            if (alive && (evs[i].events & EPOLLOUT))
                alive = conn_pump(c);
            /* The peer is gone: what is left to send cannot arrive. */
            if (alive && (evs[i].events & (EPOLLERR | EPOLLHUP))) {
                conn_drop(c);
                alive = false;
            }
            if (!alive)
                for (int j = i + 1; j < n; j++)
                    if (evs[j].data.ptr == c)
                        evs[j].data.ptr = NULL;
        }
        if (!stopping && atomic_load(&hub->stopping)) {
            stopping = true;
            hub_stop_all(hub);
        }
        hub_adopt_all(hub);
        if (!stopping)
            hub_fanout(hub);
        hub_run_pending(hub);
        now = now_ms();
        if (now >= next_sweep || stopping) {
            hub_sweep(hub, now);
            next_sweep = now + (stopping ? 50 : sweep_ms);
        }
        if (stopping && !hub->conns)
            break;
    }
    while (hub->conns)
        conn_drop(hub->conns);
    return NULL;
}

static int env_ms(const char *name, int def)
{
    const char *s = getenv(name);
    long v;
    char *end;

    if (!s || !*s)
        return def;
    v = strtol(s, &end, 10);
    return *end || v < 10 || v > 3600000 ? def : (int)v;
}

/* Sets up the_hub's state (no thread); 0 or a negative errno. */
static int hub_init(struct hub *hub, struct server *srv)
{
    int fd;

    memset(hub, 0, sizeof(*hub));
    hub->srv = srv;
    hub->epfd = -1;
    hub->adopt_tail = &hub->adopt_head;
    hub->max_conns = srv->cfg.ws_max_connections > 0 ? (size_t)srv->cfg.ws_max_connections : 20000;
    /* Hidden, for the tests: shorter timers than a user would want. */
    hub->hello_ms = env_ms("STINTD_WS_HELLO_TIMEOUT_MS", HELLO_MS);
    hub->ping_ms = env_ms("STINTD_WS_PING_MS", PING_MS);
    hub->idle_ms = env_ms("STINTD_WS_IDLE_MS", IDLE_MS);
    hub->close_wait_ms = env_ms("STINTD_WS_CLOSE_WAIT_MS", CLOSE_WAIT_MS);
    hub->calls = calls_new(srv, &(struct calls_out){hub, calls_to_conn, calls_to_user});
    if (atomic_load(&wake_fd) < 0) {
        fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0)
            return -errno;
        atomic_store(&wake_fd, fd);
    }
    return 0;
}

/* Calls the store holds as in progress were cut by the last stop. */
static int hub_recover_calls(struct store_tx *tx, void *arg)
{
    return calls_recover(tx, server_now(arg));
}

static int hub_read_last(struct store_tx *tx, void *arg)
{
    int64_t *last = arg;
    int64_t v = events_last_id(tx);

    if (v < 0)
        return (int)v;
    *last = v;
    return 0;
}

int hub_start(struct server *srv)
{
    struct hub *hub = &the_hub;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &wake_tag};
    int r;

    if ((r = hub_init(hub, srv)) < 0)
        return r;
    if ((r = store_write(srv->store, hub_recover_calls, srv)) < 0 ||
        (r = store_read(srv->store, hub_read_last, &hub->last)) < 0) {
        calls_free(hub->calls);
        hub->calls = NULL;
        return r;
    }
    hub->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (hub->epfd < 0)
        return -errno;
    if (epoll_ctl(hub->epfd, EPOLL_CTL_ADD, atomic_load(&wake_fd), &ev) < 0 ||
        (r = -pthread_create(&hub->thread, NULL, hub_main, hub)) < 0) {
        r = r < 0 ? r : -errno;
        close(hub->epfd);
        hub->epfd = -1;
        return r;
    }
    hub->threaded = true;
    pthread_mutex_lock(&adopt_lock);
    srv->hub = hub;
    pthread_mutex_unlock(&adopt_lock);
    return 0;
}

void hub_stop(struct server *srv)
{
    struct hub *hub;

    pthread_mutex_lock(&adopt_lock);
    hub = srv->hub;
    srv->hub = NULL; /* upgrades from now on are closed at once (ws_upgraded) */
    pthread_mutex_unlock(&adopt_lock);
    if (!hub)
        return;
    atomic_store(&hub->stopping, true);
    hub_notify(hub);
    pthread_join(hub->thread, NULL);
    hub->threaded = false;
    hub_adopt_all(hub); /* any handed over after the thread's last look */
    for (size_t i = 0; i < hub->nbuckets; i++)
        while (hub->users[i]) {
            struct huser *u = hub->users[i];
            hub->users[i] = u->next;
            free(u->name);
            free(u);
        }
    free(hub->users);
    hub->users = NULL;
    hub->nbuckets = hub->nusers = 0;
    calls_free(hub->calls);
    hub->calls = NULL;
    close(hub->epfd);
    hub->epfd = -1;
}

void hub_notify(struct hub *hub)
{
    uint64_t one = 1;
    int fd = atomic_load(&wake_fd);

    if (!hub || fd < 0)
        return;
    if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        st_warn("cannot wake the websocket hub: %s", strerror(errno));
}

size_t hub_connections(struct hub *hub)
{
    return hub ? atomic_load(&hub->nconns) : 0;
}

/* The upgrade callback (on an MHD thread): hands the socket to the hub thread. */
static void ws_upgraded(void *cls, int fd, const char *extra, size_t extra_len,
                        struct MHD_UpgradeResponseHandle *urh)
{
    struct server *srv = cls;
    struct adopt *a;

    pthread_mutex_lock(&adopt_lock);
    if (!srv->hub) {
        pthread_mutex_unlock(&adopt_lock);
        http_upgrade_close(urh);
        return;
    }
    a = xcalloc(1, sizeof(*a));
    a->fd = fd;
    a->urh = urh;
    if (extra_len) { /* bounded by MHD's connection memory (32 KiB by default) */
        a->extra = xmalloc(extra_len);
        memcpy(a->extra, extra, extra_len);
        a->extra_len = extra_len;
    }
    *srv->hub->adopt_tail = a;
    srv->hub->adopt_tail = &a->next;
    pthread_mutex_unlock(&adopt_lock);
    hub_notify(srv->hub);
}

/* True when the comma-separated header value holds token (case-insensitive). */
static bool header_has_token(const char *value, const char *token)
{
    size_t tl = strlen(token);

    while (value && *value) {
        const char *end;
        size_t n;
        while (*value == ' ' || *value == '\t' || *value == ',')
            value++;
        end = strchr(value, ',');
        n = end ? (size_t)(end - value) : strlen(value);
        while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
            n--;
        if (n == tl && strncasecmp(value, token, tl) == 0)
            return true;
        value = end;
    }
    return false;
}

/* The Sec-WebSocket-Accept of a key that decodes to 16 bytes; false for any other key. */
static bool ws_accept_key(const char *key, char ret_accept[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1])
{
    struct base64_decode_ctx dec;
    uint8_t raw[BASE64_DECODE_LENGTH(24) + 4], digest[SHA1_DIGEST_SIZE];
    size_t rawlen = sizeof(raw);
    struct sha1_ctx sha;

    if (!key || strlen(key) != 24)
        return false;
    base64_decode_init(&dec);
    if (!base64_decode_update(&dec, &rawlen, raw, 24, key) || !base64_decode_final(&dec) ||
        rawlen != 16)
        return false;
    sha1_init(&sha);
    sha1_update(&sha, strlen(key), (const uint8_t *)key);
    sha1_update(&sha, strlen(WS_GUID), (const uint8_t *)WS_GUID);
    sha1_digest(&sha, SHA1_DIGEST_SIZE, digest);
    base64_encode_raw(ret_accept, SHA1_DIGEST_SIZE, digest);
    ret_accept[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE)] = '\0';
    return true;
}

void api_ws(struct http_req *req, struct http_resp *resp)
{
    const char *upgrade = http_header(req, "Upgrade");
    const char *connection = http_header(req, "Connection");
    const char *version = http_header(req, "Sec-WebSocket-Version");
    char accept[BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1];
    bool running;

    if (!header_has_token(upgrade, "websocket") || !header_has_token(connection, "upgrade")) {
        http_add_header(resp, "Upgrade", "websocket");
        http_reply_error(resp, 426, "upgrade_required",
                         "this is a WebSocket endpoint: send 'Upgrade: websocket'");
        return;
    }
    if (!version || strcmp(version, "13") != 0) {
        http_add_header(resp, "Sec-WebSocket-Version", "13");
        http_reply_error(resp, 426, "upgrade_required", "only WebSocket version 13 is spoken");
        return;
    }
    if (!ws_accept_key(http_header(req, "Sec-WebSocket-Key"), accept)) {
        http_reply_error(resp, 400, "invalid_argument",
                         "'Sec-WebSocket-Key' must be 16 bytes in base64");
        return;
    }
    pthread_mutex_lock(&adopt_lock);
    running = req->srv->hub != NULL;
    pthread_mutex_unlock(&adopt_lock);
    if (!running) {
        http_reply_error(resp, 503, "unavailable", "the real-time channel is not running");
        return;
    }
    http_add_header(resp, "Connection", "Upgrade");
    http_add_header(resp, "Sec-WebSocket-Accept", accept);
    http_reply_upgrade(resp, ws_upgraded, req->srv);
}

/* The fuzzer's entry points (hub-test.h). */

struct hub *hub_test_new(struct server *srv)
{
    struct hub *hub = xcalloc(1, sizeof(*hub));

    if (hub_init(hub, srv) < 0 || store_read(srv->store, hub_read_last, &hub->last) < 0) {
        calls_free(hub->calls);
        free(hub);
        return NULL;
    }
    return hub;
}

void hub_test_free(struct hub *hub)
{
    if (!hub)
        return;
    while (hub->conns)
        conn_drop(hub->conns);
    free(hub->users);
    calls_free(hub->calls);
    free(hub);
}

/* Runs a test connection until it has nothing left to do; returns its close code. */
static int test_finish(struct conn *c)
{
    int code;

    for (int i = 0; i < 10000 && c->hub->pending; i++) {
        hub_run_pending(c->hub);
        if (!c->hub->conns)
            break;
    }
    /* The connection list holds c alone, unless it was dropped. */
    if (!c->hub->conns)
        return -1;
    code = c->close_code;
    conn_drop(c);
    return code;
}

static struct conn *test_conn(struct hub *hub, const char *token, const char *since)
{
    struct conn *c = conn_new(hub, -1, NULL, 0, NULL);
    json_t *hello;
    char *text;

    if (!token)
        return c;
    hello = json_pack("{s:s,s:s}", "type", "hello", "token", token);
    if (since)
        json_object_set_new(hello, "since", json_string(since));
    text = json_dumps(hello, JSON_COMPACT);
    conn_message(c, (const uint8_t *)text, strlen(text));
    free(text);
    json_decref(hello);
    return c;
}

int hub_test_frames(struct hub *hub, const char *token, const char *since, const uint8_t *data,
                    size_t len)
{
    struct conn *c = test_conn(hub, token, since);

    hub_fanout(hub);
    if (len) {
        c->in = xmalloc(len);
        memcpy(c->in, data, len);
        c->in_len = len;
    }
    if (!conn_read(c))
        return -1;
    return test_finish(c);
}

int hub_test_message(struct hub *hub, const char *token, const uint8_t *text, size_t len)
{
    struct conn *c = test_conn(hub, token, NULL);

    conn_message(c, text, len);
    return test_finish(c);
}
