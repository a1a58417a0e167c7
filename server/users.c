/*
 * User rows: loading, inserting, and their JSON forms.
 */
#include "server/users.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/uuid.h"
#include "server/store.h"

#define USER_COLS "id, email, name, role, timezone, id_verified, billing_state, created_at"

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static void from_row(struct store_stmt *st, struct user *u)
{
    copy(u->id, sizeof(u->id), store_col_text(st, 0));
    copy(u->email, sizeof(u->email), store_col_text(st, 1));
    copy(u->name, sizeof(u->name), store_col_text(st, 2));
    copy(u->role, sizeof(u->role), store_col_text(st, 3));
    copy(u->timezone, sizeof(u->timezone), store_col_text(st, 4));
    u->id_verified = store_col_int(st, 5) != 0;
    copy(u->billing_state, sizeof(u->billing_state), store_col_text(st, 6));
    u->created_at = store_col_int(st, 7);
}

int users_get(struct store_tx *tx, const char *id, struct user *ret_user)
{
    struct store_stmt *st = store_prepare(tx, "SELECT " USER_COLS " FROM users WHERE id = ?");
    int r;

    store_bind_text(st, 1, id);
    r = store_step(st);
    if (r < 0)
        return r;
    if (r == 0)
        return -ENOENT;
    from_row(st, ret_user);
    return 0;
}

int users_get_by_email(struct store_tx *tx, const char *email, struct user *ret_user,
                       char **ret_pw_hash)
{
    struct store_stmt *st =
        store_prepare(tx, "SELECT " USER_COLS ", pw_hash FROM users WHERE email = ?");
    int r;

    store_bind_text(st, 1, email);
    r = store_step(st);
    if (r < 0)
        return r;
    if (r == 0)
        return -ENOENT;
    from_row(st, ret_user);
    if (ret_pw_hash)
        *ret_pw_hash = strdup(store_col_text(st, 8));
    return 0;
}

int users_insert(struct store_tx *tx, struct user *u, const char *pw_hash)
{
    struct store_stmt *st = store_prepare(
        tx, "INSERT INTO users (id, email, name, role, timezone, pw_hash, id_verified,"
            " billing_state, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, 'none', ?)");

    st_uuid_new(u->id);
    store_bind_text(st, 1, u->id);
    store_bind_text(st, 2, u->email);
    store_bind_text(st, 3, u->name);
    store_bind_text(st, 4, u->role);
    store_bind_text(st, 5, u->timezone);
    store_bind_text(st, 6, pw_hash);
    store_bind_int(st, 7, u->created_at);
    return store_run(st);
}

json_t *users_to_json(const struct user *u)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "id", u->id, "email", u->email, "name", u->name,
                     "role", u->role, "timezone", u->timezone, "id_verified", u->id_verified);
}

json_t *users_ref_json(const char *id, const char *name)
{
    return json_pack("{s:s,s:s}", "id", id, "name", name);
}

int users_normalize_email(char *email)
{
    char *at = NULL;
    size_t n = strlen(email);

    if (n < 3 || n > USER_EMAIL_MAX)
        return -EINVAL;
    for (char *p = email; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"' || c == ',' || c == ';')
            return -EINVAL;
        if (c == '@') {
            if (at)
                return -EINVAL;
            at = p;
        }
        *p = (char)tolower(c);
    }
    if (!at || at == email || !at[1] || !strchr(at + 1, '.') || at[1] == '.' ||
        email[n - 1] == '.')
        return -EINVAL;
    return 0;
}
