/*
 * Unit tests of lib/os.h on Linux (os-posix.c), with real files and a real
 * second process: the XDG folders, the journal's lock as another process
 * sees it, durable replace, random bytes, the clocks, timed waits, the
 * engine's waker, and the Windows-only answers (proxy, argv) that are
 * no-ops here. The Windows file (os-win32.c) is exercised by the tests
 * verified under Wine 8.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/os.h"

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/stint-os-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_xdg_dirs(void **state)
{
    char *d;

    setenv("HOME", "/home/someone", 1);
    setenv("XDG_CONFIG_HOME", "/x/config", 1);
    setenv("XDG_DATA_HOME", "relative/data", 1); /* invalid: ignored */
    d = st_os_config_dir();
    assert_string_equal(d, "/x/config/stint");
    free(d);
    d = st_os_data_dir();
    assert_string_equal(d, "/home/someone/.local/share/stint");
    free(d);
    unsetenv("XDG_CONFIG_HOME");
    d = st_os_config_dir();
    assert_string_equal(d, "/home/someone/.config/stint");
    free(d);
}

/* In a child: the lock result on its own descriptor of path, as an exit status. */
static int child_lock(const char *path, bool exclusive)
{
    pid_t pid = fork();
    int status;

    if (pid == 0) {
        int fd = open(path, O_RDWR);
        int r = fd < 0 ? -errno : st_os_lock(fd, exclusive);
        _exit(r == 0 ? 0 : r == -EBUSY ? 1 : 2);
    }
    assert_true(pid > 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WEXITSTATUS(status);
}

static void test_lock_as_another_process_sees_it(void **state)
{
    char path[128];
    int fd;

    snprintf(path, sizeof(path), "%s/lock", dir);
    fd = open(path, O_RDWR | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(child_lock(path, false), 0); /* nobody holds it: the probe passes */
    assert_int_equal(st_os_lock(fd, true), 0);
    assert_int_equal(child_lock(path, true), 1);  /* held: -EBUSY */
    assert_int_equal(child_lock(path, false), 1); /* the probe sees it too */
    close(fd);                                    /* closing releases it */
    assert_int_equal(child_lock(path, true), 0);
}

static void test_replace(void **state)
{
    char tmp[128], path[128], buf[16] = {0};
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s/new.tmp", dir);
    snprintf(path, sizeof(path), "%s/file", dir);
    f = fopen(path, "w");
    fputs("old", f);
    fclose(f);
    f = fopen(tmp, "w");
    fputs("new", f);
    fclose(f);
    assert_int_equal(st_os_replace(tmp, path), 0);
    f = fopen(path, "r");
    assert_non_null(fgets(buf, sizeof(buf), f));
    fclose(f);
    assert_string_equal(buf, "new");
    assert_int_equal(access(tmp, F_OK), -1);
    /* A failure leaves both alone: no tmp, nothing replaced. */
    assert_int_equal(st_os_replace(tmp, path), -ENOENT);
    assert_int_equal(access(path, F_OK), 0);
}

static void test_random_and_clocks(void **state)
{
    unsigned char a[32] = {0}, b[32] = {0};
    int64_t m1, m2, wall;
    struct timespec ts = {0, 20 * 1000 * 1000};

    assert_int_equal(st_os_random(a, sizeof(a)), 0);
    assert_int_equal(st_os_random(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(st_os_random(a, 0), 0);

    wall = st_os_wall_ms();
    assert_true(llabs(wall / 1000 - (int64_t)time(NULL)) <= 1);
    m1 = st_os_mono_ms();
    nanosleep(&ts, NULL);
    m2 = st_os_mono_ms();
    assert_true(m2 - m1 >= 19 && m2 - m1 < 2000);
}

static void test_waker(void **state)
{
    struct st_os_waker *w = NULL;
    struct pollfd p;

    assert_int_equal(st_os_waker_new(&w), 0);
    p.fd = st_os_waker_fd(w);
    p.events = POLLIN;
    assert_true(p.fd >= 0);
    assert_int_equal(poll(&p, 1, 0), 0);
    assert_false(st_os_waker_drain(w));
    st_os_waker_ring(w);
    st_os_waker_ring(w);
    assert_int_equal(poll(&p, 1, 1000), 1);
    assert_true(st_os_waker_drain(w));
    assert_false(st_os_waker_drain(w));
    assert_int_equal(poll(&p, 1, 0), 0);
    st_os_waker_free(w);
    st_os_waker_free(NULL);
}

static void test_cond_timedwait_waits_the_whole_time(void **state)
{
    pthread_cond_t c;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    struct timespec deadline;
    int64_t t0 = st_os_mono_ms();
    int r;

    assert_int_equal(st_os_cond_init(&c), 0);
    pthread_mutex_lock(&m);
    st_os_cond_deadline(50, &deadline);
    while ((r = st_os_cond_timedwait(&c, &m, &deadline)) != ETIMEDOUT)
        assert_int_equal(r, 0);
    pthread_mutex_unlock(&m);
    assert_true(st_os_mono_ms() - t0 >= 49);
    pthread_cond_destroy(&c);
}

static void test_windows_only_answers_are_no_ops(void **state)
{
    char *argv[] = {"stint", "caf\xc3\xa9", NULL};
    char host[256];

    assert_null(st_os_proxy_for("http://stint.example:8080/"));
    assert_ptr_equal(st_os_utf8_argv(2, argv), argv);
    st_os_console_utf8();
    assert_int_equal(st_os_host_name(host, sizeof(host)), 0);
    assert_true(strlen(host) > 0);
    assert_int_equal(st_os_host_name(host, 0), -EINVAL);
    assert_int_equal(st_os_char_width('a'), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xdg_dirs),
        cmocka_unit_test_setup_teardown(test_lock_as_another_process_sees_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace, setup, teardown),
        cmocka_unit_test(test_random_and_clocks),
        cmocka_unit_test(test_waker),
        cmocka_unit_test(test_cond_timedwait_waits_the_whole_time),
        cmocka_unit_test(test_windows_only_answers_are_no_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
