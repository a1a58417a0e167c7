/*
 * Users: the account row, its JSON form, and the lookups every handler
 * needs. Passwords and tokens are in auth.h.
 */
#ifndef STINT_USERS_H
#define STINT_USERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct store_tx;

#define USER_EMAIL_MAX 254
#define USER_NAME_MAX 100 /* characters */

struct user {
    char id[37];
    char email[USER_EMAIL_MAX + 1];
    char name[USER_NAME_MAX * 4 + 1];
    char role[16]; /* "client", "freelancer" or "admin" */
    char timezone[72];
    bool id_verified;
    char billing_state[16]; /* "none", "verified" or "failed" */
    int64_t created_at;
};

/* Loads a user; 0, -ENOENT, or -EIO. */
int users_get(struct store_tx *tx, const char *id, struct user *ret_user);
int users_get_by_email(struct store_tx *tx, const char *email, struct user *ret_user,
                       char **ret_pw_hash);
/* Inserts u (its id is filled in); -EEXIST when the email is taken. */
int users_insert(struct store_tx *tx, struct user *u, const char *pw_hash);
/* {"id","email","name","role","timezone","id_verified"} */
json_t *users_to_json(const struct user *u);
/* {"id","name"}: what the other party of a contract sees. */
json_t *users_ref_json(const char *id, const char *name);
/* Lowercases an email in place and checks its shape; returns 0 or -EINVAL. */
int users_normalize_email(char *email);

#endif
