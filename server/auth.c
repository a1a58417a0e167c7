/*
 * Password hashing, bearer tokens and the login limiter. See auth.h.
 */
#include "server/auth.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "server/server.h"
#include "server/store.h"
#include "server/users.h"

#define RL_SLOTS 4096

int auth_init(void)
{
    return sodium_init() < 0 ? -EIO : 0;
}

int auth_hash_password(const char *password, char ret_hash[AUTH_HASH_LEN])
{
    if (crypto_pwhash_str(ret_hash, password, strlen(password),
                          crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return -ENOMEM;
    return 0;
}

bool auth_verify_password(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

static char dummy_hash[AUTH_HASH_LEN];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
    if (auth_hash_password("no one's password, ever", dummy_hash) < 0)
        abort();
}

const char *auth_dummy_hash(void)
{
    pthread_once(&dummy_once, dummy_init);
    return dummy_hash;
}

void auth_new_token(char ret_token[AUTH_TOKEN_LEN + 1], char ret_hash[AUTH_TOKEN_HASH_LEN + 1])
{
    unsigned char raw[32];

    randombytes_buf(raw, sizeof(raw));
    memcpy(ret_token, "st_", 3);
    sodium_bin2base64(ret_token + 3, AUTH_TOKEN_LEN + 1 - 3, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    auth_token_hash(ret_token, ret_hash);
}

void auth_token_hash(const char *token, char ret_hash[AUTH_TOKEN_HASH_LEN + 1])
{
    unsigned char digest[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(digest, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(ret_hash, AUTH_TOKEN_HASH_LEN + 1, digest, sizeof(digest));
}

static bool token_shape_ok(const char *t)
{
    size_t n = strlen(t);

    if (n != AUTH_TOKEN_LEN || strncmp(t, "st_", 3) != 0)
        return false;
    for (size_t i = 3; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

struct token_lookup {
    char hash[AUTH_TOKEN_HASH_LEN + 1];
    struct user *user;
};

static int lookup_token(struct store_tx *tx, void *arg)
{
    struct token_lookup *tl = arg;
    struct store_stmt *st = store_prepare(
        tx, "SELECT user_id FROM tokens WHERE hash = ? AND revoked_at IS NULL");
    char uid[37];
    int r;

    store_bind_text(st, 1, tl->hash);
    r = store_step(st);
    if (r <= 0)
        return r < 0 ? r : -ENOENT;
    snprintf(uid, sizeof(uid), "%s", store_col_text(st, 0));
    return users_get(tx, uid, tl->user);
}

int auth_user_from_token(struct server *srv, const char *token, struct user *ret_user)
{
    struct token_lookup tl;
    struct user u;
    int r;

    if (!token_shape_ok(token))
        return -ENOENT;
    auth_token_hash(token, tl.hash);
    tl.user = &u;
    r = store_read(srv->store, lookup_token, &tl);
    if (r < 0)
        return r == -EIO ? -EIO : -ENOENT;
    *ret_user = u;
    return 0;
}

/*
 * The limiter: a fixed table of slots keyed by a hash of the email, so its
 * memory is bounded whatever an attacker sends. Two emails sharing a slot
 * share a counter, which can only make the limit stricter. So that it
 * stays so, a good login clears the counter only when every failure in it
 * was for that email: otherwise an attacker who owns an account sharing
 * the victim's slot could reset it between rounds of guesses.
 */
#define RL_NO_OWNER 0
#define RL_SHARED UINT64_MAX

struct rl_slot {
    int64_t window_start;
    int64_t locked_until;
    int failures;
    uint64_t owner; /* fingerprint of the email the failures were for, or the above */
};

struct ratelimit {
    pthread_mutex_t mu;
    struct rl_slot slots[RL_SLOTS];
};

struct ratelimit *ratelimit_new(void)
{
    struct ratelimit *rl = xcalloc(1, sizeof(*rl));

    pthread_mutex_init(&rl->mu, NULL);
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

static struct rl_slot *slot_for(struct ratelimit *rl, const char *key, uint64_t *ret_fp)
{
    unsigned char h[16];
    uint64_t fp;

    crypto_generichash(h, sizeof(h), (const unsigned char *)key, strlen(key), NULL, 0);
    /* Bytes the slot number does not use, so emails sharing a slot differ here. */
    memcpy(&fp, h + 8, sizeof(fp));
    if (fp == RL_NO_OWNER || fp == RL_SHARED)
        fp = 1;
    *ret_fp = fp;
    return &rl->slots[((unsigned)h[0] | (unsigned)h[1] << 8) % RL_SLOTS];
}

bool ratelimit_blocked(struct ratelimit *rl, const char *key, int64_t now, int *ret_retry_after)
{
    bool blocked;
    struct rl_slot *s;
    uint64_t fp;

    pthread_mutex_lock(&rl->mu);
    s = slot_for(rl, key, &fp);
    blocked = s->locked_until > now;
    if (blocked)
        *ret_retry_after = (int)(s->locked_until - now);
    pthread_mutex_unlock(&rl->mu);
    return blocked;
}

void ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now)
{
    struct rl_slot *s;
    uint64_t fp;

    pthread_mutex_lock(&rl->mu);
    s = slot_for(rl, key, &fp);
    if (now - s->window_start >= AUTH_FAIL_WINDOW_S) {
        s->window_start = now;
        s->failures = 0;
        s->owner = RL_NO_OWNER;
    }
    if (s->owner == RL_NO_OWNER)
        s->owner = fp;
    else if (s->owner != fp)
        s->owner = RL_SHARED;
    if (++s->failures >= AUTH_FAIL_LIMIT)
        s->locked_until = now + AUTH_FAIL_WINDOW_S;
    pthread_mutex_unlock(&rl->mu);
}

void ratelimit_clear(struct ratelimit *rl, const char *key)
{
    struct rl_slot *s;
    uint64_t fp;

    pthread_mutex_lock(&rl->mu);
    s = slot_for(rl, key, &fp);
    if (s->owner == fp) {
        s->failures = 0;
        s->window_start = 0;
        s->owner = RL_NO_OWNER;
    }
    pthread_mutex_unlock(&rl->mu);
}
