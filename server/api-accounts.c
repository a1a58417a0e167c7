/*
 * Accounts: sign up, log in, log out, who am I. Password hashing happens on
 * the request's thread, never inside a store transaction, so a slow argon2id
 * does not hold up other writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/tz.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/server.h"
#include "server/store.h"

#define PASSWORD_MIN 10
#define PASSWORD_MAX 1024

static bool has_control_chars(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static int insert_user(struct store_tx *tx, void *arg)
{
    struct user *u = arg;
    char **hash = (char **)(u + 1);
    return users_insert(tx, u, *hash);
}

void api_signup(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"email", ST_JSON_STRING, true, false, 3, USER_EMAIL_MAX},
        {"password", ST_JSON_STRING, true, false, PASSWORD_MIN, PASSWORD_MAX},
        {"name", ST_JSON_STRING, true, false, 1, USER_NAME_MAX},
        {"role", ST_JSON_STRING, true, false, 1, 16},
        {"timezone", ST_JSON_STRING, false, true, 1, 64},
        {NULL, 0, false, false, 0, 0},
    };
    struct {
        struct user u;
        char *hash;
    } ins = {0};
    char hash[AUTH_HASH_LEN];
    const char *role, *tz;
    json_t *body;
    int r;

    if (!req->srv->cfg.signup_enabled) {
        http_reply_error(resp, 403, "forbidden", "sign-up is turned off on this server");
        return;
    }
    if (!(body = http_json_body(req, resp, fields)))
        return;
    snprintf(ins.u.email, sizeof(ins.u.email), "%s", st_json_str(body, "email", ""));
    if (users_normalize_email(ins.u.email) < 0) {
        http_reply_error(resp, 400, "invalid_argument", "'email' is not an email address");
        goto out;
    }
    snprintf(ins.u.name, sizeof(ins.u.name), "%s", st_json_str(body, "name", ""));
    if (has_control_chars(ins.u.name)) {
        http_reply_error(resp, 400, "invalid_argument", "'name' holds control characters");
        goto out;
    }
    role = st_json_str(body, "role", "");
    if (strcmp(role, "client") != 0 && strcmp(role, "freelancer") != 0) {
        http_reply_error(resp, 400, "invalid_argument",
                         "'role' must be \"client\" or \"freelancer\"");
        goto out;
    }
    snprintf(ins.u.role, sizeof(ins.u.role), "%s", role);
    tz = st_json_str(body, "timezone", "UTC");
    if (!st_tz_get(tz)) {
        http_reply_error(resp, 400, "invalid_argument", "'timezone' is not an IANA time zone");
        goto out;
    }
    snprintf(ins.u.timezone, sizeof(ins.u.timezone), "%s", tz);
    ins.u.created_at = server_now(req->srv);
    if (auth_hash_password(st_json_str(body, "password", ""), hash) < 0) {
        http_reply_error(resp, 503, "unavailable", "the server is too busy; try again");
        goto out;
    }
    ins.hash = hash;
    r = store_write(req->srv->store, insert_user, &ins);
    if (r == -EEXIST) {
        http_reply_error(resp, 409, "conflict", "an account with that email already exists");
    } else if (r < 0) {
        http_reply_store_error(resp, r);
    } else {
        http_reply_json(resp, 201, json_pack("{s:o}", "user", users_to_json(&ins.u)));
    }
out:
    json_decref(body);
}

struct login_lookup {
    const char *email;
    struct user user;
    char *pw_hash;
};

static int find_login(struct store_tx *tx, void *arg)
{
    struct login_lookup *l = arg;
    return users_get_by_email(tx, l->email, &l->user, &l->pw_hash);
}

struct token_insert {
    const char *user_id;
    const char *hash;
    const char *device;
    int64_t now;
};

static int insert_token(struct store_tx *tx, void *arg)
{
    struct token_insert *t = arg;
    struct store_stmt *st = store_prepare(
        tx, "INSERT INTO tokens (hash, user_id, device, created_at) VALUES (?, ?, ?, ?)");

    store_bind_text(st, 1, t->hash);
    store_bind_text(st, 2, t->user_id);
    store_bind_text(st, 3, t->device);
    store_bind_int(st, 4, t->now);
    return store_run(st);
}

void api_login(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"email", ST_JSON_STRING, true, false, 1, USER_EMAIL_MAX},
        {"password", ST_JSON_STRING, true, false, 1, PASSWORD_MAX},
        {"device", ST_JSON_STRING, false, true, 1, 64},
        {NULL, 0, false, false, 0, 0},
    };
    struct login_lookup l = {0};
    char email[USER_EMAIL_MAX + 1], token[AUTH_TOKEN_LEN + 1], thash[AUTH_TOKEN_HASH_LEN + 1];
    const char *password;
    int64_t now = server_now(req->srv);
    int retry, r;
    bool ok;
    json_t *body;

    if (!(body = http_json_body(req, resp, fields)))
        return;
    snprintf(email, sizeof(email), "%s", st_json_str(body, "email", ""));
    if (users_normalize_email(email) < 0) {
        http_reply_error(resp, 401, "unauthenticated", "wrong email or password");
        goto out;
    }
    if (ratelimit_blocked(req->srv->login_limiter, email, now, &retry)) {
        char s[16];
        snprintf(s, sizeof(s), "%d", retry);
        http_reply_error(resp, 429, "rate_limited",
                         "too many failed sign-ins for this account; try again in %d minutes",
                         (retry + 59) / 60);
        http_add_header(resp, "Retry-After", s);
        goto out;
    }
    password = st_json_str(body, "password", "");
    l.email = email;
    r = store_read(req->srv->store, find_login, &l);
    if (r < 0 && r != -ENOENT) {
        http_reply_store_error(resp, r);
        goto out;
    }
    if (r == -ENOENT) {
        /* Spend the same time as for a known email: no timing oracle. */
        auth_verify_password(auth_dummy_hash(), password);
        ok = false;
    } else {
        ok = auth_verify_password(l.pw_hash, password);
    }
    if (!ok) {
        ratelimit_fail(req->srv->login_limiter, email, now);
        http_reply_error(resp, 401, "unauthenticated", "wrong email or password");
        goto out;
    }
    ratelimit_clear(req->srv->login_limiter, email);
    auth_new_token(token, thash);
    {
        struct token_insert ti = {l.user.id, thash, st_json_str(body, "device", NULL), now};
        r = store_write(req->srv->store, insert_token, &ti);
    }
    if (r < 0) {
        http_reply_store_error(resp, r);
        goto out;
    }
    http_reply_json(resp, 200,
                    json_pack("{s:s,s:o}", "token", token, "user", users_to_json(&l.user)));
out:
    free(l.pw_hash);
    json_decref(body);
}

struct revoke {
    const char *hash;
    int64_t now;
};

static int revoke_token(struct store_tx *tx, void *arg)
{
    struct revoke *rv = arg;
    struct store_stmt *st =
        store_prepare(tx, "UPDATE tokens SET revoked_at = ? WHERE hash = ? AND revoked_at IS NULL");

    store_bind_int(st, 1, rv->now);
    store_bind_text(st, 2, rv->hash);
    return store_run(st);
}

void api_logout(struct http_req *req, struct http_resp *resp)
{
    struct revoke rv = {req->token_hash, server_now(req->srv)};
    int r = store_write(req->srv->store, revoke_token, &rv);

    if (r < 0)
        http_reply_store_error(resp, r);
    else
        http_reply_empty(resp, 204);
}

void api_me(struct http_req *req, struct http_resp *resp)
{
    http_reply_json(resp, 200, json_pack("{s:o}", "user", users_to_json(&req->user)));
}
