/*
 * Unit tests of the saved sign-in (lib/signin.c) without a keyring, with
 * real files under a temporary XDG_CONFIG_HOME: the round trip through the
 * 0600 file, a sign-in whose token is in a keyring that cannot be reached
 * now (said as such, and its server still readable), the files refused,
 * and removal. The keyring itself is tested against a real GNOME Keyring
 * in tests/integration/test_desktop.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/signin.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/stint-signin-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    setenv("XDG_CONFIG_HOME", dir, 1);
    /* No keyring here, whatever the machine has: the file is what is tested. */
    setenv("STINT_NO_KEYRING", "1", 1);
    snprintf(path, sizeof(path), "%s/stint/auth.json", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *text)
{
    char sub[96];
    FILE *f;

    snprintf(sub, sizeof(sub), "%s/stint", dir);
    mkdir(sub, 0700);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_round_trip_in_the_file(void **state)
{
    struct st_signin in = {
        .server = "http://127.0.0.1:8080", .token = "st_secret", .email = "frida@example.com"};
    struct st_signin out = {0};
    struct stat sb;
    char buf[512] = "";
    FILE *f;

    assert_int_equal(st_signin_load(&out), -ENOENT);
    assert_int_equal(st_signin_save(&in), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    f = fopen(path, "r");
    assert_non_null(f);
    assert_true(fread(buf, 1, sizeof(buf) - 1, f) > 0);
    fclose(f);
    /* Without a keyring the token is in the file, and no marker says otherwise. */
    assert_non_null(strstr(buf, "st_secret"));
    assert_null(strstr(buf, "token_in"));

    assert_int_equal(st_signin_load(&out), 0);
    assert_string_equal(out.server, in.server);
    assert_string_equal(out.token, in.token);
    assert_string_equal(out.email, in.email);
    st_signin_release(&out);

    assert_int_equal(st_signin_peek(&out), 0);
    assert_string_equal(out.server, in.server);
    assert_null(out.token);
    st_signin_release(&out);
}

static void test_token_in_an_unreachable_keyring(void **state)
{
    struct st_signin out = {0};

    write_file("{\"server\": \"http://stint.example\", \"email\": \"frida@example.com\", "
               "\"token_in\": \"keyring\"}\n");
    /* The keyring cannot be asked (STINT_NO_KEYRING): that is said, not "signed out". */
    assert_int_equal(st_signin_load(&out), -ENOKEY);
    assert_null(out.server);
    /* The server and email are still known, for choosing the server. */
    assert_int_equal(st_signin_peek(&out), 0);
    assert_string_equal(out.server, "http://stint.example");
    assert_string_equal(out.email, "frida@example.com");
    assert_null(out.token);
    st_signin_release(&out);
}

static void test_refused_files(void **state)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{\"server\": \"http://x\"}",
        "{\"token\": \"st_x\"}",
        "{\"server\": \"\", \"token\": \"st_x\"}",
        "{\"server\": \"http://x\", \"token\": \"\"}",
        /* A marker for a store we do not know, or a marker and a token both. */
        "{\"server\": \"http://x\", \"token_in\": \"tpm\"}",
        "{\"server\": \"http://x\", \"token_in\": \"keyring\", \"token\": \"st_x\"}",
        "{\"server\": \"http://x\", \"token_in\": 1}",
        "{\"server\": \"http://x\", \"token\": \"st_x\", \"token\": \"st_y\"}",
    };
    struct st_signin out = {0};
    char *big;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_file(bad[i]);
        assert_int_equal(st_signin_load(&out), -EINVAL);
        assert_int_equal(st_signin_peek(&out), -EINVAL);
        assert_null(out.server);
    }
    big = calloc(1, ST_SIGNIN_MAX_BYTES + 2);
    assert_non_null(big);
    memset(big, ' ', ST_SIGNIN_MAX_BYTES + 1);
    write_file(big);
    free(big);
    assert_int_equal(st_signin_load(&out), -EFBIG);
}

static void test_remove(void **state)
{
    struct st_signin in = {.server = "http://x", .token = "st_x", .email = NULL};
    struct st_signin out = {0};

    assert_int_equal(st_signin_remove(), 0); /* nobody signed in: nothing to do */
    assert_int_equal(st_signin_save(&in), 0);
    assert_int_equal(st_signin_load(&out), 0);
    assert_null(out.email);
    st_signin_release(&out);
    assert_int_equal(st_signin_remove(), 0);
    assert_int_equal(st_signin_load(&out), -ENOENT);
    assert_int_equal(st_signin_remove(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_in_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_in_an_unreachable_keyring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
