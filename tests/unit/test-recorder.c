/*
 * Unit tests of the segment recorder (and of the engine's rules around it)
 * on the fake clock and the fake platform, with the real journal: buckets
 * across segment, day and week boundaries; one screenshot moment per
 * segment, inside it; the shot at the stop; clock jumps; the idle prompt
 * and its 5-minute rule; memo and tag rules; the weekly limit; and the
 * privacy promise that nothing is captured while the timer is stopped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <sys/stat.h>

#include "lib/week.h"
#include "tests/unit/tracker-fixture.h"

#define CONTRACT FX_CONTRACT

static struct fx fx;

static int64_t ms(const char *rfc3339)
{
    return fx_time(rfc3339) * 1000;
}

static void start(struct fx *f, const char *memo)
{
    json_t *tags = json_pack("[s]", "design");
    assert_int_equal(tk_recorder_start(f->r, CONTRACT, memo, tags, true), 0);
    json_decref(tags);
}

static void assert_bucket(const struct tk_seg *s, int i, int tracked, int keys)
{
    if (s->s.b[i].tracked_s != tracked || (keys >= 0 && s->s.b[i].keys != keys))
        fail_msg("bucket %d: tracked %d keys %d, expected tracked %d keys %d", i,
                 s->s.b[i].tracked_s, s->s.b[i].keys, tracked, keys);
}

/* The upload form passes the server's own checks (lib/segment.c), as the server will run them. */
static void assert_wire_valid(struct tk_seg *seg, int segment_s)
{
    json_t *j = st_segment_to_json(&seg->s);
    struct st_segment back;
    char err[256] = "";

    if (st_segment_from_json(j, segment_s, &back, err, sizeof(err)) < 0)
        fail_msg("segment %s would be refused: %s", seg->s.id, err);
    st_segment_release(&back);
    json_decref(j);
}

/* A run from 10:25:30 to 10:31:00 fills buckets 5-9 of one segment and bucket 0 of the next. */
static void test_buckets_across_segment(void **state)
{
    struct tk_seg a, b;

    fx_setup(&fx, ms("2026-11-23T10:25:30Z"), 600, 0);
    start(&fx, "Hero section");
    fx_run(&fx, 330 * 1000, 1);
    assert_int_equal(tk_recorder_stop(fx.r, TK_STOP_USER, NULL), 0);

    assert_int_equal(fx_seg(&fx, fx_time("2026-11-23T10:20:00Z"), &a), 0);
    for (int i = 0; i < 5; i++)
        assert_bucket(&a, i, 0, 0);
    assert_bucket(&a, 5, 30, 30);
    for (int i = 6; i < 10; i++)
        assert_bucket(&a, i, 60, 60);
    assert_int_equal(st_segment_tracked(&a.s), 270);
    assert_int_equal(st_segment_activity(&a.s), 5);
    assert_int_equal(a.state, TK_SEG_QUEUED);
    assert_string_equal(a.s.memo, "Hero section");
    assert_int_equal(json_array_size(a.s.tags), 1);
    assert_int_equal(a.s.flags, 0);

    assert_int_equal(fx_seg(&fx, fx_time("2026-11-23T10:30:00Z"), &b), 0);
    assert_bucket(&b, 0, 60, 60);
    for (int i = 1; i < 10; i++)
        assert_bucket(&b, i, 0, 0);
    assert_int_equal(b.state, TK_SEG_QUEUED);
    assert_string_not_equal(a.s.id, b.s.id);
    assert_wire_valid(&a, 600);
    assert_wire_valid(&b, 600);

    /* Each closed bucket was reported once, after it was written. */
    assert_int_equal(fx_count(&fx, TK_EVENT_BUCKET), 6);
    assert_int_equal(fx_count(&fx, TK_EVENT_SEGMENT), 2);
    tk_seg_release(&a);
    tk_seg_release(&b);
    fx_teardown(&fx);
}

/* Sunday 23:55 to Monday 00:05 UTC: two segments, two days, two ISO weeks, no second lost. */
static void test_day_and_week_boundary(void **state)
{
    struct tk_seg a, b;
    int64_t sun = fx_time("2026-11-29T23:50:00Z"), mon = fx_time("2026-11-30T00:00:00Z");

    fx_setup(&fx, ms("2026-11-29T23:55:00Z"), 600, 0);
    start(&fx, "Late");
    fx_run(&fx, 600 * 1000, 2);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);

    assert_true(st_week_start(sun) != st_week_start(mon));
    assert_int_equal(fx_seg(&fx, sun, &a), 0);
    assert_int_equal(fx_seg(&fx, mon, &b), 0);
    assert_int_equal(st_segment_tracked(&a.s), 300);
    assert_int_equal(st_segment_tracked(&b.s), 300);
    assert_bucket(&a, 5, 60, 120);
    assert_bucket(&b, 4, 60, 120);
    assert_bucket(&b, 5, 0, 0);
    tk_seg_release(&a);
    tk_seg_release(&b);
    fx_teardown(&fx);
}

/*
 * Started 0.2 s before a bucket ends, with input at once: the bucket keeps
 * its input and counts a second, since the server takes no input without
 * time (it would refuse the segment for good).
 */
static void test_input_at_bucket_edge(void **state)
{
    struct tk_seg a;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    fx_setup(&fx, t0 * 1000 + 59800, 600, 0);
    start(&fx, "Edge");
    tk_fake_add_activity(1, 1, 1);
    tk_recorder_tick(fx.r);
    fx_run(&fx, 3000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    /* The input at the start, and at 10:21:00, which the boundary's tick delivers. */
    assert_int_equal(a.s.b[0].keys, 2);
    assert_int_equal(a.s.b[0].tracked_s, 1);
    assert_wire_valid(&a, 600);
    tk_seg_release(&a);
    fx_teardown(&fx);
}

/* A short server segment length (30 s: buckets of 3 s) scales every rule. */
static void test_short_segments(void **state)
{
    struct tk_seg s;

    fx_setup(&fx, ms("2026-11-23T10:00:00Z"), 30, 0);
    start(&fx, "Short");
    fx_run(&fx, 95 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(fx_seg(&fx, fx_time("2026-11-23T10:00:00Z") + k * 30, &s), 0);
        for (int i = 0; i < 10; i++)
            assert_bucket(&s, i, 3, 3);
        assert_int_equal(s.s.shot_status, ST_SHOT_OK);
        assert_wire_valid(&s, 30);
        tk_seg_release(&s);
    }
    assert_int_equal(fx_seg(&fx, fx_time("2026-11-23T10:01:30Z"), &s), 0);
    assert_int_equal(st_segment_tracked(&s.s), 5);
    tk_seg_release(&s);
    assert_int_equal(tk_fake_capture_calls(), 4);
    fx_teardown(&fx);
}

/* Three whole segments: exactly one capture each, at a moment inside it, written to disk. */
static void test_one_screenshot_per_segment(void **state)
{
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    fx_setup(&fx, t0 * 1000, 600, 0);
    start(&fx, "Shots");
    fx_run(&fx, 1800 * 1000, 1);
    assert_int_equal(tk_fake_capture_calls(), 3);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    /* Stopping exactly at 10:50:00 opened no fourth segment with time. */
    assert_int_equal(fx_count(&fx, TK_EVENT_SCREENSHOT), 3 + (tk_fake_capture_calls() - 3));
    for (int k = 0; k < 3; k++) {
        struct tk_seg s;
        struct stat sb;
        char *path;
        assert_int_equal(fx_seg(&fx, t0 + k * 600, &s), 0);
        assert_int_equal(s.s.shot_status, ST_SHOT_OK);
        assert_true(s.s.shot_taken_at >= s.s.start);
        assert_true(s.s.shot_taken_at < s.s.start + 600);
        path = xasprintf("%s/%s", fx.dir, s.shot_file);
        assert_int_equal(stat(path, &sb), 0);
        assert_true(sb.st_size > 1000);
        assert_int_equal(sb.st_size, s.shot_bytes);
        free(path);
        tk_seg_release(&s);
    }
    fx_teardown(&fx);
}

/* Started mid-segment, the moment falls in the tracked part: after the start. */
static void test_moment_within_tracked_part(void **state)
{
    for (int round = 0; round < 20; round++) {
        int64_t at = ms("2026-11-23T10:27:00Z") + round * 7000;
        int64_t m;
        fx_setup(&fx, at, 600, 0);
        start(&fx, "Mid");
        m = tk_recorder_shot_moment(fx.r);
        assert_true(m >= at);
        assert_true(m < ms("2026-11-23T10:30:00Z"));
        tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
        fx_teardown(&fx);
    }
}

/* The timer stops before the moment: the shot is taken at the stop, once. */
static void test_stop_before_moment(void **state)
{
    struct tk_seg s;
    int64_t t0 = ms("2026-11-23T10:20:00Z"), m, stop_at;

    fx_setup(&fx, t0, 600, 0);
    start(&fx, "Stop early");
    m = tk_recorder_shot_moment(fx.r);
    assert_true(m >= t0 && m < t0 + 600000);
    stop_at = m - 1000 > t0 ? m - 1000 : t0;
    fx_run(&fx, stop_at - t0, 1);
    assert_int_equal(tk_fake_capture_calls(), 0);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(tk_fake_capture_calls(), 1);
    assert_int_equal(fx_seg(&fx, t0 / 1000, &s), 0);
    assert_int_equal(s.s.shot_status, ST_SHOT_OK);
    assert_int_equal(s.s.shot_taken_at, stop_at / 1000);
    tk_seg_release(&s);
    /* Restarting in the same slot does not take a second screenshot for it. */
    start(&fx, "Stop early");
    assert_int_equal(tk_recorder_shot_moment(fx.r), 0);
    fx_run(&fx, 5000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(tk_fake_capture_calls(), 1);
    fx_teardown(&fx);
}

/* WebP is encoded on a worker thread; the segment still gets exactly its one screenshot. */
static void test_webp_in_worker(void **state)
{
    struct tk_recorder_opts o = {0};
    struct tk_seg s;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");
    char head[12];
    FILE *f;
    char *path;

    fx_setup(&fx, t0 * 1000, 600, 0);
    tk_recorder_free(fx.r);
    o.clock = &fx.clk.clock;
    o.platform = &tk_platform_fake;
    o.pctx = fx.pctx;
    o.journal = fx.j;
    o.account = "http://test me@example.com";
    o.device_id = "device-1";
    o.segment_s = 600;
    o.monitor = TK_MONITOR_ALL;
    o.encode.format = TK_SHOT_WEBP;
    fx.r = tk_recorder_new(&o, fx_on_event, &fx);
    start(&fx, "WebP");
    fx_run(&fx, 1200 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(tk_fake_capture_calls(), 2);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(fx_seg(&fx, t0 + k * 600, &s), 0);
        assert_int_equal(s.s.shot_status, ST_SHOT_OK);
        assert_non_null(strstr(s.shot_file, ".webp"));
        path = xasprintf("%s/%s", fx.dir, s.shot_file);
        f = fopen(path, "rb");
        assert_non_null(f);
        assert_int_equal(fread(head, 1, 12, f), 12);
        fclose(f);
        assert_memory_equal(head, "RIFF", 4);
        assert_memory_equal(head + 8, "WEBP", 4);
        free(path);
        tk_seg_release(&s);
    }
    fx_teardown(&fx);
}

/* A blank screen or a failing capture is reported as failed, never faked. */
static void test_failed_capture(void **state)
{
    struct tk_seg s;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    fx_setup(&fx, t0 * 1000, 600, 0);
    tk_fake_set_capture_mode(TK_FAKE_CAPTURE_UNIFORM);
    start(&fx, "Blank");
    fx_run(&fx, 600 * 1000, 1);
    tk_fake_set_capture_mode(TK_FAKE_CAPTURE_ERROR);
    fx_run(&fx, 600 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, t0, &s), 0);
    assert_int_equal(s.s.shot_status, ST_SHOT_FAILED);
    assert_non_null(strstr(s.s.shot_reason, "blank"));
    assert_string_equal(s.shot_file, "");
    tk_seg_release(&s);
    assert_int_equal(fx_seg(&fx, t0 + 600, &s), 0);
    assert_int_equal(s.s.shot_status, ST_SHOT_FAILED);
    assert_true(s.s.shot_reason[0] != '\0');
    tk_seg_release(&s);
    fx_teardown(&fx);
}

/* A wall-clock jump flags the segment; the time counted is the monotonic time. */
static void test_clock_jump_forward(void **state)
{
    struct tk_seg a, b;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    fx_setup(&fx, t0 * 1000, 600, 0);
    start(&fx, "Jump");
    fx_run(&fx, 100 * 1000, 1);
    tk_fake_clock_jump_wall(&fx.clk, 3600 * 1000);
    fx_run(&fx, 50 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);

    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    assert_true(a.s.flags & ST_FLAG_CLOCK_JUMP);
    assert_int_equal(fx_seg(&fx, t0 + 3600, &b), 0);
    assert_true(b.s.flags & ST_FLAG_CLOCK_JUMP);
    assert_wire_valid(&a, 600);
    assert_wire_valid(&b, 600);
    /* 150 s passed on the monotonic clock; the hour the wall clock jumped is not time worked. */
    assert_int_equal(st_segment_tracked(&a.s) + st_segment_tracked(&b.s), 150);
    tk_seg_release(&a);
    tk_seg_release(&b);
    fx_teardown(&fx);
}

static void test_clock_jump_small_back(void **state)
{
    struct tk_seg a;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    fx_setup(&fx, t0 * 1000, 600, 0);
    start(&fx, "Jump back");
    fx_run(&fx, 100 * 1000, 1);
    tk_fake_clock_jump_wall(&fx.clk, -5000);
    fx_run(&fx, 100 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    assert_true(a.s.flags & ST_FLAG_CLOCK_JUMP);
    /* Never more than the monotonic time: the 5 s replayed are not counted twice. */
    assert_true(st_segment_tracked(&a.s) <= 200);
    assert_true(st_segment_tracked(&a.s) >= 195);
    tk_seg_release(&a);
    fx_teardown(&fx);
}

/* NTP-sized drift is not a jump. */
static void test_no_jump_for_drift(void **state)
{
    struct tk_seg a;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    fx_setup(&fx, t0 * 1000, 600, 0);
    start(&fx, "Drift");
    fx_run(&fx, 100 * 1000, 1);
    tk_fake_clock_jump_wall(&fx.clk, 300);
    fx_run(&fx, 100 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    assert_false(a.s.flags & ST_FLAG_CLOCK_JUMP);
    tk_seg_release(&a);
    fx_teardown(&fx);
}

/* Work 60 s, then no input: the prompt opens after the threshold (here 120 s). */
static void idle_setup(int64_t t0_ms)
{
    fx_setup(&fx, t0_ms, 600, 120);
    fx.idle_grows = 1;
    start(&fx, "Idle");
    fx_run(&fx, 60 * 1000, 1);
    fx_run(&fx, 119 * 1000, 0);
    assert_int_equal(fx_count(&fx, TK_EVENT_IDLE), 0);
    fx_run(&fx, 2000, 0);
    assert_int_equal(fx_count(&fx, TK_EVENT_IDLE), 1);
    assert_int_equal(fx_last(&fx, TK_EVENT_IDLE)->idle_since, t0_ms / 1000 + 60);
}

static void test_idle_keep(void **state)
{
    struct tk_seg a;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    idle_setup(t0 * 1000);
    fx_run(&fx, 20 * 1000, 0);
    assert_int_equal(tk_recorder_answer_idle(fx.r, TK_IDLE_KEEP), 0);
    fx.last_input_ms = fx_now(&fx);
    fx_run(&fx, 10 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    assert_true(a.s.flags & ST_FLAG_IDLE_KEPT);
    assert_int_equal(st_segment_tracked(&a.s), 60 + 121 + 20 + 10);
    assert_true(tk_recorder_running(fx.r) == false);
    tk_seg_release(&a);
    fx_teardown(&fx);
}

static void test_idle_discard(void **state)
{
    struct tk_seg a;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    idle_setup(t0 * 1000);
    fx_run(&fx, 20 * 1000, 0);
    assert_int_equal(tk_recorder_answer_idle(fx.r, TK_IDLE_DISCARD), 0);
    assert_true(tk_recorder_running(fx.r));
    fx.last_input_ms = fx_now(&fx);
    fx_run(&fx, 10 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    assert_false(a.s.flags & ST_FLAG_IDLE_KEPT);
    /* The idle stretch (from the last input to the answer) is gone; the rest stays. */
    assert_int_equal(st_segment_tracked(&a.s), 60 + 10);
    tk_seg_release(&a);
    fx_teardown(&fx);
}

static void test_idle_answer_stop(void **state)
{
    struct tk_seg a;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    idle_setup(t0 * 1000);
    assert_int_equal(tk_recorder_answer_idle(fx.r, TK_IDLE_STOP), 0);
    assert_false(tk_recorder_running(fx.r));
    assert_int_equal(fx_last(&fx, TK_EVENT_STOPPED)->reason, TK_STOP_IDLE);
    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    assert_int_equal(st_segment_tracked(&a.s), 60);
    assert_int_equal(a.state, TK_SEG_QUEUED);
    tk_seg_release(&a);
    assert_int_equal(tk_recorder_answer_idle(fx.r, TK_IDLE_KEEP), -ENOENT);
    fx_teardown(&fx);
}

/* No answer within 5 minutes: the timer stops and the idle time is discarded. */
static void test_idle_no_answer(void **state)
{
    struct tk_seg a;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    idle_setup(t0 * 1000); /* the prompt opened at +180 s, one second ago */
    fx_run(&fx, 298 * 1000, 0);
    assert_true(tk_recorder_running(fx.r));
    fx_run(&fx, 2000, 0);
    assert_false(tk_recorder_running(fx.r));
    assert_int_equal(fx_last(&fx, TK_EVENT_STOPPED)->reason, TK_STOP_IDLE);
    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    assert_int_equal(st_segment_tracked(&a.s), 60);
    assert_false(a.s.flags & ST_FLAG_IDLE_KEPT);
    tk_seg_release(&a);
    fx_teardown(&fx);
}

/*
 * Idle across a segment boundary: the segment that closed while idle is
 * held back (not queued for upload) until the answer, then cut.
 */
static void test_idle_across_segments_held(void **state)
{
    struct tk_seg a, b;
    int64_t t0 = fx_time("2026-11-23T10:28:00Z"), slot = fx_time("2026-11-23T10:20:00Z");

    idle_setup(t0 * 1000); /* input until 10:29:00, prompt at 10:31:00 */
    assert_int_equal(fx_seg(&fx, slot, &a), 0);
    assert_int_equal(a.state, TK_SEG_HELD);
    tk_seg_release(&a);
    assert_int_equal(tk_recorder_answer_idle(fx.r, TK_IDLE_DISCARD), 0);
    assert_int_equal(fx_seg(&fx, slot, &a), 0);
    assert_int_equal(a.state, TK_SEG_QUEUED);
    assert_int_equal(st_segment_tracked(&a.s), 60);
    tk_seg_release(&a);
    fx.last_input_ms = fx_now(&fx);
    fx_run(&fx, 30 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, slot + 600, &b), 0);
    assert_int_equal(st_segment_tracked(&b.s), 30);
    tk_seg_release(&b);
    fx_teardown(&fx);
}

/* A segment that closes while the user is active is queued at once, not held. */
static void test_active_segment_not_held(void **state)
{
    struct tk_seg a;
    int64_t t0 = fx_time("2026-11-23T10:29:00Z");

    fx_setup(&fx, t0 * 1000, 600, 120);
    fx.idle_grows = 1;
    start(&fx, "Busy");
    fx_run(&fx, 70 * 1000, 1);
    assert_int_equal(fx_seg(&fx, fx_time("2026-11-23T10:20:00Z"), &a), 0);
    assert_int_equal(a.state, TK_SEG_QUEUED);
    tk_seg_release(&a);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    fx_teardown(&fx);
}

/* More than half of the input synthetic flags unusual_input. */
static void test_unusual_input(void **state)
{
    struct tk_seg a;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    fx_setup(&fx, t0 * 1000, 600, 0);
    start(&fx, "Robot");
    for (int i = 0; i < 120; i++) {
        tk_fake_add_activity(2, 2, 3);
        fx_run(&fx, 1000, 0);
    }
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    assert_true(a.s.flags & ST_FLAG_UNUSUAL_INPUT);
    assert_int_equal(a.s.b[0].synthetic, 180);
    tk_seg_release(&a);
    fx_teardown(&fx);
}

/* Privacy: while stopped, no capture call at all, and input is not counted. */
static void test_no_capture_while_stopped(void **state)
{
    struct tk_seg a;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");

    fx_setup(&fx, t0 * 1000, 600, 0);
    start(&fx, "Privacy");
    fx_run(&fx, 10 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    int calls = tk_fake_capture_calls();
    /* Hours pass with input while stopped; a face keeps ticking. */
    for (int i = 0; i < 3 * 3600; i++) {
        tk_fake_clock_advance(&fx.clk, 1000);
        tk_fake_add_activity(5, 5, 0);
        tk_recorder_tick(fx.r);
    }
    assert_int_equal(tk_fake_capture_calls(), calls);
    assert_int_equal(tk_recorder_timeout_ms(fx.r), -1);
    /* Input from while it was stopped is dropped at the start. */
    start(&fx, "Privacy");
    fx_run(&fx, 5000, 0);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, fx_time("2026-11-23T13:20:00Z"), &a), 0);
    assert_int_equal(a.s.b[0].keys, 0);
    assert_int_equal(a.s.b[0].mouse, 0);
    tk_seg_release(&a);
    fx_teardown(&fx);
}

/* Stop and start again in the same slot: the same segment id, extended, nothing twice. */
static void test_restart_same_slot(void **state)
{
    struct tk_seg a;
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");
    char id[37];

    fx_setup(&fx, t0 * 1000, 600, 0);
    start(&fx, "Again");
    fx_run(&fx, 90 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    snprintf(id, sizeof(id), "%s", a.s.id);
    assert_int_equal(st_segment_tracked(&a.s), 90);
    tk_seg_release(&a);
    fx_run(&fx, 60 * 1000, 0); /* stopped: a minute passes */
    start(&fx, "Again");
    fx_run(&fx, 60 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    assert_string_equal(a.s.id, id);
    assert_bucket(&a, 0, 60, 60);
    assert_bucket(&a, 1, 30, 30);
    assert_bucket(&a, 2, 30, 30);
    assert_bucket(&a, 3, 30, 30);
    assert_int_equal(st_segment_tracked(&a.s), 150);
    tk_seg_release(&a);
    fx_teardown(&fx);
}

/* The memo applies from the current segment on. */
static void test_memo_change(void **state)
{
    struct tk_seg a, b;
    int64_t t0 = fx_time("2026-11-23T10:25:00Z");

    fx_setup(&fx, t0 * 1000, 600, 0);
    start(&fx, "First");
    fx_run(&fx, 400 * 1000, 1);
    assert_int_equal(tk_recorder_set_memo(fx.r, "Second"), 0);
    fx_run(&fx, 10 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, fx_time("2026-11-23T10:20:00Z"), &a), 0);
    assert_int_equal(fx_seg(&fx, fx_time("2026-11-23T10:30:00Z"), &b), 0);
    assert_string_equal(a.s.memo, "First");
    assert_string_equal(b.s.memo, "Second");
    tk_seg_release(&a);
    tk_seg_release(&b);
    fx_teardown(&fx);
}

/* ---- the engine's rules, offline, on the same fakes ---- */

static struct tk_engine *engine_new(struct fx *f, const struct tk_terms *terms, int64_t quota)
{
    struct tk_engine_opts o = {0};
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
    tk_engine_set_terms(e, CONTRACT, terms);
    return e;
}

static void engine_run(struct fx *f, struct tk_engine *e, int64_t ms_total)
{
    int64_t end = fx_now(f) + ms_total;

    while (fx_now(f) < end) {
        int t = tk_engine_timeout_ms(e);
        int64_t step = end - fx_now(f) < t ? end - fx_now(f) : (t ? t : 1);
        tk_fake_clock_advance(&f->clk, step);
        if (fx_now(f) % 1000 == 0)
            tk_fake_add_activity(1, 1, 0);
        tk_engine_tick(e);
    }
}

static void test_memo_and_tag_rules(void **state)
{
    struct tk_terms t = {.memo_required = true,
                         .tag_required = true,
                         .screenshots_enabled = true,
                         .weekly_limit_s = -1,
                         .state = "active",
                         .ntags = 2};
    const char *none[] = {NULL};
    const char *design[] = {"design", NULL};
    const char *bogus[] = {"gardening", NULL};
    struct tk_engine *e;
    char err[256];

    snprintf(t.tags[0], sizeof(t.tags[0]), "design");
    snprintf(t.tags[1], sizeof(t.tags[1]), "code");
    fx_setup_dirs(&fx, ms("2026-11-23T10:20:00Z"));
    e = engine_new(&fx, &t, 0);

    assert_int_equal(tk_engine_start(e, CONTRACT, "", design, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "requires a memo"));
    assert_int_equal(tk_engine_start(e, CONTRACT, NULL, design, err, sizeof(err)), -EINVAL);
    assert_int_equal(tk_engine_start(e, CONTRACT, "Work", none, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "requires a tag"));
    assert_non_null(strstr(err, "design, code"));
    assert_int_equal(tk_engine_start(e, CONTRACT, "Work", bogus, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "gardening"));
    /* Refused starts captured nothing and recorded nothing. */
    assert_int_equal(tk_fake_capture_calls(), 0);
    assert_int_equal(fx_count(&fx, TK_EVENT_STARTED), 0);

    assert_int_equal(tk_engine_start(e, CONTRACT, "Work", design, err, sizeof(err)), 0);
    assert_int_equal(tk_engine_set_memo(e, "", err, sizeof(err)), -EINVAL);
    assert_int_equal(tk_engine_set_tags(e, none, err, sizeof(err)), -EINVAL);
    assert_int_equal(tk_engine_stop(e), 0);

    /* Optional memo, no tag rule: starts without either. */
    t.memo_required = false;
    t.tag_required = false;
    tk_engine_set_terms(e, CONTRACT, &t);
    assert_int_equal(tk_engine_start(e, CONTRACT, NULL, NULL, err, sizeof(err)), 0);
    tk_engine_stop(e);

    /* Only an active contract takes time. */
    snprintf(t.state, sizeof(t.state), "paused");
    tk_engine_set_terms(e, CONTRACT, &t);
    assert_int_equal(tk_engine_start(e, CONTRACT, "Work", NULL, err, sizeof(err)), -EPERM);
    tk_engine_free(e);
    nftw(fx.dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* 90% and 100% of the weekly limit are each reported once, counting what is queued locally. */
static void test_weekly_limit_warnings(void **state)
{
    struct tk_terms t = {.screenshots_enabled = false, .weekly_limit_s = 1000, .state = "active"};
    struct tk_engine *e;
    struct tk_status st;
    char err[256];

    fx_setup_dirs(&fx, ms("2026-11-23T10:20:00Z"));
    e = engine_new(&fx, &t, 0);
    assert_int_equal(tk_engine_start(e, CONTRACT, "Work", NULL, err, sizeof(err)), 0);
    engine_run(&fx, e, 880 * 1000);
    assert_int_equal(fx_count(&fx, TK_EVENT_LIMIT), 0);
    engine_run(&fx, e, 60 * 1000);
    assert_int_equal(fx_count(&fx, TK_EVENT_LIMIT), 1);
    assert_int_equal(fx_last(&fx, TK_EVENT_LIMIT)->percent, 90);
    engine_run(&fx, e, 120 * 1000);
    assert_int_equal(fx_count(&fx, TK_EVENT_LIMIT), 2);
    assert_int_equal(fx_last(&fx, TK_EVENT_LIMIT)->percent, 100);
    engine_run(&fx, e, 300 * 1000);
    assert_int_equal(fx_count(&fx, TK_EVENT_LIMIT), 2);
    /* Screenshots off for this contract: never captured. */
    assert_int_equal(tk_fake_capture_calls(), 0);
    tk_engine_status(e, &st);
    assert_true(st.running);
    assert_int_equal(st.week_s, 1360);
    assert_int_equal(st.today_s, 1360);
    assert_int_equal(st.weekly_limit_s, 1000);
    tk_engine_stop(e);
    tk_engine_free(e);
    nftw(fx.dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Without a display the engine says so and starts nothing. */
static void test_no_display(void **state)
{
    struct tk_terms t = {.weekly_limit_s = -1, .state = "active"};
    struct tk_engine *e;
    char err[256];

    fx_setup_dirs(&fx, ms("2026-11-23T10:20:00Z"));
    e = engine_new(&fx, &t, 0);
    tk_fake_set_open_fails(true);
    assert_int_equal(tk_engine_start(e, CONTRACT, "Work", NULL, err, sizeof(err)), -ENXIO);
    assert_non_null(strstr(err, "no display"));
    tk_fake_set_open_fails(false);
    tk_engine_free(e);
    nftw(fx.dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * One second of the fake desktop: the clock moves a second, the second is
 * active or not, and the recorder ticks (the engine ticks at least once a second).
 */
static void active_second(struct fx *f, bool active)
{
    tk_fake_clock_advance(&f->clk, 1000);
    if (active)
        tk_fake_add_active_seconds(1);
    tk_fake_set_idle_ms(0);
    tk_recorder_tick(f->r);
}

/*
 * An active-seconds desktop (Wayland): each minute's active seconds go to
 * its bucket, the counts stay 0, the level counts minutes with an active
 * second, and the upload says so and passes the server's checks.
 */
static void test_active_seconds_fill_buckets(void **state)
{
    static const int pattern[5] = {42, 60, 0, 45, 10};
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");
    struct tk_seg a;
    json_t *wire;

    fx_setup(&fx, t0 * 1000, 600, 0);
    tk_fake_set_measure(TK_MEASURE_ACTIVE_SECONDS);
    start(&fx, "Wayland");
    for (int m = 0; m < 5; m++)
        for (int sec = 0; sec < 60; sec++)
            active_second(&fx, sec < pattern[m]);
    /* A backend reporting more seconds than passed cannot make a minute more than full. */
    tk_fake_add_active_seconds(500);
    fx_run(&fx, 30 * 1000, 0);
    assert_int_equal(tk_recorder_stop(fx.r, TK_STOP_USER, NULL), 0);

    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    assert_int_equal(a.s.measure, ST_MEASURE_ACTIVE_SECONDS);
    assert_true(a.s.has_active_s);
    for (int m = 0; m < 5; m++) {
        assert_bucket(&a, m, 60, 0);
        if (a.s.b[m].active_s != pattern[m])
            fail_msg("bucket %d: %d active seconds, expected %d", m, a.s.b[m].active_s,
                     pattern[m]);
        assert_int_equal(a.s.b[m].mouse, 0);
    }
    assert_bucket(&a, 5, 30, 0);
    assert_true(a.s.b[5].active_s <= 30 && a.s.b[5].active_s >= 1);
    assert_int_equal(st_segment_activity(&a.s), 5); /* minutes 0, 1, 3, 4 and 5 */
    assert_false(a.s.flags & ST_FLAG_UNUSUAL_INPUT);
    assert_wire_valid(&a, 600);
    wire = st_segment_to_json(&a.s);
    assert_string_equal(json_string_value(json_object_get(wire, "activity_measure")),
                        "active_seconds");
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(wire, "minutes"), 0), "active_s")),
                     42);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(wire, "minutes"), 0), "keys")),
                     0);
    json_decref(wire);
    tk_seg_release(&a);
    fx_teardown(&fx);
}

/* A counts desktop (X11) neither claims active seconds nor says a measure: the upload is as before. */
static void test_counts_segment_has_no_active_seconds(void **state)
{
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");
    struct tk_seg a;
    json_t *wire;

    fx_setup(&fx, t0 * 1000, 600, 0);
    start(&fx, "X11");
    tk_fake_add_active_seconds(5); /* a counts backend never reports these; ignored if it did */
    fx_run(&fx, 90 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    assert_int_equal(a.s.measure, ST_MEASURE_COUNTS);
    assert_false(a.s.has_active_s);
    wire = st_segment_to_json(&a.s);
    assert_null(json_object_get(wire, "activity_measure"));
    assert_null(json_object_get(json_array_get(json_object_get(wire, "minutes"), 0), "active_s"));
    json_decref(wire);
    tk_seg_release(&a);
    fx_teardown(&fx);
}

/*
 * The desktop changed between two runs in one slot (an X11 session, then
 * Wayland): the segment keeps the measure it was opened with, and the other
 * measure's input is left out rather than mixed in (the server refuses a
 * changed measure for good).
 */
static void test_measure_kept_when_reopened(void **state)
{
    int64_t t0 = fx_time("2026-11-23T10:20:00Z");
    struct tk_seg a;

    fx_setup(&fx, t0 * 1000, 600, 0);
    start(&fx, "Switch");
    fx_run(&fx, 60 * 1000, 1);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    tk_fake_set_measure(TK_MEASURE_ACTIVE_SECONDS);
    start(&fx, "Switch");
    for (int sec = 0; sec < 60; sec++)
        active_second(&fx, true);
    tk_recorder_stop(fx.r, TK_STOP_USER, NULL);
    assert_int_equal(fx_seg(&fx, t0, &a), 0);
    assert_int_equal(a.s.measure, ST_MEASURE_COUNTS);
    assert_false(a.s.has_active_s);
    assert_bucket(&a, 0, 60, 60);
    assert_bucket(&a, 1, 60, 0);
    assert_wire_valid(&a, 600);
    tk_seg_release(&a);
    fx_teardown(&fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_across_segment),
        cmocka_unit_test(test_active_seconds_fill_buckets),
        cmocka_unit_test(test_counts_segment_has_no_active_seconds),
        cmocka_unit_test(test_measure_kept_when_reopened),
        cmocka_unit_test(test_day_and_week_boundary),
        cmocka_unit_test(test_input_at_bucket_edge),
        cmocka_unit_test(test_short_segments),
        cmocka_unit_test(test_one_screenshot_per_segment),
        cmocka_unit_test(test_moment_within_tracked_part),
        cmocka_unit_test(test_stop_before_moment),
        cmocka_unit_test(test_webp_in_worker),
        cmocka_unit_test(test_failed_capture),
        cmocka_unit_test(test_clock_jump_forward),
        cmocka_unit_test(test_clock_jump_small_back),
        cmocka_unit_test(test_no_jump_for_drift),
        cmocka_unit_test(test_idle_keep),
        cmocka_unit_test(test_idle_discard),
        cmocka_unit_test(test_idle_answer_stop),
        cmocka_unit_test(test_idle_no_answer),
        cmocka_unit_test(test_idle_across_segments_held),
        cmocka_unit_test(test_active_segment_not_held),
        cmocka_unit_test(test_unusual_input),
        cmocka_unit_test(test_no_capture_while_stopped),
        cmocka_unit_test(test_restart_same_slot),
        cmocka_unit_test(test_memo_change),
        cmocka_unit_test(test_memo_and_tag_rules),
        cmocka_unit_test(test_weekly_limit_warnings),
        cmocka_unit_test(test_no_display),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
