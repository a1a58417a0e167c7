/*
 * Contracts: the row, who may see it, its JSON form, and the two histories
 * the rules need: the weekly limit over time (a cut waits for the next
 * Monday) and the state over time (a segment needs the contract active at
 * some moment of its slot).
 */
#ifndef STINT_CONTRACTS_H
#define STINT_CONTRACTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct store_tx;
struct user;

#define CONTRACT_TITLE_MAX 200 /* characters */
#define CONTRACT_TAGS_MAX 50
#define CONTRACT_TAG_MAX 40 /* characters */
#define CONTRACT_RATE_MAX 100000000LL /* minor units an hour */
#define CONTRACT_NO_LIMIT (-1)

struct contract {
    char id[37];
    char client_id[37];
    char freelancer_id[37];
    char client_name[401];
    char freelancer_name[401];
    char freelancer_tz[72]; /* the freelancer's IANA zone, for "the freelancer's time" */
    char title[CONTRACT_TITLE_MAX * 4 + 1];
    char state[16];
    int64_t hourly_rate_cents;
    char currency[4];
    bool manual_time_allowed;
    bool screenshots_enabled;
    bool memo_required;
    bool tag_required;
    json_t *tags; /* array of strings; owned */
    int64_t created_at;
};

/* Frees what c owns (not c). */
void contracts_release(struct contract *c);

/* Loads a contract; 0, -ENOENT or -EIO. */
int contracts_get(struct store_tx *tx, const char *id, struct contract *ret_c);
/* Loads a contract only when u is one of its parties; else -ENOENT (a 404, never a 403). */
int contracts_get_for(struct store_tx *tx, const char *id, const struct user *u,
                      struct contract *ret_c);
bool contracts_is_client(const struct contract *c, const struct user *u);
bool contracts_is_freelancer(const struct contract *c, const struct user *u);

/*
 * The weekly limit in force for the week that starts at week_start:
 * CONTRACT_NO_LIMIT or seconds. Raises apply at once, cuts from the
 * following Monday: the value of the last limit set whose from_ts falls
 * before the week ends.
 */
int contracts_limit_for_week(struct store_tx *tx, const char *id, int64_t week_start,
                             int64_t *ret_limit);
/* Records a new limit set at now; a cut against the limit in force takes effect next Monday.
 * ret_from: when it applies. */
int contracts_set_limit(struct store_tx *tx, const char *id, int64_t limit, int64_t now,
                        int64_t *ret_from);
/* 1 when the contract was active at any moment of [from, to), 0 when not, < 0 on error. */
int contracts_active_during(struct store_tx *tx, const char *id, int64_t from, int64_t to);
/* Changes the state and records it in the history. */
int contracts_set_state(struct store_tx *tx, struct contract *c, const char *state, int64_t now);
/* Inserts a new contract (id filled in), its first state and limit, and its room (rooms.h). */
int contracts_insert(struct store_tx *tx, struct contract *c, int64_t limit, int64_t now);

/* The contract object of API.md, with the limit in force at now. */
json_t *contracts_to_json(struct store_tx *tx, const struct contract *c, int64_t now);

#endif
