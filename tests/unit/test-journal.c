/*
 * Unit tests of the journal: recovery after a real crash (a child process
 * killed with SIGKILL while recording), nothing counted twice when the
 * timer runs again in the same slot, the lock that keeps a second tracker
 * out, the uploader's bookkeeping (ack, finish, refuse, a change made while
 * an upload was under way), screenshot files, and the disk quota's warning
 * and stop through the engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "lib/uuid.h"
#include "tests/unit/tracker-fixture.h"

#define ACCOUNT "http://test me@example.com"
#define CONTRACT FX_CONTRACT

static struct fx fx;

static int64_t ms(const char *rfc3339)
{
    return fx_time(rfc3339) * 1000;
}

/*
 * Screenshots off: a screenshot also writes the open bucket as it is at that
 * moment, which would make the half bucket partly durable at a random point.
 */
static void start(struct fx *f)
{
    json_t *tags = json_array();
    assert_int_equal(tk_recorder_start(f->r, CONTRACT, "Crash test", tags, false), 0);
    json_decref(tags);
}

/*
 * Records 3.5 buckets in a child process and kills it with SIGKILL: the
 * three closed buckets are on disk, the half bucket is not.
 */
static void record_then_crash(const char *dir, int64_t t0_ms, enum tk_measure measure)
{
    pid_t pid = fork();
    int status;

    assert_true(pid >= 0);
    if (pid == 0) {
        struct fx child;
        char err[256];
        struct tk_recorder_opts o = {0};

        memset(&child, 0, sizeof(child));
        snprintf(child.dir, sizeof(child.dir), "%s", dir);
        tk_fake_clock_init(&child.clk, t0_ms);
        if (tk_journal_open(dir, TK_JOURNAL_LOCKED, &child.j, err, sizeof(err)) < 0 ||
            tk_platform_fake.open(NULL, &child.pctx, err, sizeof(err)) < 0)
            _exit(3);
        o.clock = &child.clk.clock;
        o.platform = &tk_platform_fake;
        o.pctx = child.pctx;
        o.journal = child.j;
        o.account = ACCOUNT;
        o.device_id = "device-1";
        o.segment_s = 600;
        child.r = tk_recorder_new(&o, fx_on_event, &child);
        tk_fake_set_measure(measure);
        child.active_seconds = measure == TK_MEASURE_ACTIVE_SECONDS;
        start(&child);
        fx_run(&child, 210 * 1000, 1);
        raise(SIGKILL);
        _exit(4);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
}

static void test_recover_after_kill(void **state)
{
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");
    struct tk_seg s;
    struct tk_journal_stats st;
    char id[37];

    fx_setup_dirs(&fx, t0 * 1000);
    record_then_crash(fx.dir, t0 * 1000, TK_MEASURE_COUNTS);

    /* The next start takes the lock the dead process held, and recovers. */
    char err[256];
    assert_int_equal(tk_journal_open(fx.dir, TK_JOURNAL_LOCKED, &fx.j, err, sizeof(err)), 0);
    assert_int_equal(tk_journal_seg_find(fx.j, ACCOUNT, CONTRACT, t0, &s), 0);
    assert_int_equal(s.state, TK_SEG_OPEN);
    tk_seg_release(&s);
    assert_int_equal(tk_journal_recover(fx.j), 1);
    assert_int_equal(tk_journal_seg_find(fx.j, ACCOUNT, CONTRACT, t0, &s), 0);
    assert_int_equal(s.state, TK_SEG_QUEUED);
    /* Up to the last durable bucket: 3 whole ones; the half bucket in memory is gone. */
    assert_int_equal(st_segment_tracked(&s.s), 180);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s.s.b[i].tracked_s, 60);
        assert_int_equal(s.s.b[i].keys, 60);
    }
    assert_int_equal(s.s.b[3].tracked_s, 0);
    snprintf(id, sizeof(id), "%s", s.s.id);
    tk_seg_release(&s);
    assert_int_equal(tk_journal_stats(fx.j, ACCOUNT, &st), 0);
    assert_int_equal(st.queued, 1);
    assert_int_equal(st.queued_s, 180);
    /* Recovering twice changes nothing. */
    assert_int_equal(tk_journal_recover(fx.j), 0);

    /* Tracking again in the same slot extends the same segment: nothing counted twice. */
    {
        struct tk_recorder_opts o = {0};
        tk_fake_clock_advance(&fx.clk, 210 * 1000);
        assert_int_equal(tk_platform_fake.open(NULL, &fx.pctx, err, sizeof(err)), 0);
        o.clock = &fx.clk.clock;
        o.platform = &tk_platform_fake;
        o.pctx = fx.pctx;
        o.journal = fx.j;
        o.account = ACCOUNT;
        o.device_id = "device-1";
        o.segment_s = 600;
        fx.r = tk_recorder_new(&o, fx_on_event, &fx);
        start(&fx);
        fx_run(&fx, 90 * 1000, 1);
        tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    }
    assert_int_equal(tk_journal_seg_find(fx.j, ACCOUNT, CONTRACT, t0, &s), 0);
    assert_string_equal(s.s.id, id);
    for (int i = 0; i < 3; i++)
        assert_int_equal(s.s.b[i].tracked_s, 60);
    assert_int_equal(s.s.b[3].tracked_s, 30);
    assert_int_equal(s.s.b[4].tracked_s, 60);
    assert_int_equal(st_segment_tracked(&s.s), 270);
    tk_seg_release(&s);
    fx_teardown(&fx);
}

static void test_lock(void **state)
{
    struct tk_journal *a = NULL, *b = NULL, *ro = NULL;
    char err[256] = "";

    fx_setup_dirs(&fx, 0);
    assert_int_equal(tk_journal_lock_holder(fx.dir), 0);
    assert_int_equal(tk_journal_open(fx.dir, TK_JOURNAL_LOCKED, &a, err, sizeof(err)), 0);
    assert_int_equal(tk_journal_open(fx.dir, TK_JOURNAL_LOCKED, &b, err, sizeof(err)), -EBUSY);
    assert_non_null(strstr(err, "another stint tracker"));
    assert_non_null(strstr(err, fx.dir));
    assert_int_equal(tk_journal_lock_holder(fx.dir), (int)getpid());
    /* Looking (stint status) needs no lock. */
    assert_int_equal(tk_journal_open(fx.dir, TK_JOURNAL_READONLY, &ro, err, sizeof(err)), 0);
    tk_journal_free(ro);
    tk_journal_free(a);
    assert_int_equal(tk_journal_lock_holder(fx.dir), 0);
    assert_int_equal(tk_journal_open(fx.dir, TK_JOURNAL_LOCKED, &b, err, sizeof(err)), 0);
    tk_journal_free(b);
    nftw(fx.dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_readonly_without_journal(void **state)
{
    struct tk_journal *ro = NULL;
    char err[256];

    fx_setup_dirs(&fx, 0);
    assert_int_equal(tk_journal_open(fx.dir, TK_JOURNAL_READONLY, &ro, err, sizeof(err)), -ENOENT);
    nftw(fx.dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void make_seg(struct tk_seg *s, int64_t start, int tracked_each)
{
    memset(s, 0, sizeof(*s));
    st_uuid_new(s->s.id);
    snprintf(s->s.contract_id, sizeof(s->s.contract_id), CONTRACT);
    snprintf(s->s.device_id, sizeof(s->s.device_id), "device-1");
    snprintf(s->account, sizeof(s->account), ACCOUNT);
    s->s.start = start;
    s->seg_s = 600;
    s->s.memo = xstrdup("Memo");
    s->s.tags = json_array();
    for (int i = 0; i < ST_SEG_BUCKETS; i++)
        s->ms[i] = tracked_each * 1000;
    s->state = TK_SEG_QUEUED;
}

/* The uploader's bookkeeping: a change made while an upload was under way is not lost. */
static void test_ack_finish_refuse(void **state)
{
    struct tk_seg a, b, got;
    struct tk_journal_stats st;
    char err[256];
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    fx_setup_dirs(&fx, t0 * 1000);
    assert_int_equal(tk_journal_open(fx.dir, TK_JOURNAL_LOCKED, &fx.j, err, sizeof(err)), 0);
    make_seg(&a, t0, 10);
    make_seg(&b, t0 + 600, 20);
    assert_int_equal(tk_journal_seg_put(fx.j, &a), 0);
    assert_int_equal(tk_journal_seg_put(fx.j, &b), 0);

    assert_int_equal(tk_journal_next_upload(fx.j, ACCOUNT, NULL, 0, &got), 0);
    assert_string_equal(got.s.id, a.s.id);
    /* While "uploading" got, the recorder extends a. */
    a.ms[0] += 5000;
    assert_int_equal(tk_journal_seg_put(fx.j, &a), 0);
    assert_int_equal(tk_journal_ack(fx.j, got.s.id, got.version, 100), 0);
    assert_int_equal(tk_journal_finish(fx.j, got.s.id, got.version), 0);
    tk_seg_release(&got);
    /* Still queued, with the server's part recorded. */
    assert_int_equal(tk_journal_seg_get(fx.j, a.s.id, &got), 0);
    assert_int_equal(got.state, TK_SEG_QUEUED);
    assert_int_equal(got.acked_s, 100);
    assert_true(got.acked_version != got.version);
    tk_seg_release(&got);
    assert_int_equal(tk_journal_unsent_s(fx.j, ACCOUNT, CONTRACT, t0, t0 + 600, NULL), 5);

    /* The next round sends the extension and finishes it. */
    assert_int_equal(tk_journal_next_upload(fx.j, ACCOUNT, NULL, 0, &got), 0);
    assert_string_equal(got.s.id, a.s.id);
    assert_int_equal(tk_journal_ack(fx.j, got.s.id, got.version, 105), 0);
    assert_int_equal(tk_journal_finish(fx.j, got.s.id, got.version), 0);
    tk_seg_release(&got);
    assert_int_equal(tk_journal_seg_get(fx.j, a.s.id, &got), 0);
    assert_int_equal(got.state, TK_SEG_DONE);
    tk_seg_release(&got);

    /* b is refused for good: not offered again, counted, listed. */
    assert_int_equal(tk_journal_next_upload(fx.j, ACCOUNT, NULL, 0, &got), 0);
    assert_string_equal(got.s.id, b.s.id);
    tk_seg_release(&got);
    assert_int_equal(tk_journal_refuse(fx.j, b.s.id, "locked: the week is locked"), 0);
    assert_int_equal(tk_journal_next_upload(fx.j, ACCOUNT, NULL, 0, &got), -ENOENT);
    /* A later write by the recorder never moves it out of refused. */
    assert_int_equal(tk_journal_seg_put(fx.j, &b), 0);
    assert_int_equal(tk_journal_stats(fx.j, ACCOUNT, &st), 0);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.queued, 0);
    {
        struct tk_refused r[4];
        assert_int_equal(tk_journal_refused(fx.j, ACCOUNT, r, 4), 1);
        assert_string_equal(r[0].id, b.s.id);
        assert_non_null(strstr(r[0].reason, "locked"));
        assert_int_equal(r[0].tracked_s, 200);
    }
    /* Another account's segments are not offered to this one's uploader. */
    assert_int_equal(tk_journal_next_upload(fx.j, "http://other you@example.com", NULL, 0, &got),
                     -ENOENT);
    tk_seg_release(&a);
    tk_seg_release(&b);
    fx_teardown(&fx);
}

/* Screenshot files: written whole, removed once the server has them, except the last one. */
static void test_shot_files(void **state)
{
    struct tk_seg a, b;
    char err[256], rel_a[64], rel_b[64];
    struct stat sb;
    char *path_a, *path_b, *last;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    fx_setup_dirs(&fx, t0 * 1000);
    assert_int_equal(tk_journal_open(fx.dir, TK_JOURNAL_LOCKED, &fx.j, err, sizeof(err)), 0);
    make_seg(&a, t0, 10);
    make_seg(&b, t0 + 600, 10);
    assert_int_equal(tk_journal_write_shot(fx.j, a.s.id, "jpg", "AAAA", 4, rel_a), 0);
    snprintf(a.shot_file, sizeof(a.shot_file), "%s", rel_a);
    a.shot_bytes = 4;
    a.s.shot_status = ST_SHOT_OK;
    a.s.shot_taken_at = t0 + 5;
    assert_int_equal(tk_journal_seg_put(fx.j, &a), 0);
    assert_int_equal(tk_journal_write_shot(fx.j, b.s.id, "jpg", "BBBBBB", 6, rel_b), 0);
    snprintf(b.shot_file, sizeof(b.shot_file), "%s", rel_b);
    b.shot_bytes = 6;
    b.s.shot_status = ST_SHOT_OK;
    b.s.shot_taken_at = t0 + 605;
    assert_int_equal(tk_journal_seg_put(fx.j, &b), 0);
    path_a = xasprintf("%s/%s", fx.dir, rel_a);
    path_b = xasprintf("%s/%s", fx.dir, rel_b);
    assert_int_equal(stat(path_a, &sb), 0);
    assert_int_equal(sb.st_size, 4);
    {
        char *tmp = xasprintf("%s.tmp", path_a);
        assert_int_not_equal(stat(tmp, &sb), 0);
        free(tmp);
    }
    last = tk_journal_meta_get(fx.j, "last_shot");
    assert_string_equal(last, rel_b);
    free(last);

    assert_int_equal(tk_journal_ack_shot(fx.j, a.s.id), 0);
    assert_int_equal(tk_journal_ack_shot(fx.j, b.s.id), 0);
    assert_int_not_equal(stat(path_a, &sb), 0);
    assert_int_equal(stat(path_b, &sb), 0); /* the last one stays for `stint screenshot --last` */

    /* A file no segment names (a crash between file and row) goes at recovery. */
    {
        char rel[64];
        char *orphan;
        assert_int_equal(tk_journal_write_shot(fx.j, "orphan", "jpg", "X", 1, rel), 0);
        orphan = xasprintf("%s/%s", fx.dir, rel);
        assert_int_equal(stat(orphan, &sb), 0);
        tk_journal_recover(fx.j);
        assert_int_not_equal(stat(orphan, &sb), 0);
        free(orphan);
    }
    free(path_a);
    free(path_b);
    tk_seg_release(&a);
    tk_seg_release(&b);
    fx_teardown(&fx);
}

/* ---- the quota, through the engine ---- */

static struct tk_engine *engine_new(struct fx *f, int64_t quota)
{
    struct tk_engine_opts o = {0};
    struct tk_terms t = {.screenshots_enabled = true, .weekly_limit_s = -1, .state = "active"};
    struct tk_engine *e = NULL;
    char err[256];

    o.server = "http://test";
    o.account = "me@example.com";
    o.data_dir = f->dir;
    o.platform = &tk_platform_fake;
    o.clock = &f->clk.clock;
    o.offline = true;
    o.segment_s = 600;
    o.quota_bytes = quota;
    if (tk_engine_new(&o, fx_on_event, f, &e, err, sizeof(err)) < 0)
        fail_msg("engine: %s", err);
    tk_engine_set_terms(e, CONTRACT, &t);
    return e;
}

static void engine_run(struct fx *f, struct tk_engine *e, int64_t ms_total)
{
    int64_t end = fx_now(f) + ms_total;

    while (fx_now(f) < end && f->nev < FX_MAX_EVENTS - 16) {
        int t = tk_engine_timeout_ms(e);
        int64_t step = end - fx_now(f) < t ? end - fx_now(f) : (t ? t : 1);
        tk_fake_clock_advance(&f->clk, step);
        tk_engine_tick(e);
    }
}

static void test_quota_warning_and_stop(void **state)
{
    struct tk_engine *e;
    struct tk_status st;
    char err[256];
    int64_t used, t0 = ms("2026-11-23T10:20:00Z");
    int stops;

    /* First learn what a journal with one segment and its screenshot takes. */
    fx_setup_dirs(&fx, t0);
    e = engine_new(&fx, 0);
    assert_int_equal(tk_engine_start(e, CONTRACT, "Quota", NULL, err, sizeof(err)), 0);
    engine_run(&fx, e, 600 * 1000);
    tk_engine_status(e, &st);
    used = st.disk_bytes;
    tk_engine_stop(e);
    tk_engine_free(e);
    assert_true(used > 0);

    /* A quota just above that: the warning at the start, the stop at the next screenshot. */
    fx.nev = 0;
    e = engine_new(&fx, used * 115 / 100);
    assert_int_equal(tk_engine_start(e, CONTRACT, "Quota", NULL, err, sizeof(err)), 0);
    assert_int_equal(fx_count(&fx, TK_EVENT_QUOTA), 1);
    assert_int_equal(fx_last(&fx, TK_EVENT_QUOTA)->percent, 80);
    engine_run(&fx, e, 1200 * 1000);
    assert_int_equal(fx_last(&fx, TK_EVENT_QUOTA)->percent, 100);
    assert_non_null(strstr(fx_last(&fx, TK_EVENT_QUOTA)->message, "tracking stopped"));
    stops = fx_count(&fx, TK_EVENT_STOPPED);
    assert_int_equal(stops, 1);
    assert_int_equal(fx_last(&fx, TK_EVENT_STOPPED)->reason, TK_STOP_QUOTA);
    tk_engine_status(e, &st);
    assert_false(st.running);
    /* Nothing recorded was dropped: every closed bucket is still queued on disk. */
    assert_true(st.queued >= 2);
    /* And it refuses to start again while full, saying why. */
    assert_int_equal(tk_engine_start(e, CONTRACT, "Quota", NULL, err, sizeof(err)), -ENOSPC);
    assert_non_null(strstr(err, "quota"));
    tk_engine_free(e);
    nftw(fx.dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* The same crash on an active-seconds desktop: the durable buckets keep their active seconds. */
static void test_recover_active_seconds_after_kill(void **state)
{
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");
    struct tk_seg s;
    char err[256];
    json_t *wire;

    fx_setup_dirs(&fx, t0 * 1000);
    record_then_crash(fx.dir, t0 * 1000, TK_MEASURE_ACTIVE_SECONDS);
    assert_int_equal(tk_journal_open(fx.dir, TK_JOURNAL_LOCKED, &fx.j, err, sizeof(err)), 0);
    assert_int_equal(tk_journal_recover(fx.j), 1);
    assert_int_equal(tk_journal_seg_find(fx.j, ACCOUNT, CONTRACT, t0, &s), 0);
    assert_int_equal(s.state, TK_SEG_QUEUED);
    assert_int_equal(s.s.measure, ST_MEASURE_ACTIVE_SECONDS);
    assert_true(s.s.has_active_s);
    assert_int_equal(st_segment_tracked(&s.s), 180);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s.s.b[i].tracked_s, 60);
        assert_int_equal(s.s.b[i].active_s, 60);
        assert_int_equal(s.s.b[i].keys, 0);
        assert_int_equal(s.s.b[i].mouse, 0);
    }
    assert_int_equal(s.s.b[3].active_s, 0);
    assert_int_equal(st_segment_activity(&s.s), 3);
    /* What the uploader sends for it. */
    wire = st_segment_to_json(&s.s);
    assert_string_equal(json_string_value(json_object_get(wire, "activity_measure")),
                        "active_seconds");
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(wire, "minutes"), 2), "active_s")),
                     60);
    json_decref(wire);
    tk_seg_release(&s);
    fx_teardown(&fx);
}

/* The tables of schema 1, as stint wrote them before active seconds (never edit). */
static const char schema_1[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE segments (id TEXT PRIMARY KEY, account TEXT NOT NULL,"
    "  contract_id TEXT NOT NULL, device_id TEXT NOT NULL, start INTEGER NOT NULL,"
    "  seg_s INTEGER NOT NULL, memo TEXT NOT NULL, tags TEXT NOT NULL,"
    "  flags INTEGER NOT NULL DEFAULT 0, state INTEGER NOT NULL,"
    "  version INTEGER NOT NULL DEFAULT 0, tracked_s INTEGER NOT NULL DEFAULT 0,"
    "  shot_status INTEGER NOT NULL DEFAULT 0, shot_taken_at INTEGER NOT NULL DEFAULT 0,"
    "  shot_reason TEXT NOT NULL DEFAULT '', shot_file TEXT NOT NULL DEFAULT '',"
    "  shot_bytes INTEGER NOT NULL DEFAULT 0, acked_version INTEGER NOT NULL DEFAULT 0,"
    "  acked_s INTEGER NOT NULL DEFAULT 0, shot_acked INTEGER NOT NULL DEFAULT 0,"
    "  refused TEXT NOT NULL DEFAULT '', updated_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX segments_slot ON segments(account, contract_id, start);"
    "CREATE INDEX segments_state ON segments(state, start);"
    "CREATE TABLE buckets (segment_id TEXT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL, tracked_ms INTEGER NOT NULL, keys INTEGER NOT NULL,"
    "  mouse INTEGER NOT NULL, synthetic INTEGER NOT NULL, PRIMARY KEY (segment_id, idx));"
    "INSERT INTO segments (id, account, contract_id, device_id, start, seg_s, memo, tags, state,"
    "  version, tracked_s) VALUES ('33333333-3333-4333-8333-333333333333',"
    "  'http://test me@example.com', '6f1c2b9e-4d3a-4b8e-9c1d-2a3b4c5d6e7f', 'device-1',"
    "  1795429200, 600, 'Old', '[]', 2, 3, 90);"
    "INSERT INTO buckets VALUES ('33333333-3333-4333-8333-333333333333', 0, 60000, 12, 30, 0);"
    "INSERT INTO buckets VALUES ('33333333-3333-4333-8333-333333333333', 1, 30000, 0, 4, 0);"
    "PRAGMA user_version = 1;";

static int user_version(const char *dir)
{
    char *path = xasprintf("%s/%s", dir, TK_JOURNAL_FILE);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int v = -1;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(path);
    return v;
}

static void make_old_journal(const char *dir)
{
    char *path = xasprintf("%s/%s", dir, TK_JOURNAL_FILE);
    sqlite3 *db = NULL;
    char *msg = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, schema_1, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("cannot write the old journal: %s", msg);
    sqlite3_close(db);
    free(path);
}

/* A journal written by schema 1 opens, reads as counts, and takes active-seconds segments. */
static void test_old_journal_migrates(void **state)
{
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");
    struct tk_seg s, a;
    struct tk_journal *ro;
    char err[256];

    assert_int_equal(t0, 1795429200); /* the slot of the old row */
    fx_setup_dirs(&fx, t0 * 1000);
    make_old_journal(fx.dir);
    assert_int_equal(user_version(fx.dir), 1);

    /* A reader (stint status) migrates it too, rather than failing on the new columns. */
    assert_int_equal(tk_journal_open(fx.dir, TK_JOURNAL_READONLY, &ro, err, sizeof(err)), 0);
    assert_int_equal(user_version(fx.dir), 2);
    assert_int_equal(tk_journal_seg_get(ro, "33333333-3333-4333-8333-333333333333", &s), 0);
    tk_journal_free(ro);
    assert_int_equal(s.s.measure, ST_MEASURE_COUNTS);
    assert_false(s.s.has_active_s);
    assert_int_equal(s.s.b[0].tracked_s, 60);
    assert_int_equal(s.s.b[0].keys, 12);
    assert_int_equal(s.s.b[0].mouse, 30);
    assert_int_equal(s.s.b[1].tracked_s, 30);
    assert_int_equal(s.s.b[1].mouse, 4);
    assert_int_equal(s.state, TK_SEG_QUEUED);
    assert_string_equal(s.s.memo, "Old");
    /* Its upload reads as before active seconds: nothing new on the wire. */
    {
        json_t *wire = st_segment_to_json(&s.s);
        assert_null(json_object_get(wire, "activity_measure"));
        assert_null(json_object_get(json_array_get(json_object_get(wire, "minutes"), 0),
                                    "active_s"));
        json_decref(wire);
    }
    tk_seg_release(&s);

    /* The writer opens it at schema 2 and stores an active-seconds segment beside the old one. */
    assert_int_equal(tk_journal_open(fx.dir, TK_JOURNAL_LOCKED, &fx.j, err, sizeof(err)), 0);
    make_seg(&a, t0 + 600, 60);
    a.s.measure = ST_MEASURE_ACTIVE_SECONDS;
    a.s.has_active_s = true;
    for (int i = 0; i < ST_SEG_BUCKETS; i++)
        a.s.b[i].active_s = i * 6;
    assert_int_equal(tk_journal_seg_put(fx.j, &a), 0);
    assert_int_equal(tk_journal_seg_get(fx.j, a.s.id, &s), 0);
    assert_int_equal(s.s.measure, ST_MEASURE_ACTIVE_SECONDS);
    assert_true(s.s.has_active_s);
    for (int i = 0; i < ST_SEG_BUCKETS; i++)
        assert_int_equal(s.s.b[i].active_s, i * 6);
    tk_seg_release(&s);
    tk_seg_release(&a);
    fx_teardown(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recover_after_kill),
        cmocka_unit_test(test_recover_active_seconds_after_kill),
        cmocka_unit_test(test_old_journal_migrates),
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_readonly_without_journal),
        cmocka_unit_test(test_ack_finish_refuse),
        cmocka_unit_test(test_shot_files),
        cmocka_unit_test(test_quota_warning_and_stop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
