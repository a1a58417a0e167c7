/*
 * Unit tests of tracker.conf (tracker/settings.c), the settings `stint
 * track` and the desktop app share, with real files under a temporary
 * XDG_CONFIG_HOME: the defaults, a round trip through save and load, that
 * saving keeps a person's comments and edits values in place, what is
 * refused, the environment over the file, and the engine options filled.
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
#include <unistd.h>

#include "tracker/engine.h"

static char dir[64];
static char path[128];
static char err[512];

static int setup(void **state)
{
    char conf[96];

    snprintf(dir, sizeof(dir), "/tmp/stint-settings-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    setenv("XDG_CONFIG_HOME", dir, 1);
    unsetenv("STINT_QUOTA_KB");
    unsetenv("STINT_IDLE_MINUTES");
    unsetenv("STINT_JPEG_QUALITY");
    unsetenv("STINT_SHOT_FORMAT");
    snprintf(conf, sizeof(conf), "%s/stint", dir);
    mkdir(conf, 0700);
    snprintf(path, sizeof(path), "%s/stint/tracker.conf", dir);
    memset(err, 0, sizeof(err));
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
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_file(void)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_defaults_without_a_file(void **state)
{
    struct tk_settings s;
    char *p = tk_settings_path();

    assert_string_equal(p, path);
    free(p);
    assert_int_equal(tk_settings_load(&s, err, sizeof(err)), 0);
    assert_int_equal(s.quota_kb, 0);
    assert_int_equal(s.idle_minutes, 0);
    assert_string_equal(s.format, "jpeg");
    assert_string_equal(s.monitor, "all");
    assert_false(s.blur);
    assert_true(s.show_thumbnail);
    assert_string_equal(s.data_dir, "");
    assert_int_equal(tk_settings_monitor(&s), TK_MONITOR_ALL);
}

static void test_round_trip(void **state)
{
    struct tk_settings s, back;

    tk_settings_init(&s);
    s.quota_kb = 2048;
    s.idle_minutes = 3;
    s.blur = true;
    s.show_thumbnail = false;
    snprintf(s.monitor, sizeof(s.monitor), "1");
    snprintf(s.data_dir, sizeof(s.data_dir), "/srv/stint journal");
    assert_int_equal(tk_settings_save(&s, err, sizeof(err)), 0);
    assert_int_equal(tk_settings_load(&back, err, sizeof(err)), 0);
    assert_int_equal(back.quota_kb, 2048);
    assert_int_equal(back.idle_minutes, 3);
    assert_true(back.blur);
    assert_false(back.show_thumbnail);
    assert_int_equal(tk_settings_monitor(&back), 1);
    assert_string_equal(back.data_dir, "/srv/stint journal");
    /* Defaults that were never set are not written: a later default reaches everyone. */
    assert_null(strstr(read_file(), "jpeg_quality"));
    assert_null(strstr(read_file(), "format"));
}

static void test_save_keeps_comments_and_order(void **state)
{
    struct tk_settings s;

    write_file("# my tracker\n"
               "idle_minutes = 15   # long meetings\n"
               "\n"
               "format = webp\n"
               "idle_minutes = 20\n");
    assert_int_equal(tk_settings_load(&s, err, sizeof(err)), 0);
    assert_int_equal(s.idle_minutes, 20); /* the last line wins, as lib/config reads it */
    s.idle_minutes = 5;
    s.blur = true;
    assert_int_equal(tk_settings_save(&s, err, sizeof(err)), 0);
    assert_string_equal(read_file(), "# my tracker\n"
                                     "idle_minutes = 5 # long meetings\n"
                                     "\n"
                                     "format = webp\n"
                                     "blur = true\n");
}

static void test_refusals(void **state)
{
    struct tk_settings s;

    write_file("monitor = left\n");
    assert_int_equal(tk_settings_load(&s, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "monitor"));
    write_file("data_dir = relative/path\n");
    assert_int_equal(tk_settings_load(&s, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "absolute"));
    write_file("format = png\n");
    assert_int_equal(tk_settings_load(&s, err, sizeof(err)), -EINVAL);
    write_file("show_thumbnail = maybe\n");
    assert_int_equal(tk_settings_load(&s, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "tracker.conf:1"));
    write_file("no_such_setting = 1\n");
    assert_int_equal(tk_settings_load(&s, err, sizeof(err)), -EINVAL);

    /* A bad value is refused before anything is written. */
    unlink(path);
    tk_settings_init(&s);
    snprintf(s.monitor, sizeof(s.monitor), "99");
    assert_int_equal(tk_settings_save(&s, err, sizeof(err)), -EINVAL);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_environment_over_file(void **state)
{
    struct tk_settings s;

    write_file("idle_minutes = 15\nquota_kb = 100\n");
    setenv("STINT_IDLE_MINUTES", "2", 1);
    assert_int_equal(tk_settings_load(&s, err, sizeof(err)), 0);
    assert_int_equal(s.idle_minutes, 2);
    assert_int_equal(s.quota_kb, 100);
    unsetenv("STINT_IDLE_MINUTES");
}

static void test_apply_fills_engine_options(void **state)
{
    struct tk_settings s;
    struct tk_engine_opts o = {0};
    char *d;

    tk_settings_init(&s);
    s.quota_kb = 512;
    s.idle_minutes = 4;
    s.blur = true;
    s.jpeg_quality = 55;
    snprintf(s.format, sizeof(s.format), "webp");
    snprintf(s.monitor, sizeof(s.monitor), "0");
    snprintf(s.data_dir, sizeof(s.data_dir), "/data/stint");
    tk_settings_apply(&s, &o);
    assert_int_equal(o.quota_bytes, 512 * 1024);
    assert_int_equal(o.idle_threshold_s, 240);
    assert_true(o.encode.blur);
    assert_int_equal(o.encode.quality, 55);
    assert_int_equal(o.encode.format, TK_SHOT_WEBP);
    assert_int_equal(o.monitor, 0);
    assert_string_equal(o.data_dir, "/data/stint");
    d = tk_settings_data_dir_dup(&s);
    assert_string_equal(d, "/data/stint");
    free(d);

    /* Unset: the engine's defaults and the journal's default folder. */
    tk_settings_init(&s);
    memset(&o, 0, sizeof(o));
    tk_settings_apply(&s, &o);
    assert_int_equal(o.quota_bytes, 0);
    assert_int_equal(o.idle_threshold_s, 0);
    assert_int_equal(o.monitor, TK_MONITOR_ALL);
    assert_null(o.data_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_without_a_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_keeps_comments_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment_over_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_fills_engine_options, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
