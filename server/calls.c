/*
 * Calls (calls.h): the calls in progress, a short list in memory on the
 * hub's thread, and their rows and timeline messages in the store. Every
 * rule is here: membership (a room the user is not in answers exactly as
 * an unknown one), the cap of CALL_MAX_PARTICIPANTS, the ring timeout read
 * from the server's clock, who hears what.
 *
 * Not for: frames and connections (hub.c), ICE servers (turn.c).
 */
#include "server/calls.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/json.h"
#include "lib/log.h"
#include "lib/uuid.h"
#include "lib/xalloc.h"
#include "server/hub.h"
#include "server/messages.h"
#include "server/rooms.h"
#include "server/server.h"
#include "server/store.h"

#define MAX_MEMBERS 1000 /* members told about a call (a room holds at most ROOM_MEMBERS_MAX) */
#define MAX_DECLINED 64  /* declines remembered per call */
#define NAME_MAX_BYTES 400

struct participant {
    char user_id[ST_UUID_LEN + 1];
    char name[NAME_MAX_BYTES];
    void *conn;
    int64_t joined_at;
    bool muted, video, screen;
    /* call.signal rate: a token bucket per participant's connection. */
    double tokens;
    int64_t tokens_at_ms;
};

struct call {
    char id[ST_UUID_LEN + 1];
    char room_id[ROOM_ID_MAX + 1];
    char started_by[ST_UUID_LEN + 1];
    int64_t started_at, answered_at; /* answered_at 0: nobody has joined the starter yet */
    bool ringing;                    /* the others are still being rung */
    struct participant p[CALL_MAX_PARTICIPANTS];
    int np;
    char declined[MAX_DECLINED][ST_UUID_LEN + 1];
    int ndeclined;
    struct call *next;
};

struct calls {
    struct server *srv;
    struct calls_out out;
    struct call *list;
    int depth;   /* calls into the module under way (re-entry through the send functions) */
    void **gone; /* connections that closed meanwhile */
    size_t ngone, gone_cap;
};

struct calls *calls_new(struct server *srv, const struct calls_out *out)
{
    struct calls *calls = xcalloc(1, sizeof(*calls));

    calls->srv = srv;
    calls->out = *out;
    return calls;
}

void calls_free(struct calls *calls)
{
    if (!calls)
        return;
    while (calls->list) {
        struct call *c = calls->list;
        calls->list = c->next;
        free(c);
    }
    free(calls->gone);
    free(calls);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sending. */

static void send_json_conn(struct calls *calls, void *conn, json_t *ev)
{
    char *text = json_dumps(ev, JSON_COMPACT);

    if (text) {
        calls->out.to_conn(calls->out.arg, conn, text, strlen(text));
        free(text);
    }
}

static void send_error(struct calls *calls, void *conn, const char *request, const char *call_id,
                       const char *code, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void send_error(struct calls *calls, void *conn, const char *request, const char *call_id,
                       const char *code, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    json_t *ev;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* The request's type is the client's text: echoed only when short. */
    ev = json_pack("{s:s,s:s,s:s,s:s}", "type", "call.error", "request",
                   strlen(request) <= 40 ? request : "(too long)", "code", code, "message", msg);
    if (call_id)
        json_object_set_new(ev, "call_id", json_string(call_id));
    send_json_conn(calls, conn, ev);
    json_decref(ev);
}

/* The room's members, read now; n is how many fit. */
struct members {
    const char *room_id;
    char (*ids)[ST_UUID_LEN + 1];
    size_t n;
};

static int members_read(struct store_tx *tx, void *arg)
{
    struct members *m = arg;
    struct store_stmt *st =
        store_prepare(tx, "SELECT user_id FROM room_members WHERE room_id = ? LIMIT ?");
    int r;

    store_bind_text(st, 1, m->room_id);
    store_bind_int(st, 2, MAX_MEMBERS);
    while ((r = store_step(st)) == 1) {
        const char *id = store_col_text(st, 0);
        if (id && m->n < MAX_MEMBERS)
            snprintf(m->ids[m->n++], ST_UUID_LEN + 1, "%s", id);
    }
    return r < 0 ? r : 0;
}

static bool is_participant(const struct call *c, const char *user_id)
{
    for (int i = 0; i < c->np; i++)
        if (strcmp(c->p[i].user_id, user_id) == 0)
            return true;
    return false;
}

static bool has_declined(const struct call *c, const char *user_id)
{
    for (int i = 0; i < c->ndeclined; i++)
        if (strcmp(c->declined[i], user_id) == 0)
            return true;
    return false;
}

/*
 * Sends ev to every connection of the room's members, or with
 * only_waiting, of the members not in the call and not declined (those
 * being rung). Returns the number of members of the room (0 when the
 * store could not say).
 */
static size_t to_members(struct calls *calls, const struct call *c, json_t *ev, bool only_waiting,
                         const char *skip)
{
    struct members m = {.room_id = c->room_id};
    char *text = json_dumps(ev, JSON_COMPACT);
    size_t n = 0;

    m.ids = xmalloc(sizeof(*m.ids) * MAX_MEMBERS);
    if (text && store_read(calls->srv->store, members_read, &m) == 0) {
        size_t len = strlen(text);
        n = m.n;
        for (size_t i = 0; i < m.n; i++) {
            if (skip && strcmp(m.ids[i], skip) == 0)
                continue;
            if (only_waiting && (is_participant(c, m.ids[i]) || has_declined(c, m.ids[i])))
                continue;
            calls->out.to_user(calls->out.arg, m.ids[i], NULL, text, len);
        }
    }
    free(text);
    free(m.ids);
    return n;
}

/* Sends ev to the participants' call connections, but not to skip (NULL: all). */
static void to_participants(struct calls *calls, const struct call *c, json_t *ev, const void *skip)
{
    char *text = json_dumps(ev, JSON_COMPACT);

    if (!text)
        return;
    for (int i = 0; i < c->np; i++)
        if (c->p[i].conn != skip)
            calls->out.to_conn(calls->out.arg, c->p[i].conn, text, strlen(text));
    free(text);
}

static json_t *participant_json(const struct participant *p)
{
    return json_pack("{s:s,s:s,s:b,s:b,s:b}", "id", p->user_id, "name", p->name, "muted", p->muted,
                     "video", p->video, "screen", p->screen);
}

static json_t *call_event(const struct call *c, const char *type)
{
    json_t *ps = json_array();

    for (int i = 0; i < c->np; i++)
        json_array_append_new(ps, participant_json(&c->p[i]));
    return json_pack("{s:s,s:s,s:s,s:s,s:I,s:o}", "type", type, "call_id", c->id, "room_id",
                     c->room_id, "started_by", c->started_by, "started_at",
                     (json_int_t)c->started_at, "participants", ps);
}

/* The store side: rows and timeline messages. */

struct call_write {
    struct call *c;
    const char *user_id; /* the one who joins or leaves */
    const char *text;    /* a timeline message to post, or NULL */
    const char *author;  /* ... as this member */
    const char *outcome; /* the call ends with this outcome, or NULL */
    enum { W_START, W_JOIN, W_LEAVE, W_NONE } what;
    int64_t now;
    char why[ROOM_WHY_LEN];
};

static int post_text(struct store_tx *tx, struct call_write *w)
{
    struct room r;
    struct message_new m = {.author_id = w->author, .text = w->text};
    json_t *out = NULL;
    int rc = rooms_get_for(tx, w->c->room_id, w->author, &r);

    if (rc == -ENOENT)
        return 0; /* the author has left the room since: the call keeps no message */
    if (rc < 0)
        return rc;
    if (r.archived)
        return 0;
    rc = messages_post(tx, &r, &m, w->now, &out, w->why);
    json_decref(out);
    return rc;
}

static int call_write_fn(struct store_tx *tx, void *arg)
{
    struct call_write *w = arg;
    struct store_stmt *st;
    int rc;

    switch (w->what) {
    case W_START:
        st = store_prepare(tx, "INSERT INTO calls (id, room_id, started_by, started_at)"
                               " VALUES (?, ?, ?, ?)");
        store_bind_text(st, 1, w->c->id);
        store_bind_text(st, 2, w->c->room_id);
        store_bind_text(st, 3, w->c->started_by);
        store_bind_int(st, 4, w->now);
        if ((rc = store_step(st)) < 0)
            return rc;
        /* The starter is the first participant. */
        __attribute__((fallthrough));
    case W_JOIN:
        st = store_prepare(tx, "INSERT INTO call_participants (call_id, user_id, joined_at)"
                               " VALUES (?, ?, ?)");
        store_bind_text(st, 1, w->c->id);
        store_bind_text(st, 2, w->user_id);
        store_bind_int(st, 3, w->now);
        if ((rc = store_step(st)) < 0)
            return rc;
        if (w->what == W_JOIN && w->c->answered_at == 0) {
            st = store_prepare(tx, "UPDATE calls SET answered_at = ? WHERE id = ?");
            store_bind_int(st, 1, w->now);
            store_bind_text(st, 2, w->c->id);
            if ((rc = store_step(st)) < 0)
                return rc;
        }
        break;
    case W_LEAVE:
        st = store_prepare(tx, "UPDATE call_participants SET left_at = ? WHERE call_id = ?"
                               " AND user_id = ? AND left_at IS NULL");
        store_bind_int(st, 1, w->now);
        store_bind_text(st, 2, w->c->id);
        store_bind_text(st, 3, w->user_id);
        if ((rc = store_step(st)) < 0)
            return rc;
        break;
    case W_NONE:
        break;
    }
    if (w->outcome) {
        st = store_prepare(tx, "UPDATE call_participants SET left_at = ? WHERE call_id = ?"
                               " AND left_at IS NULL");
        store_bind_int(st, 1, w->now);
        store_bind_text(st, 2, w->c->id);
        if ((rc = store_step(st)) < 0)
            return rc;
        st = store_prepare(tx, "UPDATE calls SET ended_at = ?, outcome = ? WHERE id = ?");
        store_bind_int(st, 1, w->now);
        store_bind_text(st, 2, w->outcome);
        store_bind_text(st, 3, w->c->id);
        if ((rc = store_step(st)) < 0)
            return rc;
    }
    if (w->text)
        return post_text(tx, w);
    return 0;
}

/* Writes w; logs a failure (the call goes on in memory: it is a record, not a rule). */
static int call_write(struct calls *calls, struct call_write *w)
{
    int rc = store_write(calls->srv->store, call_write_fn, w);

    if (rc < 0)
        st_warn("cannot record call '%s': %s", w->c->id, w->why[0] ? w->why : strerror(-rc));
    else if (w->text)
        hub_notify(calls->srv->hub);
    return rc;
}

static struct call *call_find(struct calls *calls, const char *id)
{
    for (struct call *c = calls->list; c; c = c->next)
        if (strcmp(c->id, id) == 0)
            return c;
    return NULL;
}

static struct call *call_in_room(struct calls *calls, const char *room_id)
{
    for (struct call *c = calls->list; c; c = c->next)
        if (strcmp(c->room_id, room_id) == 0)
            return c;
    return NULL;
}

static void call_unlink(struct calls *calls, struct call *c)
{
    for (struct call **pp = &calls->list; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            return;
        }
}

/*
 * Ends c: its rows, the timeline message, call.ended to every member, and
 * forgets it. outcome: "completed" (someone answered), "missed",
 * "declined", "cancelled".
 */
static void call_end(struct calls *calls, struct call *c, const char *outcome)
{
    int64_t now = server_now(calls->srv);
    struct call_write w = {
        .c = c, .what = W_NONE, .now = now, .outcome = outcome, .author = c->started_by};
    char text[64];
    json_t *ev;

    if (c->answered_at) {
        int64_t d = now - c->answered_at;
        if (d < 60)
            snprintf(text, sizeof(text), "call ended, %lld s", (long long)(d < 0 ? 0 : d));
        else
            snprintf(text, sizeof(text), "call ended, %lld min", (long long)((d + 30) / 60));
    } else {
        snprintf(text, sizeof(text), "%s",
                 strcmp(outcome, "declined") == 0 ? "call declined" : "missed call");
    }
    w.text = text;
    call_write(calls, &w);
    ev = call_event(c, "call.ended");
    json_object_set_new(ev, "outcome", json_string(outcome));
    json_object_set_new(ev, "duration_s",
                        json_integer(c->answered_at ? (json_int_t)(now - c->answered_at) : 0));
    call_unlink(calls, c);
    to_members(calls, c, ev, false, NULL);
    json_decref(ev);
    free(c);
}

/* user leaves c (a hang-up or their connection closing). */
static void call_leave(struct calls *calls, struct call *c, int i)
{
    struct participant p = c->p[i];
    struct call_write w = {
        .c = c, .what = W_LEAVE, .user_id = p.user_id, .now = server_now(calls->srv)};
    json_t *ev;

    memmove(&c->p[i], &c->p[i + 1], sizeof(c->p[0]) * (size_t)(c->np - i - 1));
    c->np--;
    call_write(calls, &w);
    /* Nobody to talk to: an answered call with one left, an unanswered one with none. */
    if (c->np == 0 || (c->answered_at && c->np < 2)) {
        call_end(calls, c, c->answered_at ? "completed" : "cancelled");
        return;
    }
    ev = call_event(c, "call.left");
    json_object_set_new(ev, "user", json_pack("{s:s,s:s}", "id", p.user_id, "name", p.name));
    to_members(calls, c, ev, false, NULL);
    json_decref(ev);
}

static void call_add(struct calls *calls, struct call *c, void *conn, const char *user_id,
                     const char *name)
{
    struct participant *p = &c->p[c->np++];

    memset(p, 0, sizeof(*p));
    snprintf(p->user_id, sizeof(p->user_id), "%s", user_id);
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->conn = conn;
    p->joined_at = server_now(calls->srv);
    p->video = true;
    p->tokens = CALL_SIGNAL_BURST;
    p->tokens_at_ms = mono_ms();
}

/* Tells everyone that user joined c; the joining connection hears it with "you":true. */
static void announce_join(struct calls *calls, struct call *c, void *conn, const char *user_id,
                          const char *name)
{
    json_t *ev = call_event(c, "call.joined");

    json_object_set_new(ev, "user", json_pack("{s:s,s:s}", "id", user_id, "name", name));
    json_object_set_new(ev, "you", json_false());
    to_members(calls, c, ev, false, user_id);
    /* The user's own connections: the one that joined, and the others (which stop ringing). */
    {
        char *text = json_dumps(ev, JSON_COMPACT);
        if (text) {
            calls->out.to_user(calls->out.arg, user_id, conn, text, strlen(text));
            free(text);
        }
    }
    json_object_set_new(ev, "you", json_true());
    send_json_conn(calls, conn, ev);
    json_decref(ev);
}

/* Requests. */

struct req {
    struct calls *calls;
    void *conn;
    const char *user_id, *name, *type;
    json_t *msg;
    size_t len;
};

/* Loads the room as user_id sees it, for a membership check. */
struct room_check {
    const char *room_id, *user_id;
    struct room r;
};

static int room_check_fn(struct store_tx *tx, void *arg)
{
    struct room_check *rc = arg;

    return rooms_get_for(tx, rc->room_id, rc->user_id, &rc->r);
}

static int load_room(struct calls *calls, const char *room_id, const char *user_id,
                     struct room *ret_room)
{
    struct room_check rc = {.room_id = room_id, .user_id = user_id};
    int r = store_read(calls->srv->store, room_check_fn, &rc);

    if (r == 0)
        *ret_room = rc.r;
    return r;
}

static int find_participant(const struct call *c, const char *user_id)
{
    for (int i = 0; i < c->np; i++)
        if (strcmp(c->p[i].user_id, user_id) == 0)
            return i;
    return -1;
}

/* The call id of q's message, when it names a call q's user may see; else the answer is sent. */
static struct call *visible_call(struct req *q)
{
    const char *id = st_json_str(q->msg, "call_id", NULL);
    struct call *c = id ? call_find(q->calls, id) : NULL;
    struct room r;

    if (!id || strlen(id) > ST_UUID_LEN) {
        send_error(q->calls, q->conn, q->type, NULL, "invalid_argument",
                   "'call_id' must be a call's id");
        return NULL;
    }
    /* A call in a room the user is not in answers as a call that does not exist;
     * a participant removed from the room meanwhile may still leave it. */
    if (!c || (find_participant(c, q->user_id) < 0 &&
               load_room(q->calls, c->room_id, q->user_id, &r) < 0)) {
        send_error(q->calls, q->conn, q->type, id, "not_found", "no such call");
        return NULL;
    }
    return c;
}

static void do_join(struct req *q, struct call *c)
{
    struct call_write w = {
        .c = c, .what = W_JOIN, .user_id = q->user_id, .now = server_now(q->calls->srv)};
    int i = find_participant(c, q->user_id);

    if (i >= 0) {
        if (c->p[i].conn == q->conn)
            send_error(q->calls, q->conn, q->type, c->id, "conflict", "you are in this call");
        else
            send_error(q->calls, q->conn, q->type, c->id, "conflict",
                       "you are in this call on another device or tab");
        return;
    }
    if (c->np >= CALL_MAX_PARTICIPANTS) {
        send_error(q->calls, q->conn, q->type, c->id, "call_full",
                   "the call is full: at most %d people", CALL_MAX_PARTICIPANTS);
        return;
    }
    if (call_write(q->calls, &w) < 0) {
        send_error(q->calls, q->conn, q->type, c->id, "unavailable", "try again");
        return;
    }
    if (!c->answered_at)
        c->answered_at = w.now;
    call_add(q->calls, c, q->conn, q->user_id, q->name);
    announce_join(q->calls, c, q->conn, q->user_id, q->name);
}

static void req_start(struct req *q)
{
    const char *room_id = st_json_str(q->msg, "room_id", NULL);
    struct call_write w = {.what = W_START,
                           .user_id = q->user_id,
                           .text = "call started",
                           .author = q->user_id,
                           .now = server_now(q->calls->srv)};
    struct call *c;
    struct room r;
    json_t *ev;
    int rc;

    if (!room_id || strlen(room_id) > ROOM_ID_MAX) {
        send_error(q->calls, q->conn, q->type, NULL, "invalid_argument",
                   "'room_id' must be a room's id");
        return;
    }
    rc = load_room(q->calls, room_id, q->user_id, &r);
    if (rc == -ENOENT) {
        send_error(q->calls, q->conn, q->type, NULL, "not_found", "no such room");
        return;
    }
    if (rc < 0) {
        send_error(q->calls, q->conn, q->type, NULL, "unavailable", "try again");
        return;
    }
    if ((c = call_in_room(q->calls, r.id))) {
        do_join(q, c); /* a second start joins the call in progress */
        return;
    }
    if (r.archived) {
        send_error(q->calls, q->conn, q->type, NULL, "conflict", "the room is archived");
        return;
    }
    c = xcalloc(1, sizeof(*c));
    st_uuid_new(c->id);
    snprintf(c->room_id, sizeof(c->room_id), "%s", r.id);
    snprintf(c->started_by, sizeof(c->started_by), "%s", q->user_id);
    c->started_at = w.now;
    c->ringing = true;
    w.c = c;
    if (call_write(q->calls, &w) < 0) {
        send_error(q->calls, q->conn, q->type, NULL, "unavailable", "try again");
        free(c);
        return;
    }
    c->next = q->calls->list;
    q->calls->list = c;
    call_add(q->calls, c, q->conn, q->user_id, q->name);
    announce_join(q->calls, c, q->conn, q->user_id, q->name);
    ev = call_event(c, "call.ringing");
    json_object_set_new(ev, "from", json_pack("{s:s,s:s}", "id", q->user_id, "name", q->name));
    json_object_set_new(ev, "ring_s", json_integer(CALL_RING_S));
    to_members(q->calls, c, ev, true, NULL);
    json_decref(ev);
}

static void req_accept(struct req *q)
{
    struct call *c = visible_call(q);

    if (c)
        do_join(q, c);
}

static void req_decline(struct req *q)
{
    struct call *c = visible_call(q);
    struct members m;
    bool all = true;
    json_t *ev;

    if (!c)
        return;
    if (is_participant(c, q->user_id)) {
        send_error(q->calls, q->conn, q->type, c->id, "conflict",
                   "you are in this call: leave it instead");
        return;
    }
    if (!has_declined(c, q->user_id) && c->ndeclined < MAX_DECLINED)
        snprintf(c->declined[c->ndeclined++], ST_UUID_LEN + 1, "%s", q->user_id);
    ev = call_event(c, "call.declined");
    json_object_set_new(ev, "user", json_pack("{s:s,s:s}", "id", q->user_id, "name", q->name));
    to_members(q->calls, c, ev, false, NULL);
    json_decref(ev);
    /* Nobody answered and everyone else said no: the call is over. */
    if (c->answered_at)
        return;
    m.room_id = c->room_id;
    m.n = 0;
    m.ids = xmalloc(sizeof(*m.ids) * MAX_MEMBERS);
    if (store_read(q->calls->srv->store, members_read, &m) < 0)
        all = false;
    for (size_t i = 0; all && i < m.n; i++)
        if (!is_participant(c, m.ids[i]) && !has_declined(c, m.ids[i]))
            all = false;
    free(m.ids);
    if (all)
        call_end(q->calls, c, "declined");
}

static void req_leave(struct req *q)
{
    struct call *c = visible_call(q);
    int i;

    if (!c)
        return;
    i = find_participant(c, q->user_id);
    if (i < 0 || c->p[i].conn != q->conn) {
        send_error(q->calls, q->conn, q->type, c->id, "conflict",
                   "this connection is not in the call");
        return;
    }
    call_leave(q->calls, c, i);
}

/* The sender's participant entry on this connection, or an error sent and NULL. */
static struct participant *sender(struct req *q, struct call *c)
{
    int i = find_participant(c, q->user_id);

    if (i < 0 || c->p[i].conn != q->conn) {
        send_error(q->calls, q->conn, q->type, c->id, "conflict",
                   "this connection is not in the call");
        return NULL;
    }
    return &c->p[i];
}

static void req_signal(struct req *q)
{
    const char *to = st_json_str(q->msg, "to", NULL);
    json_t *data = json_object_get(q->msg, "data");
    struct participant *p;
    struct call *c;
    int64_t now;
    int i;
    json_t *ev;

    if (q->len > CALL_SIGNAL_MAX) {
        send_error(q->calls, q->conn, q->type, st_json_str(q->msg, "call_id", NULL), "too_large",
                   "a signal message holds at most %d bytes", CALL_SIGNAL_MAX);
        return;
    }
    if (!(c = visible_call(q)) || !(p = sender(q, c)))
        return;
    now = mono_ms();
    p->tokens += (double)(now - p->tokens_at_ms) * CALL_SIGNAL_PER_S / 1000.0;
    if (p->tokens > CALL_SIGNAL_BURST)
        p->tokens = CALL_SIGNAL_BURST;
    p->tokens_at_ms = now;
    if (p->tokens < 1) {
        send_error(q->calls, q->conn, q->type, c->id, "rate_limited",
                   "at most %d signal messages a second", CALL_SIGNAL_PER_S);
        return;
    }
    p->tokens -= 1;
    if (!to || !json_is_object(data) || json_object_size(data) == 0) {
        send_error(q->calls, q->conn, q->type, c->id, "invalid_argument",
                   "a signal needs 'to' (a participant) and 'data' (an object)");
        return;
    }
    i = find_participant(c, to);
    if (i < 0 || strcmp(to, q->user_id) == 0) {
        send_error(q->calls, q->conn, q->type, c->id, "not_found", "no such participant");
        return;
    }
    ev = json_pack("{s:s,s:s,s:s,s:O}", "type", "call.signal", "call_id", c->id, "from", q->user_id,
                   "data", data);
    send_json_conn(q->calls, c->p[i].conn, ev);
    json_decref(ev);
}

static void req_state(struct req *q)
{
    static const char *const keys[] = {"muted", "video", "screen"};
    struct participant *p;
    struct call *c;
    json_t *ev;

    if (!(c = visible_call(q)) || !(p = sender(q, c)))
        return;
    for (size_t k = 0; k < 3; k++) {
        json_t *v = json_object_get(q->msg, keys[k]);
        if (v && !json_is_boolean(v)) {
            send_error(q->calls, q->conn, q->type, c->id, "invalid_argument",
                       "'%s' must be true or false", keys[k]);
            return;
        }
    }
    p->muted = json_is_true(json_object_get(q->msg, "muted")) ||
               (!json_object_get(q->msg, "muted") && p->muted);
    p->video = json_object_get(q->msg, "video") ? json_is_true(json_object_get(q->msg, "video"))
                                                : p->video;
    p->screen = json_object_get(q->msg, "screen") ? json_is_true(json_object_get(q->msg, "screen"))
                                                  : p->screen;
    ev = json_pack("{s:s,s:s,s:o}", "type", "call.state", "call_id", c->id, "user",
                   participant_json(p));
    to_participants(q->calls, c, ev, q->conn);
    json_decref(ev);
}

static const struct {
    const char *type;
    void (*fn)(struct req *q);
} requests[] = {
    {"call.start", req_start}, {"call.accept", req_accept}, {"call.decline", req_decline},
    {"call.leave", req_leave}, {"call.hangup", req_leave},  {"call.signal", req_signal},
    {"call.state", req_state},
};

static void enter(struct calls *calls)
{
    calls->depth++;
}

static void leave_conn(struct calls *calls, void *conn)
{
    for (struct call *c = calls->list, *next; c; c = next) {
        next = c->next;
        for (int i = 0; i < c->np; i++)
            if (c->p[i].conn == conn) {
                /* call_leave may end (and free) c; next was read before. */
                call_leave(calls, c, i);
                break;
            }
    }
}

/* The outermost call is done: connections that closed meanwhile leave their calls. */
static void leave(struct calls *calls)
{
    if (calls->depth > 1) {
        calls->depth--;
        return;
    }
    while (calls->ngone) {
        void *conn = calls->gone[--calls->ngone];
        leave_conn(calls, conn);
    }
    calls->depth--;
}

void calls_request(struct calls *calls, void *conn, const char *user_id, const char *name,
                   const char *type, json_t *msg, size_t len)
{
    struct req q = {calls, conn, user_id, name, type, msg, len};

    enter(calls);
    for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++)
        if (strcmp(type, requests[i].type) == 0) {
            requests[i].fn(&q);
            goto out;
        }
    send_error(calls, conn, type, NULL, "invalid_argument", "unknown call request '%.40s'", type);
out:
    leave(calls);
}

void calls_conn_gone(struct calls *calls, void *conn)
{
    bool any = false;

    if (!calls)
        return;
    for (struct call *c = calls->list; c && !any; c = c->next)
        for (int i = 0; i < c->np; i++)
            any = any || c->p[i].conn == conn;
    if (!any)
        return;
    if (calls->depth) {
        if (calls->ngone == calls->gone_cap) {
            calls->gone_cap = calls->gone_cap ? calls->gone_cap * 2 : 8;
            calls->gone = xrealloc(calls->gone, calls->gone_cap * sizeof(*calls->gone));
        }
        calls->gone[calls->ngone++] = conn;
        return;
    }
    enter(calls);
    leave_conn(calls, conn);
    leave(calls);
}

/* Participants removed from the room meanwhile leave the call; true when that ended it. */
static bool evict_removed(struct calls *calls, struct call *c)
{
    struct members m = {.room_id = c->room_id};
    bool ended = false;

    m.ids = xmalloc(sizeof(*m.ids) * MAX_MEMBERS);
    if (store_read(calls->srv->store, members_read, &m) == 0) {
        for (int i = c->np - 1; i >= 0 && !ended; i--) {
            bool member = false;
            for (size_t k = 0; k < m.n && !member; k++)
                member = strcmp(m.ids[k], c->p[i].user_id) == 0;
            if (member)
                continue;
            /* call_leave frees c when this leave ends it. */
            ended = c->np - 1 == 0 || (c->answered_at && c->np - 1 < 2);
            call_leave(calls, c, i);
        }
    }
    free(m.ids);
    return ended;
}

void calls_tick(struct calls *calls, int64_t now)
{
    if (!calls)
        return;
    enter(calls);
    for (struct call *c = calls->list, *next; c; c = next) {
        next = c->next;
        if (evict_removed(calls, c))
            continue;
        if (!c->ringing || now < c->started_at + CALL_RING_S)
            continue;
        c->ringing = false;
        if (!c->answered_at) {
            call_end(calls, c, "missed");
        } else {
            /* Answered by some: the others who never picked up missed it. */
            json_t *ev = call_event(c, "call.missed");
            to_members(calls, c, ev, true, NULL);
            json_decref(ev);
        }
    }
    leave(calls);
}

int calls_recover(struct store_tx *tx, int64_t now)
{
    struct store_stmt *st =
        store_prepare(tx, "UPDATE call_participants SET left_at = ? WHERE left_at IS NULL");
    int rc;

    store_bind_int(st, 1, now);
    if ((rc = store_step(st)) < 0)
        return rc;
    st = store_prepare(tx, "UPDATE calls SET ended_at = ?, outcome = 'interrupted'"
                           " WHERE ended_at IS NULL");
    store_bind_int(st, 1, now);
    rc = store_step(st);
    return rc < 0 ? rc : 0;
}

int calls_list_json(struct store_tx *tx, const char *room_id, int limit, json_t **ret_json)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT id, started_by, started_at, answered_at, ended_at, outcome FROM calls"
            " WHERE room_id = ? ORDER BY started_at DESC, rowid DESC LIMIT ?");
    json_t *list = json_array();
    int rc;

    store_bind_text(st, 1, room_id);
    store_bind_int(st, 2, limit);
    while ((rc = store_step(st)) == 1) {
        json_t *c =
            json_pack("{s:s,s:s,s:I,s:n,s:n,s:n,s:[]}", "id", store_col_text(st, 0), "started_by",
                      store_col_text(st, 1), "started_at", (json_int_t)store_col_int(st, 2),
                      "answered_at", "ended_at", "outcome", "participants");
        if (!store_col_null(st, 3))
            json_object_set_new(c, "answered_at", json_integer(store_col_int(st, 3)));
        if (!store_col_null(st, 4))
            json_object_set_new(c, "ended_at", json_integer(store_col_int(st, 4)));
        if (store_col_text(st, 5))
            json_object_set_new(c, "outcome", json_string(store_col_text(st, 5)));
        json_array_append_new(list, c);
    }
    if (rc < 0)
        goto fail;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *c = json_array_get(list, i);
        json_t *ps = json_object_get(c, "participants");
        st = store_prepare(tx, "SELECT user_id, joined_at, left_at FROM call_participants"
                               " WHERE call_id = ? ORDER BY joined_at, rowid");
        store_bind_text(st, 1, json_string_value(json_object_get(c, "id")));
        while ((rc = store_step(st)) == 1) {
            json_t *p = json_pack("{s:s,s:I,s:n}", "user_id", store_col_text(st, 0), "joined_at",
                                  (json_int_t)store_col_int(st, 1), "left_at");
            if (!store_col_null(st, 2))
                json_object_set_new(p, "left_at", json_integer(store_col_int(st, 2)));
            json_array_append_new(ps, p);
        }
        if (rc < 0)
            goto fail;
    }
    *ret_json = json_pack("{s:o}", "calls", list);
    return 0;
fail:
    json_decref(list);
    return rc;
}
