/*
 * Unit tests of the layered configuration (lib/config.c) with real files in
 * a temporary directory and the real environment: which layer wins, how
 * each type of value is checked, what a config file may hold, and that
 * every refusal says where the bad value came from.
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
#include <unistd.h>

#include "lib/config.h"

/* The settings of a made-up program, filled by the loaders. */
static char name[16];
static char data_dir[64];
static int port;
static bool verbose;

static const struct st_config_key keys[] = {
    {"name", "STINT_TEST_NAME", ST_CONFIG_STRING, name, sizeof(name), 0, 0},
    {"data_dir", "STINT_TEST_DATA_DIR", ST_CONFIG_STRING, data_dir, sizeof(data_dir), 0, 0},
    {"port", "STINT_TEST_PORT", ST_CONFIG_INT, &port, 0, 1, 65535},
    {"verbose", "STINT_TEST_VERBOSE", ST_CONFIG_BOOL, &verbose, 0, 0, 0},
    {NULL, NULL, 0, NULL, 0, 0, 0},
};

static char dir[64];
static char path[128];
static char err[512];

/* The defaults layer, and an environment without any of our variables. */
static int setup(void **state)
{
    snprintf(name, sizeof(name), "default-name");
    snprintf(data_dir, sizeof(data_dir), "/var/lib/stint");
    port = 8080;
    verbose = false;
    for (const struct st_config_key *k = keys; k->name; k++)
        unsetenv(k->env);
    snprintf(dir, sizeof(dir), "/tmp/stint-config-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof(path), "%s/stint.conf", dir);
    memset(err, 0, sizeof(err));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];

    for (const struct st_config_key *k = keys; k->name; k++)
        unsetenv(k->env);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "# cannot remove %s\n", dir);
    return 0;
}

static void write_file(const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* err must name the config file and the line: "PATH:LINE: ...". */
static void assert_err_at(int line)
{
    char where[200];

    snprintf(where, sizeof(where), "%s:%d: ", path, line);
    if (strncmp(err, where, strlen(where)) != 0)
        fail_msg("error '%s' does not start with '%s'", err, where);
}

static int set(const char *key, const char *value)
{
    return st_config_set(keys, key, value, err, sizeof(err));
}

/* ---- layering ---- */

static void each_layer_overrides_the_one_before(void **state)
{
    write_file("name = from-file\nport = 1000\nverbose = no\n");
    setenv("STINT_TEST_PORT", "2000", 1);
    setenv("STINT_TEST_VERBOSE", "yes", 1);

    assert_int_equal(st_config_load_file(keys, path, err, sizeof(err)), 0);
    assert_int_equal(st_config_load_env(keys, err, sizeof(err)), 0);
    assert_int_equal(set("verbose", "off"), 0); /* a flag: --verbose=off */

    assert_string_equal(data_dir, "/var/lib/stint"); /* only the default */
    assert_string_equal(name, "from-file");          /* file over default */
    assert_int_equal(port, 2000);                    /* environment over file */
    assert_false(verbose);                           /* flag over environment */
}

static void a_missing_file_is_enoent_and_changes_nothing(void **state)
{
    assert_int_equal(st_config_load_file(keys, path, err, sizeof(err)), -ENOENT);
    assert_string_equal(name, "default-name");
    assert_int_equal(port, 8080);
}

static void a_directory_is_not_a_config_file(void **state)
{
    /* A mistyped --config pointing at a folder must not pass for an empty file. */
    assert_int_equal(st_config_load_file(keys, dir, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, dir));
}

/* ---- types ---- */

static void a_string_must_fit_its_buffer(void **state)
{
    assert_int_equal(set("name", "fifteen-chars.."), 0);
    assert_string_equal(name, "fifteen-chars..");
    assert_int_equal(set("name", "sixteen-chars..."), -EINVAL);
    assert_non_null(strstr(err, "'name'"));
    assert_string_equal(name, "fifteen-chars..");
    assert_int_equal(set("name", ""), 0);
    assert_string_equal(name, "");
}

static void an_int_must_be_a_whole_number_in_range(void **state)
{
    static const char *const bad[] = {
        "0",
        "65536",
        "-1",
        "80x",
        "x80",
        "",
        "8.0",
        "0x50",
        "99999999999999999999",
        "4294967377", /* 2^32 + 81: must not wrap around to 81 */
        "-9223372036854775809",
    };

    assert_int_equal(set("port", "1"), 0);
    assert_int_equal(port, 1);
    assert_int_equal(set("port", "65535"), 0);
    assert_int_equal(port, 65535);
    assert_int_equal(set("port", "443"), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        if (set("port", bad[i]) != -EINVAL)
            fail_msg("port '%s' was accepted", bad[i]);
        assert_int_equal(port, 443);
        assert_non_null(strstr(err, "'port'"));
        assert_non_null(strstr(err, "1 to 65535"));
    }
}

static void a_bool_takes_the_usual_spellings(void **state)
{
    static const char *const yes[] = {"true", "yes", "on", "1", "TRUE", "Yes", "On"};
    static const char *const no[] = {"false", "no", "off", "0", "FALSE", "No", "OFF"};
    static const char *const bad[] = {"", "2", "y", "n", "enabled", "truex", "true "};

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        verbose = false;
        assert_int_equal(set("verbose", yes[i]), 0);
        if (!verbose)
            fail_msg("'%s' did not mean true", yes[i]);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        verbose = true;
        assert_int_equal(set("verbose", no[i]), 0);
        if (verbose)
            fail_msg("'%s' did not mean false", no[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        verbose = true;
        if (set("verbose", bad[i]) != -EINVAL)
            fail_msg("verbose '%s' was accepted", bad[i]);
        assert_true(verbose);
        assert_non_null(strstr(err, "'verbose'"));
    }
}

static void an_unknown_key_is_enoent_when_set_directly(void **state)
{
    assert_int_equal(set("prot", "80"), -ENOENT);
    assert_non_null(strstr(err, "'prot'"));
    assert_int_equal(port, 8080);
}

/* ---- the file ---- */

static void comments_blank_lines_and_spaces_are_ignored(void **state)
{
    write_file("# stintd settings\n"
               "\n"
               "   \n"
               "\t# indented comment\n"
               "  port   =   81   # the port\n"
               "name=plain\n"
               "data_dir = /srv/stint dir\n"
               "verbose = on");
    assert_int_equal(st_config_load_file(keys, path, err, sizeof(err)), 0);
    assert_int_equal(port, 81);
    assert_string_equal(name, "plain");
    assert_string_equal(data_dir, "/srv/stint dir");
    assert_true(verbose);
}

static void a_line_without_equals_is_refused_with_its_line(void **state)
{
    write_file("port = 81\n# fine\nverbose\n");
    assert_int_equal(st_config_load_file(keys, path, err, sizeof(err)), -EINVAL);
    assert_err_at(3);
}

static void an_unknown_key_in_the_file_is_refused_with_its_line(void **state)
{
    write_file("port = 81\nprot = 82\n");
    assert_int_equal(st_config_load_file(keys, path, err, sizeof(err)), -EINVAL);
    assert_err_at(2);
    assert_non_null(strstr(err, "'prot'"));
}

static void a_bad_value_in_the_file_names_file_line_and_key(void **state)
{
    write_file("\n\n\n\nport = 70000\n");
    assert_int_equal(st_config_load_file(keys, path, err, sizeof(err)), -EINVAL);
    assert_err_at(5);
    assert_non_null(strstr(err, "'port'"));
    assert_int_equal(port, 8080);

    write_file("name = this value is much too long\n");
    assert_int_equal(st_config_load_file(keys, path, err, sizeof(err)), -EINVAL);
    assert_err_at(1);
    assert_string_equal(name, "default-name");
}

static void a_long_line_is_refused_but_a_long_comment_fits(void **state)
{
    char *text = malloc(4096);

    assert_non_null(text);
    /* 1000 bytes of comment, then a setting: fine. */
    memset(text, '#', 1000);
    strcpy(text + 1000, "\nport = 82\n");
    write_file(text);
    assert_int_equal(st_config_load_file(keys, path, err, sizeof(err)), 0);
    assert_int_equal(port, 82);

    /* A 2000-byte line is refused, named by its line number. */
    strcpy(text, "port = 83\n# \n");
    memset(text + strlen(text), '#', 2000);
    strcpy(text + 13 + 2000, "\n");
    write_file(text);
    assert_int_equal(st_config_load_file(keys, path, err, sizeof(err)), -EINVAL);
    assert_err_at(3);

    /* The same goes for a long value: it is not cut and half applied. */
    strcpy(text, "data_dir = ");
    memset(text + 11, 'd', 1100);
    strcpy(text + 11 + 1100, "\n");
    snprintf(data_dir, sizeof(data_dir), "/var/lib/stint");
    write_file(text);
    assert_int_equal(st_config_load_file(keys, path, err, sizeof(err)), -EINVAL);
    assert_err_at(1);
    assert_string_equal(data_dir, "/var/lib/stint");
    free(text);
}

static void a_file_over_the_cap_is_refused(void **state)
{
    /* Comment lines of 100 bytes up to exactly the cap, then one more line. */
    size_t lines = ST_CONFIG_MAX_FILE / 100, size = lines * 100;
    char *text = malloc(ST_CONFIG_MAX_FILE + 200);

    assert_non_null(text);
    for (size_t i = 0; i < lines; i++) {
        memset(text + i * 100, '#', 99);
        text[i * 100 + 99] = '\n';
    }
    /* Pad the last line so the file is exactly ST_CONFIG_MAX_FILE bytes: accepted. */
    memset(text + size, '#', ST_CONFIG_MAX_FILE - size - 1);
    text[ST_CONFIG_MAX_FILE - 1] = '\n';
    text[ST_CONFIG_MAX_FILE] = '\0';
    write_file(text);
    assert_int_equal(st_config_load_file(keys, path, err, sizeof(err)), 0);

    /* One byte more is refused. */
    strcpy(text + ST_CONFIG_MAX_FILE, "#\n");
    write_file(text);
    assert_int_equal(st_config_load_file(keys, path, err, sizeof(err)), -EINVAL);
    assert_err_at((int)lines + 2);
    free(text);
}

/* ---- the environment ---- */

static void a_bad_environment_value_names_the_variable(void **state)
{
    setenv("STINT_TEST_PORT", "eighty", 1);
    assert_int_equal(st_config_load_env(keys, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "$STINT_TEST_PORT"));
    assert_int_equal(port, 8080);
}

static void an_empty_environment_changes_nothing(void **state)
{
    assert_int_equal(st_config_load_env(keys, err, sizeof(err)), 0);
    assert_string_equal(name, "default-name");
    assert_string_equal(data_dir, "/var/lib/stint");
    assert_int_equal(port, 8080);
    assert_false(verbose);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(each_layer_overrides_the_one_before, setup, teardown),
        cmocka_unit_test_setup_teardown(a_missing_file_is_enoent_and_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_directory_is_not_a_config_file, setup, teardown),
        cmocka_unit_test_setup_teardown(a_string_must_fit_its_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(an_int_must_be_a_whole_number_in_range, setup, teardown),
        cmocka_unit_test_setup_teardown(a_bool_takes_the_usual_spellings, setup, teardown),
        cmocka_unit_test_setup_teardown(an_unknown_key_is_enoent_when_set_directly, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(comments_blank_lines_and_spaces_are_ignored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_line_without_equals_is_refused_with_its_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_unknown_key_in_the_file_is_refused_with_its_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_bad_value_in_the_file_names_file_line_and_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_long_line_is_refused_but_a_long_comment_fits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_file_over_the_cap_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_bad_environment_value_names_the_variable, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(an_empty_environment_changes_nothing, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
