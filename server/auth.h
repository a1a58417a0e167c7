/*
 * Passwords, tokens and the login limiter.
 * - Passwords: argon2id through libsodium's crypto_pwhash_str.
 * - Tokens: 256 random bits, base64url, handed out once; the store keeps
 *   only their SHA-256, so a copy of the database holds no usable token.
 * - Login failures: counted per email in memory; past the limit the email
 *   is refused for a while (429) whatever the password.
 */
#ifndef STINT_AUTH_H
#define STINT_AUTH_H

#include <stdbool.h>
#include <stdint.h>

struct server;
struct user;
struct ratelimit;

#define AUTH_HASH_LEN 128   /* crypto_pwhash_STRBYTES */
#define AUTH_TOKEN_LEN 46   /* "st_" + 43 base64url characters */
#define AUTH_TOKEN_HASH_LEN 64

#define AUTH_FAIL_LIMIT 5          /* failures allowed per email per window */
#define AUTH_FAIL_WINDOW_S 900     /* the window, and how long a lock lasts */

/* Must be called once before any other function here; 0 or -EIO. */
int auth_init(void);

/* Hashes a password; 0 or -ENOMEM (argon2id needs its memory). */
int auth_hash_password(const char *password, char ret_hash[AUTH_HASH_LEN]);
bool auth_verify_password(const char *hash, const char *password);
/* A valid hash of no one's password, computed once; for constant-time misses. */
const char *auth_dummy_hash(void);

/* A new token and the hash to store. */
void auth_new_token(char ret_token[AUTH_TOKEN_LEN + 1], char ret_hash[AUTH_TOKEN_HASH_LEN + 1]);
/* The stored form of a presented token. */
void auth_token_hash(const char *token, char ret_hash[AUTH_TOKEN_HASH_LEN + 1]);

/* Looks the token up; 0 and the user, or -ENOENT (unknown, revoked or malformed). */
int auth_user_from_token(struct server *srv, const char *token, struct user *ret_user);

struct ratelimit *ratelimit_new(void);
void ratelimit_free(struct ratelimit *rl);
/* True when key is locked out at now; ret_retry_after is how long it stays so. */
bool ratelimit_blocked(struct ratelimit *rl, const char *key, int64_t now, int *ret_retry_after);
void ratelimit_fail(struct ratelimit *rl, const char *key, int64_t now);
/* After a good login: forgets key's failures, unless another email's share its slot. */
void ratelimit_clear(struct ratelimit *rl, const char *key);

#endif
