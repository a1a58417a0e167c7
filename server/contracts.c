/*
 * Contract rows and their histories. See contracts.h.
 */
#include "server/contracts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/uuid.h"
#include "lib/utc.h"
#include "lib/week.h"
#include "server/rooms.h"
#include "server/store.h"
#include "server/users.h"

#define CONTRACT_COLS                                                                          \
    "c.id, c.client_id, c.freelancer_id, uc.name, uf.name, c.title, c.state,"                  \
    " c.hourly_rate_cents, c.currency, c.manual_time_allowed, c.screenshots_enabled,"          \
    " c.memo_required, c.tag_required, c.tags, c.created_at, uf.timezone"

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

void contracts_release(struct contract *c)
{
    json_decref(c->tags);
    c->tags = NULL;
}

int contracts_get(struct store_tx *tx, const char *id, struct contract *ret_c)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT " CONTRACT_COLS " FROM contracts c JOIN users uc ON uc.id = c.client_id"
            " JOIN users uf ON uf.id = c.freelancer_id WHERE c.id = ?");
    struct contract c = {0};
    int r;

    store_bind_text(st, 1, id);
    r = store_step(st);
    if (r <= 0)
        return r < 0 ? r : -ENOENT;
    copy(c.id, sizeof(c.id), store_col_text(st, 0));
    copy(c.client_id, sizeof(c.client_id), store_col_text(st, 1));
    copy(c.freelancer_id, sizeof(c.freelancer_id), store_col_text(st, 2));
    copy(c.client_name, sizeof(c.client_name), store_col_text(st, 3));
    copy(c.freelancer_name, sizeof(c.freelancer_name), store_col_text(st, 4));
    copy(c.title, sizeof(c.title), store_col_text(st, 5));
    copy(c.state, sizeof(c.state), store_col_text(st, 6));
    c.hourly_rate_cents = store_col_int(st, 7);
    copy(c.currency, sizeof(c.currency), store_col_text(st, 8));
    c.manual_time_allowed = store_col_int(st, 9) != 0;
    c.screenshots_enabled = store_col_int(st, 10) != 0;
    c.memo_required = store_col_int(st, 11) != 0;
    c.tag_required = store_col_int(st, 12) != 0;
    c.tags = json_loads(store_col_text(st, 13), 0, NULL);
    if (!c.tags)
        c.tags = json_array();
    c.created_at = store_col_int(st, 14);
    copy(c.freelancer_tz, sizeof(c.freelancer_tz), store_col_text(st, 15));
    *ret_c = c;
    return 0;
}

bool contracts_is_client(const struct contract *c, const struct user *u)
{
    return strcmp(c->client_id, u->id) == 0;
}

bool contracts_is_freelancer(const struct contract *c, const struct user *u)
{
    return strcmp(c->freelancer_id, u->id) == 0;
}

int contracts_get_for(struct store_tx *tx, const char *id, const struct user *u,
                      struct contract *ret_c)
{
    struct contract c;
    int r = contracts_get(tx, id, &c);

    if (r < 0)
        return r;
    if (!contracts_is_client(&c, u) && !contracts_is_freelancer(&c, u)) {
        contracts_release(&c);
        return -ENOENT;
    }
    *ret_c = c;
    return 0;
}

int contracts_limit_for_week(struct store_tx *tx, const char *id, int64_t week_start,
                             int64_t *ret_limit)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT weekly_limit_s FROM contract_limits WHERE contract_id = ? AND from_ts < ?"
            " ORDER BY from_ts DESC, set_at DESC LIMIT 1");
    int r;

    store_bind_text(st, 1, id);
    store_bind_int(st, 2, week_start + ST_WEEK_S);
    r = store_step(st);
    if (r < 0)
        return r;
    *ret_limit = (r == 0 || store_col_null(st, 0)) ? CONTRACT_NO_LIMIT : store_col_int(st, 0);
    return 0;
}

int contracts_set_limit(struct store_tx *tx, const char *id, int64_t limit, int64_t now,
                        int64_t *ret_from)
{
    struct store_stmt *st;
    int64_t current, from;
    int r;

    /* A later decision replaces any cut still waiting for its Monday. */
    st = store_prepare(tx, "DELETE FROM contract_limits WHERE contract_id = ? AND from_ts > ?");
    store_bind_text(st, 1, id);
    store_bind_int(st, 2, now);
    if ((r = store_run(st)) < 0)
        return r;
    if ((r = contracts_limit_for_week(tx, id, st_week_start(now), &current)) < 0)
        return r;
    /* "No limit" is the highest limit there is. */
    bool cut = (limit != CONTRACT_NO_LIMIT) && (current == CONTRACT_NO_LIMIT || limit < current);
    from = cut ? st_week_start(now) + ST_WEEK_S : now;
    st = store_prepare(tx, "INSERT INTO contract_limits (contract_id, from_ts, weekly_limit_s,"
                           " set_at) VALUES (?, ?, ?, ?)");
    store_bind_text(st, 1, id);
    store_bind_int(st, 2, from);
    if (limit == CONTRACT_NO_LIMIT)
        store_bind_null(st, 3);
    else
        store_bind_int(st, 3, limit);
    store_bind_int(st, 4, now);
    if ((r = store_run(st)) < 0)
        return r;
    *ret_from = from;
    return 0;
}

int contracts_active_during(struct store_tx *tx, const char *id, int64_t from, int64_t to)
{
    struct store_stmt *st = store_prepare(
        tx, "SELECT state FROM contract_states WHERE contract_id = ? AND ts <= ?"
            " ORDER BY ts DESC, rowid DESC LIMIT 1");
    int r;

    store_bind_text(st, 1, id);
    store_bind_int(st, 2, from);
    r = store_step(st);
    if (r < 0)
        return r;
    if (r == 1 && strcmp(store_col_text(st, 0), "active") == 0)
        return 1;
    st = store_prepare(tx, "SELECT 1 FROM contract_states WHERE contract_id = ? AND ts > ?"
                           " AND ts < ? AND state = 'active' LIMIT 1");
    store_bind_text(st, 1, id);
    store_bind_int(st, 2, from);
    store_bind_int(st, 3, to);
    r = store_step(st);
    return r < 0 ? r : r == 1;
}

static int record_state(struct store_tx *tx, const char *id, const char *state, int64_t now)
{
    struct store_stmt *st = store_prepare(
        tx, "INSERT INTO contract_states (contract_id, ts, state) VALUES (?, ?, ?)");

    store_bind_text(st, 1, id);
    store_bind_int(st, 2, now);
    store_bind_text(st, 3, state);
    return store_run(st);
}

int contracts_set_state(struct store_tx *tx, struct contract *c, const char *state, int64_t now)
{
    struct store_stmt *st =
        store_prepare(tx, "UPDATE contracts SET state = ?, updated_at = ? WHERE id = ?");
    int r;

    store_bind_text(st, 1, state);
    store_bind_int(st, 2, now);
    store_bind_text(st, 3, c->id);
    if ((r = store_run(st)) < 0 || (r = record_state(tx, c->id, state, now)) < 0)
        return r;
    copy(c->state, sizeof(c->state), state);
    return 0;
}

int contracts_insert(struct store_tx *tx, struct contract *c, int64_t limit, int64_t now)
{
    struct store_stmt *st = store_prepare(
        tx, "INSERT INTO contracts (id, client_id, freelancer_id, title, state,"
            " hourly_rate_cents, currency, manual_time_allowed, screenshots_enabled,"
            " memo_required, tags, tag_required, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    char *tags = json_dumps(c->tags, JSON_COMPACT);
    int64_t from;
    int r;

    st_uuid_new(c->id);
    c->created_at = now;
    store_bind_text(st, 1, c->id);
    store_bind_text(st, 2, c->client_id);
    store_bind_text(st, 3, c->freelancer_id);
    store_bind_text(st, 4, c->title);
    store_bind_text(st, 5, c->state);
    store_bind_int(st, 6, c->hourly_rate_cents);
    store_bind_text(st, 7, c->currency);
    store_bind_int(st, 8, c->manual_time_allowed);
    store_bind_int(st, 9, c->screenshots_enabled);
    store_bind_int(st, 10, c->memo_required);
    store_bind_text(st, 11, tags);
    store_bind_int(st, 12, c->tag_required);
    store_bind_int(st, 13, now);
    store_bind_int(st, 14, now);
    free(tags);
    if ((r = store_run(st)) < 0 || (r = record_state(tx, c->id, c->state, now)) < 0)
        return r;
    /* The first limit applies from the start: there is nothing to cut. */
    st = store_prepare(tx, "INSERT INTO contract_limits (contract_id, from_ts, weekly_limit_s,"
                           " set_at) VALUES (?, 0, ?, ?)");
    store_bind_text(st, 1, c->id);
    if (limit == CONTRACT_NO_LIMIT)
        store_bind_null(st, 2);
    else
        store_bind_int(st, 2, limit);
    store_bind_int(st, 3, now);
    (void)from;
    if ((r = store_run(st)) < 0)
        return r;
    /* The parties' room, made with the contract so that it is never missing. */
    return rooms_create_for_contract(tx, c->id, c->title, c->client_id, c->freelancer_id, now);
}

json_t *contracts_to_json(struct store_tx *tx, const struct contract *c, int64_t now)
{
    char created[ST_TIME_STRLEN];
    int64_t limit = CONTRACT_NO_LIMIT;
    json_t *freelancer = users_ref_json(c->freelancer_id, c->freelancer_name);

    /* The diary offers the freelancer's zone to the client too. */
    json_object_set_new(freelancer, "timezone",
                        json_string(c->freelancer_tz[0] ? c->freelancer_tz : "UTC"));

    contracts_limit_for_week(tx, c->id, st_week_start(now), &limit);
    st_utc_format(c->created_at, created);
    return json_pack(
        "{s:s,s:s,s:o,s:o,s:s,s:I,s:s,s:o,s:b,s:b,s:b,s:O,s:b,s:s}", "id", c->id, "title",
        c->title, "client", users_ref_json(c->client_id, c->client_name), "freelancer",
        freelancer, "state", c->state,
        "hourly_rate_cents", (json_int_t)c->hourly_rate_cents, "currency", c->currency,
        "weekly_limit_s", limit == CONTRACT_NO_LIMIT ? json_null() : json_integer(limit),
        "manual_time_allowed", c->manual_time_allowed, "screenshots_enabled",
        c->screenshots_enabled, "memo_required", c->memo_required, "tags", c->tags,
        "tag_required", c->tag_required, "created_at", created);
}
