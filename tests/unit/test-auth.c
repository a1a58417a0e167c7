/*
 * Unit tests of what stands between a stranger and an account
 * (server/auth.c, and users_normalize_email from server/users.c): password
 * hashes, the shape and stored form of bearer tokens, the login limiter,
 * and the email check every sign-up and login goes through.
 *
 * argon2id is slow on purpose, so this file hashes three passwords in all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/auth.h"
#include "server/users.h"

#define NOW INT64_C(1800000000)

/* ---- passwords ---- */

static void a_password_hash_verifies_only_that_password(void **state)
{
    static const char pw[] = "correct horse battery staple";
    char h1[AUTH_HASH_LEN], h2[AUTH_HASH_LEN];

    assert_int_equal(auth_hash_password(pw, h1), 0);
    assert_int_equal(strncmp(h1, "$argon2id$", 10), 0);
    assert_null(strstr(h1, pw)); /* the password itself is not in the hash */
    assert_true(auth_verify_password(h1, pw));
    assert_false(auth_verify_password(h1, "correct horse battery stapl"));
    assert_false(auth_verify_password(h1, "Correct horse battery staple"));
    assert_false(auth_verify_password(h1, ""));

    /* Salted: the same password hashes differently each time, and both verify. */
    assert_int_equal(auth_hash_password(pw, h2), 0);
    assert_string_not_equal(h1, h2);
    assert_true(auth_verify_password(h2, pw));

    /* Neither a damaged hash nor the dummy hash lets anyone in. */
    h1[strlen(h1) - 2] ^= 1;
    assert_false(auth_verify_password(h1, pw));
    assert_false(auth_verify_password("", pw));
    assert_false(auth_verify_password(auth_dummy_hash(), pw));
    assert_int_equal(strncmp(auth_dummy_hash(), "$argon2id$", 10), 0);
}

/* ---- tokens ---- */

static bool base64url(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static void tokens_have_their_shape_and_differ(void **state)
{
    enum { N = 200 };
    static char tokens[N][AUTH_TOKEN_LEN + 1];
    char hash[AUTH_TOKEN_HASH_LEN + 1];
    bool saw_dash_or_underscore = false;

    for (int i = 0; i < N; i++) {
        memset(tokens[i], '?', sizeof(tokens[i]));
        auth_new_token(tokens[i], hash);
        assert_int_equal(strlen(tokens[i]), 46);
        assert_int_equal(strncmp(tokens[i], "st_", 3), 0);
        for (int k = 3; k < 46; k++) {
            if (!base64url(tokens[i][k]))
                fail_msg("token '%s' holds '%c'", tokens[i], tokens[i][k]);
            if (tokens[i][k] == '-' || tokens[i][k] == '_')
                saw_dash_or_underscore = true;
        }
        for (int j = 0; j < i; j++)
            assert_string_not_equal(tokens[i], tokens[j]);
    }
    /* URL-safe, not standard, base64 (200 tokens without either is ~1e-75 likely). */
    assert_true(saw_dash_or_underscore);
}

static void the_stored_hash_is_the_sha256_of_the_token(void **state)
{
    char token[AUTH_TOKEN_LEN + 1], hash[AUTH_TOKEN_HASH_LEN + 1];
    char again[AUTH_TOKEN_HASH_LEN + 1], want[AUTH_TOKEN_HASH_LEN + 1];
    unsigned char d[crypto_hash_sha256_BYTES];

    auth_new_token(token, hash);
    crypto_hash_sha256(d, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(want, sizeof(want), d, sizeof(d));
    assert_string_equal(hash, want);

    /* The presented token maps to the same stored form; another one does not. */
    auth_token_hash(token, again);
    assert_string_equal(again, hash);
    token[10] = token[10] == 'A' ? 'B' : 'A';
    auth_token_hash(token, again);
    assert_string_not_equal(again, hash);

    /* A known value, so a change of algorithm cannot go unnoticed. */
    auth_token_hash("abc", again);
    assert_string_equal(again, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/* ---- the login limiter ---- */

static void fail_n(struct ratelimit *rl, const char *key, int n, int64_t now)
{
    for (int i = 0; i < n; i++)
        ratelimit_fail(rl, key, now);
}

static void the_fifth_failure_locks_for_the_window(void **state)
{
    struct ratelimit *rl = ratelimit_new();
    int retry = -1;

    for (int i = 0; i < AUTH_FAIL_LIMIT - 1; i++) {
        ratelimit_fail(rl, "alice@example.com", NOW + i);
        if (ratelimit_blocked(rl, "alice@example.com", NOW + i, &retry))
            fail_msg("blocked after %d failures", i + 1);
    }
    ratelimit_fail(rl, "alice@example.com", NOW + 10);
    assert_true(ratelimit_blocked(rl, "alice@example.com", NOW + 10, &retry));
    assert_int_equal(retry, AUTH_FAIL_WINDOW_S);
    assert_int_equal(AUTH_FAIL_WINDOW_S, 900);

    /* Still locked to the last second, with the wait counting down. */
    assert_true(ratelimit_blocked(rl, "alice@example.com", NOW + 10 + 600, &retry));
    assert_int_equal(retry, 300);
    assert_true(ratelimit_blocked(rl, "alice@example.com", NOW + 10 + 899, &retry));
    assert_int_equal(retry, 1);

    /* Then free again, with a fresh count. */
    retry = -1;
    assert_false(ratelimit_blocked(rl, "alice@example.com", NOW + 10 + 900, &retry));
    assert_int_equal(retry, -1);
    fail_n(rl, "alice@example.com", AUTH_FAIL_LIMIT - 1, NOW + 2000);
    assert_false(ratelimit_blocked(rl, "alice@example.com", NOW + 2000, &retry));
    ratelimit_free(rl);
}

static void failures_further_apart_than_the_window_do_not_add_up(void **state)
{
    struct ratelimit *rl = ratelimit_new();
    int retry;

    fail_n(rl, "alice@example.com", 4, NOW);
    ratelimit_fail(rl, "alice@example.com", NOW + AUTH_FAIL_WINDOW_S);
    assert_false(ratelimit_blocked(rl, "alice@example.com", NOW + AUTH_FAIL_WINDOW_S, &retry));

    fail_n(rl, "bob@example.com", 4, NOW);
    ratelimit_fail(rl, "bob@example.com", NOW + AUTH_FAIL_WINDOW_S - 1);
    assert_true(ratelimit_blocked(rl, "bob@example.com", NOW + AUTH_FAIL_WINDOW_S - 1, &retry));
    ratelimit_free(rl);
}

static void a_successful_login_clears_the_count(void **state)
{
    struct ratelimit *rl = ratelimit_new();
    int retry;

    fail_n(rl, "alice@example.com", 4, NOW);
    ratelimit_clear(rl, "alice@example.com");
    fail_n(rl, "alice@example.com", 4, NOW + 1);
    assert_false(ratelimit_blocked(rl, "alice@example.com", NOW + 1, &retry));
    ratelimit_fail(rl, "alice@example.com", NOW + 2);
    assert_true(ratelimit_blocked(rl, "alice@example.com", NOW + 2, &retry));
    ratelimit_free(rl);
}

static void different_emails_are_counted_apart(void **state)
{
    static const char *const others[] = {"bob@example.com", "carol@example.com",
                                         "alice@example.org"};
    struct ratelimit *rl = ratelimit_new();
    int retry;

    fail_n(rl, "alice@example.com", 5, NOW);
    assert_true(ratelimit_blocked(rl, "alice@example.com", NOW, &retry));
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
        if (ratelimit_blocked(rl, others[i], NOW, &retry))
            fail_msg("'%s' is locked out by alice's failures", others[i]);
        fail_n(rl, others[i], 4, NOW);
        assert_false(ratelimit_blocked(rl, others[i], NOW, &retry));
    }
    ratelimit_free(rl);
}

/* An email that shares victim's slot in the limiter's table (it has 4096). */
static void find_collider(const char *victim, char *out, size_t outlen)
{
    struct ratelimit *rl = ratelimit_new();
    int retry;

    fail_n(rl, victim, AUTH_FAIL_LIMIT, NOW);
    for (int i = 0; i < 1000000; i++) {
        snprintf(out, outlen, "mallory%d@example.com", i);
        if (ratelimit_blocked(rl, out, NOW, &retry)) {
            ratelimit_free(rl);
            return;
        }
    }
    fail_msg("no email shares a slot with '%s'", victim);
}

static void an_email_sharing_a_slot_cannot_loosen_the_limit(void **state)
{
    struct ratelimit *rl = ratelimit_new();
    char mallory[64];
    int retry;

    find_collider("victim@example.com", mallory, sizeof(mallory));

    /* Failures against either count together: stricter, never looser. */
    fail_n(rl, "victim@example.com", 3, NOW);
    fail_n(rl, mallory, 2, NOW);
    assert_true(ratelimit_blocked(rl, "victim@example.com", NOW, &retry));
    ratelimit_free(rl);

    /*
     * Four guesses at the victim's password, then a good login to an account
     * of one's own that shares the slot, then four more... must not work.
     */
    rl = ratelimit_new();
    for (int round = 0; round < 3; round++) {
        int64_t t = NOW + round;
        if (ratelimit_blocked(rl, "victim@example.com", t, &retry))
            break;
        fail_n(rl, "victim@example.com", AUTH_FAIL_LIMIT - 1, t);
        ratelimit_clear(rl, mallory);
    }
    assert_true(ratelimit_blocked(rl, "victim@example.com", NOW + 3, &retry));
    ratelimit_free(rl);

    /* The victim's own good login still clears the victim's own failures. */
    rl = ratelimit_new();
    fail_n(rl, "victim@example.com", 4, NOW);
    ratelimit_clear(rl, "victim@example.com");
    fail_n(rl, "victim@example.com", 4, NOW);
    assert_false(ratelimit_blocked(rl, "victim@example.com", NOW, &retry));
    ratelimit_free(rl);
}

/* ---- emails ---- */

static void emails_are_folded_to_lower_case(void **state)
{
    char e[USER_EMAIL_MAX + 8];

    snprintf(e, sizeof(e), "Alice.Smith+Work@Example.COM");
    assert_int_equal(users_normalize_email(e), 0);
    assert_string_equal(e, "alice.smith+work@example.com");

    snprintf(e, sizeof(e), "a@b.c");
    assert_int_equal(users_normalize_email(e), 0);
    assert_string_equal(e, "a@b.c");
}

static void malformed_emails_are_refused(void **state)
{
    static const char *const bad[] = {
        "alice.example.com",
        "alice@@example.com",
        "a@b@example.com",
        "alice @example.com",
        "alice@exa mple.com",
        " alice@example.com",
        "alice@example.com\n",
        "alice\t@example.com",
        "alice@example\x01.com",
        "alice@example.com\x7f",
        "alice@localhost",
        "@example.com",
        "alice@",
        "alice@.com",
        "alice@example.",
        "<alice@example.com>",
        "alice,bob@example.com",
        "\"alice\"@example.com",
        "",
        "a@",
    };
    char e[USER_EMAIL_MAX + 8];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(e, sizeof(e), "%s", bad[i]);
        if (users_normalize_email(e) != -EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
    }
}

static void an_email_may_be_254_characters_not_255(void **state)
{
    char e[300];
    size_t domain = strlen("@example.com");

    memset(e, 'a', 254 - domain);
    strcpy(e + 254 - domain, "@example.com");
    assert_int_equal(strlen(e), 254);
    assert_int_equal(users_normalize_email(e), 0);

    memset(e, 'a', 255 - domain);
    strcpy(e + 255 - domain, "@example.com");
    assert_int_equal(strlen(e), 255);
    assert_int_equal(users_normalize_email(e), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_password_hash_verifies_only_that_password),
        cmocka_unit_test(tokens_have_their_shape_and_differ),
        cmocka_unit_test(the_stored_hash_is_the_sha256_of_the_token),
        cmocka_unit_test(the_fifth_failure_locks_for_the_window),
        cmocka_unit_test(failures_further_apart_than_the_window_do_not_add_up),
        cmocka_unit_test(a_successful_login_clears_the_count),
        cmocka_unit_test(different_emails_are_counted_apart),
        cmocka_unit_test(an_email_sharing_a_slot_cannot_loosen_the_limit),
        cmocka_unit_test(emails_are_folded_to_lower_case),
        cmocka_unit_test(malformed_emails_are_refused),
        cmocka_unit_test(an_email_may_be_254_characters_not_255),
    };

    if (auth_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
