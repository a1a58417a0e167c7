/*
 * Unit tests of the store (server/store-sqlite.c) on a real SQLite database
 * in a temporary directory: the schema is created and migrated once; what a
 * write commits a read sees, and it survives a restart; a write that fails
 * takes back its own changes and nobody else's, even inside a shared group
 * commit; concurrent writes really do share commits; a read sees one
 * snapshot; store_free finishes the writes already queued.
 *
 * The group tests are made deterministic by holding the writer inside a
 * first write function until the other threads are asleep in store_write,
 * i.e. queued behind it, and only then letting it go.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "server/schema.h"
#include "server/store.h"

/* A table of our own, so the tests do not depend on the application's schema. */
static const char SQL_CREATE[] = "CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER NOT NULL,"
                                 " parent TEXT REFERENCES kv(k))";
static const char SQL_INSERT[] = "INSERT INTO kv (k, v) VALUES (?, ?)";
static const char SQL_INSERT_CHILD[] = "INSERT INTO kv (k, v, parent) VALUES (?, ?, ?)";
static const char SQL_GET[] = "SELECT v FROM kv WHERE k = ?";
static const char SQL_COUNT[] = "SELECT count(*) FROM kv";
static const char SQL_KEYS[] = "SELECT k FROM kv ORDER BY k";

/*
 * Write functions run on the writer thread, where a cmocka assertion
 * cannot jump back to the test: they report a failed check as an error
 * naming its line instead, and the test asserts on store_write's result.
 */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return -(100000 + __LINE__);                                                           \
    } while (0)

struct fixture {
    char dir[64];
    struct store *store;
};

static int create_table(struct store_tx *tx, void *arg)
{
    return store_run(store_prepare(tx, SQL_CREATE));
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/stint-store-XXXXXX");
    if (!mkdtemp(f->dir) || store_open(f->dir, &f->store) < 0 ||
        store_write(f->store, create_table, NULL) < 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    store_free(f->store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "# cannot remove %s\n", f->dir);
    free(f);
    return 0;
}

/* ---- small write and read functions ---- */

struct kv {
    const char *k;
    int64_t v;
};

static int insert(struct store_tx *tx, const char *k, int64_t v)
{
    struct store_stmt *st = store_prepare(tx, SQL_INSERT);

    store_bind_text(st, 1, k);
    store_bind_int(st, 2, v);
    return store_run(st);
}

static int insert_fn(struct store_tx *tx, void *arg)
{
    struct kv *kv = arg;

    return insert(tx, kv->k, kv->v);
}

/* Returns 1 and fills kv->v when kv->k exists, 0 when it does not. */
static int get_fn(struct store_tx *tx, void *arg)
{
    struct kv *kv = arg;
    struct store_stmt *st = store_prepare(tx, SQL_GET);
    int r;

    store_bind_text(st, 1, kv->k);
    r = store_step(st);
    if (r == 1)
        kv->v = store_col_int(st, 0);
    return r;
}

static int count_fn(struct store_tx *tx, void *arg)
{
    struct store_stmt *st = store_prepare(tx, SQL_COUNT);

    return store_step(st) == 1 ? (int)store_col_int(st, 0) : -EIO;
}

/* The value stored under k, or -1 when there is none. */
static int64_t get(struct store *s, const char *k)
{
    struct kv kv = {k, 0};
    int r = store_read(s, get_fn, &kv);

    assert_true(r == 0 || r == 1);
    return r == 1 ? kv.v : -1;
}

static int user_version_fn(struct store_tx *tx, void *arg)
{
    struct store_stmt *st = store_prepare(tx, "PRAGMA user_version");

    return store_step(st) == 1 ? (int)store_col_int(st, 0) : -EIO;
}

/* ---- opening ---- */

static void open_creates_the_schema_once(void **state)
{
    struct fixture *f = *state;
    struct kv kv = {"survivor", 42};
    char path[128];
    struct stat st;
    int n = 0;

    while (schema_migrations[n])
        n++;
    assert_true(n > 0);
    snprintf(path, sizeof(path), "%s/stint.db", f->dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(store_read(f->store, user_version_fn, NULL), n);

    /* Reopening runs no migration again (one would fail on existing tables) and keeps data. */
    assert_int_equal(store_write(f->store, insert_fn, &kv), 0);
    store_free(f->store);
    f->store = NULL;
    assert_int_equal(store_open(f->dir, &f->store), 0);
    assert_int_equal(store_read(f->store, user_version_fn, NULL), n);
    assert_int_equal(get(f->store, "survivor"), 42);
}

static void open_makes_the_directory_but_refuses_a_foreign_file(void **state)
{
    struct fixture *f = *state;
    struct store *s = NULL;
    char sub[128], path[160], junk[64] = "";
    FILE *fp;

    /* A data directory that does not exist yet is created, private. */
    snprintf(sub, sizeof(sub), "%s/fresh", f->dir);
    assert_int_equal(store_open(sub, &s), 0);
    store_free(s);
    {
        struct stat st;
        assert_int_equal(stat(sub, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 077, 0);
    }

    /* One whose parent is missing is an error, not a crash. */
    snprintf(sub, sizeof(sub), "%s/no/such/dir", f->dir);
    s = NULL;
    assert_true(store_open(sub, &s) < 0);
    assert_null(s);

    /* A stint.db that is not a database is refused and left as it was. */
    snprintf(sub, sizeof(sub), "%s/other", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof(path), "%s/stint.db", sub);
    fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("these are someone's notes, not a database\n", fp);
    assert_int_equal(fclose(fp), 0);
    assert_true(store_open(sub, &s) < 0);
    assert_null(s);
    fp = fopen(path, "r");
    assert_non_null(fp);
    assert_non_null(fgets(junk, sizeof(junk), fp));
    fclose(fp);
    assert_string_equal(junk, "these are someone's notes, not a database\n");
}

/* ---- writes and reads ---- */

static int return_seven(struct store_tx *tx, void *arg)
{
    int r = insert(tx, "seven", 7);

    return r < 0 ? r : 7;
}

static void a_write_is_seen_by_later_reads(void **state)
{
    struct fixture *f = *state;
    struct kv a = {"a", 1}, b = {"b", INT64_C(1) << 40};

    assert_int_equal(get(f->store, "a"), -1);
    assert_int_equal(store_write(f->store, insert_fn, &a), 0);
    assert_int_equal(get(f->store, "a"), 1);
    assert_int_equal(store_write(f->store, insert_fn, &b), 0);
    assert_int_equal(get(f->store, "b"), INT64_C(1) << 40);
    /* A positive result is success, and comes back to the caller. */
    assert_int_equal(store_write(f->store, return_seven, NULL), 7);
    assert_int_equal(get(f->store, "seven"), 7);
    assert_int_equal(store_read(f->store, count_fn, NULL), 3);
}

static int insert_then_fail(struct store_tx *tx, void *arg)
{
    CHECK(insert(tx, arg, 1) == 0);
    return -EDOM;
}

static void a_failed_write_leaves_nothing(void **state)
{
    struct fixture *f = *state;
    struct kv a = {"a", 1};

    assert_int_equal(store_write(f->store, insert_then_fail, "doomed"), -EDOM);
    assert_int_equal(get(f->store, "doomed"), -1);
    /* And the store goes on working. */
    assert_int_equal(store_write(f->store, insert_fn, &a), 0);
    assert_int_equal(get(f->store, "a"), 1);
}

static int insert_child(struct store_tx *tx, void *arg)
{
    struct store_stmt *st = store_prepare(tx, SQL_INSERT_CHILD);
    char key[64];

    snprintf(key, sizeof(key), "child of %s", (const char *)arg);
    store_bind_text(st, 1, key);
    store_bind_int(st, 2, 1);
    store_bind_text(st, 3, arg);
    return store_run(st);
}

static int insert_null_value(struct store_tx *tx, void *arg)
{
    struct store_stmt *st = store_prepare(tx, SQL_INSERT);

    store_bind_text(st, 1, "nothing");
    store_bind_null(st, 2);
    return store_run(st);
}

static void only_a_uniqueness_violation_is_eexist(void **state)
{
    struct fixture *f = *state;
    struct kv a = {"a", 1}, again = {"a", 2};

    assert_int_equal(store_write(f->store, insert_fn, &a), 0);
    assert_int_equal(store_write(f->store, insert_fn, &again), -EEXIST);
    assert_int_equal(get(f->store, "a"), 1);

    /*
     * Other broken rules are bugs, not "already exists": a handler must not
     * answer 409 (or a job think its work done) for them.
     */
    assert_int_equal(store_write(f->store, insert_child, "a"), 0);
    assert_int_equal(store_write(f->store, insert_child, "no-such-parent"), -EIO);
    assert_int_equal(store_write(f->store, insert_null_value, NULL), -EIO);
    assert_int_equal(get(f->store, "child of a"), 1);
    assert_int_equal(get(f->store, "child of no-such-parent"), -1);
    assert_int_equal(get(f->store, "nothing"), -1);
}

/* Reads the same statement twice in one transaction. */
static int prepare_twice(struct store_tx *tx, void *arg)
{
    struct store_stmt *one = store_prepare(tx, SQL_GET), *two;

    store_bind_text(one, 1, "a");
    CHECK(store_step(one) == 1);
    CHECK(store_col_int(one, 0) == 1);
    two = store_prepare(tx, SQL_GET);
    CHECK(one == two);
    /* Reset and unbound: k = NULL matches nothing, from the start. */
    CHECK(store_step(two) == 0);
    two = store_prepare(tx, SQL_GET);
    CHECK(one == two);
    store_bind_text(two, 1, "b");
    CHECK(store_step(two) == 1);
    CHECK(store_col_int(two, 0) == 2);
    *(struct store_stmt **)arg = two;
    return 0;
}

/* Leaves the statement bound and mid-way through its rows. */
static int leave_stepped(struct store_tx *tx, void *arg)
{
    struct store_stmt *st = store_prepare(tx, SQL_KEYS);

    CHECK(store_step(st) == 1);
    CHECK(strcmp(store_col_text(st, 0), "a") == 0);
    return 0;
}

static int step_from_the_start(struct store_tx *tx, void *arg)
{
    struct store_stmt *st = store_prepare(tx, SQL_KEYS);

    CHECK(store_step(st) == 1);
    CHECK(strcmp(store_col_text(st, 0), "a") == 0);
    CHECK(store_step(st) == 1);
    CHECK(strcmp(store_col_text(st, 0), "b") == 0);
    CHECK(store_step(st) == 0);
    return 0;
}

static void statements_are_cached_per_literal_and_come_back_reset(void **state)
{
    struct fixture *f = *state;
    struct kv a = {"a", 1}, b = {"b", 2};
    struct store_stmt *st = NULL;

    assert_int_equal(store_write(f->store, insert_fn, &a), 0);
    assert_int_equal(store_write(f->store, insert_fn, &b), 0);
    assert_int_equal(store_read(f->store, prepare_twice, &st), 0);
    assert_non_null(st);
    assert_int_equal(store_write(f->store, prepare_twice, &st), 0);

    /* A statement left half-read by one function starts afresh in the next. */
    assert_int_equal(store_write(f->store, leave_stepped, NULL), 0);
    assert_int_equal(store_write(f->store, step_from_the_start, NULL), 0);
    assert_int_equal(store_read(f->store, leave_stepped, NULL), 0);
    assert_int_equal(store_read(f->store, step_from_the_start, NULL), 0);
}

/* A read that lets a write commit between its two looks. */
struct snapshot {
    struct store *s;
    int before, after;
};

static void *write_b(void *arg)
{
    struct kv b = {"b", 2};

    return (void *)(intptr_t)store_write(arg, insert_fn, &b);
}

static int look_twice(struct store_tx *tx, void *arg)
{
    struct snapshot *sn = arg;
    struct store_stmt *st = store_prepare(tx, SQL_COUNT);
    pthread_t t;
    void *r;

    assert_int_equal(store_step(st), 1);
    sn->before = (int)store_col_int(st, 0);
    assert_int_equal(pthread_create(&t, NULL, write_b, sn->s), 0);
    pthread_join(t, &r);
    assert_int_equal((intptr_t)r, 0); /* committed and durable by now */
    st = store_prepare(tx, SQL_COUNT);
    assert_int_equal(store_step(st), 1);
    sn->after = (int)store_col_int(st, 0);
    return 0;
}

static void a_read_sees_one_snapshot(void **state)
{
    struct fixture *f = *state;
    struct kv a = {"a", 1};
    struct snapshot sn = {f->store, -1, -1};

    assert_int_equal(store_write(f->store, insert_fn, &a), 0);
    assert_int_equal(store_read(f->store, look_twice, &sn), 0);
    assert_int_equal(sn.before, 1);
    assert_int_equal(sn.after, 1);
    assert_int_equal(store_read(f->store, count_fn, NULL), 2);
}

/* ---- group commit ---- */

/*
 * The gate: the first write function inserts its row, then holds the
 * writer until the test opens the gate.
 */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool holding, open;
    int announced;
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, 0};

static int hold_the_writer(struct store_tx *tx, void *arg)
{
    int r = insert(tx, "first", 1);

    pthread_mutex_lock(&gate.mu);
    gate.holding = true;
    pthread_cond_broadcast(&gate.cv);
    while (!gate.open)
        pthread_cond_wait(&gate.cv, &gate.mu);
    pthread_mutex_unlock(&gate.mu);
    return r;
}

enum kind { GOOD, FAILS, DUPLICATE };

struct worker {
    struct store *s;
    pthread_t thread;
    pid_t tid;
    int i;
    enum kind kind;
    char key[16];
    int result;
};

static enum kind kind_of(int i)
{
    return i % 4 == 0 ? FAILS : i % 4 == 1 ? DUPLICATE : GOOD;
}

static int work(struct store_tx *tx, void *arg)
{
    struct worker *w = arg;
    int r = insert(tx, w->key, w->i);

    if (r < 0)
        return r;
    switch (w->kind) {
    case FAILS:
        return -EDOM;
    case DUPLICATE:
        return insert(tx, "first", 0); /* -EEXIST: takes back its own row too */
    case GOOD:
        break;
    }
    return w->i;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;

    pthread_mutex_lock(&gate.mu);
    w->tid = gettid();
    gate.announced++;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
    w->result = store_write(w->s, work, w);
    return NULL;
}

static void *holder_main(void *arg)
{
    return (void *)(intptr_t)store_write(arg, hold_the_writer, NULL);
}

/* True when thread tid is asleep (in store_write, once it has announced itself). */
static bool asleep(pid_t tid)
{
    char path[64], buf[512], *p;
    FILE *fp;
    size_t n;

    snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
    if (!(fp = fopen(path, "r")))
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] == 'S';
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Waits until every thread in tids is asleep twice in a row, 20 ms apart. */
static void wait_asleep(const pid_t *tids, int n)
{
    int calm = 0;

    for (int tries = 0; tries < 1000 && calm < 2; tries++) {
        bool all = true;
        for (int i = 0; i < n && all; i++)
            all = asleep(tids[i]);
        calm = all ? calm + 1 : 0;
        sleep_ms(20);
    }
    if (calm < 2)
        fail_msg("the threads never all went to sleep in store_write");
}

/* Holds the writer with a first write, and queues n workers behind it. */
static void queue_behind_a_held_writer(struct store *s, pthread_t *holder, struct worker *w, int n)
{
    pid_t tids[64];

    assert_true(n <= 64);
    gate.holding = gate.open = false;
    gate.announced = 0;
    assert_int_equal(pthread_create(holder, NULL, holder_main, s), 0);
    pthread_mutex_lock(&gate.mu);
    while (!gate.holding)
        pthread_cond_wait(&gate.cv, &gate.mu);
    pthread_mutex_unlock(&gate.mu);

    for (int i = 0; i < n; i++) {
        w[i] = (struct worker){.s = s, .i = i + 1, .kind = kind_of(i + 1)};
        snprintf(w[i].key, sizeof(w[i].key), "w%d", i + 1);
        assert_int_equal(pthread_create(&w[i].thread, NULL, worker_main, &w[i]), 0);
    }
    pthread_mutex_lock(&gate.mu);
    while (gate.announced < n)
        pthread_cond_wait(&gate.cv, &gate.mu);
    pthread_mutex_unlock(&gate.mu);
    for (int i = 0; i < n; i++)
        tids[i] = w[i].tid;
    wait_asleep(tids, n);
}

static void open_the_gate(void)
{
    pthread_mutex_lock(&gate.mu);
    gate.open = true;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
}

/* Every worker got its own result, and only the good ones' rows exist. */
static void check_workers(struct store *s, const struct worker *w, int n)
{
    for (int i = 0; i < n; i++) {
        switch (w[i].kind) {
        case GOOD:
            assert_int_equal(w[i].result, w[i].i);
            assert_int_equal(get(s, w[i].key), w[i].i);
            break;
        case FAILS:
            assert_int_equal(w[i].result, -EDOM);
            assert_int_equal(get(s, w[i].key), -1);
            break;
        case DUPLICATE:
            assert_int_equal(w[i].result, -EEXIST);
            assert_int_equal(get(s, w[i].key), -1);
            break;
        }
    }
    assert_int_equal(get(s, "first"), 1);
}

static void queued_writes_share_commits_and_fail_alone(void **state)
{
    enum { N = 24 };
    struct fixture *f = *state;
    struct worker w[N];
    struct store_stats before, after;
    pthread_t holder;
    void *r;

    store_get_stats(f->store, &before);
    queue_behind_a_held_writer(f->store, &holder, w, N);
    open_the_gate();
    pthread_join(holder, &r);
    for (int i = 0; i < N; i++)
        pthread_join(w[i].thread, NULL);
    store_get_stats(f->store, &after);

    assert_int_equal((intptr_t)r, 0);
    check_workers(f->store, w, N);
    assert_int_equal(store_read(f->store, count_fn, NULL), 1 + N / 2);

    /* Every write ran; the queued ones went in at most two groups after the holder's. */
    assert_int_equal(after.writes - before.writes, N + 1);
    if (after.commits - before.commits > 3)
        fail_msg("%d writes queued together took %d commits", N,
                 (int)(after.commits - before.commits - 1));
    assert_true(after.commits - before.commits < after.writes - before.writes);
    assert_true(after.max_group >= N / 2);
}

struct freer {
    struct store *s;
    pid_t tid;
    bool started;
};

static void *free_main(void *arg)
{
    struct freer *fr = arg;

    pthread_mutex_lock(&gate.mu);
    fr->tid = gettid();
    fr->started = true;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
    store_free(fr->s);
    return NULL;
}

static void store_free_finishes_the_queued_writes(void **state)
{
    enum { N = 12 };
    struct fixture *f = *state;
    struct worker w[N];
    struct freer fr = {f->store, 0, false};
    pthread_t holder, freer;
    void *r;

    queue_behind_a_held_writer(f->store, &holder, w, N);

    /* Shut down while the writes are queued: store_free waits for the writer. */
    assert_int_equal(pthread_create(&freer, NULL, free_main, &fr), 0);
    pthread_mutex_lock(&gate.mu);
    while (!fr.started)
        pthread_cond_wait(&gate.cv, &gate.mu);
    pthread_mutex_unlock(&gate.mu);
    wait_asleep(&fr.tid, 1);
    open_the_gate();

    pthread_join(freer, NULL);
    f->store = NULL;
    pthread_join(holder, &r);
    for (int i = 0; i < N; i++)
        pthread_join(w[i].thread, NULL);
    assert_int_equal((intptr_t)r, 0);

    /* Every queued write was answered, and what succeeded is on disk. */
    assert_int_equal(store_open(f->dir, &f->store), 0);
    check_workers(f->store, w, N);
}

/* ---- durability ---- */

static void what_was_written_is_there_after_a_restart(void **state)
{
    struct fixture *f = *state;
    char key[16];

    for (int i = 0; i < 50; i++) {
        struct kv kv = {key, i * 1000};
        snprintf(key, sizeof(key), "k%02d", i);
        assert_int_equal(store_write(f->store, insert_fn, &kv), 0);
    }
    assert_int_equal(store_write(f->store, insert_then_fail, "rolled-back"), -EDOM);
    store_free(f->store);
    f->store = NULL;

    assert_int_equal(store_open(f->dir, &f->store), 0);
    assert_int_equal(store_read(f->store, count_fn, NULL), 50);
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "k%02d", i);
        assert_int_equal(get(f->store, key), i * 1000);
    }
    assert_int_equal(get(f->store, "rolled-back"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_creates_the_schema_once, setup, teardown),
        cmocka_unit_test_setup_teardown(open_makes_the_directory_but_refuses_a_foreign_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_write_is_seen_by_later_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(a_failed_write_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(only_a_uniqueness_violation_is_eexist, setup, teardown),
        cmocka_unit_test_setup_teardown(statements_are_cached_per_literal_and_come_back_reset,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_read_sees_one_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(queued_writes_share_commits_and_fail_alone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(store_free_finishes_the_queued_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(what_was_written_is_there_after_a_restart, setup, teardown),
    };

    st_log_set_level(ST_LOG_ERROR);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
