/*
 * Unit tests of the saved sign-in (lib/signin.c) without a keyring, with
 * real files under a temporary XDG_CONFIG_HOME: the round trip through the
 * 0600 file, a sign-in whose token is in a keyring that cannot be reached
 * now (said as such, and its server still readable), the files refused,
 * and removal. Then when the keyring module (stint-secret.so, lib/secret.h)
 * is loaded: never for a token in the file, nor without a session bus or
 * with STINT_NO_KEYRING=1; for a save with a bus (which has no keyring
 * here: the token stays in the file); a missing module is no keyring, and
 * $STINT_SECRET_MODULE is obeyed. Loading is once per process, so those
 * cases run in a child each. The keyring itself is tested against a real
 * GNOME Keyring in tests/integration/test_desktop.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/signin.h"

static char dir[64];
static char path[128];
static char no_bus[128];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/stint-signin-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    setenv("XDG_CONFIG_HOME", dir, 1);
    /* No keyring here, whatever the machine has: the file is what is tested. */
    setenv("STINT_NO_KEYRING", "1", 1);
    /* Nor the session bus of whoever runs the tests: no bus unless a test sets this one. */
    unsetenv("DBUS_SESSION_BUS_ADDRESS");
    unsetenv("STINT_SECRET_MODULE");
    setenv("XDG_RUNTIME_DIR", dir, 1);
    snprintf(no_bus, sizeof(no_bus), "unix:path=%s/no-bus", dir);
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

/* Whether a module whose path ends in name is mapped into this process. */
static bool mapped(const char *name)
{
    char line[4096];
    size_t n = strlen(name);
    bool found = false;
    FILE *f = fopen("/proc/self/maps", "r");

    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        size_t len = strcspn(line, "\n");
        if (len >= n && memcmp(line + len - n, name, n) == 0)
            found = true;
    }
    fclose(f);
    return found;
}

static bool token_in_file(void)
{
    char buf[512] = "";
    FILE *f = fopen(path, "r");
    bool yes;

    if (!f)
        return false;
    yes = fread(buf, 1, sizeof(buf) - 1, f) > 0 && strstr(buf, "\"token\"") &&
          !strstr(buf, "token_in");
    fclose(f);
    return yes;
}

static const char *const keyring_file =
    "{\"server\": \"http://x\", \"email\": \"e@x\", \"token_in\": \"keyring\"}\n";

static void test_no_module_when_the_keyring_is_not_needed(void **state)
{
    struct st_signin in = {.server = "http://x", .token = "st_x", .email = "e@x"};
    struct st_signin out = {0};

    unsetenv("STINT_NO_KEYRING");
    /* A session bus is configured: only the token's place decides. */
    setenv("DBUS_SESSION_BUS_ADDRESS", no_bus, 1);
    write_file("{\"server\": \"http://x\", \"token\": \"st_file\"}\n");
    assert_int_equal(st_signin_load(&out), 0);
    assert_string_equal(out.token, "st_file");
    st_signin_release(&out);
    assert_int_equal(st_signin_peek(&out), 0);
    st_signin_release(&out);
    write_file(keyring_file);
    assert_int_equal(st_signin_peek(&out), 0);
    st_signin_release(&out);
    assert_false(mapped("/stint-secret.so"));

    /* STINT_NO_KEYRING=1: no keyring, whatever the bus. */
    setenv("STINT_NO_KEYRING", "1", 1);
    assert_int_equal(st_signin_load(&out), -ENOKEY);
    assert_int_equal(st_signin_save(&in), 0);
    assert_true(token_in_file());
    assert_int_equal(st_signin_remove(), 0);
    assert_false(mapped("/stint-secret.so"));

    /* No session bus configured (no address, no $XDG_RUNTIME_DIR/bus): no keyring. */
    unsetenv("STINT_NO_KEYRING");
    unsetenv("DBUS_SESSION_BUS_ADDRESS");
    write_file(keyring_file);
    assert_int_equal(st_signin_load(&out), -ENOKEY);
    assert_int_equal(st_signin_save(&in), 0);
    assert_true(token_in_file());
    assert_int_equal(st_signin_load(&out), 0);
    st_signin_release(&out);
    assert_int_equal(st_signin_remove(), 0);
    assert_false(mapped("/stint-secret.so"));
}

/*
 * A save with a session bus configured, in a child (the module stays
 * loaded): the module is loaded from module_path (NULL: where secret-dl.c
 * looks by default), finds no keyring on the bus that is not there, and
 * the token goes to the file. Returns the child's exit status: 0 or the
 * number of the check that failed.
 */
static int save_with_a_bus(const char *module_path, const char *expect_mapped)
{
    struct st_signin in = {.server = "http://x", .token = "st_x", .email = "e@x"};
    struct st_signin out = {0};
    int status;
    pid_t pid = fork();

    assert_true(pid >= 0);
    if (pid == 0) {
        unsetenv("STINT_NO_KEYRING");
        setenv("DBUS_SESSION_BUS_ADDRESS", no_bus, 1);
        if (module_path)
            setenv("STINT_SECRET_MODULE", module_path, 1);
        if (st_signin_save(&in) != 0)
            _exit(1);
        if (!token_in_file())
            _exit(2);
        if (expect_mapped && !mapped(expect_mapped))
            _exit(3);
        if (!expect_mapped && mapped("/stint-secret.so"))
            _exit(4);
        if (st_signin_load(&out) != 0 || strcmp(out.token, "st_x") != 0)
            _exit(5);
        st_signin_release(&out);
        write_file(keyring_file);
        if (st_signin_load(&out) != -ENOKEY)
            _exit(6);
        if (st_signin_remove() != 0)
            _exit(7);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static const char *built_module(void)
{
    static char module[512];
    const char *root = getenv("STINT_BUILD_ROOT");

    snprintf(module, sizeof(module), "%s/lib/stint-secret.so", root ? root : ".");
    if (access(module, R_OK) != 0)
        skip(); /* built without libsecret-1: there is no module to load */
    return module;
}

static void test_saving_with_a_bus_loads_the_module(void **state)
{
    built_module();
    /* From the build tree, as this test runs from there. */
    assert_int_equal(save_with_a_bus(NULL, "/stint-secret.so"), 0);
}

static void test_stint_secret_module_is_obeyed(void **state)
{
    char missing[128], copy[128], cmd[1200];
    const char *module = built_module();

    snprintf(missing, sizeof(missing), "%s/missing.so", dir);
    assert_int_equal(save_with_a_bus(missing, NULL), 0);
    /* A file that is not a stint module (no entry point) is no keyring either. */
    snprintf(copy, sizeof(copy), "%s/auth.json", dir);
    write_file("{}");
    assert_int_equal(save_with_a_bus(copy, NULL), 0);
    snprintf(copy, sizeof(copy), "%s/copy-of-stint-secret.so", dir);
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", module, copy);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(save_with_a_bus(copy, "/copy-of-stint-secret.so"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip_in_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_in_an_unreachable_keyring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_module_when_the_keyring_is_not_needed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_saving_with_a_bus_loads_the_module, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stint_secret_module_is_obeyed, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
